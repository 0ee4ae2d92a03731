"""Settling analysis and noise budget at scale (in-process, one size after another).

    python benchmarks/bench_settling.py [--sizes 64,128,256,512] [--noise-sizes 64,128,256]
                                        [--noise-columns 4] [--method auto] [--docs]

The case: n x n array, conductances log-uniform in [1 uS, 100 uS], 1 ohm segments, 2 fF of
wire capacitance per word- and bit-line segment, inputs uniform in [0, 0.2] V, 8 bits.
Settling: the whole :func:`spicebar.settling` (build, the three slowest modes, the step
response of every column, the estimates); its parts are printed. Noise: an integrator with
the macro op-amp (1e5, 1 GHz), ``e_n`` 10 nV/sqrt(Hz), ``--noise-columns`` columns (the
cost is one adjoint solve per column and frequency). Prints wall times, the 1-minute load
average when each size ended, the growth exponents, and writes
``benchmarks/out/settling_scale.png`` (``--docs``: also ``docs/images/``).
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
    ap.add_argument("--docs", action="store_true")
    args = ap.parse_args(argv)
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
    series = {"settling (modes + step response)": (s_cells, s_time),
              f"noise budget ({args.noise_columns} columns)": (n_cells, n_time)}
    path = loglog_figure(series, f"Settling and noise analysis, {C_WIRE:g} F per segment "
                         f"(2 cores, load {os.getloadavg()[0]:.0f})", OUT / "settling_scale.png")
    print(f"\nwrote {path}")
    if args.docs:
        import shutil
        dest = Path(__file__).resolve().parents[1] / "docs" / "images" / "settling_scale.png"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest)
        print(f"and {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
