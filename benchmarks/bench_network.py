"""The full digits set through the demo network on crossbar tiles, nodal engine.

    python benchmarks/bench_network.py [--array 128x128] [--r 1] [--no-compensate]

All 1,797 digits (16x16 = 256 inputs) through the demo's 256-64-10 network (trained
seeded, as ``spicebar network --demo`` does) on tiles of ``--array`` (default 128x128:
2 tiles for layer 0, 1 for layer 1), 64 levels, 1 % programming error, 8-bit ADC,
``--r`` ohm per segment. Times each row (ideal quantised, nodal with every effect, the
exact compensation, nodal compensated), prints a table and writes
``out/bench_network.png``. Target: the nodal row under 60 s.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from spicebar.cli.network_demo import DEMO_HEADROOM, demo_hardware, digits_data, train_digits
from spicebar.hardware.network import accuracy
from spicebar.hardware.network_eval import NetworkSpec, layer_specs, run_layers
from spicebar.hardware.tiling import parse_array

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--array", default="128x128")
    ap.add_argument("--r", type=float, default=1.0, help="ohm per segment (default 1)")
    ap.add_argument("--no-compensate", action="store_true")
    args = ap.parse_args()
    rows, cols = parse_array(args.array)
    if rows != cols:
        raise SystemExit("--array: square tiles only (the demo's hardware)")
    t0 = time.perf_counter()
    x_tr, x_te, y_tr, y_te = digits_data(0)
    net = train_digits(x_tr, y_tr, 0)
    x, y = np.vstack([x_tr, x_te]), np.concatenate([y_tr, y_te])
    t_train = time.perf_counter() - t0
    spec = NetworkSpec(demo_hardware(rows, args.r), headroom=DEMO_HEADROOM)
    specs = layer_specs(net, x_tr, spec)
    caches = [{} for _ in net.layers]
    effects = spec.hardware.configured_effects()
    table = [("float (numpy)", None, accuracy(net.forward(x), y))]
    plan = [("ideal quantised", ("quantisation",), "ideal", "none"),
            ("nodal, every effect", effects, "nodal", "none")]
    if not args.no_compensate:
        plan += [("nodal compensated (+ compensation)", effects, "nodal", "exact"),
                 ("nodal compensated (cached)", effects, "nodal", "exact")]
    for label, eff, engine, comp in plan:
        t = time.perf_counter()
        logits = run_layers(net, x, specs, eff, engine, caches, comp)
        table.append((label, time.perf_counter() - t, accuracy(logits, y)))
    print(f"\n{len(y)} digits through {net.describe()} on {rows}x{cols} tiles, {args.r:g} ohm "
          f"per segment, {os.cpu_count()} cores (load {os.getloadavg()[0]:.1f}); "
          f"data and training {t_train:.1f} s")
    print(f"{'row':<38}{'wall s':>9}{'accuracy':>10}")
    for label, t, acc in table:
        print(f"{label:<38}{'-' if t is None else f'{t:.2f}':>9}{100 * acc:>9.2f}%")

    from common import row_times_figure
    png = row_times_figure(table, f"{len(y)} digits, {rows}x{cols} tiles, {args.r:g} ohm",
                           "wall time, s", OUT / "bench_network.png", target_s=60)
    print(f"wrote {png}")


if __name__ == "__main__":
    main()
