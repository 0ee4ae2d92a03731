"""The ``spicebar`` command line.

    spicebar simulate --conductances G.npy --inputs V.npy --r-wl 1 --r-bl 1 --engine ngspice --out r.npz
    spicebar generate --conductances G.npy --r-wl 1 --r-bl 1 -o crossbar.cir
    spicebar compare  --conductances G.npy --inputs V.npy --r-wl 1 --r-bl 1 [--json]
    spicebar demo [--out DIR]
    spicebar doctor
    spicebar simulate ... --readout integrator [--encoding bit_serial --adc-bits 8 ...]
    spicebar plot transient RESULT.npz -o FILE.png

Errors print one line (``spicebar: error: ...``) and exit non-zero; ``--debug``
shows the traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .cli_readout import add_plot_parser, add_readout_flags, cmd_plot, run_simulate_readout
from .errors import SpecError, SpicebarError

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


def _array_flags(p: argparse.ArgumentParser, inputs_required: bool) -> None:
    g = p.add_argument_group("array")
    g.add_argument("--conductances", "-G", required=True, metavar="G.npy",
                   help="cell conductances, (rows, cols) siemens, .npy or .csv")
    g.add_argument("--inputs", "-V", required=inputs_required, metavar="V.npy",
                   help="word-line voltages, (batch, rows) or (rows,) volts, .npy or .csv")
    g.add_argument("--r-wl", type=float, default=0.0, metavar="OHM",
                   help="word-line segment resistance (default 0: ideal wire)")
    g.add_argument("--r-bl", type=float, default=0.0, metavar="OHM",
                   help="bit-line segment resistance (default 0: ideal wire)")
    g.add_argument("--r-driver", type=float, default=0.0, metavar="OHM",
                   help="driver output resistance (default 0)")
    g.add_argument("--r-sense", type=float, default=0.0, metavar="OHM",
                   help="readout input resistance (default 0)")
    g.add_argument("--drive", choices=("left", "right", "both"), default="left",
                   help="driven end of the word lines (default left)")
    g.add_argument("--sense", choices=("bottom", "top", "both"), default="bottom",
                   help="read end of the bit lines (default bottom)")


def _ngspice_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("ngspice")
    g.add_argument("--timeout", type=float, default=600.0, metavar="S",
                   help="wall-time limit of one ngspice run, seconds (default 600)")
    g.add_argument("--workdir", default=None, metavar="DIR",
                   help="keep the netlist and run files here (default: a temporary "
                        "directory, removed after success, kept after a failure)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spicebar", description=(
        "What your resistive crossbar really computes: SPICE netlists, ngspice runs and an "
        "exact nodal solver, checked against the ideal V @ G."))
    parser.add_argument("--version", action="version", version=f"spicebar {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("simulate", help="run one engine and write its result (.npz)")
    _array_flags(p, inputs_required=True)
    p.add_argument("--engine", choices=("ideal", "nodal", "ngspice"), default="nodal")
    p.add_argument("--out", "-o", required=True, metavar="RESULT.npz",
                   help="result file: currents (batch, cols) A, v_wl and v_bl (batch, rows, cols) "
                        "V, driver_currents (batch, rows) A, inputs")
    _ngspice_flags(p)
    add_readout_flags(p)

    p = sub.add_parser("generate", help="write the SPICE netlist only")
    _array_flags(p, inputs_required=False)
    p.add_argument("--vector", type=int, default=0,
                   help="which input vector sets the driver voltages (default 0; zeros "
                        "without --inputs)")
    p.add_argument("-o", "--out", required=True, metavar="FILE.cir")

    p = sub.add_parser("compare", help="run every engine and print the error table")
    _array_flags(p, inputs_required=True)
    p.add_argument("--engines", default="ideal,nodal,ngspice",
                   help="comma-separated engines (default ideal,nodal,ngspice)")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--out", "-o", default=None, metavar="DIR",
                   help="also write each result, comparison.json and the plots here")
    _ngspice_flags(p)

    p = sub.add_parser("demo", help="the main job: 64x64 RRAM array, all engines, table and plots")
    p.add_argument("--out", default="demo_out", metavar="DIR", help="output folder (default demo_out)")
    p.add_argument("--size", type=int, default=64, help="rows = cols (default 64)")
    p.add_argument("--r-wire", type=float, default=2.0, metavar="OHM",
                   help="word- and bit-line segment resistance (default 2)")
    p.add_argument("--seed", type=int, default=0)

    sub.add_parser("doctor", help="check ngspice, its KLU solver and its shared library")
    add_plot_parser(sub)
    return parser


def _spec_from_args(args):
    from .io import load_array
    from .spec import CrossbarSpec
    g = load_array(args.conductances, "conductances")
    spec = CrossbarSpec(g, r_wl=args.r_wl, r_bl=args.r_bl, r_driver=args.r_driver,
                        r_sense=args.r_sense, drive=args.drive, sense=args.sense)
    inputs = None
    if args.inputs is not None:
        from .spec import validate_inputs
        inputs = validate_inputs(load_array(args.inputs, "inputs"), spec.rows)
    return spec, inputs


def _out_path(path: str, suffixes: tuple[str, ...], parameter: str) -> Path:
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise SpecError(parameter, f"{path!r} has suffix {p.suffix!r}", ", ".join(suffixes))
    if p.exists() and p.is_dir():
        raise SpecError(parameter, f"{path!r} is a directory", "a file path")
    return p


def cmd_simulate(args) -> int:
    from .simulation import simulate
    out = _out_path(args.out, (".npz",), "--out")
    spec, inputs = _spec_from_args(args)
    if args.readout != "ideal":
        return run_simulate_readout(args, spec, inputs, out)
    result = simulate(spec, inputs, args.engine, workdir=args.workdir, timeout_s=args.timeout)
    result.save(out)
    print(f"{args.engine}: {spec.describe()}; {result.batch} vector(s) in {result.elapsed_s:.3g} s "
          f"-> {out}")
    return 0


def cmd_generate(args) -> int:
    import numpy as np

    from .elaboration import elaborate
    from .netlist import write_netlist
    out = _out_path(args.out, (".cir", ".sp", ".spice", ".net"), "--out")
    spec, inputs = _spec_from_args(args)
    vector = None
    if inputs is not None:
        if not 0 <= args.vector < inputs.shape[0]:
            raise SpecError("--vector", f"is {args.vector}", f"0..{inputs.shape[0] - 1}")
        vector = inputs[args.vector]
    elif args.vector != 0:
        raise SpecError("--vector", "needs --inputs")
    path = write_netlist(out, elaborate(spec), vector if vector is not None else np.zeros(spec.rows))
    print(f"wrote {path} ({spec.describe()})")
    return 0


def cmd_compare(args) -> int:
    from .comparison import compare, format_table
    from .simulation import ENGINES, full_scale_current, simulate_all
    engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    for e in engines:
        if e not in ENGINES:
            raise SpecError("--engines", f"has {e!r}", ", ".join(ENGINES))
    if len(engines) < 2:
        raise SpecError("--engines", f"has {len(engines)} engine(s)", "at least two")
    spec, inputs = _spec_from_args(args)
    results = simulate_all(spec, inputs, engines, workdir=args.workdir, timeout_s=args.timeout)
    comparison = compare(results, full_scale_current(spec, inputs))
    if args.out:
        from .plot import plot_column_error, plot_voltage_maps, save_figure
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name, r in results.items():
            r.save(out / f"result_{name}.npz")
        (out / "comparison.json").write_text(comparison.to_json())
        exact = results.get("ngspice") or results.get("nodal") or next(iter(results.values()))
        save_figure(plot_voltage_maps(exact), out / "voltage_maps.png")
        save_figure(plot_column_error(comparison), out / "column_error.png")
    print(comparison.to_json() if args.json else format_table(comparison))
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo
    if args.size < 1 or args.size > 512:
        raise SpecError("--size", f"is {args.size}", "1..512")
    run_demo(args.out, rows=args.size, cols=args.size, r_wire_ohm=args.r_wire, seed=args.seed)
    return 0


def cmd_doctor(args) -> int:
    from .toolchain import INSTALL_HINT, ngspice_version
    info = ngspice_version()
    for k, v in info.items():
        print(f"{k:>10}: {v}")
    if not info["library"] or not info["klu"]:
        print(f"problem: {INSTALL_HINT}")
        return EXIT_FAILED
    from .simulation import simulate
    from .spec import CrossbarSpec
    r = simulate(CrossbarSpec([[1e-4]], r_wl=1.0, r_bl=1.0), [1.0], "ngspice", timeout_s=60)
    print(f"  1x1 run: {r.currents[0, 0]:.9e} A (expected {1 / 10002:.9e} A)")
    return 0


COMMANDS = {"simulate": cmd_simulate, "generate": cmd_generate, "compare": cmd_compare,
            "demo": cmd_demo, "doctor": cmd_doctor, "plot": cmd_plot}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except SpecError as exc:
        if args.debug:
            raise
        print(f"spicebar: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SpicebarError as exc:
        if args.debug:
            raise
        print(f"spicebar: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("spicebar: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
