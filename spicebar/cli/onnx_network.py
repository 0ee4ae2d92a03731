"""``spicebar network --onnx``: an ONNX model's accuracy through tiled crossbars.

    spicebar network --onnx MODEL.onnx --data DATA.npz [--layout NHWC] --array 128x128 \\
        --levels 64 --r-wl 1 --r-bl 1 --adc-bits 8 [--layer-config LAYERS.toml] --spot 2 --out DIR
    spicebar network --onnx-demo [--out DIR]

``DATA.npz`` holds ``X`` (the model's input shape, batch first) and ``y`` (integer labels),
or ``--data X.npy --labels y.npy``. Writes ``DIR/accuracy.json`` (accuracy per row, the
per-layer error budgets, the spot check, the circuit cost) and ``DIR/layers.png``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import SpecError

LAYOUTS = ("NCHW", "NHWC")


def add_onnx_flags(g) -> None:
    """The ``--onnx`` flags of ``spicebar network``."""
    g.add_argument("--onnx", metavar="MODEL.onnx", help="an ONNX model (instead of --network)")
    g.add_argument("--onnx-demo", action="store_true",
                   help="train a small CNN (numpy) and an MLP (scikit-learn, skl2onnx) on the 8x8 "
                        "digits, write them as ONNX with their test data, and run the CNN")
    g.add_argument("--output", default=None, metavar="NAME",
                   help="the model output to score (default: its first float output)")
    g.add_argument("--labels", default=None, metavar="y.npy", help="labels, when --data is an X .npy")
    g.add_argument("--layout", default="NCHW", type=str.upper, choices=LAYOUTS,
                   help="image data layout in --data (default NCHW; NHWC is transposed)")
    g.add_argument("--layer-config", default=None, metavar="LAYERS.toml",
                   help="per-layer array, levels, adc_bits (see docs/reference/onnx-support.md)")
    g.add_argument("--spot-layers", type=int, default=2, metavar="N",
                   help="first crossbar layers of the ngspice spot check (default 2)")
    g.add_argument("--budget-samples", type=int, default=32, metavar="N",
                   help="samples of each layer's error budget (default 32)")


def load_data(data: str | None, labels: str | None, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` from ``.npz`` (``X``, ``y``) or ``.npy`` + ``--labels``; NHWC -> NCHW."""
    from ..hardware.network import _load_npz
    from ..io import load_array
    if data is None:
        raise SpecError("--data", "is missing", "a .npz with X and y, or X.npy with --labels y.npy")
    if str(data).lower().endswith(".npz"):
        arrays = _load_npz(data, "--data")
        if "X" not in arrays or "y" not in arrays:
            raise SpecError("--data", f"has keys {sorted(arrays)}", "X (samples, ...) and y (samples,)")
        x, y = arrays["X"], arrays["y"]
    else:
        if labels is None:
            raise SpecError("--labels", "is missing (--data is a .npy of inputs)", "a .npy of integer labels")
        x, y = load_array(data, "--data"), load_array(labels, "--labels")
    x = np.asarray(x)
    if x.dtype.kind not in "fiu":
        raise SpecError("--data", f"has X of dtype {x.dtype}", "real numbers")
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(x) or y.dtype.kind not in "iu":
        raise SpecError("--data", f"has y of shape {y.shape}, dtype {y.dtype}", f"integer labels ({len(x)},)")
    if layout == "NHWC":
        if x.ndim != 4:
            raise SpecError("--layout", f"is NHWC but X has {x.ndim} axes", "NHWC for 4-axis image data")
        x = x.transpose(0, 3, 1, 2)
    return x.astype(float), y.astype(np.int64)


def run_onnx(args, model: str, data: str, labels: str | None = None, executor_for=None) -> int:
    """Run ``--onnx``; ``executor_for(args, stack)``: the sample batches' executor (or None)."""
    from contextlib import ExitStack

    from .mvm import spec_from_args
    from ..hardware.graph_eval import GraphSpec
    from ..hardware.graph_result import evaluate_graph, format_graph_result
    from ..hardware.layer_config import check_layer_names, load_layer_config
    from ..hardware.onnx_import import load_onnx
    from ..plots.graph_report import plot_layer_report
    from ..plots.maps import save_figure
    from ..sweeps.records import write_json
    for flag, n, low in (("--spot-layers", args.spot_layers, 1), ("--budget-samples", args.budget_samples, 1),
                         ("--spot", args.spot, 0), ("--batch-size", args.batch_size, 1)):
        if n < low:
            raise SpecError(flag, f"is {n}", f"an integer >= {low}")
    if args.processes is not None and args.processes < 1:
        raise SpecError("--processes", f"is {args.processes}", "an integer >= 1")
    graph = load_onnx(model, args.output)
    layers = load_layer_config(args.layer_config) if args.layer_config else {}
    check_layer_names(layers, [c.name for c in graph.crossbars])
    x, y = load_data(data, labels, args.layout)
    x = graph.check_input(x)
    n_out = graph.logits(x[:1]).shape[1]
    if y.size and (y.min() < 0 or y.max() >= n_out):
        raise SpecError("--data", f"has labels {int(y.min())}..{int(y.max())}", f"0..{n_out - 1} (the model's outputs)")
    if args.calibration is not None and not 1 <= args.calibration <= len(y):
        raise SpecError("--calibration", f"is {args.calibration}", f"1..{len(y)}")
    hardware = replace(spec_from_args(args), compensate="none")
    spec = GraphSpec(hardware, layers, headroom=args.headroom, compensate=args.compensate,
                     spot_samples=args.spot, spot_layers=args.spot_layers,
                     budget_samples=args.budget_samples)
    from .paths import resolve_out_dir
    out = Path(resolve_out_dir(args, "network_out"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"model {graph.describe()}; {len(y)} samples on {args.array} tiles")
    with ExitStack() as stack:
        executor = executor_for(args, stack) if executor_for is not None else None
        r = evaluate_graph(graph, x, y, spec, x_cal=x[:args.calibration] if args.calibration else x,
                           executor=executor, batch_size=args.batch_size, workers=args.workers,
                           timeout_s=args.timeout, echo=print)
    print(format_graph_result(r))
    write_json(out / "accuracy.json", r.to_dict())
    png = save_figure(plot_layer_report(r.to_dict()), out / "layers.png")
    print(f"wrote {out / 'accuracy.json'}, {png}")
    return 0


def run_onnx_demo(args, executor_for=None) -> int:
    """Write ``cnn.onnx``, ``cnn_data.npz``, ``mlp.onnx``, ``mlp_data.npz`` (test sets) and
    ``cnn_train.npz`` in ``--out-dir``, then run the CNN as ``--onnx`` would."""
    from .onnx_models import digits_images, export_cnn, export_sklearn_mlp, train_cnn
    from .paths import resolve_out_dir
    out = Path(resolve_out_dir(args, "network_out"))
    out.mkdir(parents=True, exist_ok=True)
    x_tr, x_te, y_tr, y_te = digits_images(args.seed)
    export_cnn(train_cnn(x_tr, y_tr, args.seed), out / "cnn.onnx")
    export_sklearn_mlp(x_tr.reshape(len(x_tr), -1), y_tr, out / "mlp.onnx", args.seed)
    np.savez(out / "cnn_data.npz", X=x_te, y=y_te)
    np.savez(out / "mlp_data.npz", X=x_te.reshape(len(x_te), -1), y=y_te)
    print(f"wrote {out / 'cnn.onnx'}, {out / 'mlp.onnx'} and their test sets ({len(y_te)} images)")
    return run_onnx(args, str(out / "cnn.onnx"), str(out / "cnn_data.npz"), executor_for=executor_for)
