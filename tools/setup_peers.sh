#!/usr/bin/env bash
# The peer solver for benchmarks/bench_scale.py, in its own venv (never a spicebar
# dependency): badcrossbar without its plotting stack (pycairo needs a C build).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
venv="$here/benchmarks/.venv-peers"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --no-deps badcrossbar==1.1.0
"$venv/bin/pip" install -q numpy scipy pathvalidate sigfig
"$venv/bin/python" -W ignore -c "import badcrossbar; badcrossbar.compute" && echo "peers ready: $venv"
