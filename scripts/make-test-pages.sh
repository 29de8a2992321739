#!/usr/bin/env bash
# Makes the test pages of tests/data/pages (its README says what each one is) with make_pages.py:
# the settings each page was made with. Needs Python with Pillow and numpy, and the fonts of Debian's
# fonts-noto-core and fonts-dejavu-core. The pages in the repository were made once and are kept as
# they are: name another directory to make new pages, e.g. for load tests
#   scripts/make-test-pages.sh /tmp/more-pages
# (naming tests/data/pages replaces them, and the CER bounds of tests/cer.rs are then to be re-measured).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/make-test-pages.sh OUTDIR}"
sources="$root/tests/data/pages"
make_pages=(python3 "$root/scripts/make_pages.py")
noto=/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf
dejavu=/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf
a="$sources/src-a.txt"
b="$sources/src-b.txt"

"${make_pages[@]}" "$out" "$a" --pages 2 --font "$noto" --prefix clean300 --seed 101
"${make_pages[@]}" "$out" "$b" --pages 1 --font "$dejavu" --prefix skew --skew -2.2 --seed 102
"${make_pages[@]}" "$out" "$a" --pages 1 --font "$dejavu" --prefix noisy --noise 12 --blur 0.8 --jpeg 85 --seed 103 --offset 1500
"${make_pages[@]}" "$out" "$b" --pages 1 --font "$noto" --prefix jpeg200 --dpi 200 --jpeg 60 --pt 12 --seed 104 --offset 700
"${make_pages[@]}" "$out" "$a" --pages 1 --font "$noto" --prefix upside --turn 2 --seed 105 --offset 900
"${make_pages[@]}" "$out" "$b" --pages 1 --font "$dejavu" --prefix sideways --turn 3 --seed 106 --offset 1400
"${make_pages[@]}" "$out" "$a" --pages 1 --font "$dejavu" --prefix stamped --stamp --seed 107 --offset 300
"${make_pages[@]}" "$out" "$b" --pages 1 --font "$noto" --prefix faded150 --dpi 150 --contrast 0.4 --speckle 0.015 --seed 108 --offset 2000
