"""Settling analysis and noise budget at scale (in-process, one size after another).

    python benchmarks/bench_settling.py [--sizes 64,128,256,512] [--noise-sizes 64,128,256]
                                        [--noise-columns 4] [--method auto]
                                        [--budget-sizes 64,256] [--docs]

The case: n x n array, conductances log-uniform in [1 uS, 100 uS], 1 ohm segments, 2 fF of
wire capacitance per word- and bit-line segment, inputs uniform in [0, 0.2] V, 8 bits.
Settling: the whole :func:`spicebar.settling` (build, the three slowest modes, the step
response of every column, the estimates); its parts are printed. Noise: an integrator with
the macro op-amp (1e5, 1 GHz), ``e_n`` 10 nV/sqrt(Hz), ``--noise-columns`` columns (the
cost is one adjoint solve per column and frequency). Prints wall times, the 1-minute load
average when each size ended, the growth exponents, and writes
``benchmarks/out/settling_scale.png`` (``--docs``: also ``docs/images/``).

Noise against the readout it annotates (``--budget-sizes``): the issue's budget (the noise
of a 256x256 array at most 20 % on top of its simulation). The case of
``bench_energy.py``'s readout without wire capacitance: conductances log-uniform in
[1 uS, 10 uS], 1 ohm segments, two windows of 50 ns with inputs uniform in [0.02, 0.15] V,
an integrator with the macro op-amp (1e5, 1 GHz, rails +-1.5 V, ``e_n`` 10 nV/sqrt(Hz))
and ``c_int`` sized to the largest column. Times ``simulate_readout(..., engine="nodal")``
of both windows and ``spicebar.noise`` of every column (the first window's operating
point; the network reduced onto the columns, see its ``info``), each after a 4x4 warm-up;
prints the ratio and the noise's parts, writes ``benchmarks/out/noise_budget.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from common import OUT, growth_exponent, loglog_figure, passive_case

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import spicebar as sb  # noqa: E402

C_WIRE = 2e-15


def _spec(n: int, readout):
    g, v = passive_case(n, 1)
    return sb.CrossbarSpec(g, r_wl=1.0, r_bl=1.0, readout=readout), v[0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="64,128,256,512")
    ap.add_argument("--noise-sizes", default="64,128,256")
    ap.add_argument("--noise-columns", type=int, default=4)
    ap.add_argument("--method", default="auto", choices=("auto", "direct", "lines"))
    ap.add_argument("--budget-sizes", default="64,256")
    ap.add_argument("--docs", action="store_true")
    args = ap.parse_args(argv)
    budget_sizes = [int(x) for x in args.budget_sizes.split(",") if x]
    sizes = [int(x) for x in args.sizes.split(",") if x]
    noise_sizes = [int(x) for x in args.noise_sizes.split(",") if x]

    print(f"settling, {C_WIRE:g} F per segment, 8 bits, method {args.method}")
    print(f"{'size':>9} {'nodes':>8} {'total s':>8} {'build':>7} {'modes':>7} {'step':>7} "
          f"{'steps':>6} {'tau (s)':>10} {'t_settle (s)':>12} {'solver':>26} {'load':>5}")
    s_cells, s_time = [], []
    for n in sizes:
        spec, v = _spec(n, sb.IntegratorSpec(c_wl_f=C_WIRE, c_bl_f=C_WIRE))
        t0 = time.perf_counter()
        r = sb.settling(spec, v, 8, method=args.method)
        wall = time.perf_counter() - t0
        i = r.info
        print(f"{n:>4}x{n:<4} {i['nodes']:>8} {wall:>8.2f} {i['build_s']:>7.2f} "
              f"{i['eigen_s']:>7.2f} {i['step_response_s']:>7.2f} {i['steps']:>6} "
              f"{r.tau_s:>10.4g} {r.t_settle_max_s:>12.4g} {i['method']:>26} "
              f"{os.getloadavg()[0]:>5.1f}", flush=True)
        s_cells.append(n * n)
        s_time.append(wall)
    print(f"growth exponent (time ~ cells^k, last 3 sizes): {growth_exponent(s_cells, s_time):.2f}")

    op = sb.OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, en_v_rthz=10e-9)
    print(f"\nnoise budget, integrator (macro op-amp, e_n 10 nV/rtHz), {args.noise_columns} columns")
    print(f"{'size':>9} {'total s':>8} {'freqs':>6} {'s/col':>7} {'bits':>6} {'load':>5}")
    n_cells, n_time = [], []
    for n in noise_sizes:
        spec, v = _spec(n, sb.IntegratorSpec(c_int_f=1e-12, t_int_s=100e-9, opamp=op,
                                             c_wl_f=C_WIRE, c_bl_f=C_WIRE))
        cols = np.linspace(0, n - 1, args.noise_columns).astype(int)
        t0 = time.perf_counter()
        r = sb.noise(spec, v, columns=cols)
        wall = time.perf_counter() - t0
        print(f"{n:>4}x{n:<4} {wall:>8.2f} {r.info['frequencies']:>6} {wall / cols.size:>7.2f} "
              f"{np.median(r.bits):>6.2f} {os.getloadavg()[0]:>5.1f}", flush=True)
        n_cells.append(n * n)
        n_time.append(wall)
    figures = []
    if s_cells or n_cells:  # (a budget-only run leaves the scaling figure as it was)
        series = {"settling (modes + step response)": (s_cells, s_time),
                  f"noise budget ({args.noise_columns} columns)": (n_cells, n_time)}
        figures.append(loglog_figure(series, f"Settling and noise analysis, {C_WIRE:g} F per "
                                     f"segment (2 cores, load {os.getloadavg()[0]:.0f})",
                                     OUT / "settling_scale.png"))
    if budget_sizes:
        figures.append(budget_table(budget_sizes))
    print(f"\nwrote {', '.join(str(f) for f in figures)}")
    if args.docs:
        import shutil
        for fig in figures:
            dest = Path(__file__).resolve().parents[1] / "docs" / "images" / fig.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(fig, dest)
            print(f"and {dest}")
    return 0


def _budget_case(n: int):
    rng = np.random.default_rng(0)
    g = np.exp(rng.uniform(np.log(1e-6), np.log(1e-5), (n, n)))
    op = sb.OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, v_lo=-1.5, v_hi=1.5, en_v_rthz=10e-9)
    v = rng.uniform(0.02, 0.15, (2, n))
    c_int = max(1e-13, 1.5 * float((0.15 * g.sum(axis=0)).max()) * 50e-9 / 1.0)
    ro = sb.IntegratorSpec(c_int_f=c_int, t_int_s=50e-9, opamp=op)
    return sb.CrossbarSpec(g, r_wl=1.0, r_bl=1.0, readout=ro), v


def budget_table(sizes) -> Path:
    """The noise of every column against the nodal readout transient it annotates."""
    enc = sb.EncodingSpec("amplitude")
    warm, v4 = _budget_case(4)
    sb.simulate_readout(warm, v4, enc, engine="nodal")
    sb.noise(warm, v4)
    print("\nnoise budget of every column against the nodal readout (2 windows), no wire "
          "capacitance")
    print(f"{'size':>9} {'readout s':>9} {'noise s':>8} {'ratio':>6} {'reduce':>7} {'fold':>6} "
          f"{'spectra+':>8} {'bits':>5} {'twiss':>8} {'load':>5}  solver")
    rows = []
    for n in sizes:
        spec, v = _budget_case(n)
        t0 = time.perf_counter()
        sb.simulate_readout(spec, v, enc, engine="nodal")
        t_ro = time.perf_counter() - t0
        load_ro = os.getloadavg()[0]
        t0 = time.perf_counter()
        r = sb.noise(spec, v)
        t_n = time.perf_counter() - t0
        i = r.info
        rest = t_n - i["network_build_s"]
        load = 0.5 * (load_ro + os.getloadavg()[0])
        print(f"{n:>4}x{n:<4} {t_ro:>9.2f} {t_n:>8.2f} {t_n / t_ro:>6.2f} {i['reduction_s']:>7.2f} "
              f"{i['fold_s']:>6.2f} {rest:>8.2f} {np.median(r.bits):>5.2f} "
              f"{i['twiss_residual']:>8.1e} {load:>5.1f}  {i['solver']}", flush=True)
        rows.append((n, t_ro, t_n))
    from spicebar.plots.maps import _pyplot, save_figure
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [r[1] for r in rows], 0.4, label="readout transient (nodal, 2 windows)")
    ax.bar(x + 0.2, [r[2] for r in rows], 0.4, label="noise budget, every column")
    for k, (n, t_ro, t_n) in enumerate(rows):
        ax.annotate(f"{100 * t_n / t_ro:.0f} %", (k + 0.2, t_n), ha="center", va="bottom")
    ax.set_xticks(x, [f"{n}x{n}" for n, _, _ in rows])
    ax.set_ylabel("wall time, s")
    ax.set_title(f"Noise of every column against the readout it annotates "
                 f"(2 cores, load {os.getloadavg()[0]:.0f})", fontsize=10)
    ax.legend()
    return save_figure(ax, OUT / "noise_budget.png")


if __name__ == "__main__":
    sys.exit(main())
