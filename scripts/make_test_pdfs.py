#!/usr/bin/env python3
"""Makes the PDFs of tests/data/pdf: born-digital documents from several real producers, and scans in
the encodings sohoa's importer does not decode itself, each small. The files in the repository were
made once with this script (run with ./.venv/bin/python, which has Pillow, pikepdf, ReportLab and
Playwright; Chromium, Ghostscript and Poppler come from Debian) and are kept as they are:

    ./.venv/bin/python scripts/make_test_pdfs.py tests/data/pdf

What each file is, and the words the tests search for in it:

- chromium.pdf: Chromium's print to PDF (Playwright), Vietnamese text in a table ("kết hôn").
- ghostscript.pdf: Ghostscript's pdfwrite from PostScript; page 2 is drawn sideways and turned upright
  by /Rotate 90 ("Ghostscript", "sideways").
- cairo.pdf: a ReportLab page written again by cairo (pdftocairo -pdf) ("thường trú").
- form.pdf: ReportLab with AcroForm fields (text, check box), a link and a note annotation
  ("biểu mẫu").
- mixed.pdf: ReportLab; page 1 born digital ("hộ tịch"), page 2 a JPEG scan alone on its page, page 3
  born-digital text over a pasted scan (read by OCR).
- jbig2.pdf, jpx.pdf, flate-dct.pdf, indexed.pdf, icc.pdf: the top of the test page clean300-001 as a
  scan in JBIG2 (generic region, MMR coded), JPEG 2000, Flate over DCT, an indexed colour space and an
  ICC-based colour space ("NAFOSTED").
"""

import io
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import pikepdf
from PIL import Image, ImageCms

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, "tests/data/pages/clean300-001.png")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
CHROMIUM = os.environ.get("SOHOA_CHROMIUM", "/usr/bin/chromium")


def scan_crop():
    """The top of a 300 dpi test page: a few lines of real text, small enough to commit."""
    page = Image.open(PAGE).convert("L")
    return page.crop((0, 200, page.width, 680))


def scan_pdf(path, image_data, dictionary, size):
    """A one-page PDF drawing one image stream (`image_data` as it is, already encoded) over the page."""
    pdf = pikepdf.new()
    w, h = size
    stream = pikepdf.Stream(pdf, image_data)
    stream.Type = pikepdf.Name.XObject
    stream.Subtype = pikepdf.Name.Image
    stream.Width, stream.Height = w, h
    for key, value in dictionary.items():
        stream[key] = value
    pt = (w * 72 / 300, h * 72 / 300)
    content = f"q {pt[0]:.2f} 0 0 {pt[1]:.2f} 0 0 cm /Im0 Do Q".encode()
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, pt[0], pt[1]],
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=stream)),
        Contents=pikepdf.Stream(pdf, content),
    )
    pdf.pages.append(pikepdf.Page(page))
    pdf.save(path, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)


def g4(bitmap):
    """CCITT Group 4 data of a bilevel image, one strip, by libtiff through Pillow."""
    out = io.BytesIO()
    bitmap.save(out, format="TIFF", compression="group4", strip_size=1 << 30)
    tiff = Image.open(io.BytesIO(out.getvalue()))
    offsets, counts = tiff.tag_v2[273], tiff.tag_v2[279]
    assert len(offsets) == 1, "one strip"
    return out.getvalue()[offsets[0] : offsets[0] + counts[0]]


def jbig2_generic_mmr(bitmap):
    """An embedded JBIG2 stream (PDF's JBIG2Decode, no file header): a page information segment and
    one immediate lossless generic region coded with MMR, which is CCITT Group 4 coding."""
    w, h = bitmap.size

    def segment(number, kind, data):
        return struct.pack(">IBBBI", number, kind, 0, 1, len(data)) + data

    page_info = struct.pack(">IIIIBH", w, h, 0, 0, 0, 0)
    region = struct.pack(">IIIIB", w, h, 0, 0, 0) + bytes([1]) + g4(bitmap)
    return segment(0, 48, page_info) + segment(1, 39, region)


def scans(out):
    crop = scan_crop()
    size = crop.size
    bilevel = crop.point(lambda v: 255 if v > 128 else 0, mode="1")
    # JBIG2 and Group 4 code ink as 1, Pillow's bilevel images paper as 1.
    ink = crop.point(lambda v: 0 if v > 128 else 255, mode="1")
    scan_pdf(
        os.path.join(out, "jbig2.pdf"),
        jbig2_generic_mmr(ink),
        {"/ColorSpace": pikepdf.Name.DeviceGray, "/BitsPerComponent": 1, "/Filter": pikepdf.Name.JBIG2Decode},
        size,
    )
    jp2 = io.BytesIO()
    crop.save(jp2, format="JPEG2000", quality_mode="rates", quality_layers=[25], irreversible=True)
    scan_pdf(os.path.join(out, "jpx.pdf"), jp2.getvalue(), {"/Filter": pikepdf.Name.JPXDecode}, size)
    jpeg = io.BytesIO()
    crop.save(jpeg, format="JPEG", quality=60)
    scan_pdf(
        os.path.join(out, "flate-dct.pdf"),
        zlib.compress(jpeg.getvalue(), 9),
        {
            "/ColorSpace": pikepdf.Name.DeviceGray,
            "/BitsPerComponent": 8,
            "/Filter": pikepdf.Array([pikepdf.Name.FlateDecode, pikepdf.Name.DCTDecode]),
        },
        size,
    )
    # Paper and ink as the two entries of a palette: an indexed scan, as some office scanners write.
    palette = bytes([250, 250, 245, 20, 20, 60])
    scan_pdf(
        os.path.join(out, "indexed.pdf"),
        zlib.compress(bytes(1 if v < 128 else 0 for v in crop.tobytes()), 9),
        {
            "/ColorSpace": pikepdf.Array([pikepdf.Name.Indexed, pikepdf.Name.DeviceRGB, 1, pikepdf.String(palette)]),
            "/BitsPerComponent": 8,
            "/Filter": pikepdf.Name.FlateDecode,
        },
        size,
    )
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    rgb = bilevel.convert("RGB").tobytes()
    scan_pdf_icc(os.path.join(out, "icc.pdf"), zlib.compress(rgb, 9), profile, size)


def scan_pdf_icc(path, data, profile, size):
    """As `scan_pdf`, the image in an ICC-based colour space whose profile is in the same file."""
    pdf = pikepdf.new()
    w, h = size
    icc = pikepdf.Stream(pdf, zlib.compress(profile, 9))
    icc.N = 3
    icc.Filter = pikepdf.Name.FlateDecode
    stream = pikepdf.Stream(pdf, data)
    stream.Type, stream.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    stream.Width, stream.Height, stream.BitsPerComponent = w, h, 8
    stream.ColorSpace = pikepdf.Array([pikepdf.Name.ICCBased, pdf.make_indirect(icc)])
    stream.Filter = pikepdf.Name.FlateDecode
    pt = (w * 72 / 300, h * 72 / 300)
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, pt[0], pt[1]],
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=stream)),
        Contents=pikepdf.Stream(pdf, f"q {pt[0]:.2f} 0 0 {pt[1]:.2f} 0 0 cm /Im0 Do Q".encode()),
    )
    pdf.pages.append(pikepdf.Page(page))
    pdf.save(path, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)


def chromium(out):
    from playwright.sync_api import sync_playwright

    html = """<!doctype html><html lang="vi"><meta charset="utf-8">
<style>body{font-family:'DejaVu Sans';font-size:13pt;margin:2cm} td,th{border:1px solid #444;padding:4px}</style>
<h1>Giấy xác nhận tình trạng hôn nhân</h1>
<p>Ủy ban nhân dân phường Điện Biên xác nhận ông Nguyễn Văn An, sinh năm 1990, hiện chưa đăng ký kết hôn
với ai tại địa phương.</p>
<table><tr><th>Họ và tên</th><th>Ngày sinh</th><th>Nơi cư trú</th></tr>
<tr><td>Nguyễn Văn An</td><td>12/05/1990</td><td>Ba Đình, Hà Nội</td></tr></table>
<p>Giấy này có giá trị sáu tháng kể từ ngày cấp.</p></html>"""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page()
        page.set_content(html)
        page.pdf(path=os.path.join(out, "chromium.pdf"), format="A4")
        browser.close()


def ghostscript(out):
    ps = b"""%!PS
<< /PageSize [595 842] >> setpagedevice
/Helvetica findfont 20 scalefont setfont
72 760 moveto (Bien ban ban giao ho so luu tru) show
/Helvetica findfont 12 scalefont setfont
72 730 moveto (Written by Ghostscript pdfwrite from PostScript.) show
72 712 moveto (Page one of two; the second is drawn sideways.) show
showpage
72 760 moveto (The sideways page reads upright once turned.) show
72 742 moveto (Ghostscript wrote it; its Rotate entry turns it.) show
showpage
"""
    with tempfile.TemporaryDirectory() as tmp:
        source, made = os.path.join(tmp, "in.ps"), os.path.join(tmp, "gs.pdf")
        with open(source, "wb") as f:
            f.write(ps)
        subprocess.run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite", f"-sOutputFile={made}", source], check=True)
        pdf = pikepdf.open(made)
        # Page 2's content turned a quarter counter-clockwise on a landscape page, and /Rotate 90 to
        # show it upright: what a scanner or an office suite writes for a page put in sideways.
        page = pdf.pages[1]
        w, h = 595, 842
        page.MediaBox = [0, 0, h, w]
        page.contents_add(pikepdf.Stream(pdf, f"q 0 1 -1 0 {h} 0 cm".encode()), prepend=True)
        page.contents_add(pikepdf.Stream(pdf, b"Q"))
        page.Rotate = 90
        pdf.save(os.path.join(out, "ghostscript.pdf"))


def reportlab_pages(path, pages):
    """A ReportLab document: each page a function drawing on the canvas."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("DejaVu", FONT))
    c = canvas.Canvas(path, pagesize=(595, 842))
    for draw in pages:
        c.setFont("DejaVu", 14)
        draw(c)
        c.showPage()
    c.save()


def cairo(out):
    def page(c):
        c.drawString(72, 760, "Xác nhận nơi thường trú của công dân")
        c.drawString(72, 736, "Trang này được cairo viết lại từ một tệp ReportLab.")

    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "reportlab.pdf")
        reportlab_pages(source, [page])
        subprocess.run(["pdftocairo", "-pdf", source, os.path.join(out, "cairo.pdf")], check=True)


def form(out):
    def page(c):
        c.drawString(72, 780, "Tờ khai theo biểu mẫu đăng ký thường trú")
        c.drawString(72, 740, "Họ và tên:")
        c.acroForm.textfield(name="ho_ten", value="Tran Thi Binh", x=160, y=734, width=260, height=20)
        c.drawString(72, 700, "Đã có hộ khẩu:")
        c.acroForm.checkbox(name="ho_khau", x=190, y=696, size=16, checked=True)
        c.linkURL("https://dichvucong.gov.vn", (72, 650, 300, 670))
        c.drawString(72, 655, "Cổng Dịch vụ công Quốc gia")
        c.drawString(72, 620, "Ghi chú của cán bộ tiếp nhận ở bên phải.")

    reportlab_pages(os.path.join(out, "form.pdf"), [page])
    pdf = pikepdf.open(os.path.join(out, "form.pdf"), allow_overwriting_input=True)
    note = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Text,
        Rect=[400, 600, 420, 620],
        Contents=pikepdf.String("Đã kiểm tra"),
        Open=False,
    )
    pdf.pages[0].Annots.append(pdf.make_indirect(note))
    pdf.save(os.path.join(out, "form.pdf"))


def mixed(out):
    crop = scan_crop()
    with tempfile.TemporaryDirectory() as tmp:
        jpeg = os.path.join(tmp, "scan.jpg")
        crop.save(jpeg, format="JPEG", quality=60, dpi=(300, 300))
        w, h = crop.width * 72 / 300, crop.height * 72 / 300

        def digital(c):
            c.drawString(72, 780, "Trích lục hộ tịch: bản điện tử")
            c.drawString(72, 756, "Trang sau là bản quét đính kèm.")

        def scanned(c):
            c.setPageSize((w, h))
            c.drawImage(jpeg, 0, 0, width=w, height=h)

        def pasted(c):
            c.setPageSize((595, 842))
            c.drawString(72, 780, "Bản quét được dán vào trang điện tử")
            c.drawImage(jpeg, 0, 400, width=w, height=h)

        reportlab_pages(os.path.join(out, "mixed.pdf"), [digital, scanned, pasted])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests/data/pdf")
    os.makedirs(out, exist_ok=True)
    scans(out)
    chromium(out)
    ghostscript(out)
    cairo(out)
    form(out)
    mixed(out)


if __name__ == "__main__":
    main()
