"""The processing officer (issue 20, journey 2): minh finds a document with a query typed without
diacritics, and by its number; sees the facet counts; opens it and sees every check green, the pages
beside their text, the metadata and the downloads; then looks the citizen up on the reuse screen by
personal ID, finds the document verified, and records its reuse for a new dossier.

The document is the one the station journey sealed (`h.state["document"]`), or else one ingested here
through the JSON API as lan: a page drawn with Pillow in Vietnamese, large enough to read."""

import json
import os
import re
import unicodedata

from harness import expect, text_page

NUMBER = "123/QĐ-UBND"
DOSSIER = "H56.14-261130-0007"


def plain(text):
    """The text as typed on a keyboard without Vietnamese input: no diacritics, đ as d."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def ingest(h):
    """One document through the JSON API as lan, as the station journey would have sealed it."""
    fields = {
        "owner": "001099012345",
        "type": "GPXD",
        "name": "Giấy phép xây dựng nhà ở",
        "number": NUMBER,
        "issuer": "UBND quận 3",
        "issued": "2024-03-01",
    }
    page = text_page(
        [
            "ỦY BAN NHÂN DÂN QUẬN 3",
            f"Số: {NUMBER}",
            "GIẤY PHÉP XÂY DỰNG NHÀ Ở",
            "Cấp cho ông Nguyễn Văn An",
            "Địa chỉ: 12 đường Võ Văn Tần, phường 6",
        ]
    )
    token = h.api_login("lan")
    report = h.ingest(fields, page, token=token)
    # Search may show an archived document a moment later; the report says so.
    if report.get("search") == "pending":
        for _ in range(60):
            if h.api("GET", f"/api/search?q={report['code']}", token)["total"]:
                break
            h.wait(0.5)
    return {"code": report["code"], "owner": fields["owner"], "name": fields["name"], "number": NUMBER}


def search(page, words):
    box = page.get_by_role("searchbox")
    box.fill(words)
    box.press("Enter")
    page.wait_for_load_state()


def run(h):
    document = h.state.get("document") or ingest(h)
    code, owner, name = document["code"], document["owner"], document["name"]
    context = h.context()
    page = h.login(context, "minh")
    expect(page).to_have_url(re.compile(r"/search$"))
    h.shot(page, "search-empty")

    # Without diacritics, the document is found and its name is a link to it.
    search(page, plain(name).lower())
    hit = page.get_by_role("link", name=name).first
    expect(hit).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^\d+ kết quả$|^Hơn \d+ kết quả$"))).to_be_visible()
    if document.get("number"):
        # The page drawn here carries the name too: the snippet marks its words.
        expect(page.locator("ol.hits mark").first).to_be_visible()
    # The facets count the document's type, and a facet is a filter.
    doc_type = code.split(".")[1]
    facet = page.locator(".facets li", has=page.get_by_role("link", name=doc_type, exact=True))
    expect(facet.locator(".count")).to_have_text(re.compile(r"^[1-9]\d*$"))
    h.shot(page, "search-results")

    if document.get("number"):
        search(page, document["number"])
        expect(page.get_by_role("link", name=name).first).to_be_visible()
        expect(page.locator("ol.hits mark").first).to_be_visible()
        h.shot(page, "search-number")

    # The document: every check green, its standing, pages beside their text, the downloads.
    page.get_by_role("link", name=name).first.click()
    expect(page).to_have_url(re.compile(re.escape(f"/documents/{code}")))
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    expect(page.locator(".verdict .badge.ok")).to_have_text(re.compile("Hợp lệ"))
    expect(page.locator("#checks-h ~ ul.badges .badge.bad")).to_have_count(0)
    for label in ["Niêm phong", "Chữ ký số hợp pháp", "Có trong nhật ký lưu trữ", "Trạng thái"]:
        expect(page.locator("ul.badges .badge.ok", has_text=label)).to_be_visible()
    image = page.get_by_role("img", name=re.compile("Ảnh trang 1"))
    expect(image).to_be_visible()
    assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    expect(page.locator("pre.ocr").first).not_to_be_empty()
    expect(page.get_by_role("link", name="Tải bản PDF đã ký")).to_have_attribute("href", f"/api/documents/{code}/pdf")
    # The signed copy, downloaded as a citizen's officer would hand it on: the public journey checks it.
    with page.expect_download() as copy:
        page.get_by_role("link", name="Tải bản PDF đã ký").click()
    h.state["downloaded_pdf"] = os.path.join(h.out, "downloaded.pdf")
    copy.value.save_as(h.state["downloaded_pdf"])
    with page.expect_download() as evidence:
        page.get_by_role("link", name=re.compile("Tải gói bằng chứng")).click()
    assert evidence.value.suggested_filename == f"{code}.evidence.json", evidence.value.suggested_filename
    with open(evidence.value.path()) as f:
        bundle = json.load(f)
    assert bundle["code"] == code and bundle["proof_verifies"] and bundle["keys"], sorted(bundle)
    zoom = page.get_by_role("button", name="Phóng to cỡ thật").first
    zoom.focus()
    page.keyboard.press("Enter")
    expect(page.locator("figure.page-image.zoomed")).to_have_count(1)
    h.shot(page, "document-zoomed")
    page.get_by_role("button", name="Thu nhỏ").first.click()
    page.locator("summary", has_text="Từng phép kiểm tra").click()
    expect(page.locator("details table")).to_be_visible()
    h.shot(page, "document")
    expect(page.get_by_role("link", name="Tái sử dụng cho hồ sơ mới")).to_have_attribute(
        "href", re.compile(re.escape(f"/reuse?owner={owner}"))
    )
    # In English, the same checks.
    page.get_by_role("link", name="English").click()
    expect(page.locator(".verdict .badge.ok")).to_have_text(re.compile("Valid: every check passed"))
    expect(page.locator("ul.badges .badge.ok", has_text="Legal signature")).to_be_visible()
    h.shot(page, "document-en")
    page.get_by_role("link", name="Tiếng Việt").click()
    expect(page.locator(".verdict .badge.ok")).to_have_text(re.compile("Hợp lệ"))

    # Reuse: by personal ID, the document is listed verified, and its reuse is recorded.
    page.get_by_role("navigation", name="Màn hình").get_by_role("link", name="Tái sử dụng").click()
    page.get_by_label("Số định danh cá nhân hoặc mã số thuế").fill(owner)
    page.get_by_role("button", name="Tra cứu").click()
    item = page.locator("article.reuse-item", has=page.get_by_text(code, exact=True))
    expect(item.get_by_role("heading", name=name)).to_be_visible()
    expect(item.locator(".badge.ok", has_text="Đã xác thực")).to_be_visible()
    h.shot(page, "reuse-found")
    # A dossier code that is none is refused, and said so.
    item.get_by_label("Mã hồ sơ mới").fill("HS-1")
    item.get_by_role("button", name="Tái sử dụng cho hồ sơ này").click()
    expect(page.locator(".flash.bad")).to_contain_text("mã hồ sơ không hợp lệ")
    expect(item.get_by_label("Mã hồ sơ mới")).to_have_attribute("aria-invalid", "true")
    h.shot(page, "reuse-refused")
    item.get_by_label("Mã hồ sơ mới").fill(DOSSIER)
    item.get_by_role("button", name="Tái sử dụng cho hồ sơ này").click()
    expect(page.locator(".flash")).to_contain_text(f"Đã ghi nhận: hồ sơ {DOSSIER} tái sử dụng tài liệu {code}")
    h.shot(page, "reuse-recorded")
    # A personal ID that is none is said next to its field.
    page.get_by_label("Số định danh cá nhân hoặc mã số thuế").fill("12ab")
    page.get_by_role("button", name="Tra cứu").click()
    expect(page.get_by_label("Số định danh cá nhân hoặc mã số thuế")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#owner-error")).to_be_visible()
    context.close()

    for path, screen in [(f"/search?q={code}", "search-weight"), (f"/documents/{code}", "document-weight")]:
        weight = h.weigh("minh", path, screen)
        print(f"first load of {path}: {weight} bytes")
        assert weight < 300_000, f"{path} transfers {weight} bytes on a first load"
