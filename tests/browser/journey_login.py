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
