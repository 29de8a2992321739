"""The scanning station: the operator lan chooses SANE's test scanner and its feeder, scans a batch of
five sheets whose thumbnails arrive live (no reload) and are read (done or flagged, with the reasons);
one page is rescanned in place; a jam during "continue" shows the device's message and keeps the
pages; a file with text is uploaded into the batch and moved to the front with the keyboard, a scanned
page deleted, another turned and one moved; a wrong owner ID is shown next to its field and archives
nothing; then the batch is sealed (five pages, captured as the API captures) and, where the
receipt page exists, the receipt is shown and printed. The sealed document is left in
h.state["document"] for the journeys after this one (its first page carries OCR text)."""

import os
import re

from harness import expect

# OCR on a shared machine: each page takes seconds.
READ_TIMEOUT = 300_000
OWNER = "001099012345"
NAME = "Giấy phép xây dựng nhà ở riêng lẻ"
NUMBER = "123/GPXD-UBND"
SAMPLE = os.path.join(os.path.dirname(__file__), "..", "data", "pages", "clean300-001.png")


def settle(page, count):
    """Waits until the batch has `count` pages, every one read (done or flagged)."""
    pages = page.locator("#pages > li")
    expect(pages).to_have_count(count, timeout=READ_TIMEOUT)
    read = page.locator('#pages > li[data-stage="done"], #pages > li[data-stage="flagged"]')
    expect(read).to_have_count(count, timeout=READ_TIMEOUT)


def run(h):
    context = h.context()
    page = h.login(context, "lan")
    expect(page).to_have_url(re.compile(r"/station$"))
    expect(page.get_by_role("heading", name="Quầy scan", exact=True)).to_be_visible()
    h.shot(page, "station-empty")
    # What the screen weighs on a first load (bodies, cached or not; an EventSource never idles, so
    # the harness's `weigh` cannot wait for the network to settle here).
    weight = page.evaluate(
        """() => performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource"))
            .filter(e => !e.name.includes("/thumb")).reduce((sum, e) => sum + e.encodedBodySize, 0)"""
    )
    h.report["screens"]["station-empty"]["first_load_bytes"] = weight
    assert weight < 300_000, f"the station weighs {weight} bytes"

    # The test scanner, its feeder, five sheets of its pattern in gray at 200 dpi on A5.
    page.locator("#device-choice").select_option("test:0")
    page.get_by_role("button", name="Chọn máy").click()
    page.get_by_label("Nguồn giấy").select_option("adf")
    page.get_by_label("Chế độ màu").select_option("gray")
    page.get_by_label("Độ phân giải (dpi)").select_option("200")
    page.get_by_label("Khổ giấy").select_option("a5")
    page.get_by_label(re.compile("^Số tờ")).fill("5")
    page.get_by_text("Tùy chọn khác của máy").click()
    page.get_by_label(re.compile("^Mỗi dòng một tùy chọn SANE")).fill("test-picture=Color pattern")
    h.shot(page, "station-settings")
    page.get_by_role("button", name="Bắt đầu scan").click()
    expect(page).to_have_url(re.compile(r"/station\?.*done=scanning"))
    # From here on the page is not reloaded: every thumbnail and stage comes through the live stream.
    page.evaluate("window.stationNotReloaded = true")
    expect(page.locator("#pages > li").first).to_be_visible(timeout=READ_TIMEOUT)
    h.shot(page, "station-scanning")
    settle(page, 5)
    assert page.evaluate("window.stationNotReloaded === true"), "the pages came by reloading the page"
    expect(page.locator("#scan-status")).to_contain_text("Scan xong: 5 trang")
    expect(page.locator("#page-count")).to_have_text("5")
    # Every thumbnail is an image the server made.
    for i in range(5):
        thumb = page.locator("#pages > li").nth(i).locator("img")
        expect(thumb).to_have_attribute("alt", f"Trang {i + 1}")
        assert thumb.evaluate("img => img.complete && img.naturalWidth > 0"), f"thumbnail {i + 1} did not load"
    flagged = page.locator('#pages > li[data-stage="flagged"] .reasons li')
    if flagged.count():
        # A flag says why, in Vietnamese.
        expect(flagged.first).to_have_text(re.compile(r"Trang trắng|Không nhận dạng được chữ|Độ tin cậy OCR|dpi"))
    h.shot(page, "station-read")

    # Rescan one page: a newly scanned sheet takes the place of page 5.
    fifth = page.locator("#pages > li").nth(4).get_attribute("id")
    page.get_by_role("button", name="Scan lại: Trang 5").click()
    expect(page).to_have_url(re.compile(r"done=rescanning"))
    expect(page.locator(f"#{fifth}")).to_have_count(0, timeout=READ_TIMEOUT)
    settle(page, 5)
    expect(page.locator("#pages > li").nth(4)).to_contain_text("sheet 1 front")

    # "Continue" into a jam: the device's message, and the five pages kept.
    page.get_by_text("Tùy chọn khác của máy").click()
    page.get_by_label(re.compile("^Mỗi dòng một tùy chọn SANE")).fill(
        "test-picture=Color pattern\nenable-test-options=true\nread-return-value=SANE_STATUS_JAMMED"
    )
    page.get_by_role("button", name="Scan tiếp vào lô này").click()
    expect(page.locator("#scan-status")).to_contain_text("Kẹt giấy ở tờ 1", timeout=READ_TIMEOUT)
    expect(page.locator("#scan-status")).to_contain_text("Các trang đã scan được giữ lại")
    expect(page.locator("#pages > li")).to_have_count(5)
    h.shot(page, "station-jammed")

    # A file uploaded into the batch (a page with text), a scanned page deleted, and the uploaded page
    # moved to the front with the keyboard.
    page.locator("#upload-files").set_input_files(SAMPLE)
    page.get_by_role("button", name="Tải lên vào lô").click()
    expect(page).to_have_url(re.compile(r"done=uploaded"), timeout=READ_TIMEOUT)
    settle(page, 6)
    uploaded = page.locator("#pages > li").nth(5)
    expect(uploaded).to_contain_text("clean300-001.png")
    uploaded_id = uploaded.get_attribute("id")
    h.shot(page, "station-uploaded")
    page.get_by_role("button", name="Xóa: Trang 5").click()
    expect(page.locator("#pages > li")).to_have_count(5)
    for position in range(5, 1, -1):
        page.get_by_role("button", name=f"Chuyển lên: Trang {position}").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#pages > li").nth(position - 2)).to_have_attribute("id", uploaded_id)

    # Turn page 2, and move page 4 up.
    second = page.locator("#pages > li").nth(1).get_attribute("id")
    page.get_by_role("button", name="Xoay 90°: Trang 2").click()
    expect(page.locator(f"#{second}")).to_contain_text("xoay 90°")
    fourth = page.locator("#pages > li").nth(3).get_attribute("id")
    page.get_by_role("button", name="Chuyển lên: Trang 4").click()
    expect(page.locator("#pages > li").nth(2)).to_have_attribute("id", fourth)
    h.shot(page, "station-reordered")

    # A wrong owner ID: said next to the field, nothing archived, the batch kept.
    page.locator('[name="owner"]').fill("12345")
    page.locator('[name="type"]').fill("GPXD")
    page.locator('[name="name"]').fill(NAME)
    page.get_by_role("button", name="Niêm phong và lưu trữ").click()
    expect(page.locator('[name="owner"]')).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#pages > li")).to_have_count(5)
    h.shot(page, "station-metadata-error")

    page.locator('[name="owner"]').fill(OWNER)
    page.locator('[name="type"]').fill("GPXD")
    page.locator('[name="name"]').fill(NAME)
    # The number and symbol, where the metadata form has the field.
    has_number = page.locator('[name="number"]').count() > 0
    if has_number:
        page.locator('[name="number"]').fill(NUMBER)
    page.get_by_role("button", name="Niêm phong và lưu trữ").click()
    # The seal answers with the citizen's receipt: the codes, the QR code of the verification link.
    expect(page.get_by_role("heading", name="Biên nhận số hóa giấy tờ")).to_be_visible(timeout=READ_TIMEOUT)
    code = page.locator(".receipt tr", has_text="Mã tài liệu").locator("td").inner_text().strip()
    assert code.startswith(OWNER + ".GPXD."), code
    h.state["document"] = {"code": code, "owner": OWNER, "name": NAME}
    expect(page.locator(".receipt-qr svg")).to_be_visible()
    expect(page.locator(".receipt-qr code")).to_contain_text(f"/verify?code={code}&t=")
    expect(page.locator(".receipt")).to_contain_text("lan")
    h.shot(page, "station-receipt")
    # Printed: the receipt alone, as the citizen takes it away.
    page.emulate_media(media="print")
    page.screenshot(path=os.path.join(h.out, "station-receipt-print.png"), full_page=True)
    page.pdf(path=os.path.join(h.out, "station-receipt.pdf"), format="A5")
    page.emulate_media(media="screen")
    # The batch is closed: the station is empty again. The sealed document is followed there, pushed
    # by the reading queue's events, until its signed copy is made.
    page.goto(f"{h.url}/station")
    expect(page.locator("#pages > li")).to_have_count(0)
    sealed = page.locator("#queue-panel li", has_text=code)
    expect(sealed).to_contain_text("đã ký số và lưu trữ", timeout=READ_TIMEOUT)
    h.shot(page, "station-queue")
    # Archived through the same capture as the API's: five pages, in the operator's order, one turned.
    document = h.api("GET", f"/api/documents/{code}", h.api_login("minh"))
    assert len(document["pages"]) == 5, document["pages"]
    assert NAME in document["metadata"].values(), document["metadata"]
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Scanning station", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Start scanning")).to_be_visible()
    h.shot(page, "station-english")
    context.close()
