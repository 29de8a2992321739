"""Administration and the dashboard: with two dossiers ingested by the operator and one reuse recorded
(through the API), the admin logs in and lands on the dashboard, whose figures agree with the API's;
creates a user, disables and enables it; issues a station token, whose secret is shown once and works,
then revokes it; and reads the configuration in force, which carries no secret."""

import os
import re
import urllib.error
import urllib.request

from harness import expect

PAGE = os.path.join(os.path.dirname(__file__), "..", "data", "pages", "clean300-002.png")
OWNER = "001099012345"


def ingest(h, token, doc_type, dossier):
    """One of the citizen's papers, archived through the API as the operator's station sends it."""
    fields = {"owner": OWNER, "type": doc_type, "name": "Giấy tờ của công dân", "dossier": dossier}
    with open(PAGE, "rb") as f:
        return h.ingest(fields, f.read(), token=token)["code"]


def status_of(h, path, token):
    request = urllib.request.Request(f"{h.url}{path}")
    request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def run(h):
    operator = h.api_login("lan")
    first = ingest(h, operator, "GKS", "H56.14-261130-0101")
    ingest(h, operator, "CCCD", "H56.14-261130-0102")
    h.api("POST", "/api/reuse", h.api_login("minh"), {"code": first, "dossier": "H56.14-261130-0103"})
    admin = h.api_login("admin")
    figures = h.api("GET", "/api/dashboard", admin)

    context = h.context()
    page = h.login(context, "admin")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("heading", name="Tổng quan", exact=True)).to_be_visible()
    expect(page.locator('[data-figure="documents"]')).to_have_attribute("data-value", str(figures["documents"]))
    expect(page.locator('[data-figure="operators.lan.dossiers"]')).to_have_attribute("data-value", "2")
    month = figures["reuse"][-1]
    expect(page.locator(f'[data-figure="reuse.{month["month"]}.with_reuse"]')).to_have_attribute("data-value", "1")
    expect(page.get_by_role("img", name=re.compile("Tỷ lệ tái sử dụng"))).to_be_visible()
    h.shot(page, "dashboard")
    page.get_by_text("Bảng số liệu theo ngày").click()
    expect(page.locator("#table-daily")).to_be_visible()
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    h.shot(page, "dashboard-en")
    page.get_by_role("link", name="Tiếng Việt").click()

    # Users: a wrong password is said next to its field; then the account is made, disabled, enabled.
    page.get_by_role("link", name="Quản trị").click()
    expect(page.get_by_role("heading", name="Quản trị", exact=True)).to_be_visible()
    h.shot(page, "admin")
    page.get_by_label("Tên đăng nhập").fill("ngoc")
    page.get_by_label("Vai trò", exact=True).select_option("officer")
    page.get_by_label(re.compile("^Mật khẩu \\(")).fill("short")
    page.get_by_role("button", name="Tạo", exact=True).click()
    expect(page.locator("#user-password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#user-password-error")).to_have_text("Mật khẩu phải có ít nhất 10 ký tự (và không quá 256 byte).")
    expect(page.locator("#user-name")).to_have_value("ngoc")
    h.shot(page, "admin-user-refused")
    page.get_by_label(re.compile("^Mật khẩu \\(")).fill(h.password)
    page.get_by_role("button", name="Tạo", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Đã tạo tài khoản ngoc.")
    row = page.locator('tr[data-user="ngoc"]')
    expect(row.get_by_text("Hoạt động")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Khóa ngoc").click()
    expect(page.get_by_role("status")).to_have_text("Đã khóa tài khoản ngoc.")
    expect(row.get_by_text("Đã khóa")).to_be_visible()
    h.shot(page, "admin-user-disabled")
    row.get_by_role("button", name="Mở khóa ngoc").click()
    expect(page.get_by_role("status")).to_have_text("Đã mở khóa tài khoản ngoc.")
    expect(row.get_by_text("Hoạt động")).to_be_visible()
    assert h.api_login("ngoc")

    # A station token: the secret shown once, usable for ingest only; then revoked.
    page.get_by_label("Tên mã (ví dụ quay-1)").fill("quay-1")
    page.get_by_label("Mục đích").select_option("station")
    page.get_by_role("button", name="Cấp mã").click()
    secret = page.locator("#issued-secret").input_value()
    assert re.fullmatch(r"[0-9a-f]{64}", secret), secret
    expect(page.locator('tr[data-token="quay-1"]')).to_be_visible()
    h.shot(page, "admin-token-issued")
    assert status_of(h, "/api/dashboard", secret) == 403
    page.goto(f"{h.url}/admin")
    expect(page.locator("#issued-secret")).to_have_count(0)
    assert secret not in page.content()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Thu hồi quay-1").click()
    expect(page.get_by_role("status")).to_have_text("Đã thu hồi mã truy cập quay-1.")
    expect(page.locator('tr[data-token="quay-1"]')).to_have_count(0)
    assert status_of(h, "/api/dashboard", secret) == 401
    h.shot(page, "admin-token-revoked")

    # Key rotation asks for the confirmation first.
    page.get_by_role("button", name="Thay khóa").click()
    expect(page.locator("#rotate-confirm")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#rotate-confirm-error")).to_have_text("Hãy đánh dấu ô xác nhận trước.")
    keys = h.api("GET", "/api/keys", admin)
    page.get_by_label("Tôi xác nhận thay khóa niêm phong").check()
    page.get_by_role("button", name="Thay khóa").click()
    expect(page.get_by_role("status")).to_contain_text(f"Đã thay khóa niêm phong: {keys['current']} → ")
    assert h.api("GET", "/api/keys", admin)["current"] != keys["current"]
    h.shot(page, "admin-key-rotated")

    # The configuration in force: every section, no secret.
    page.get_by_role("link", name=re.compile("Xem cấu hình đang áp dụng")).click()
    expect(page.get_by_role("heading", name="[signature]")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("signer.*development"))).to_be_visible()
    content = page.content()
    assert secret not in content and h.password not in content
    h.shot(page, "admin-config")
    h.state["admin_weight"] = {
        "dashboard": h.weigh("admin", "/dashboard", "dashboard"),
        "admin": h.weigh("admin", "/admin", "admin"),
    }
    print(f"first-load weight: {h.state['admin_weight']}")
    context.close()
