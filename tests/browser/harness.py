"""The browser tests' harness: Debian's Chromium driven by Playwright, against a `sohoa serve` that the
Rust test started (tests/web_ui.rs). A journey is a module of this folder with `run(h)`; `run.py`
runs the journeys it is given in order, with one shared `state` (the document journey 1 seals is the
one journey 2 finds). Every screen a journey passes through is saved as a screenshot in the output
folder and checked with axe-core; `weigh` measures what a screen transfers on a first load."""

import json
import os
import re
import time
import urllib.request
import uuid

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect, sync_playwright

CHROMIUM = os.environ.get("SOHOA_CHROMIUM", "/usr/bin/chromium")
# Without the background networking flags Chromium keeps trying hosts that a closed network refuses.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    # The browser of a counter PC in Vietnam: its own widgets (a date input) in Vietnamese, dd/mm/yyyy.
    "--lang=vi",
]
# axe-core's impacts that fail a screen.
FAILING_IMPACTS = {"serious", "critical"}
# How long an action or an expectation may wait on a loaded two-core machine, in milliseconds.
SLOW_MACHINE_MS = 120_000
expect.set_options(timeout=SLOW_MACHINE_MS)

__all__ = ["Harness", "expect", "text_page"]

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def text_page(lines):
    """A white A5 page at 300 dpi with `lines` of text, as a PNG: what a scanner gives for a clean page."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (1748, 2480), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 56)
    for i, line in enumerate(lines):
        draw.text((150, 300 + i * 110), line, fill=0, font=font)
    out = io.BytesIO()
    page.save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


class Harness:
    def __init__(self, url, out, password):
        self.url = url.rstrip("/")
        self.out = out
        self.password = password
        self.state = {}
        self.report = {"screens": {}, "screenshots": []}
        self._shots = 0
        self._playwright = sync_playwright().start()
        self.browser = self.launch(FLAGS)
        self._axe = Axe()

    def launch(self, flags):
        """Another Chromium, with its own flags (a fake camera's video, say)."""
        return self._playwright.chromium.launch(executable_path=CHROMIUM, args=flags)

    def close(self):
        self.browser.close()
        self._playwright.stop()
        with open(os.path.join(self.out, "report.json"), "w") as f:
            json.dump(self.report, f, indent=1, ensure_ascii=False)

    def context(self, **options):
        """A fresh browser (empty cache and cookies), as a counter PC in Vietnam sets it."""
        options.setdefault("locale", "vi-VN")
        options.setdefault("timezone_id", "Asia/Ho_Chi_Minh")
        options.setdefault("accept_downloads", True)
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = self.browser.new_context(**options)
        # Waits are bounded by what a loaded two-core machine needs, not by Playwright's 30 s: a
        # screenshot of a long page waits for the renderer, which shares the cores with the server.
        context.set_default_timeout(SLOW_MACHINE_MS)
        return context

    def login(self, context, user, path="/"):
        """Logs `user` in with the login form; returns the page, on the screen `path` leads to."""
        page = context.new_page()
        page.goto(f"{self.url}{path}")
        expect(page).to_have_url(re.compile(r"/login\?"))
        page.get_by_label(re.compile("Tên đăng nhập|User name")).fill(user)
        page.get_by_label(re.compile("Mật khẩu|Password")).fill(self.password)
        page.get_by_role("button", name=re.compile("^(Đăng nhập|Log in)$")).click()
        page.wait_for_load_state()
        expect(page).not_to_have_url(re.compile(r"/login"))
        return page

    def shot(self, page, name):
        """Saves the screen as a PNG in the output folder and checks it with axe-core."""
        self._shots += 1
        path = os.path.join(self.out, f"{self._shots:02d}-{name}.png")
        page.screenshot(path=path, full_page=True)
        self.report["screenshots"].append(path)
        self.check_accessibility(page, name)
        return path

    def check_accessibility(self, page, name):
        """axe-core on the page as it is now: no serious or critical violation."""
        results = self._axe.run(page)
        failing = [v for v in results.response["violations"] if v.get("impact") in FAILING_IMPACTS]
        counts = {}
        for v in results.response["violations"]:
            counts[v.get("impact")] = counts.get(v.get("impact"), 0) + 1
        self.report["screens"].setdefault(name, {})["axe"] = counts
        if failing:
            detail = "; ".join(
                f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in failing
            )
            raise AssertionError(f"axe-core on {name} ({page.url}): {detail}")

    def weigh(self, user, path, name, exclude=r"/pages/"):
        """What the screen at `path` transfers on a first load in a fresh browser (empty cache; logged
        in as `user` without loading any page, or anonymous when `user` is None): bytes on the wire of
        every response, headers included, except the URLs that match `exclude` (page images). Returns
        the total; recorded in the report."""
        context = self.context()
        try:
            if user:
                answer = context.request.post(
                    f"{self.url}/login",
                    form={"username": user, "password": self.password, "next": "/"},
                    max_redirects=0,
                )
                assert answer.status == 303 and "/login" not in answer.headers["location"], answer.headers
            requests = []
            page = context.new_page()
            page.on("requestfinished", lambda request: requests.append(request))
            page.goto(f"{self.url}{path}")
            page.wait_for_load_state("networkidle")
            sizes = [r.sizes() for r in requests if not re.search(exclude, r.url)]
            total = sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes)
            self.report["screens"].setdefault(name, {})["first_load_bytes"] = total
            self.report["screens"][name]["requests"] = len(sizes)
            return total
        finally:
            context.close()

    def api(self, method, path, token=None, body=None):
        """A JSON API call, for setting up what a journey does not do through the screens."""
        data = None if body is None else json.dumps(body).encode()
        return json.loads(self.api_bytes(method, path, token, data, "application/json"))

    def api_bytes(self, method, path, token=None, data=None, content_type=None):
        """An API call's raw answer."""
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        if content_type:
            request.add_header("content-type", content_type)
        if token:
            request.add_header("authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.read()

    def api_login(self, user):
        """A bearer token of `user`, for API calls."""
        return self.api("POST", "/api/login", body={"username": user, "password": self.password})["token"]

    def ingest(self, fields, png, token=None, operator="lan"):
        """Archives one page with the metadata `fields` through the API, as a scanning station's client
        sends it (multipart POST /api/documents), as `operator` unless a `token` is given; returns the
        ingest report."""
        boundary = uuid.uuid4().hex
        body = b""
        for key, value in fields.items():
            body += f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        body += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="page"; filename="trang-1.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        body += png + f"\r\n--{boundary}--\r\n".encode()
        token = token or self.api_login(operator)
        return json.loads(
            self.api_bytes("POST", "/api/documents?wait=archived", token, body, f"multipart/form-data; boundary={boundary}")
        )

    def ingest_document(self, owner="001099012345", doc_type="GPXD", name="Giấy phép xây dựng nhà ở",
                        number="123/QĐ-UBND"):
        """Archives a one-page document for a journey run on its own: the page is Vietnamese text drawn
        at 300 dpi. Returns what the station journey leaves in `state["document"]`."""
        fields = {"owner": owner, "type": doc_type, "name": name, "number": number}
        page = text_page([name.upper(), f"Số: {number}", f"Chủ sở hữu: {owner}", "Ủy ban nhân dân phường Bến Thành"])
        report = self.ingest(fields, page)
        document = {"code": report["code"], "owner": owner, "name": name, "number": number}
        self.state.setdefault("document", document)
        return document

    def wait(self, seconds):
        time.sleep(seconds)
