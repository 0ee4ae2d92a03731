"""A tiled layer end to end through ngspice: 512x512 weights on 128x128 arrays.

    python benchmarks/bench_mvm.py [--size 512] [--array 128x128] [--batch 4] [--workers 1,2]  (default: all cores only)

Differential pairs put 64 outputs on a 128-column array, so a 512x512 layer needs
4 x 8 = 32 tiles, each its own netlist and ngspice process. RRAM window 10 kohm..
500 kohm, 64 levels, 3 % programming variability, 1 ohm wires, batch of inputs in
[0, 1]. For each worker count it times the nodal and the ngspice runs (every effect
on), prints a table and writes ``out/bench_mvm.png`` (time per worker count; ngspice
against exact ``W x``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from spicebar.hardware.devices import DeviceSpec
from spicebar.hardware.mapping import MappingSpec
from spicebar.hardware.mvm import MVMSpec, prepare, run_effects
from spicebar.hardware.tiling import parse_array

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--array", default="128x128")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--workers", default=str(os.cpu_count()),
                    help="comma-separated worker counts to time, e.g. 1,2 (default: all cores)")
    args = ap.parse_args()
    rows, cols = parse_array(args.array)
    rng = np.random.default_rng(0)
    n = args.size
    w = rng.normal(0, 1 / np.sqrt(n), (n, n))
    x = rng.uniform(0, 1, (args.batch, n))
    spec = MVMSpec(MappingSpec(levels=64), DeviceSpec(prog_sigma_rel=0.03), array_rows=rows,
                   array_cols=cols, r_wl=1.0, r_bl=1.0)
    t0 = time.perf_counter()
    prep = prepare(w, x, spec)
    t_prep = time.perf_counter() - t0
    effects = spec.configured_effects()
    y_ideal = x @ w.T
    table = []
    y = {}
    for workers in sorted({int(s) for s in args.workers.split(",")}):
        for engine in ("nodal", "ngspice"):
            t0 = time.perf_counter()
            y[engine] = run_effects(prep, effects, engine, workers=workers, force_circuit=True)
            table.append((workers, engine, time.perf_counter() - t0))
    rel = lambda a: np.sqrt(np.mean((a - y_ideal) ** 2) / np.mean(y_ideal ** 2))  # noqa: E731
    print(f"\n{n}x{n} weights on {len(prep.tiles)} tiles of {rows}x{cols}, batch {args.batch}, "
          f"{os.cpu_count()} cores; mapping and draws {t_prep:.2f} s")
    print(f"{'workers':>8}{'engine':>10}{'wall s':>10}{'s / tile':>10}")
    for workers, engine, t in table:
        print(f"{workers:>8}{engine:>10}{t:>10.2f}{t / len(prep.tiles):>10.3f}")
    diff = np.abs(y["ngspice"] - y["nodal"]).max() / np.abs(y["nodal"]).max()
    print(f"rms error vs W x: {100 * rel(y['ngspice']):.3f} % (ngspice), "
          f"max |ngspice - nodal| / max |nodal| = {diff:.2e}")

    from spicebar.plots.maps import _pyplot, save_figure
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3), constrained_layout=True)
    labels = [f"{e}\n{wk} worker{'s' * (wk > 1)}" for wk, e, _ in table]
    axes[0].bar(range(len(table)), [t for *_, t in table], color=["C0" if e == "nodal" else "C1"
                                                                  for _, e, _ in table])
    axes[0].set_xticks(range(len(table)), labels, fontsize=8)
    axes[0].set_ylabel("wall time, s")
    axes[0].set_title(f"{n}x{n} layer, {len(prep.tiles)} tiles of {rows}x{cols}", fontsize=10)
    axes[1].plot(y_ideal.ravel(), y["ngspice"].ravel(), ".", ms=2)
    lim = np.abs(y_ideal).max() * 1.05
    axes[1].plot([-lim, lim], [-lim, lim], "k-", lw=0.7)
    axes[1].set_xlabel("exact W x")
    axes[1].set_ylabel("ngspice y (64 levels, 3 % programming, 1 ohm wires)")
    axes[1].set_title(f"rms error {100 * rel(y['ngspice']):.2f} % of rms(W x)", fontsize=10)
    print(f"wrote {save_figure(axes, OUT / 'bench_mvm.png')}")


if __name__ == "__main__":
    main()
