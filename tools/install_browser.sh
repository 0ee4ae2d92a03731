#!/usr/bin/env bash
# Install headless Chromium from Debian's packages (the `chromium` package), for the test
# that opens the built documentation site in a real browser (tests/test_docs_site.py) and
# for `make docs-check`. About 40 s and ~300 MB on a fresh Debian 12 machine.
#
# Idempotent: exits at once when chromium is already on PATH.
set -euo pipefail

say() { printf 'spicebar setup: %s\n' "$*" >&2; }

if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
need_msg="install Chromium yourself (Debian: 'apt-get install chromium'); the docs' browser test needs it"
. "$(dirname "$0")/apt_access.sh"   # sets SUDO, or exits naming what to install
say "installing chromium (headless browser for the docs' check) from Debian's packages"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    || { $SUDO apt-get update -qq >/dev/null && \
         $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
    || { say "apt-get could not install chromium; $need_msg"; exit 1; }
