#!/bin/sh
# What the test suite needs from the system, installed when missing (`make test` runs this first).
#
# The printed lists are tested as a bureau prints them: LibreOffice (headless) prints to PDF, poppler
# reads the pages, and the fonts it prints with are Carlito (Calibri's metrics: Excel's column widths)
# and Noto CJK. The run report is tested in a real headless browser: Debian's chromium. As root (CI, a
# fresh container) the missing Debian packages are installed with apt-get; otherwise one line names them
# and the suite does not start: without them tests fail for the machine's sake, not the code's.
set -eu

missing() {
    command -v soffice >/dev/null 2>&1 || printf ' libreoffice-calc-nogui'
    command -v pdftohtml >/dev/null 2>&1 || printf ' poppler-utils'
    command -v chromium >/dev/null 2>&1 || printf ' chromium'
    command -v fc-list >/dev/null 2>&1 || printf ' fontconfig'
    [ -n "$(fc-list Carlito 2>/dev/null)" ] || printf ' fonts-crosextra-carlito'
    [ -n "$(fc-list 'Noto Sans CJK SC' 2>/dev/null)" ] || printf ' fonts-noto-cjk'
}

packages=$(missing)
[ -z "$packages" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "make test: the suite needs the Debian packages$packages; install them (sudo apt-get install$packages), then run make test again." >&2
    exit 1
fi
echo "make test: installing the Debian packages the suite needs:$packages"
apt-get update -qq
# shellcheck disable=SC2086  # one word per package
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
still=$(missing)
if [ -n "$still" ]; then
    echo "make test: still missing after apt-get install:$still" >&2
    exit 1
fi
