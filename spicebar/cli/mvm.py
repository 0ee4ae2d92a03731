"""``spicebar mvm``: a weight matrix through mapped, tiled crossbars, with its error budget.

    spicebar mvm --weights W.npy --inputs X.npy --array 128x128 --mapping differential \\
        --levels 64 --on-off 50 --r-wl 1 --r-bl 1 --adc-bits 8 --out Y.npz
    spicebar mvm --demo [--out-dir DIR]

``W`` is ``(outputs, inputs)``, ``X`` is ``(batch, inputs)`` (``(batch, outputs)`` with
``--direction backward``); every ``y`` in the result file is ``(batch, n)``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import SpecError
from ..engines.ngspice.limits import DEFAULT_TIMEOUT_S


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("mvm", help="y = W x through mapped, tiled crossbars, with the error budget",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", "-W", metavar="W.npy", help="weights, (outputs, inputs)")
    p.add_argument("--inputs", "-X", metavar="X.npy",
                   help="inputs, (batch, inputs) forward or (batch, outputs) backward")
    p.add_argument("--out", "-o", metavar="Y.npz", help="result file (y_ideal, y_ideal_quantised, "
                   "y_nodal, y_spice, budget, info)")
    p.add_argument("--demo", action="store_true",
                   help="run the built-in layer demo (64x256 weights: 64 outputs, 256 inputs, on 64x64 arrays) instead")
    p.add_argument("--out-dir", default="demo_out/mvm", metavar="DIR", help="demo output folder")
    add_hardware_flags(p)
    g = p.add_argument_group("run")
    g.add_argument("--engines", default="nodal,ngspice", help="comma-separated (default nodal,ngspice)")
    g.add_argument("--no-budget", action="store_true", help="skip the error budget")
    g.add_argument("--workers", type=int, default=None, help="parallel tiles (default: all cores)")
    g.add_argument("--seed", type=int, default=0,
                   help="random seed of device variability and noise (default 0)")
    g.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S", help="per ngspice run")
    return p


def add_hardware_flags(p, direction: bool = True) -> None:
    """The mapping, device, circuit and readout flags (shared with ``spicebar network``)."""
    g = p.add_argument_group("mapping")
    g.add_argument("--array", default="128x128", metavar="RxC", help="array rows x columns (default 128x128)")
    g.add_argument("--mapping", choices=("differential", "reference"), default="differential",
                   help="signed weights as a pair of columns (differential, default) or one "
                        "column against a shared reference column (reference)")
    g.add_argument("--levels", type=int, default=None, metavar="N", help="conductance levels (default analog)")
    g.add_argument("--on-off", type=float, default=50.0, metavar="RATIO", help="g_max / g_min (default 50)")
    g.add_argument("--g-max", type=float, default=1e-4, metavar="S", help="g_max, siemens (default 1e-4)")
    g.add_argument("--w-max", type=float, default=None, help="weight mapped to the full window (default max|W|)")
    g.add_argument("--v-read", type=float, default=0.2, metavar="V",
                   help="read voltage: the word-line voltage of a full-scale input (default 0.2)")
    g.add_argument("--x-max", type=float, default=None, help="input mapped to v_read (default max|X|)")
    g.add_argument("--input-mode", choices=("bipolar", "two_phase"), default="bipolar",
                   help="signed inputs as voltages of both signs (bipolar, default) or as two "
                        "non-negative reads subtracted (two_phase)")
    if direction:
        g.add_argument("--direction", choices=("forward", "backward"), default="forward",
                       help="backward: drive bit lines, read word lines, x = W.T y")
    g = p.add_argument_group("devices")
    for flag, help_ in (("--prog-sigma-rel", "relative programming std"),
                        ("--prog-sigma-abs", "absolute programming std, S"),
                        ("--read-sigma-rel", "relative read noise std per read"),
                        ("--read-sigma-abs", "absolute read noise std per read, S"),
                        ("--drift-nu", "mean drift exponent"), ("--drift-nu-std", "std of nu"),
                        ("--stuck-on", "fraction of cells stuck at g_max"),
                        ("--stuck-off", "fraction of cells stuck at g_min")):
        g.add_argument(flag, type=float, default=0.0, help=f"{help_} (default 0)")
    g.add_argument("--t0", type=float, default=1.0, metavar="S", help="drift reference time (default 1 s)")
    g.add_argument("--t-read", type=float, default=1.0, metavar="S", help="read time (default 1 s)")
    g.add_argument("--drift-compensation", action="store_true", help="multiply y by (t/t0)**nu")
    g = p.add_argument_group("circuit and readout")
    from .wires import add_wire_flags
    add_wire_flags(g)
    g.add_argument("--adc-bits", type=int, default=None, help="column ADC bits (default: no ADC)")
    g.add_argument("--adc-full-scale", type=float, default=None, metavar="A",
                   help="ADC full scale, amperes (default v_read * rows * g_max)")
    g.add_argument("--compensate", choices=("none", "first_order", "exact"), default="none",
                   help="programme the conductances so the wired array returns the target W x: "
                        "first_order (closed form from the linearised wire drops) or exact "
                        "(iteration on the exact nodal model); unreachable targets are refused "
                        "(leave headroom with --w-max). Default: none for spicebar mvm; exact for "
                        "spicebar network (the method of its nodal_compensated row)")


def spec_from_args(args):
    from ..hardware.devices import DeviceSpec
    from ..hardware.mapping import MappingSpec
    from ..hardware.mvm import MVMSpec
    from ..hardware.tiling import parse_array
    rows, cols = parse_array(args.array)
    mapping = MappingSpec(scheme=args.mapping, g_max_s=args.g_max, on_off=args.on_off,
                          levels=args.levels, w_max=args.w_max, v_read=args.v_read,
                          x_max=args.x_max, input_mode=args.input_mode)
    devices = DeviceSpec(prog_sigma_rel=args.prog_sigma_rel, prog_sigma_abs_s=args.prog_sigma_abs,
                         read_sigma_rel=args.read_sigma_rel, read_sigma_abs_s=args.read_sigma_abs,
                         drift_nu=args.drift_nu, drift_nu_std=args.drift_nu_std, t0_s=args.t0,
                         t_read_s=args.t_read, stuck_on_rate=args.stuck_on, stuck_off_rate=args.stuck_off)
    from .wires import wire_resistances
    r_wl, r_bl = wire_resistances(args)
    return MVMSpec(mapping, devices, rows, cols, r_wl=r_wl, r_bl=r_bl,
                   r_driver=args.r_driver, r_sense=args.r_sense, adc_bits=args.adc_bits,
                   adc_full_scale_a=args.adc_full_scale, drift_compensation=args.drift_compensation,
                   direction=getattr(args, "direction", "forward"), seed=args.seed,
                   compensate=args.compensate)


def cmd_mvm(args) -> int:
    if args.demo:
        from .mvm_demo import run_mvm_demo
        run_mvm_demo(args.out_dir)
        return 0
    for flag in ("weights", "inputs", "out"):
        if getattr(args, flag) is None:
            raise SpecError(f"--{flag}", "is missing", "a file path (or use --demo)")
    if Path(args.out).suffix.lower() != ".npz":
        raise SpecError("--out", f"{args.out!r} is not a .npz file", "a path ending in .npz")
    from .paths import out_path
    out_path(args.out, (".npz",), "--out", args)
    from ..analysis.budget import format_budget
    from ..io import load_array
    from ..hardware.mvm import run_mvm
    engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    for e in engines:
        if e not in ("ideal", "nodal", "ngspice"):
            raise SpecError("--engines", f"has {e!r}", "ideal, nodal, ngspice")
    if args.workers is not None and args.workers < 1:
        raise SpecError("--workers", f"is {args.workers}", "an integer >= 1")
    spec = spec_from_args(args)
    w = load_array(args.weights, "--weights")
    x = load_array(args.inputs, "--inputs")
    r = run_mvm(w, x, spec, engines=engines, budget=not args.no_budget, workers=args.workers,
                timeout_s=args.timeout)
    i = r.info
    print(f"{spec.direction} {spec.mapping.scheme}: W {w.shape[0]}x{w.shape[1]} on {i['tiles']} "
          f"tile(s) of {args.array}, {i['reads_per_tile']} read(s) per tile, w_max={i['w_max']:.4g}, "
          f"x_max={i['x_max']:.4g}, {i['siemens_per_weight']:.4g} S per weight unit")
    for c in i.get("compensation", []):
        if c.get("method") == "exact":
            print(f"compensation exact: {c['solves']} nodal solve(s), residual "
                  f"{c['residual_rel']:.2g} of the window, conductances "
                  f"{c['g_range_s'][0]:.3g}..{c['g_range_s'][1]:.3g} S")
    if r.budget:
        print(format_budget(r.budget))
    print(f"wrote {r.save(args.out)}")
    return 0
