#!/usr/bin/env python3
"""Render Vietnamese administrative text into scanner-like page images with ground truth.

usage: make_pages.py OUTDIR SOURCE_TXT [--pages N] [--font PATH] [--dpi 300] [--seed S]
       [--skew DEG] [--noise SIGMA] [--blur R] [--jpeg Q] [--prefix NAME]
Writes OUTDIR/NAME-NNN.png (grayscale, dpi tagged) and OUTDIR/NAME-NNN.gt.txt (exact text, one line per rendered line).
scripts/make-test-pages.sh runs it with the settings of the test pages in tests/data/pages.
"""
import argparse, os, random, re, unicodedata
from PIL import Image, ImageDraw, ImageFont, ImageFilter
import numpy as np

def paragraphs(path):
    text = open(path, encoding="utf-8").read()
    text = unicodedata.normalize("NFC", text)
    text = text.replace("|", " ")
    text = re.sub(r"[ \t]+", " ", text)
    words = [w for w in text.split() if w.strip()]
    return words

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir"); ap.add_argument("source")
    ap.add_argument("--pages", type=int, default=3)
    ap.add_argument("--font", default="/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf")
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--pt", type=float, default=13.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skew", type=float, default=0.0)
    ap.add_argument("--noise", type=float, default=0.0)
    ap.add_argument("--blur", type=float, default=0.0)
    ap.add_argument("--jpeg", type=int, default=0)
    ap.add_argument("--offset", type=int, default=0, help="start word index")
    ap.add_argument("--prefix", default="page")
    ap.add_argument("--turn", type=int, default=0, help="rotate page by 90*K degrees (K=1,2,3)")
    ap.add_argument("--stamp", action="store_true", help="red circular seal over the text (colour page)")
    ap.add_argument("--contrast", type=float, default=1.0, help="<1 fades the ink toward paper grey")
    ap.add_argument("--speckle", type=float, default=0.0, help="fraction of pixels flipped to black/white")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    os.makedirs(a.outdir, exist_ok=True)
    words = paragraphs(a.source)[a.offset:]
    W, H = int(8.27 * a.dpi), int(11.69 * a.dpi)
    margin = int(0.9 * a.dpi)
    px = int(a.pt / 72 * a.dpi)
    font = ImageFont.truetype(a.font, px)
    line_h = int(px * 1.45)
    wi = 0
    for p in range(a.pages):
        img = Image.new("L", (W, H), 255)
        d = ImageDraw.Draw(img)
        y = margin
        lines = []
        while y + line_h < H - margin and wi < len(words):
            line = []
            while wi < len(words):
                cand = " ".join(line + [words[wi]])
                if d.textlength(cand, font=font) > W - 2 * margin and line:
                    break
                line.append(words[wi]); wi += 1
            s = " ".join(line)
            d.text((margin, y), s, font=font, fill=rnd.randint(0, 40))
            lines.append(s)
            y += line_h
        if a.contrast != 1.0:
            arr = np.asarray(img).astype(np.float32)
            arr = 235 - (235 - arr * (235/255)) * a.contrast
            img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        if a.stamp:
            img = img.convert("RGB")
            sd = ImageDraw.Draw(img, "RGBA")
            for k in range(2):
                cx, cy, r = rnd.randint(W//3, 2*W//3), rnd.randint(H//4, 3*H//4), int(0.75 * a.dpi)
                col = (200, 30, 40, 150)
                sd.ellipse((cx-r, cy-r, cx+r, cy+r), outline=col, width=int(a.dpi/30))
                sd.ellipse((cx-r*0.7, cy-r*0.7, cx+r*0.7, cy+r*0.7), outline=col, width=int(a.dpi/60))
                sf = ImageFont.truetype(a.font, int(px*0.9))
                sd.text((cx - r*0.55, cy - px*0.5), "ỦY BAN NHÂN DÂN", font=sf, fill=col)
                sd.regular_polygon((cx, cy - r*0.45, px*0.5), 5, fill=col)
        if a.skew:
            img = img.rotate(a.skew, resample=Image.BICUBIC, expand=False, fillcolor=255)
        if a.blur:
            img = img.filter(ImageFilter.GaussianBlur(a.blur))
        if a.noise:
            arr = np.asarray(img).astype(np.float32)
            arr += np.random.default_rng(a.seed + p).normal(0, a.noise, arr.shape)
            img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        if a.speckle:
            arr = np.asarray(img).copy()
            g = np.random.default_rng(a.seed * 7 + p)
            m = g.random(arr.shape[:2])
            arr[m < a.speckle / 2] = 0
            arr[m > 1 - a.speckle / 2] = 255
            img = Image.fromarray(arr)
        if a.turn:
            img = img.rotate(90 * a.turn, expand=True)
        name = f"{a.prefix}-{p+1:03d}"
        if a.jpeg:
            img.save(os.path.join(a.outdir, name + ".jpg"), quality=a.jpeg, dpi=(a.dpi, a.dpi))
        else:
            img.save(os.path.join(a.outdir, name + ".png"), dpi=(a.dpi, a.dpi), optimize=True)
        with open(os.path.join(a.outdir, name + ".gt.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

if __name__ == "__main__":
    main()
