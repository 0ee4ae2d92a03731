"""``spicebar network``: a trained network's accuracy through tiled crossbars.

    spicebar network --network NET.npz [--data DATA.npz] --array 128x128 --levels 64 \\
        --r-wl 1 --r-bl 1 --adc-bits 8 --headroom 2 --compensate exact --spot 4 --out-dir DIR
    spicebar network --demo [--out-dir DIR]
    spicebar network --onnx MODEL.onnx --data DATA.npz --array 128x128 ... (see cli/onnx_network.py)
    spicebar network --onnx-demo [--out-dir DIR]

``NET.npz`` holds ``W0, b0, activation0, W1, ...`` and optionally ``X``, ``y`` (see
:mod:`spicebar.hardware.network`); ``--data`` gives ``X``, ``y`` in a separate file.
Writes ``DIR/accuracy.json`` (accuracy per row in [0, 1], the spot check, facts) and
prints the table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import SpecError
from ..engines.ngspice.limits import DEFAULT_TIMEOUT_S


def add_parser(sub) -> argparse.ArgumentParser:
    from .mvm import add_hardware_flags
    p = sub.add_parser("network", help="a trained network's accuracy through tiled crossbars",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--network", "-N", metavar="NET.npz", help="the network (and data) file")
    p.add_argument("--data", "-D", metavar="DATA.npz", help="X, y (default: from --network)")
    p.add_argument("--out-dir", default=None, metavar="DIR",
                   help="output folder (default network_out)")
    from .paths import add_deprecated_out_dir
    add_deprecated_out_dir(p)
    p.add_argument("--demo", action="store_true",
                   help="train a 256-64-10 network on scikit-learn's digits (16x16) and map it "
                        "onto 64/128/256 tiles at 0.5-2 ohm: accuracy.json, table, plot")
    add_hardware_flags(p, direction=False)
    g = p.add_argument_group("network")
    g.add_argument("--headroom", type=float, default=1.0, metavar="H",
                   help="w_max = H * max|W| per layer: window left for compensation (default 1)")
    g.add_argument("--spot", type=int, default=0, metavar="N",
                   help="samples whose every tile also runs in ngspice (default 0)")
    g.add_argument("--calibration", type=int, default=None, metavar="N",
                   help="samples that fix each layer's ranges (default: all)")
    g.add_argument("--workers", type=int, default=None, help="parallel ngspice tiles (default: all cores)")
    g.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="run sample batches on this Dask scheduler (as spicebar sweep does)")
    g.add_argument("--processes", type=int, default=None, metavar="N",
                   help="run sample batches on N local processes (default: in this process)")
    g.add_argument("--batch-size", type=int, default=256, metavar="N",
                   help="samples per batch on --scheduler/--processes (default 256)")
    g.add_argument("--seed", type=int, default=0,
                   help="random seed of device variability, noise and the demo's training "
                        "(default 0)")
    g.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S", help="per ngspice run")
    from .onnx_network import add_onnx_flags
    add_onnx_flags(p.add_argument_group("ONNX models"))
    p.set_defaults(compensate="exact")
    return p


def cmd_network(args) -> int:
    from .paths import resolve_out_dir
    from .mvm import spec_from_args
    from ..hardware.network_eval import NetworkSpec, evaluate_network, format_accuracy
    if args.workers is not None and args.workers < 1:
        raise SpecError("--workers", f"is {args.workers}", "an integer >= 1")
    if args.demo:
        from .network_demo import run_network_demo
        run_network_demo(resolve_out_dir(args, "network_out"), seed=args.seed, spot=args.spot or 4, workers=args.workers)
        return 0
    if args.onnx_demo or args.onnx:
        if args.network is not None:
            raise SpecError("--network", "is given with --onnx", "one model: --network or --onnx")
        from .onnx_network import run_onnx, run_onnx_demo
        if args.onnx_demo:
            return run_onnx_demo(args, _executor)
        return run_onnx(args, args.onnx, args.data, args.labels, _executor)
    if args.network is None:
        raise SpecError("--network", "is missing", "a .npz file, --onnx MODEL.onnx (or use --demo)")
    from ..hardware.network import load_network
    net, x, y = load_network(args.network, args.data)
    if x is None:
        raise SpecError("--data", "is missing and --network holds no X and y",
                        "a .npz with X (samples, inputs) and y (samples,)")
    hardware = spec_from_args(args)
    from dataclasses import replace
    spec = NetworkSpec(replace(hardware, compensate="none"), headroom=args.headroom,
                       compensate=args.compensate, spot_samples=args.spot)
    if args.calibration is not None and not 1 <= args.calibration <= len(y):
        raise SpecError("--calibration", f"is {args.calibration}", f"1..{len(y)}")
    x_cal = x[:args.calibration] if args.calibration else x
    if args.batch_size < 1:
        raise SpecError("--batch-size", f"is {args.batch_size}", "an integer >= 1")
    if args.processes is not None and args.processes < 1:
        raise SpecError("--processes", f"is {args.processes}", "an integer >= 1")
    out = Path(resolve_out_dir(args, "network_out"))
    out.mkdir(parents=True, exist_ok=True)
    from contextlib import ExitStack
    with ExitStack() as stack:
        executor = _executor(args, stack)
        r = evaluate_network(net, x, y, spec, x_cal=x_cal, workers=args.workers,
                             timeout_s=args.timeout, executor=executor,
                             batch_size=args.batch_size)
    print(f"network {net.describe()} on {args.array} tiles, {len(y)} samples")
    print(format_accuracy(r))
    from ..sweeps.records import write_json
    write_json(out / "accuracy.json", r.to_dict())
    print(f"wrote {out / 'accuracy.json'}")
    return 0


def _executor(args, stack):
    """The sweeps' executors: a Dask client's (``--scheduler``), local processes
    (``--processes``), or None (in this process). Closed by ``stack``."""
    if args.scheduler:
        from .sweep import dask_client
        return stack.enter_context(dask_client(args.scheduler)).get_executor()
    if args.processes:
        from ..sweeps.run import local_executor
        return stack.enter_context(local_executor(args.processes))
    return None
