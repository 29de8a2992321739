"""Issue 20's journey 5: the operator types a wrong personal ID. The metadata fieldset of the station
says so in Vietnamese next to the field while she types, before anything is sent (11 digits, then a
province code that does not exist); sending the form anyway keeps the page with the message, and
nothing is archived."""

import re
from urllib.parse import quote

from harness import expect

WRONG_LENGTH = "00109901234"
NO_PROVINCE = "099099012345"


def archived(h, admin):
    """What the archive holds that a wrong form could have added to: documents named like the form's,
    and the operator's ingests."""
    named = h.api("GET", f"/api/search?q={quote('Giấy phép xây dựng')}", admin)["total"]
    ingests = [e for e in h.api("GET", "/api/audit?actor=lan", admin)["entries"] if e["action"] == "ingest"]
    return named, len(ingests)


def run(h):
    admin = h.api_login("admin")
    before = archived(h, admin)
    context = h.context()
    page = h.login(context, "lan", "/station")
    expect(page).to_have_url(re.compile(r"/station$"))
    owner = page.locator("#owner")
    error = page.locator("#owner-error")
    expect(page.locator("fieldset.metadata legend")).to_have_text("Thông tin giấy tờ")
    page.locator("#type").fill("GPXD")
    page.locator("#name").fill("Giấy phép xây dựng")

    # Eleven digits: the message appears beside the field while typing, without a reload.
    requests = []
    page.on("request", lambda r: requests.append(r) if r.resource_type == "document" else None)
    owner.fill(WRONG_LENGTH)
    expect(error).to_have_text(re.compile(r"^Số định danh cá nhân phải có 12 chữ số.*có 11 chữ số$"))
    expect(owner).to_have_attribute("aria-invalid", "true")
    expect(owner).to_have_attribute("aria-describedby", re.compile(r"\bowner-error\b"))
    assert not requests, f"the page was reloaded: {[r.url for r in requests]}"
    h.shot(page, "wrong-id-inline-length")

    # Twelve digits, but 099 is no province: another Vietnamese reason, on leaving the field.
    owner.fill(NO_PROVINCE)
    owner.press("Tab")
    expect(error).to_have_text("Mã tỉnh 099 (ba chữ số đầu) không tồn tại")
    # A field not reached yet is not scolded.
    expect(page.locator("#dossier-error")).to_be_empty()
    h.shot(page, "wrong-id-inline-province")

    # A right ID clears the message.
    owner.fill("001099012345")
    expect(error).to_be_empty()
    expect(owner).not_to_have_attribute("aria-invalid", "true")

    # The dossier code is allocated from the form: a wrong unit code is said beside it, a right one
    # fills the dossier field.
    unit = page.get_by_label("Mã đơn vị tiếp nhận")
    unit.fill("H56-14")
    page.get_by_role("button", name="Cấp mã hồ sơ").click()
    expect(page.locator("#dossier-unit-error")).to_have_text(re.compile(r"^Không cấp được mã hồ sơ"))
    unit.fill("H56.99")
    page.get_by_role("button", name="Cấp mã hồ sơ").click()
    expect(page.locator("#dossier")).to_have_value(re.compile(r"^H56\.99-\d{6}-0001$"))
    expect(page.locator("#dossier-unit-error")).to_be_empty()
    expect(page.locator("#dossier-error")).to_be_empty()
    h.shot(page, "wrong-id-dossier-allocated")

    # Sent anyway with the wrong ID: the page stays, with the message and what was typed.
    owner.fill(NO_PROVINCE)
    expect(error).not_to_be_empty()
    page.locator("form:has(fieldset.metadata) [type=submit]").last.click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/station"))
    expect(page.locator("#owner")).to_have_value(NO_PROVINCE)
    expect(page.locator("#owner-error")).to_have_text("Mã tỉnh 099 (ba chữ số đầu) không tồn tại")
    expect(page.locator("#name")).to_have_value("Giấy phép xây dựng")
    expect(page.locator("#dossier")).to_have_value(re.compile(r"^H56\.99-"))
    h.shot(page, "wrong-id-submitted")

    # Nothing was archived: search finds no document of that owner, and no more of that name (earlier
    # journeys may have archived some), and the operator ingested nothing more.
    found = h.api("GET", f"/api/search?q={quote(NO_PROVINCE)}", admin)
    assert found["total"] == 0, f"search {NO_PROVINCE!r} found {found}"
    assert archived(h, admin) == before, f"archived {archived(h, admin)}, before {before}"

    # The same page in English says it in English.
    page.get_by_role("link", name="English").click()
    expect(page.locator("fieldset.metadata legend")).to_have_text("Document metadata")
    page.locator("#type").fill("GPXD")
    page.locator("#owner").fill(WRONG_LENGTH)
    expect(page.locator("#owner-error")).to_have_text(re.compile(r"has 11 digits"))
    context.close()

