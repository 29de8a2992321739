"""The hot folder at the station: the files dropped into the share (the Rust test drops three) wait
for the operator with what their names say, a damaged one is refused with its reason; the operator
corrects a name and confirms one file, which is archived and gets its receipt, and rejects another,
which joins the refusals with her reason. Times are shown at +07:00."""

import re

from harness import expect

NAMED = "001099012345_GPXD_Giay phep xay dung.png"
UNNAMED = "trang-le.png"
DAMAGED = "hong.png"


def listed(page, text, attempts=60):
    """Reloads the page until `text` is on it: the hot folder takes a file once it has settled."""
    for _ in range(attempts):
        if page.get_by_text(text, exact=False).count():
            return
        page.wait_for_timeout(500)
        page.reload()
    raise AssertionError(f"{text!r} never appeared on {page.url}")


def run(h):
    context = h.context()
    page = h.login(context, "lan", "/station/hotfolder")
    expect(page).to_have_url(re.compile(r"/station/hotfolder$"))
    expect(page.get_by_role("heading", name="Quầy scan", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Thư mục nhận tệp", level=2)).to_be_visible()
    for name in (NAMED, UNNAMED, DAMAGED):
        listed(page, name)
    pending = page.locator("table.pending")
    failed = page.locator("table.failed")
    expect(failed.locator("tr", has_text=DAMAGED)).to_contain_text("Từ chối")
    expect(pending.locator("tr", has_text=NAMED).locator("td").nth(1)).to_have_text(
        re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2} \+07:00$")
    )
    named = pending.locator("tr", has_text=NAMED)
    expect(named.get_by_label("Số định danh")).to_have_value("001099012345")
    expect(named.get_by_label("Mã loại")).to_have_value("GPXD")
    h.shot(page, "hotfolder")

    # Confirmed with a corrected name: archived, with the link to its receipt.
    named.get_by_label("Tên giấy tờ").fill("Giấy phép xây dựng nhà ở")
    named.get_by_role("button", name="Xác nhận và lưu").click()
    flash = page.locator(".flash")
    expect(flash).to_contain_text("Đã lưu giấy tờ 001099012345.GPXD")
    expect(pending.locator("tr", has_text=NAMED)).to_have_count(0)
    h.shot(page, "hotfolder-confirmed")
    flash.get_by_role("link", name="In biên nhận").click()
    expect(page.locator(".receipt table")).to_contain_text("Giấy phép xây dựng nhà ở")
    expect(page.locator("svg.qr")).to_be_visible()
    page.go_back()

    # Rejected with a reason: it joins the refusals with that reason.
    unnamed = page.locator("table.pending tr", has_text=UNNAMED)
    unnamed.get_by_label("Lý do từ chối").fill("Không thuộc hồ sơ nào")
    unnamed.get_by_role("button", name="Từ chối").click()
    expect(page.locator(".flash")).to_contain_text(f"Đã từ chối tệp {UNNAMED}")
    expect(page.locator("table.failed tr", has_text=UNNAMED)).to_contain_text("Không thuộc hồ sơ nào")
    h.shot(page, "hotfolder-rejected")
    context.close()

    weight = h.weigh("lan", "/station/hotfolder", "hotfolder")
    assert weight < 300_000, f"the hot folder's first load transfers {weight} bytes"

    # An officer does not see the hot folder.
    context = h.context()
    page = h.login(context, "minh", "/station/hotfolder")
    response = page.goto(f"{h.url}/station/hotfolder")
    assert response.status == 403, response.status
    context.close()
