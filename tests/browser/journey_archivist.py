"""The archivist's journey (issue 20, journey 3): `hoa` gives a document a 20-year retention class,
marks the documents whose retention ended, approves it for destruction and places a hold on its
owner; the destruction request is then refused with the hold named. She releases the hold, the
request goes through, and a second archivist, `tuan`, confirms it and downloads the signed report.
On the way she exports the document as a BagIt bag and downloads it as a tar file.

The document is one the journey archives itself through the JSON API, for the owner of the document an
earlier journey sealed (`h.state["document"]`) when there is one: its issue date, 3 February 2001,
puts the end of a 20-year retention in the past, which no screen could do short of waiting years."""

import io
import json
import re
import tarfile
import urllib.request
import uuid

from PIL import Image, ImageDraw

from harness import expect

OWNER = "001099012345"


def page_png():
    """One scanned page: a white A4-ish page with a few lines of text."""
    image = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(["GIAY PHEP XAY DUNG", "So 12/GPXD", "Cap ngay 03/02/2001"]):
        draw.text((150, 200 + 80 * i), line, fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


def ingest(h, owner):
    """Archives a building permit issued on 3 February 2001 as `lan`; returns its code."""
    token = h.api_login("lan")
    boundary = uuid.uuid4().hex
    fields = {"owner": owner, "type": "GPXD", "name": "Giấy phép xây dựng", "issued": "2001-02-03"}
    body = b""
    for name, value in fields.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    body += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="page"; filename="page-1.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    body += page_png() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{h.url}/api/documents?wait=archived", data=body, method="POST")
    request.add_header("content-type", f"multipart/form-data; boundary={boundary}")
    request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read())["code"]


def submit(form, name):
    form.get_by_role("button", name=name).click()


def run(h):
    earlier = h.state.get("document")
    owner = earlier["owner"] if earlier else OWNER
    code = ingest(h, owner)
    h.state["archivist_code"] = code
    row = f'[id="doc-{code}"]'

    context = h.context()
    page = h.login(context, "hoa")
    expect(page).to_have_url(re.compile(r"/archivist$"))
    expect(page.get_by_role("heading", name="Bàn lưu trữ")).to_be_visible()
    expect(page.get_by_role("cell", name="Thông tư 10/2022/TT-BNV, hồ sơ bảo quản 20 năm")).to_be_visible()
    h.shot(page, "archivist-desk")

    # The document's class: 20 years from its issue date, per the agency's records schedule.
    page.locator("#retention-code").fill(code)
    page.locator("#retention-class").select_option("20y")
    page.locator("#retention-reason").fill("Danh mục hồ sơ 2026")
    submit(page.locator('form[action="/archivist/retention"]'), "Đổi thời hạn")
    expect(page.locator(".flash")).to_contain_text(f"Đã đổi thời hạn bảo quản của {code}")

    # A wrong value is said next to its field.
    page.locator("#hold-scope").select_option("owner")
    page.locator("#hold-target").fill("12345")
    page.locator("#hold-reason").fill("Thử")
    submit(page.locator('form[action="/archivist/holds"]'), "Đặt lệnh phong tỏa")
    expect(page.locator("#hold-target")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#hold-target-error")).to_contain_text("Giá trị không đúng dạng")
    h.shot(page, "archivist-field-error")

    # The daily eligibility run, now: the document's 20 years ended on 3 February 2021.
    submit(page.locator('form[action="/archivist/mark"]'), "Đánh dấu tài liệu hết hạn bảo quản")
    expect(page.locator(".flash")).to_contain_text("Số tài liệu mới đến hạn xử lý: 1")
    expect(page.locator(row)).to_contain_text("Đến hạn")
    h.shot(page, "archivist-eligible")
    submit(page.locator(row), "Duyệt hủy")
    expect(page.locator(".flash")).to_contain_text(f"Đã duyệt hủy tài liệu {code}")

    # The bag, before anything is destroyed: written in the transfer directory, downloaded as a tar.
    page.locator("#export-code").fill(code)
    page.locator("#export-name").fill("bag-journey")
    submit(page.locator('form[action="/archivist/export"]'), "Xuất gói")
    expect(page.locator(".flash")).to_contain_text("Đã xuất gói BagIt bag-journey (1 tài liệu)")
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải gói về (tệp .tar)").click()
    with tarfile.open(download.value.path()) as bag:
        names = bag.getnames()
    assert "bag-journey/bagit.txt" in names, names
    h.shot(page, "archivist-exported")

    # A hold on the owner (an inspection): it blocks the destruction, and the refusal names it.
    page.locator("#hold-scope").select_option("owner")
    page.locator("#hold-target").fill(owner)
    page.locator("#hold-reason").fill("Thanh tra xây dựng 12/2026")
    submit(page.locator('form[action="/archivist/holds"]'), "Đặt lệnh phong tỏa")
    expect(page.locator(".flash")).to_contain_text("Đã đặt lệnh phong tỏa số")
    hold = re.search(r"số (\d+)", page.locator(".flash").inner_text()).group(1)
    expect(page.locator(f"#hold-{hold}")).to_contain_text(f"owner {owner}")
    h.shot(page, "archivist-hold")
    request = page.locator(row)
    request.get_by_label("Số quyết định của Hội đồng").fill("07/QĐ-HĐXĐGTTL")
    request.get_by_label("Ngày quyết định").fill("2026-11-02")
    submit(request, "Đề nghị hủy")
    refusal = page.locator("#refusal")
    expect(refusal).to_contain_text(f"it is held (hold {hold})")
    expect(page.locator(".blocking-holds")).to_contain_text(f"Lệnh số {hold}: owner {owner} — Thanh tra xây dựng 12/2026")
    h.shot(page, "archivist-refused-held")

    # Released, the same request goes through; hoa may not confirm her own request.
    page.get_by_role("button", name=f"Gỡ lệnh phong tỏa số {hold}").click()
    expect(page.locator(".flash")).to_contain_text(f"Đã gỡ lệnh phong tỏa số {hold}")
    request = page.locator(row)
    request.get_by_label("Số quyết định của Hội đồng").fill("07/QĐ-HĐXĐGTTL")
    request.get_by_label("Ngày quyết định").fill("2026-11-02")
    submit(request, "Đề nghị hủy")
    expect(page.locator(".flash")).to_contain_text(f"Đã đề nghị hủy tài liệu {code}")
    expect(page.locator(row)).to_contain_text("Bạn đã đề nghị hủy; một cán bộ lưu trữ khác phải xác nhận.")
    h.shot(page, "archivist-requested")
    context.close()

    # The second person.
    context = h.context()
    page = h.login(context, "tuan")
    page.once("dialog", lambda dialog: dialog.accept())
    submit(page.locator(row), "Xác nhận hủy (người thứ hai)")
    expect(page.locator(".flash")).to_contain_text(f"Đã hủy tài liệu {code}")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Tải biên bản hủy")).click()
    with open(download.value.path()) as f:
        report = json.load(f)
    assert report["report"]["decision"]["number"] == "07/QĐ-HĐXĐGTTL", report
    assert report["report"]["requested_by"] == "hoa", report
    assert report["seal"]["signature"], report
    h.shot(page, "archivist-destroyed")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Archivist's desk")).to_be_visible()
    h.shot(page, "archivist-desk-english")
    context.close()
    h.weigh("hoa", "/archivist", "archivist-desk")
