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

import numpy as np

from common import OUT, R_WIRE, growth_exponent, loglog_figure, own_share, passive_case
from spicebar import CrossbarSpec
from spicebar.circuit.elaboration import elaborate
from spicebar.engines.ideal import solve_ideal
from spicebar.engines.ngspice.engine import solve_ngspice
from spicebar.engines.nodal import solve_nodal


def case(n: int, batch: int, seed: int = 0):
    g, v = passive_case(n, batch, seed)
    return CrossbarSpec(g, r_wl=R_WIRE, r_bl=R_WIRE), v


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
            share = own_share(ng, t_ng)
            agree = float(np.abs(ng.currents - nod.currents).max() / np.abs(nod.currents).max())
        rows.append((n, t_ideal, t_elab, t_nodal, t_ng, share, agree))
        print(f"{n:>5} {n * n:>8} {t_ideal:>9.2e} {t_elab:>8.3f} {t_nodal:>9.3f} {t_ng:>10.2f} "
              f"{share:>10.1f} {agree:>17.1e}", flush=True)
    arr = np.array(rows)
    cells = arr[:, 0] ** 2
    print("growth exponent (time ~ cells^k, three largest sizes): "
          f"nodal k={growth_exponent(cells, arr[:, 3]):.2f}, "
          f"ngspice k={growth_exponent(cells, arr[:, 4]):.2f}")
    path = loglog_figure({"ideal (V @ G)": (cells, arr[:, 1]),
                          "nodal (elaborated IR, SuperLU)": (cells, arr[:, 3]),
                          "ngspice (KLU, whole engine)": (cells, arr[:, 4])},
                         f"spicebar engines, passive array, 1 ohm wires, batch {args.batch}",
                         OUT / "engines_time.png")
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
