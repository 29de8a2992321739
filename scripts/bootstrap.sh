#!/usr/bin/env bash
# Installs what sohoa needs on a Debian machine and is missing: the Debian packages of the real components
# that the current features use. Safe to run again: it installs nothing that is already there.
set -euo pipefail

packages=(
  pkg-config clang libclang-dev          # bindgen for RocksDB's bindings
  libtesseract-dev libleptonica-dev      # OCR engine, linked through tesseract-rs
  tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng tesseract-ocr-osd
  poppler-utils qpdf                     # the PDF renderer (pdftoppm, pdftotext); independent PDF checks in the tests
  ghostscript                            # OCRmyPDF's PDF/A output, the capture benchmark's peer
  softhsm2 openssl                       # the PKCS #11 token, test PKI and local TSA of the signing tests
  zbar-tools                             # reads the QR code of signed copies back in the tests
  python3-venv
  curl                                   # the browser-style HTTPS client of the LAN service tests
  chromium fonts-dejavu-core             # the web UI's browser tests (driven by Playwright from .venv)
  postgresql                             # the search benchmark's peer (unaccent + GIN), in a private cluster
  rclone                                 # the province benchmark's peer (an S3 copy of the same files)
  nats-server                            # JetStream for the OCR offload: the tests start three on loopback
  libsane-dev libsane1 sane-utils        # scanners through libsane (bindgen reads sane.h); the test backend; scanimage
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "bootstrap: cargo is missing; install the Rust toolchain (rustup) first" >&2; exit 1; }
# The format and lint checks of .ci/run and `make lint`; rustup's default profile has them, a minimal
# one does not.
for check in "fmt rustfmt" "clippy clippy"; do
  set -- $check
  if ! cargo "$1" --version >/dev/null 2>&1 && command -v rustup >/dev/null; then
    rustup component add "$2" >/dev/null
  fi
done

# Python tools (pikepdf for the tests, OCRmyPDF for the benchmarks) live in ./.venv, reinstalled only
# when scripts/requirements.txt changes.
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.requirements"
if ! cmp -s "$root/scripts/requirements.txt" "$stamp" 2>/dev/null; then
  echo "bootstrap: installing Python tools into $venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/scripts/requirements.txt"
  cp "$root/scripts/requirements.txt" "$stamp"
fi
