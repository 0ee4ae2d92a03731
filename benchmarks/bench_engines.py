"""Time the engines on square passive arrays and print a table; write a log-log plot.

    python benchmarks/bench_engines.py [--sizes 32,64,128,256] [--nodal-sizes ...] [--batch 1]

Arrays: conductances log-uniform in [1 uS, 100 uS], 1 ohm word- and bit-line
segments, inputs uniform in [0, 0.2] V, the default topology. ``ngspice`` times the
whole engine (netlist emission, child process, load, .op, read-back); its
``spicebar %`` column is the share not spent inside ngspice's load and solve.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from spicebar import CrossbarSpec
from spicebar.elaboration import elaborate
from spicebar.engines.ideal import solve_ideal
from spicebar.engines.ngspice import solve_ngspice
from spicebar.engines.nodal import solve_nodal

OUT = Path(__file__).resolve().parent / "out"


def case(n: int, batch: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    g = np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), (n, n)))
    return CrossbarSpec(g, r_wl=1.0, r_bl=1.0), rng.uniform(0, 0.2, (batch, n))


def growth_exponent(sizes, times) -> float:
    """Slope of log(time) against log(cells) over the two largest sizes measured."""
    cells = np.asarray(sizes, float) ** 2
    t = np.asarray(times, float)
    ok = np.isfinite(t)
    if ok.sum() < 2:
        return float("nan")
    c, t = cells[ok][-2:], t[ok][-2:]
    return float(np.log(t[1] / t[0]) / np.log(c[1] / c[0]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="32,64,128,256")
    ap.add_argument("--nodal-sizes", default="32,64,128,256,512")
    ap.add_argument("--batch", type=int, default=1)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    nodal_sizes = [int(s) for s in args.nodal_sizes.split(",")]
    all_sizes = sorted(set(sizes) | set(nodal_sizes))
    rows = []
    print(f"{'n':>5} {'cells':>8} {'ideal s':>9} {'elab s':>8} {'nodal s':>9} {'ngspice s':>10} "
          f"{'spicebar %':>10} {'ngspice vs nodal':>17}")
    for n in all_sizes:
        spec, v = case(n, args.batch)
        t0 = time.perf_counter(); solve_ideal(spec, v); t_ideal = time.perf_counter() - t0
        t0 = time.perf_counter(); ir = elaborate(spec); t_elab = time.perf_counter() - t0
        t0 = time.perf_counter(); nod = solve_nodal(ir, v); t_nodal = time.perf_counter() - t0
        t_ng = share = agree = float("nan")
        if n in sizes:
            t0 = time.perf_counter()
            ng = solve_ngspice(ir, v)
            t_ng = time.perf_counter() - t0
            inside = ng.info["timings"]["load_s"] + ng.info["timings"]["run_s"]
            share = 100 * (1 - inside / t_ng)
            agree = float(np.abs(ng.currents - nod.currents).max() / np.abs(nod.currents).max())
        rows.append((n, t_ideal, t_elab, t_nodal, t_ng, share, agree))
        print(f"{n:>5} {n * n:>8} {t_ideal:>9.2e} {t_elab:>8.3f} {t_nodal:>9.3f} {t_ng:>10.2f} "
              f"{share:>10.1f} {agree:>17.1e}", flush=True)
    arr = np.array(rows)
    print("growth exponent (time ~ cells^k, two largest sizes): "
          f"nodal k={growth_exponent(arr[:, 0], arr[:, 3]):.2f}, "
          f"ngspice k={growth_exponent(arr[:, 0], arr[:, 4]):.2f}")
    OUT.mkdir(exist_ok=True)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 5), constrained_layout=True)
    for col, label in ((1, "ideal (V @ G)"), (3, "nodal (elaborated IR, SuperLU)"),
                       (4, "ngspice (KLU, whole engine)")):
        ok = np.isfinite(arr[:, col])
        ax.loglog(arr[ok, 0] ** 2, arr[ok, col], "o-", label=label)
    ax.set_xlabel("cells (rows x cols)")
    ax.set_ylabel("wall time, s")
    ax.set_title(f"spicebar engines, passive array, 1 ohm wires, batch {args.batch}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.savefig(OUT / "engines_time.png", dpi=110)
    print(f"plot: {OUT / 'engines_time.png'}")


if __name__ == "__main__":
    main()
