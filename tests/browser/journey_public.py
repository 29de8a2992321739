"""The public verification page (issue 20, journey 4): anyone, without a login, verifies the signed
copy an officer downloaded, and is told "altered" for a copy with one byte changed. The same page
answers the code and token printed on the copy, and reads the copy's QR code with the PC's camera
(Chromium's fake camera plays a video of the QR code, made from the signed PDF's first page)."""

import os
import re
import subprocess

from harness import FLAGS, expect

QR_SIZE_POINTS = 72  # signer/src/pades.rs: the QR code's side, MARGIN points from the top-left corner
MARGIN_POINTS = 14


def signed_copy(h):
    """The signed PDF of the document of the earlier journeys (downloaded by the officer), or of one
    ingested now through the API."""
    document = h.state.get("document")
    if not document:
        document = h.ingest_document()
    path = h.state.get("downloaded_pdf")
    if not path:
        token = h.api_login("minh")
        path = os.path.join(h.out, "copy.pdf")
        with open(path, "wb") as f:
            f.write(h.api_bytes("GET", f"/api/documents/{document['code']}/pdf", token))
    return document, path


def upload(page, h, path):
    page.goto(f"{h.url}/verify")
    page.get_by_label("Tệp PDF", exact=True).set_input_files(path)
    page.get_by_role("button", name="Kiểm tra tệp").click()
    page.wait_for_load_state()


def run(h):
    document, path = signed_copy(h)
    with open(path, "rb") as f:
        original = f.read()
    context = h.context()
    page = context.new_page()
    page.goto(f"{h.url}/verify")
    expect(page.get_by_role("heading", name="Xác thực bản điện tử")).to_be_visible()
    h.shot(page, "verify-empty")

    upload(page, h, path)
    expect(page.locator("#verdict-title")).to_have_text("HỢP LỆ")
    expect(page.locator("#verdict")).to_contain_text(document["name"])
    expect(page.locator("#verdict .checks li.bad")).to_have_count(0)
    h.shot(page, "verify-authentic")

    # One byte changed inside the signed content (not in the trailing update): the copy is altered.
    altered = bytearray(original)
    middle = len(altered) // 3
    altered[middle] ^= 0x01
    altered_path = os.path.join(h.out, "altered.pdf")
    with open(altered_path, "wb") as f:
        f.write(bytes(altered))
    upload(page, h, altered_path)
    expect(page.locator("#verdict-title")).to_have_text("ĐÃ BỊ SỬA ĐỔI")
    expect(page.locator("#verdict .checks li.bad").first).to_contain_text("Tệp PDF")
    h.shot(page, "verify-altered")

    # A file that is no copy at all names nothing.
    other = os.path.join(h.out, "other.pdf")
    with open(other, "wb") as f:
        f.write(b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
    upload(page, h, other)
    expect(page.locator("#verdict-title")).to_have_text("KHÔNG TÌM THẤY")

    # The code and token printed on the copy, as its QR code's link carries them.
    link = re.search(rb"/URI\s*\(([^)]*/verify\?[^)]*)\)", original).group(1).decode()
    query = link.split("/verify?", 1)[1]
    page.goto(f"{h.url}/verify?{query}")
    expect(page.locator("#verdict-title")).to_have_text("HỢP LỆ")
    page.get_by_role("link", name="English").click()
    expect(page.locator("#verdict-title")).to_have_text("AUTHENTIC")
    h.shot(page, "verify-by-code-english")
    wrong = re.sub(r"t=[0-9a-f]", "t=0", query) if "t=0" not in query else query.replace("t=0", "t=1")
    page.goto(f"{h.url}/verify?{wrong}")
    expect(page.locator("#verdict-title")).to_have_text("UNKNOWN")
    context.close()

    camera(h, path, query, os.path.join(h.out, "qr.y4m"))


def camera(h, pdf, query, video):
    """Chromium's fake camera shows the copy's QR code; the page reads it and verifies."""
    qr_video(pdf, video)
    browser = h.launch(FLAGS + [f"--use-file-for-fake-video-capture={video}"])
    try:
        context = browser.new_context(locale="vi-VN", permissions=["camera"])
        page = context.new_page()
        page.goto(f"{h.url}/verify")
        page.get_by_role("button", name="Quét bằng camera").click()
        expect(page.locator("#verdict-title")).to_have_text("HỢP LỆ")
        code = query.split("code=", 1)[1].split("&", 1)[0]
        expect(page).to_have_url(re.compile(re.escape(f"code={code}")))
        h.shot(page, "verify-by-camera")
    finally:
        browser.close()


def qr_video(pdf, video):
    """A few seconds of video (y4m, 640×480) of the QR code on page 1 of `pdf`, rendered by poppler."""
    from PIL import Image

    base = os.path.splitext(video)[0]
    dpi = 200
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", str(dpi), "-gray", "-png", pdf, base], check=True)
    rendered = [f for f in os.listdir(os.path.dirname(video)) if f.startswith(os.path.basename(base)) and f.endswith(".png")]
    image = Image.open(os.path.join(os.path.dirname(video), sorted(rendered)[0])).convert("L")
    scale = dpi / 72
    quiet = 8 * scale
    box = (
        int(MARGIN_POINTS * scale - quiet),
        int(MARGIN_POINTS * scale - quiet),
        int((MARGIN_POINTS + QR_SIZE_POINTS) * scale + quiet),
        int((MARGIN_POINTS + QR_SIZE_POINTS) * scale + quiet),
    )
    qr = image.crop(box).resize((400, 400), Image.NEAREST)
    frame = Image.new("L", (640, 480), 255)
    frame.paste(qr, (120, 40))
    luma = frame.tobytes()
    chroma = bytes([128]) * (320 * 240)
    with open(video, "wb") as f:
        f.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(30):
            f.write(b"FRAME\n" + luma + chroma + chroma)
