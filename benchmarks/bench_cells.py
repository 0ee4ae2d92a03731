"""Cells and sneak paths: Newton vs ngspice agreement and speed, read margin against size.

    python benchmarks/bench_cells.py [--quick] [--agreement-only]

Prints two tables and writes benchmarks/out/read_margin.png, benchmarks/out/sneak_maps.png
and benchmarks/out/sneak_decomposition.png (copies for the README go to docs/ by hand).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import spicebar as sb
from spicebar.circuit.cells import NonlinearCell, PassiveCell, SelectorCell, TransistorCell
from spicebar.circuit.devices import DeviceCell
from spicebar.circuit.iv_models import MODELS_DIR
from spicebar.circuit.operation import VmmOperation
from spicebar.plots.maps import save_figure
from spicebar.plots.cells import plot_cell_maps, plot_decomposition, plot_read_margin
from spicebar.analysis.read_margin import margin_sweep
from spicebar.analysis.sneak import decompose, format_decomposition

OUT = Path(__file__).resolve().parent / "out"
DEVICES = MODELS_DIR / "devices"


def agreement_table(quick: bool) -> None:
    rng = np.random.default_rng(7)
    cases = [("nonlinear", NonlinearCell(0.2), 0.5, (16, 32, 64)),
             ("1s1r", SelectorCell(), 1.2, (16, 32, 64)),
             ("1t1r level1", TransistorCell(vg_on_volt=1.8), 0.4, (8, 16, 32)),
             ("1t1r bsim4", TransistorCell(vg_on_volt=1.8, model="bsim4"), 0.4, (8, 32)),
             ("device va", DeviceCell(DEVICES / "sinh_cell.va", params={"v0": 0.2}), 0.5, (16, 64)),
             ("device sp", DeviceCell(DEVICES / "sinh_cell.sp", params={"v0": 0.2}), 0.5, (16, 64)),
             ("selector sp", DeviceCell(DEVICES / "threshold_selector.sp"), 1.0, (16, 32))]
    import os
    import tempfile
    os.environ["SPICEBAR_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-cells-cache-")  # measure, not read
    print(f"{'cell':<12} {'n':>4} {'nodal s':>8} {'its':>4} {'ngspice s':>9} {'max rel diff':>13} "
          f"{'table s':>8}")
    for name, cell, vmax, sizes in cases:
        for n in sizes[:2] if quick else sizes:
            g = np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), (n, n)))
            v = rng.uniform(0, vmax, (2, n))
            t0 = time.perf_counter()
            r = sb.simulate_all(sb.CrossbarSpec(g, r_wl=2.0, r_bl=2.0, cell=cell), v, ("nodal", "ngspice"))
            a, b = r["nodal"], r["ngspice"]
            rest = time.perf_counter() - t0 - a.elapsed_s - b.elapsed_s  # elaboration + tables
            rel = np.abs(a.currents - b.currents).max() / np.abs(b.currents).max()
            table = f"{rest:>8.2f}" if "device_tables" in a.info else f"{'-':>8}"
            print(f"{name:<12} {n:>4} {a.elapsed_s:>8.2f} {a.info['max_iterations']:>4} "
                  f"{b.elapsed_s:>9.2f} {rel:>13.2e} {table}")


def margin_figure(quick: bool) -> None:
    sizes = (2, 4, 8, 16, 32) if quick else (2, 4, 8, 16, 32, 64)
    cells = {"passive": PassiveCell(), "nonlinear V0=0.25": NonlinearCell(0.25),
             "1S1R K=1000": SelectorCell(), "1T1R": TransistorCell(vg_on_volt=1.8)}
    t0 = time.perf_counter()
    margins = margin_sweep(sizes, cells, g_lrs=1e-4, g_hrs=1e-6, v_read_volt=1.0, r_wl=1.0, r_bl=1.0)
    print(f"\nread margin, LRS 100 uS, HRS 1 uS, V_read 1 V, 1 ohm segments ({time.perf_counter() - t0:.0f} s)")
    print(f"{'cell':<18} {'scheme':<9}" + "".join(f"{n:>8}" for n in sizes))
    for name in cells:
        for scheme in ("floating", "v2", "v3"):
            row = {m.rows: m.margin for m in margins if m.cell == name and m.scheme == scheme}
            print(f"{name:<18} {scheme:<9}" + "".join(f"{row[n]:>8.3f}" for n in sizes))
    save_figure(plot_read_margin(margins), OUT / "read_margin.png")


def sneak_figures() -> None:
    rng = np.random.default_rng(3)
    n = 32
    g = np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), (n, n)))
    v = rng.uniform(0.0, 0.3, (1, n))
    v[0, 8:16] = 0.0  # zero inputs: still driven, at 0 V
    op = VmmOperation(floating_rows=tuple(range(20, 28)))
    spec = sb.CrossbarSpec(g, r_wl=2.0, r_bl=2.0)
    r = sb.simulate(spec, v, "ngspice", operation=op)
    d = decompose(spec, r, op)
    print("\n32x32 passive, rows 8-15 at 0 V, rows 20-27 floating, 2 ohm segments")
    print(format_decomposition(d))
    save_figure(plot_cell_maps(r), OUT / "sneak_maps.png")
    save_figure(plot_decomposition(d), OUT / "sneak_decomposition.png")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--agreement-only", action="store_true", help="only the engine table")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    agreement_table(args.quick)
    if args.agreement_only:
        return
    margin_figure(args.quick)
    sneak_figures()


if __name__ == "__main__":
    main()
