"""The receipt: the operator allocates a dossier code and archives a page through the JSON API (as a
scanning station's client would), then opens the document's receipt for the citizen. The page shows
the agency, the codes, the document, its owner, its pages, when and by whom; printed, it is the
receipt alone; its QR code reads as the document's public verification link. Opening it is audited
as a view of the document."""

import os
import re
import subprocess

from harness import expect, text_page

OWNER = "079305000123"


def run(h):
    lan = h.api_login("lan")
    dossier = h.api("POST", "/api/dossiers", lan, {"unit": "H56.14"})
    assert re.fullmatch(r"H56\.14-\d{6}-0001", dossier["code"]), dossier
    fields = {
        "owner": OWNER,
        "type": "GKS",
        "name": "Giấy khai sinh",
        "issued": "2005-06-01",
        "issuer": "UBND phường Bến Nghé",
        "dossier": dossier["code"],
    }
    report = h.ingest(fields, text_page([fields["name"].upper(), f"Chủ sở hữu: {OWNER}"]), token=lan)
    code, token = report["code"], report["verification_token"]
    assert re.fullmatch(r"[0-9a-f]{32}", token), report
    h.state["receipt"] = {"code": code, "token": token, "dossier": dossier["code"]}

    context = h.context()
    page = h.login(context, "lan", "/station/hotfolder")
    page.goto(f"{h.url}/station/receipt/{code}?t={token}")
    expect(page.get_by_role("heading", name="Biên nhận số hóa giấy tờ")).to_be_visible()
    table = page.locator(".receipt table")
    for label, value in [
        ("Mã tài liệu", code),
        ("Mã hồ sơ", dossier["code"]),
        ("Tên giấy tờ", "Giấy khai sinh"),
        ("Chủ sở hữu", OWNER),
        ("Số trang", "1"),
        ("Người số hóa", "lan"),
    ]:
        expect(table.locator("tr", has=page.locator(f"th:text-is('{label}')")).locator("td")).to_have_text(value)
    expect(table.locator("tr", has=page.locator("th:text-is('Thời gian số hóa')")).locator("td")).to_have_text(
        re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2} \+07:00$")
    )
    link = f"/verify?code={code}&t={token}"
    expect(page.locator(".receipt-qr code")).to_have_text(link)
    expect(page.get_by_role("button", name="In biên nhận")).to_be_visible()
    h.shot(page, "receipt")

    # The QR code, as a phone's camera would read it off the page.
    qr_png = os.path.join(h.out, "receipt-qr.png")
    page.locator("svg.qr").screenshot(path=qr_png)
    read = subprocess.run(["zbarimg", "--quiet", "--raw", qr_png], capture_output=True, text=True, check=True)
    assert read.stdout.strip() == link, read.stdout

    # Printed: the receipt alone, without the navigation, the buttons or the skip link.
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.get_by_role("button", name="In biên nhận")).to_be_hidden()
    expect(page.locator("svg.qr")).to_be_visible()
    h.shot(page, "receipt-print")
    page.pdf(path=os.path.join(h.out, "receipt.pdf"), format="A5")
    page.emulate_media(media="screen")

    # A wrong token prints no QR code rather than a link that leads nowhere.
    page.goto(f"{h.url}/station/receipt/{code}?t={'0' * 32}")
    expect(page.locator("svg.qr")).to_have_count(0)

    # In English.
    page.goto(f"{h.url}/station/receipt/{code}?t={token}&lang=en")
    expect(page.get_by_role("heading", name="Receipt for a digitized document")).to_be_visible()
    expect(page.get_by_role("button", name="Print the receipt")).to_be_visible()
    context.close()

    # Each opening is a read of the document, in the audit trail.
    admin = h.api_login("admin")
    entries = h.api("GET", f"/api/audit?target={code}", admin)["entries"]
    views = [e for e in entries if e["action"] == "view" and e["actor"] == "lan"]
    assert len(views) >= 3, entries
    allocated = h.api("GET", f"/api/audit?target={dossier['code']}", admin)["entries"]
    assert [e["action"] for e in allocated] == ["dossier-allocate"], allocated

    weight = h.weigh("lan", f"/station/receipt/{code}?t={token}", "receipt")
    assert weight < 300_000, f"the receipt's first load transfers {weight} bytes"

    # An officer may not print receipts.
    context = h.context()
    page = h.login(context, "minh", "/station/hotfolder")
    response = page.goto(f"{h.url}/station/receipt/{code}?t={token}")
    assert response.status == 403, response.status
    context.close()
