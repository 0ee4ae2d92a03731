"""A batch of input vectors through ngspice: one ``.op`` per vector against one transient.

    python benchmarks/bench_batch.py [--cases 128x50,256x8] [--png]

Each case runs both ways on the same array (the standard passive case, 1 ohm wires),
in this order, and reports wall time, the ngspice worker's CPU time (its child
process), the CPU per vector, the time points of the transient and the agreement
with the nodal engine (largest |I - I_nodal| / max |I_nodal| over the column
currents). The op loop is what spicebar ran before the batch transient (still used
for one vector and for nonlinear or capacitive circuits). Run on a shared machine,
the wall times move with the load; the CPU times and their ratio are the figures to
compare. Writes ``benchmarks/out/bench_batch.png``.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

from common import OUT, R_WIRE, bar_figure, passive_case


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(n: int, batch: int, analysis: str) -> dict:
    from spicebar import CrossbarSpec, simulate
    from spicebar.engines.ngspice import engine
    g, v = passive_case(n, batch)
    spec = CrossbarSpec(g, r_wl=R_WIRE, r_bl=R_WIRE)
    saved = engine.uses_batch_transient
    if analysis == "op":
        engine.uses_batch_transient = lambda ir, b: False
    try:
        cpu0, t0 = child_cpu(), time.perf_counter()
        r = simulate(spec, v, "ngspice", timeout_s=3600)
        wall, cpu = time.perf_counter() - t0, child_cpu() - cpu0
    finally:
        engine.uses_batch_transient = saved
    ref = simulate(spec, v, "nodal", solver="direct" if n <= 256 else "auto").currents
    err = float(np.abs(r.currents - ref).max() / np.abs(ref).max())
    return {"n": n, "batch": batch, "analysis": analysis, "wall": wall, "cpu": cpu,
            "points": r.info["timings"].get("time_points", batch), "err": err}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="128x50,256x8", help="NxBATCH,... (default 128x50,256x8)")
    ap.add_argument("--png", action="store_true", help="also write benchmarks/out/bench_batch.png")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'n':>5} {'batch':>5} {'analysis':>9} {'wall s':>8} {'cpu s':>8} {'cpu/vec':>8} "
          f"{'points':>6} {'vs nodal':>9}")
    rows = []
    for case in args.cases.split(","):
        n, batch = map(int, case.lower().split("x"))
        for analysis in ("op", "tran"):
            r = run(n, batch, analysis)
            rows.append(r)
            print(f"{n:>5} {batch:>5} {analysis:>9} {r['wall']:8.2f} {r['cpu']:8.2f} "
                  f"{r['cpu'] / batch:8.3f} {r['points']:>6} {r['err']:9.1e}", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    if args.png:
        ops = [r for r in rows if r["analysis"] == "op"]
        path = bar_figure([f"{r['n']}x{r['n']} x{r['batch']}" for r in ops],
                          {name: [r["cpu"] / r["batch"] for r in rows if r["analysis"] == a]
                           for a, name in (("op", "one .op per vector"),
                                           ("tran", "one transient"))},
                          "ngspice CPU per input vector, s", OUT / "bench_batch.png")
        print(f"wrote {path}")

if __name__ == "__main__":
    main()
