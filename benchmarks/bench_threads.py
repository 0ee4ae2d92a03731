"""Threads of the line solver's compiled kernels, on a shared machine: paired runs.

    python benchmarks/bench_threads.py [--sizes 512x1,1024x1,512x8] [--rounds 3]
        [--before DIR]

Each configuration runs in a fresh process (warm-up solve first, so compilation and
cache loading are not timed) and times ``solve_grid`` three times (median). The
configurations are interleaved round by round, so every one sees the same load.
``--before DIR`` adds the same runs with another checkout of spicebar (e.g. ``git
worktree add /tmp/before <commit>``): its default, and its default on one thread.
Configurations of this checkout: the default (numba's ``workqueue`` layer, parallel
Thomas sweeps from a million elements), one thread (``SPICEBAR_THREADS=1``), and the
OpenMP layer (``NUMBA_THREADING_LAYER=omp``) to show what it costs under load.
Prints the load average with the table; writes ``benchmarks/out/bench_threads.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from common import OUT, bar_figure

HERE = Path(__file__).resolve().parent
CHILD = r"""
import json, sys, time
import numpy as np
from spicebar.circuit.spec import CrossbarSpec
from spicebar.engines.nodal.grid import solve_grid
n, batch = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
spec = CrossbarSpec(np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), (n, n))), r_wl=1.0, r_bl=1.0)
v = rng.uniform(0, 0.2, (batch, n))
solve_grid(spec, v)  # warm-up: kernels loaded (or compiled), thread pool started
times = []
for _ in range(3):
    t0 = time.perf_counter()
    solve_grid(spec, v)
    times.append(time.perf_counter() - t0)
print(json.dumps({"median": float(np.median(times)), "times": times}))
"""


def configs(before: str | None) -> dict[str, tuple[str | None, dict]]:
    out = {"after: default": (None, {}),
           "after: SPICEBAR_THREADS=1": (None, {"SPICEBAR_THREADS": "1"}),
           "after: omp layer": (None, {"NUMBA_THREADING_LAYER": "omp"})}
    if before:
        out["before: default"] = (before, {})
        out["before: NUMBA_NUM_THREADS=1"] = (before, {"NUMBA_NUM_THREADS": "1"})
    return out


def run(path: str | None, env: dict, n: int, batch: int) -> float:
    e = {k: v for k, v in os.environ.items()
         if k not in ("SPICEBAR_THREADS", "NUMBA_THREADING_LAYER", "NUMBA_NUM_THREADS")}
    e.update(env)
    if path:
        e["PYTHONPATH"] = str(path)
    p = subprocess.run([sys.executable, "-c", CHILD, str(n), str(batch)], capture_output=True,
                       text=True, env=e, cwd=path or HERE.parent, timeout=1200)
    if p.returncode:
        raise RuntimeError(p.stderr[-2000:])
    return json.loads(p.stdout.strip().splitlines()[-1])["median"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="512x1,1024x1,512x8")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--before", default=None, metavar="DIR")
    args = ap.parse_args()
    cases = [tuple(map(int, s.lower().split("x"))) for s in args.sizes.split(",")]
    cfg = configs(args.before)
    res = {(name, c): [] for name in cfg for c in cases}
    loads = [os.getloadavg()[0]]
    for _ in range(args.rounds):
        for c in cases:
            for name, (path, env) in cfg.items():
                res[name, c].append(run(path, env, *c))
        loads.append(os.getloadavg()[0])
    print(f"load average (1 min) over the rounds: {min(loads):.1f}-{max(loads):.1f} on "
          f"{os.cpu_count()} cores; seconds per solve, median of 3 in each round, then the "
          "median and range over the rounds")
    print(f"{'configuration':>30} " + " ".join(f"{f'{n}x{n} x{b}':>22}" for n, b in cases))
    for name in cfg:
        cells = []
        for c in cases:
            t = res[name, c]
            cells.append(f"{np.median(t):7.3f} ({min(t):.3f}-{max(t):.3f})")
        print(f"{name:>30} " + " ".join(f"{s:>22}" for s in cells))
    path = bar_figure([f"{n}x{n}, {b} vector(s)" for n, b in cases],
                      {name: [float(np.median(res[name, c])) for c in cases] for name in cfg},
                      "seconds per solve (median)", OUT / "bench_threads.png",
                      f"line solver threads, load {min(loads):.1f}-{max(loads):.1f} on "
                      f"{os.cpu_count()} cores")
    print(f"wrote {path}")

if __name__ == "__main__":
    main()
