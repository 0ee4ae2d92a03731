"""Three-line 1T1R arrays and PDK transistors: both engines, agreement and time.

    python benchmarks/bench_three_line.py [--size 64] [--pdk-size 16] [--skip-pdk]
        [--timeout-s 1800] [--pairs-size 2] [--only-pairs]
    python benchmarks/bench_three_line.py --size 64 --readout-only nodal --save a.npz
    python benchmarks/bench_three_line.py --size 64 --readout-only ngspice --save b.npz
    python benchmarks/bench_three_line.py --size 64 --compare a.npz b.npz

The last three run the two engines' readouts of item 1 as separate processes (side by side,
or one at a time on a busy machine) and compare the saved results.

1. A ``size`` x ``size`` three-line 1T1R array, source lines along the columns, RC gate
   lines: DC (nodal Newton vs ngspice) and an integrator readout (nodal vs ngspice), and
   the same readout with ideal gate lines (what the gate-line delay costs).
2. A ``pdk-size`` x ``pdk-size`` 1T1R with the sky130 ``nfet_01v8`` (DC, both engines;
   the nodal engine through the measured table, whose stated error is printed).
3. With ``--pairs-size N``: an ``N`` x ``2N`` 2T2R array (``N`` rows, ``N`` pairs), RC gate
   lines per pair: DC and an integrator readout in both engines, the differential outputs
   compared (``--only-pairs`` runs this item alone).

Prints a table and writes benchmarks/out/three_line_turn_on.png (the column currents as
the rows turn on). Quote the load (``uptime``) beside any time.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

# one BLAS thread, as the spicebar command sets it: on the shared 2-core machine two
# OpenBLAS threads made each small dense solve of the nodal readout ~30x slower (measured)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from spicebar import CrossbarSpec  # noqa: E402
from spicebar.circuit.cells import TransistorCell
from spicebar.circuit.encoding import EncodingSpec
from spicebar.circuit.readout import IntegratorSpec, OpAmpSpec
from spicebar.engines.simulation import simulate
from spicebar.engines.transient.run import compare_readouts, error_budget, simulate_readout

OUT = Path(__file__).resolve().parent / "out"
MACRO = OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, v_lo=-1.0, v_hi=1.0)


def timed(f, *a, **k):
    t = time.perf_counter()
    out = f(*a, **k)
    return out, time.perf_counter() - t


def timed_cpu(f, *a, **k):
    """``(out, wall s, this process's CPU s)``: on a loaded machine the CPU time is the
    steadier figure (an external ngspice worker's CPU is not in it)."""
    t, c = time.perf_counter(), time.process_time()
    out = f(*a, **k)
    return out, time.perf_counter() - t, time.process_time() - c


def three_line_case(n: int):
    """``(spec, inputs (2, n) V, encoding)`` of item 1 (fixed seed)."""
    rng = np.random.default_rng(3)
    g = rng.uniform(1e-6, 1e-5, (n, n))
    v_read, t_int = 0.2, 20e-9
    cell = TransistorCell(vg_on_volt=1.8, model="level1-nocap", source_lines="columns",
                          r_gl_ohm=50.0, c_gl_f=2e-15)
    ro = IntegratorSpec(c_int_f=v_read * g.sum(0).max() * t_int / 0.6, t_int_s=t_int, opamp=MACRO)
    spec = CrossbarSpec(g, r_wl=1.0, r_bl=1.0, cell=cell, readout=ro)
    v = rng.uniform(0, v_read, (2, n))
    return spec, v, EncodingSpec(v_read=v_read, kind="amplitude", bits=4)


def load_avg() -> str:
    return os.popen("uptime").read().split("load average:")[-1].strip()


def readout_only(n: int, engine: str, timeout_s: float | None, out: str) -> None:
    """One engine's readout of item 1, saved to ``out`` (``.npz``), its time printed."""
    spec, v, enc = three_line_case(n)
    print(f"{n}x{n} readout, {engine}: start (load {load_avg()})", flush=True)
    kw = {"timeout_s": timeout_s} if engine == "ngspice" else {}
    r, t, cpu = timed_cpu(simulate_readout, spec, v, enc, engine, **kw)
    r.save(out)
    print(f"{n}x{n} readout, {engine}: {t:.1f} s wall, {cpu:.1f} s CPU of this process, "
          f"{r.time.size} time points (load {load_avg()}) -> {out}", flush=True)


def compare_saved(n: int, a_path: str, b_path: str) -> None:
    from spicebar import load
    spec, _, _ = three_line_case(n)
    cmp = compare_readouts(load(a_path), load(b_path), spec)
    print(f"{n}x{n} readout, {a_path} vs {b_path}: samples {cmp['sample_deviation_fs']:.2e} FS, "
          f"waveforms {cmp['waveform_deviation_fs']:.2e} FS, codes {cmp['code_deviation_max']}")


def three_line(n: int, timeout_s: float | None = None) -> None:
    spec, v, enc = three_line_case(n)
    g, ro = spec.conductances, spec.readout
    a, ta = timed(simulate, spec, v, engine="nodal")
    b, tb = timed(simulate, spec, v, engine="ngspice")
    dc = np.abs(a.currents - b.currents).max() / np.abs(b.currents).max()
    print(f"DC {n}x{n}: nodal {ta:.1f} s, ngspice {tb:.1f} s, deviation {dc:.2e}", flush=True)
    ra, tra = timed(simulate_readout, spec, v, enc, "nodal")
    print(f"readout {n}x{n}: nodal {tra:.1f} s", flush=True)
    rb, trb = timed(simulate_readout, spec, v, enc, "ngspice", timeout_s=timeout_s)
    cmp = compare_readouts(ra, rb, spec)
    ideal = CrossbarSpec(g, r_wl=1.0, r_bl=1.0, readout=ro,
                         cell=TransistorCell(vg_on_volt=1.8, model="level1-nocap"))
    r0 = simulate_readout(ideal, v, enc, "nodal")
    fs = cmp["full_scale_v"]
    print(f"\n{n}x{n} three-line 1T1R, source lines along the columns, gate line 50 ohm / 2 fF "
          "per segment (load " + os.popen("uptime").read().split("load average:")[-1].strip() + ")")
    print(f"{'run':<34}{'nodal s':>10}{'ngspice s':>11}{'deviation':>14}")
    print(f"{'DC (column currents, relative)':<34}{ta:>10.1f}{tb:>11.1f}{dc:>14.2e}")
    print(f"{'integrator readout (samples, FS)':<34}{tra:>10.1f}{trb:>11.1f}"
          f"{cmp['sample_deviation_fs']:>14.2e}")
    print(f"gate-line delay: samples move by {np.abs(ra.samples - r0.samples).max() / fs:.2e} FS "
          f"against ideal gate lines; array error budget {error_budget(ra, spec)['array']:.2e} FS")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    t_on = float(ra.t_open[0])
    for res, style, name in ((rb, "-", "ngspice"), (ra, "--", "nodal"), (r0, ":", "ideal gate line, nodal")):
        sel = (res.time >= t_on - 0.2e-9) & (res.time <= t_on + 3e-9)
        for j, c in ((0, "C0"), (n - 1, "C1")):
            ax.plot((res.time[sel] - t_on) * 1e9, res.i_col[j, sel] * 1e6, style, color=c,
                    label=f"column {j}, {name}")
    ax.set_xlabel("time after the gates start to turn on (ns)")
    ax.set_ylabel("column current (uA)")
    ax.legend(fontsize=7)
    OUT.mkdir(exist_ok=True)
    fig.tight_layout()
    fig.savefig(OUT / "three_line_turn_on.png", dpi=120)
    print(f"wrote {OUT / 'three_line_turn_on.png'}")


def pairs(n: int) -> None:
    from spicebar import DifferentialTransistorCell
    from spicebar.circuit.differential_cells import differential_currents, pair_conductances
    rng = np.random.default_rng(7)
    g = pair_conductances(rng.uniform(1e-6, 1e-5, (n, n)), rng.uniform(1e-6, 1e-5, (n, n)))
    cell = DifferentialTransistorCell(vg_on_volt=1.8, model="level1-nocap", r_gl_ohm=1000.0,
                                      c_gl_f=10e-15)
    ro = IntegratorSpec(c_int_f=0.2 * g.sum(0).max() * 5e-9 / 0.6, t_int_s=5e-9, opamp=MACRO)
    spec = CrossbarSpec(g, r_wl=1.0, r_bl=1.0, cell=cell, readout=ro)
    v = rng.uniform(0.05, 0.2, (1, n))
    a, ta = timed(simulate, spec, v, engine="nodal")
    b, tb = timed(simulate, spec, v, engine="ngspice")
    dc = np.abs(differential_currents(a.currents - b.currents)).max() / np.abs(b.currents).max()
    enc = EncodingSpec(v_read=0.2, kind="amplitude", bits=3)
    ra, tra = timed(simulate_readout, spec, v, enc, "nodal")
    rb, trb = timed(simulate_readout, spec, v, enc, "ngspice")
    cmp = compare_readouts(ra, rb, spec)
    d_s = np.abs(differential_currents(ra.samples - rb.samples)).max() / cmp["full_scale_v"]
    print(f"\n{n}x{2 * n} 2T2R ({n} pairs a row), gate line 1 kohm / 10 fF per pair, 5 ns window "
          f"(load {load_avg()})")
    print(f"{'run':<34}{'nodal s':>10}{'ngspice s':>11}{'deviation':>14}")
    print(f"{'DC (I+ - I-, of largest current)':<34}{ta:>10.1f}{tb:>11.1f}{dc:>14.2e}")
    print(f"{'readout (samples, FS)':<34}{tra:>10.1f}{trb:>11.1f}{cmp['sample_deviation_fs']:>14.2e}")
    print(f"{'readout (differential samples, FS)':<34}{'':>10}{'':>11}{d_s:>14.2e}")


def pdk(n: int) -> None:
    rng = np.random.default_rng(5)
    g = rng.uniform(1e-5, 1e-4, (n, n))
    cell = TransistorCell(vg_on_volt=1.8, model="sky130:nfet_01v8", w_m=1e-6, l_m=0.15e-6)
    spec = CrossbarSpec(g, r_wl=2.0, r_bl=2.0, cell=cell)
    v = rng.uniform(0, 0.3, (2, n))
    b, tb = timed(simulate, spec, v, engine="ngspice")
    a, ta = timed(simulate, spec, v, engine="nodal")
    table = a.info["device_tables"]["xacc"]
    dev = np.abs(a.currents - b.currents).max() / np.abs(b.currents).max()
    print(f"\n{n}x{n} 1T1R, sky130 nfet_01v8 W=1 um L=0.15 um: nodal {ta:.1f} s (table included), "
          f"ngspice {tb:.1f} s; deviation {dev:.2e} of the largest current; the table's stated "
          f"interpolation error {table['interpolation_error_rel']:.2e}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--pdk-size", type=int, default=16)
    p.add_argument("--skip-pdk", action="store_true")
    p.add_argument("--timeout-s", type=float, default=None,
                   help="ngspice's time limit for the readout, s (default: spicebar's own)")
    p.add_argument("--readout-only", choices=("nodal", "ngspice"), default=None,
                   help="run only this engine's readout of item 1 and --save it")
    p.add_argument("--save", default="readout.npz", help="with --readout-only: the result file")
    p.add_argument("--compare", nargs=2, metavar=("A.npz", "B.npz"), default=None,
                   help="compare two saved readouts of item 1 (the same --size)")
    p.add_argument("--pairs-size", type=int, default=0, help="rows (and pairs) of item 3 (0: skip)")
    p.add_argument("--only-pairs", action="store_true", help="run item 3 alone")
    args = p.parse_args()
    if args.only_pairs:
        return pairs(args.pairs_size or 2)
    if args.readout_only:
        return readout_only(args.size, args.readout_only, args.timeout_s, args.save)
    if args.compare:
        return compare_saved(args.size, *args.compare)
    three_line(args.size, args.timeout_s)
    if not args.skip_pdk:
        pdk(args.pdk_size)
    if args.pairs_size:
        pairs(args.pairs_size)


if __name__ == "__main__":
    main()
