"""What the energy breakdown costs, and the 64x64 readout it itemises in both engines.

    python benchmarks/bench_energy.py [--dc-sizes 64,128,256] [--batch 8]
                                      [--readout-size 64] [--readout-engines nodal,ngspice]
                                      [--wire-c-ff 2] [--no-readout] [--docs]

Part 1 (DC, nodal): the standard passive case (1 ohm segments, log-uniform 1 uS..100 uS,
``--batch`` vectors). For each size: ``simulate`` alone (the solver ``auto`` picks) and
``simulate_with_energy`` (the same simulation, then the energy read off its maps); the
energy cost is the difference over ``simulate`` (the issue's budget: at most 20 % at
256x256), each the best of :data:`REPEATS` runs. For other topologies the energy goes through every element of the IR: the
``IR`` columns time that path's solve (``solve_nodal``) and its element powers.

Part 2 (readout): an ``--readout-size`` square integrator readout with the macro op-amp
(A0 = 1e5, 1 GHz, rails and supply +-1.5 V, 1 uA quiescent) and ``--wire-c-ff`` fF per wire
segment (0: none), two amplitude-encoded windows of 50 ns, in each of ``--readout-engines``
with ``energy=True`` and without (the overhead: the energy run's wall time over the plain
run's, minus one; the nodal engine also reports the seconds its energy took itself,
``energy_s``, against the rest of its run): the breakdown of each window, each engine's
balance residual, the largest difference between the engines per component (fraction of
the window's energy, with both engines), and the wall times.

Prints tables (with the 1-minute load average) and writes ``benchmarks/out/energy.png``
(the 64x64 breakdown drawn; ``--docs``: also ``docs/images/energy_breakdown.png``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from common import OUT, passive_case

HERE = Path(__file__).resolve().parent
#: DC timings: the best of this many runs each.
REPEATS = 5


def dc_rows(sizes, batch):
    import spicebar as sb
    from spicebar.analysis.energy_run import simulate_with_energy
    from spicebar.circuit.elaboration import elaborate
    from spicebar.engines.cell_currents import node_voltages
    from spicebar.engines.energy import dc_powers
    from spicebar.engines.nodal.solvers import solve_nodal
    rows = []
    for n in sizes:
        g, v = passive_case(n, batch)
        spec = sb.CrossbarSpec(g, r_wl=1.0, r_bl=1.0)
        sb.simulate(spec, v[:1], "nodal")  # warm-up (imports, compiled kernels)
        t_sim = t_all = float("inf")
        for _ in range(REPEATS):  # the best of a few: the machine is shared
            t0 = time.perf_counter()
            sb.simulate(spec, v, "nodal")
            t_sim = min(t_sim, time.perf_counter() - t0)
            t0 = time.perf_counter()
            _, e = simulate_with_energy(spec, v, "nodal")
            t_all = min(t_all, time.perf_counter() - t0)
        ir = elaborate(spec)
        t0 = time.perf_counter()
        res = solve_nodal(ir, v, "auto")  # the solve the energy annotates
        t_solve = time.perf_counter() - t0
        t0 = time.perf_counter()
        dc_powers(ir, node_voltages(res))
        t_pow = time.perf_counter() - t0
        rows.append(dict(n=n, t_sim=t_sim, t_all=t_all, t_solve=t_solve, t_pow=t_pow,
                         overhead=(t_all - t_sim) / t_sim, powers_over_solve=t_pow / t_solve,
                         fj=e.fj_per_mac(False), wires=float(e.wires.sum() / e.total_delivered.sum()),
                         balance=float(np.abs(e.balance_residual).max())))
    return rows


def readout_run(n, engines=("nodal", "ngspice"), wire_c_f=2e-15):
    import spicebar as sb
    from spicebar.analysis.energy_run import energy_of
    from spicebar.circuit.readout import OpAmpSupply
    rng = np.random.default_rng(0)
    g = np.exp(rng.uniform(np.log(1e-6), np.log(1e-5), (n, n)))
    op = sb.OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, v_lo=-1.5, v_hi=1.5,
                      supply=OpAmpSupply(v_dd=1.5, v_ss=-1.5, i_q_a=1e-6))
    v = rng.uniform(0.02, 0.15, (2, n))
    c_int = max(1e-13, 1.5 * float((0.15 * g.sum(axis=0)).max()) * 50e-9 / 1.0)
    ro = sb.IntegratorSpec(c_int_f=c_int, t_int_s=50e-9, opamp=op, c_wl_f=wire_c_f,
                           c_bl_f=wire_c_f)
    spec = sb.CrossbarSpec(g, r_wl=1.0, r_bl=1.0, readout=ro)
    enc = sb.EncodingSpec("amplitude")
    out = {}
    small = sb.CrossbarSpec(g[:4, :4], r_wl=1.0, r_bl=1.0, readout=ro)
    for eng in engines:  # warm-up (imports, the worker, compiled kernels): not timed
        sb.simulate_readout(small, v[:, :4], enc, engine=eng, energy=True)
    for eng in engines:
        t0 = time.perf_counter()
        sb.simulate_readout(spec, v, enc, engine=eng)
        out[f"{eng}_plain_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        r = sb.simulate_readout(spec, v, enc, engine=eng, energy=True)
        out[f"{eng}_s"] = time.perf_counter() - t0
        out[eng] = energy_of(r)
        out[f"{eng}_points"] = int(r.time.size)
        out[f"{eng}_energy_s"] = r.info.get("energy_s")
        out[f"{eng}_load"] = os.getloadavg()[0]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dc-sizes", default="64,128,256")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--readout-size", type=int, default=64)
    ap.add_argument("--readout-engines", default="nodal,ngspice")
    ap.add_argument("--wire-c-ff", type=float, default=2.0)
    ap.add_argument("--no-readout", action="store_true")
    ap.add_argument("--docs", action="store_true")
    args = ap.parse_args()
    sizes = [int(s) for s in args.dc_sizes.split(",") if s]
    print(f"machine: {os.cpu_count()} cores; load at start {os.getloadavg()[0]:.1f}")
    print(f"\nDC energy (nodal), {args.batch} vectors, passive standard case")
    print(f"{'n':>5s} {'simulate s':>11s} {'with energy s':>14s} {'energy cost':>12s} "
          f"{'IR solve s':>11s} {'IR powers s':>12s} {'IR ratio':>9s} {'fJ/MAC':>8s} "
          f"{'wires':>7s} {'balance':>8s}")
    for r in dc_rows(sizes, args.batch):
        print(f"{r['n']:5d} {r['t_sim']:11.3f} {r['t_all']:14.3f} {100 * r['overhead']:+11.1f}% "
              f"{r['t_solve']:11.3f} {r['t_pow']:12.3f} {100 * r['powers_over_solve']:8.1f}% "
              f"{r['fj']:8.2f} {100 * r['wires']:6.2f}% {r['balance']:8.1e}")
    print(f"load now {os.getloadavg()[0]:.1f}")
    if args.no_readout:
        return 0
    n = args.readout_size
    engines = tuple(e for e in args.readout_engines.split(",") if e)
    out = readout_run(n, engines, args.wire_c_ff * 1e-15)
    print(f"\n{n}x{n} integrator readout, macro op-amp on +-1.5 V, {args.wire_c_ff:g} fF per "
          "segment, 2 windows")
    print(f"{'engine':8s} {'plain s':>8s} {'energy s':>9s} {'overhead':>9s} {'energy_s':>9s} "
          f"{'of the rest':>11s} {'points':>7s} {'load':>5s}")
    for eng in engines:
        plain, with_e, own = out[f"{eng}_plain_s"], out[f"{eng}_s"], out[f"{eng}_energy_s"]
        mine = (f"{own:9.2f} {100 * own / (with_e - own):+10.1f}%" if own is not None
                else f"{'-':>9s} {'-':>11s}")
        print(f"{eng:8s} {plain:8.1f} {with_e:9.1f} {100 * (with_e - plain) / plain:+8.0f}% "
              f"{mine} {out[f'{eng}_points']:7d} {out[f'{eng}_load']:5.1f}")
    print("balance residual: " + ", ".join(
        f"{eng} {np.abs(out[eng].balance_residual).max():.1e}" for eng in engines))
    if len(engines) < 2:
        return 0
    a, b = out["nodal"], out["ngspice"]
    tot = b.total_delivered
    print(f"{'component':36s} {'window 0 nodal J':>17s} {'ngspice J':>12s} {'window 1 nodal J':>17s} "
          f"{'ngspice J':>12s} {'max |diff| / window':>20s}")
    from spicebar.engines.energy import LABELS
    worst = 0.0
    for part in ("delivered", "absorbed"):
        for k in dict.fromkeys([*getattr(a, part), *getattr(b, part)]):
            x = getattr(a, part).get(k, np.zeros(2))
            y = getattr(b, part).get(k, np.zeros(2))
            d = float(np.max(np.abs(x - y) / tot))
            worst = max(worst, d)
            print(f"{part[0]} {LABELS.get(k, k):34s} {x[0]:17.5g} {y[0]:12.5g} {x[1]:17.5g} "
                  f"{y[1]:12.5g} {d:20.1e}")
    print(f"largest engine difference: {worst:.1e} of the window's energy; "
          f"{a.fj_per_mac(False):.4g} fJ/MAC (nodal), {b.fj_per_mac(False):.4g} (ngspice)")
    from spicebar.plots.energy import plot_energy
    from spicebar.plots.maps import save_figure
    OUT.mkdir(exist_ok=True)
    path = save_figure(plot_energy(b), OUT / "energy.png")
    print(f"figure: {path}")
    if args.docs:
        docs = HERE.parent / "docs" / "images"
        docs.mkdir(parents=True, exist_ok=True)
        save_figure(plot_energy(b), docs / "energy_breakdown.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
