"""The ONNX CNN demo's whole test set through every effect, nodal engine.

    python benchmarks/bench_onnx.py [--array 128x128] [--r 1]

The convolutional network of ``spicebar network --onnx-demo`` (Conv 1->8, MaxPool,
Conv 8->16, MaxPool, Gemm 64->32, Gemm 32->10; trained in numpy on the 8x8 digits,
exported to ONNX) on tiles of ``--array``, 64 levels, 1 % programming error, 8-bit ADC,
``--r`` ohm per segment: every row of ``spicebar network --onnx`` (ideal quantised, each
effect alone, all effects, exact compensation, each layer alone) on the 540 test images,
timed, with images per second; then the per-layer budget. Prints a table and writes
``out/bench_onnx.png``. Target: the whole test set through every row under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


from spicebar.cli.onnx_models import digits_images, export_cnn, train_cnn
from spicebar.hardware.devices import DeviceSpec
from spicebar.hardware.graph_eval import GraphSpec, layer_budgets, run_batches
from spicebar.hardware.graph_result import prepare_run
from spicebar.hardware.mapping import MappingSpec
from spicebar.hardware.mvm import MVMSpec
from spicebar.hardware.network import accuracy
from spicebar.hardware.onnx_import import load_onnx
from spicebar.hardware.tiling import parse_array

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--array", default="128x128")
    ap.add_argument("--r", type=float, default=1.0, help="ohm per segment (default 1)")
    args = ap.parse_args()
    rows, cols = parse_array(args.array)
    t0 = time.perf_counter()
    x_tr, x_te, y_tr, y_te = digits_images(0)
    with tempfile.TemporaryDirectory() as tmp:
        graph = load_onnx(export_cnn(train_cnn(x_tr, y_tr, 0), Path(tmp) / "cnn.onnx"))
    t_train = time.perf_counter() - t0
    hw = MVMSpec(MappingSpec(g_max_s=3e-4, on_off=50.0, levels=64, v_read=0.2),
                 DeviceSpec(prog_sigma_rel=0.01), array_rows=rows, array_cols=cols,
                 r_wl=args.r, r_bl=args.r, adc_bits=8)
    spec = GraphSpec(hw, headroom=2.0)
    t = time.perf_counter()
    specs, planned, cost = prepare_run(graph, x_tr, spec, len(y_te))
    t_cal = time.perf_counter() - t
    caches = [[{} for _ in c.weights] for c in graph.crossbars]
    table = [("float (numpy)", None, accuracy(graph.logits(x_te), y_te))]
    total = 0.0
    for name, effects, engine, comp, only in planned:
        t = time.perf_counter()
        logits = run_batches(graph, x_te, specs, effects, engine, caches, comp, only)
        dt = time.perf_counter() - t
        total += dt
        table.append((name, dt, accuracy(logits, y_te)))
    t = time.perf_counter()
    layer_budgets(graph, x_te[:32], specs, caches)
    t_budget = time.perf_counter() - t
    n = len(y_te)
    print(f"\n{n} test digits through {graph.describe()}\n on {rows}x{cols} tiles, {args.r:g} ohm per "
          f"segment, {os.cpu_count()} cores (load {os.getloadavg()[0]:.1f}); training {t_train:.1f} s, "
          f"calibration {t_cal:.1f} s")
    print(f"{'row':<24}{'wall s':>9}{'images/s':>10}{'accuracy':>10}")
    for label, dt, acc in table:
        speed = "-" if dt is None else f"{n / dt:.0f}"
        print(f"{label:<24}{'-' if dt is None else f'{dt:.2f}':>9}{speed:>10}{100 * acc:>9.2f}%")
    print(f"{'every row':<24}{total:>9.2f}{n * (len(table) - 1) / total:>10.0f}")
    print(f"{'per-layer budget (32)':<24}{t_budget:>9.2f}")

    from common import row_times_figure
    png = row_times_figure(table, f"{n} digits, ONNX CNN, {rows}x{cols} tiles, {args.r:g} ohm",
                           f"wall time, s (every row: {total:.1f} s, target 60 s)",
                           OUT / "bench_onnx.png")
    print(f"wrote {png}")


if __name__ == "__main__":
    main()
