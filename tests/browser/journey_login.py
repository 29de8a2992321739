"""Logging in: the form in Vietnamese, a wrong password said so next to the form, each role taken to
its own first screen, the English switch, and logging out."""

import re

from harness import expect

HOMES = {"lan": "/station", "minh": "/search", "hoa": "/archivist", "thu": "/auditor", "admin": "/dashboard"}


def run(h):
    context = h.context()
    page = context.new_page()
    page.goto(f"{h.url}/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    h.shot(page, "login")
    page.get_by_label("Tên đăng nhập").fill("lan")
    page.get_by_label("Mật khẩu").fill("not the password")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator("#login-error")).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng.")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.locator("#login-error")).to_have_text("Wrong user name or password.")
    context.close()
    for user, home in HOMES.items():
        context = h.context()
        page = h.login(context, user)
        expect(page).to_have_url(re.compile(re.escape(home) + "$"))
        page.get_by_role("button", name="Đăng xuất").click()
        expect(page).to_have_url(re.compile(r"/login"))
        context.close()
    account(h)


def account(h):
    """A person replaces their own password on the account page: a wrong current password and two
    different new ones are said next to their fields; then the new password is the one that logs in."""
    context = h.context()
    page = h.login(context, "thu")
    page.get_by_role("link", name="thu", exact=True).click()
    expect(page.get_by_role("heading", name="Tài khoản của tôi")).to_be_visible()
    h.shot(page, "account")
    new = "một mật khẩu mới dài hơn"
    page.get_by_label("Mật khẩu hiện tại").fill("không phải mật khẩu")
    page.get_by_label("Mật khẩu mới", exact=True).fill(new)
    page.get_by_label("Nhập lại mật khẩu mới").fill(new)
    page.get_by_role("button", name="Đổi mật khẩu").click()
    expect(page.locator("#current-error")).to_have_text("Mật khẩu hiện tại không đúng.")
    expect(page.get_by_label("Mật khẩu hiện tại")).to_have_attribute("aria-invalid", "true")
    h.shot(page, "account-wrong-current")
    page.get_by_label("Mật khẩu hiện tại").fill(h.password)
    page.get_by_label("Mật khẩu mới", exact=True).fill(new)
    page.get_by_label("Nhập lại mật khẩu mới").fill(new + "!")
    page.get_by_role("button", name="Đổi mật khẩu").click()
    expect(page.locator("#repeat-error")).to_have_text("Hai lần nhập mật khẩu mới không giống nhau.")
    page.get_by_label("Mật khẩu hiện tại").fill(h.password)
    page.get_by_label("Mật khẩu mới", exact=True).fill(new)
    page.get_by_label("Nhập lại mật khẩu mới").fill(new)
    page.get_by_role("button", name="Đổi mật khẩu").click()
    expect(page.locator(".flash")).to_have_text("Đã đổi mật khẩu.")
    page.get_by_role("button", name="Đăng xuất").click()
    page.get_by_label("Tên đăng nhập").fill("thu")
    page.get_by_label("Mật khẩu").fill(new)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page).to_have_url(re.compile(r"/auditor$"))
    context.close()
