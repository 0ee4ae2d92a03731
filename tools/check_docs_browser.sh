#!/usr/bin/env bash
# Open the built documentation site in headless Chromium (Debian's `chromium` package):
# the landing page and the command-line reference must render with the theme's stylesheet
# and their content, and no internal link, image or anchor may be broken.
#   bash tools/check_docs_browser.sh [SITE_DIR]     (default docs/_build/html; `make docs-check`)
# The test suite runs the same check on a fresh build (tests/test_docs_site.py).
set -euo pipefail
cd "$(dirname "$0")/.."
SITE="${1:-docs/_build/html}"
VENV="${VENV:-.venv}"
exec "$VENV/bin/python" -m tests.docs_site browser "$SITE"
