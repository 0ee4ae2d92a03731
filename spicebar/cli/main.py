"""The ``spicebar`` command line.

    spicebar simulate --conductances G.npy --inputs V.npy --r-wl 1 --r-bl 1 --engine ngspice --out r.npz
    spicebar generate --conductances G.npy --r-wl 1 --r-bl 1 -o crossbar.cir
    spicebar compare  --conductances G.npy --inputs V.npy --r-wl 1 --r-bl 1 [--json]
    spicebar demo [--out DIR]
    spicebar mvm --weights W.npy --inputs X.npy --array 128x128 --out Y.npz   (see cli_mvm)
    spicebar network --network NET.npz --array 128x128 --out DIR   (see cli/network.py)
    spicebar doctor
    spicebar array --rows 64 --cols 64 --batch 4 -G G.npy -V V.npy   (see cli.array)
    spicebar simulate ... --readout integrator [--encoding bit_serial --adc-bits 8 ...]
        spicebar sweep SWEEP.toml [--workers N] [--scheduler ADDR] [--out DIR]
    spicebar plot sweep DIR -o FILE.png [--where KEY=VALUE] [--facet KEY]
    spicebar plot transient RESULT.npz -o FILE.png

Errors print one line (``spicebar: error: ...``) and exit non-zero; ``--debug``
shows the traceback.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

from .. import __version__
from .array import add_array_parser, cmd_array
from .cells import add_cell_flags, cell_and_operation, warn_underdriven_selector
from .paths import out_folder, out_path
from .readout import (add_plot_transient_parser, add_readout_flags, cmd_plot_transient,
                      run_simulate_readout)
from .speed import add_threads_flag, apply_threads
from .sweep import PLOT_KINDS, add_plot_parser, add_sweep_parser, cmd_plot, cmd_sweep
from ..errors import SpecError, SpicebarError
from ..engines.ngspice.limits import DEFAULT_TIMEOUT_S

PLOT_KINDS.setdefault("transient", (add_plot_transient_parser, cmd_plot_transient))

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit code 2) like every other bad input."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"spicebar: error: {message} (see `{self.prog} --help`)\n")


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
    g.add_argument("--label", default="", help="free text for the netlist header and reports")
    add_cell_flags(p)


def _ngspice_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--solver", choices=("auto", "direct", "iterative"), default="auto",
                   help="nodal engine's linear solver: direct LU, iterative line solver "
                        "(exact to a 1e-13 residual), or auto (iterative from 128x128 on)")
    add_threads_flag(p, argparse.SUPPRESS)
    g = p.add_argument_group("ngspice")
    g.add_argument("--timeout", type=float, default=None, metavar="S",
                   help=f"wall-time limit of one ngspice run, seconds (default "
                        f"{DEFAULT_TIMEOUT_S:g}; a readout "
                        "transient's grows with cells x windows)")
    g.add_argument("--workdir", default=None, metavar="DIR",
                   help="keep the netlist and run files here (default: a temporary "
                        "directory, removed after success, kept after a failure)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="spicebar", description=(
        "What your resistive crossbar really computes: SPICE netlists, ngspice runs and an "
        "exact nodal solver, checked against the ideal V @ G."))
    parser.add_argument("--version", action="version", version=f"spicebar {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    add_threads_flag(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("simulate", help="run one engine and write its result (.npz)")
    _array_flags(p, inputs_required=False)
    p.set_defaults(inputs_needed=True)
    p.add_argument("--engine", choices=("ideal", "nodal", "ngspice"), default="nodal",
                   help="ideal (V @ G), nodal (exact nodal solver) or ngspice (default nodal)")
    p.add_argument("--out", "-o", required=True, metavar="RESULT.npz",
                   help="result file: currents (batch, cols) A, driver_currents (batch, rows) A, "
                        "inputs, info; with --maps also v_wl and v_bl (batch, rows, cols) V and "
                        "cell_currents (batch, rows, cols) A")
    p.add_argument("--maps", action="store_true",
                   help="also write the per-cell maps (v_wl, v_bl, cell_currents): "
                        "8 bytes x batch x rows x cols each")
    _ngspice_flags(p)
    add_readout_flags(p)

    p = sub.add_parser("generate", help="write the SPICE netlist only")
    _array_flags(p, inputs_required=False)
    p.add_argument("--vector", type=int, default=0,
                   help="which input vector sets the driver voltages (default 0; zeros "
                        "without --inputs)")
    p.add_argument("-o", "--out", required=True, metavar="FILE.cir")

    p = sub.add_parser("compare", help="run every engine and print the error table")
    _array_flags(p, inputs_required=False)
    p.set_defaults(inputs_needed=True)
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
    from .mvm import add_parser as add_mvm_parser
    add_mvm_parser(sub)
    from .network import add_parser as add_network_parser
    add_network_parser(sub)
    add_sweep_parser(sub)
    add_plot_parser(sub)
    add_array_parser(sub)
    return parser


def _spec_from_args(args):
    from ..io import load_array
    from ..circuit.spec import CrossbarSpec
    g = load_array(args.conductances, "conductances")
    cell, op = cell_and_operation(args)
    spec = CrossbarSpec(g, r_wl=args.r_wl, r_bl=args.r_bl, r_driver=args.r_driver,
                        r_sense=args.r_sense, drive=args.drive, sense=args.sense, cell=cell,
                        label=args.label)
    args.operation = op
    inputs = None
    if op is not None and op.mode == "read":
        if args.inputs is not None:
            raise SpecError("--inputs", "was given with --mode read",
                            "no --inputs: the read sets the word-line voltages")
        op.check(spec.rows, spec.cols, cell.kind)
        return spec, None
    if op is not None:
        op.check(spec.rows, spec.cols, cell.kind)
    if args.inputs is not None:
        from ..circuit.spec import validate_inputs
        inputs = validate_inputs(load_array(args.inputs, "inputs"), spec.rows)
    elif getattr(args, "inputs_needed", False):
        raise SpecError("--inputs", "is missing", "a (batch, rows) or (rows,) .npy/.csv file "
                        "(or --mode read)")
    return spec, inputs


def cmd_simulate(args) -> int:
    from ..engines.simulation import simulate
    out = out_path(args.out, (".npz",), "--out", args)
    spec, inputs = _spec_from_args(args)
    warn_underdriven_selector(spec, inputs)
    if args.readout != "ideal":
        return run_simulate_readout(args, spec, inputs, out)
    result = simulate(spec, inputs, args.engine, workdir=args.workdir,
                      timeout_s=args.timeout or DEFAULT_TIMEOUT_S,
                      operation=args.operation, solver=args.solver,
                      allow_approximate_cells=args.allow_approximate_cells)
    result.save(out, maps=args.maps)
    print(f"{args.engine}: {spec.describe()}; {result.batch} vector(s) in {result.elapsed_s:.3g} s "
          f"-> {out}")
    return 0


def cmd_generate(args) -> int:
    import numpy as np

    from ..circuit.elaboration import elaborate
    from ..netlist.writer import write_netlist
    out = out_path(args.out, (".cir", ".sp", ".spice", ".net"), "--out", args)
    spec, inputs = _spec_from_args(args)
    vector = None
    if inputs is not None:
        if not 0 <= args.vector < inputs.shape[0]:
            raise SpecError("--vector", f"is {args.vector}", f"0..{inputs.shape[0] - 1}")
        vector = inputs[args.vector]
    elif args.vector != 0:
        raise SpecError("--vector", "needs --inputs")
    if args.operation is not None and args.operation.mode == "read":
        vector = args.operation.row_voltages(spec.rows)[0]
    elif vector is None:
        print("spicebar: note: no --inputs, so every word-line driver is at 0 V; pass --inputs "
              "V.npy [--vector K] to set them", file=sys.stderr)
    ir = elaborate(spec, args.operation)
    from ..engines.ngspice.openvaf import compile_devices
    compile_devices(ir)  # a Verilog-A device's OSDI library, so the netlist runs as written
    path = write_netlist(out, ir, vector if vector is not None else np.zeros(spec.rows))
    print(f"wrote {path} ({spec.describe()})")
    return 0


def cmd_compare(args) -> int:
    from ..analysis.comparison import compare, format_table, ideal_model_error
    from ..engines.simulation import ENGINES, full_scale_current, simulate_all
    engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    for e in engines:
        if e not in ENGINES:
            raise SpecError("--engines", f"has {e!r}", ", ".join(ENGINES))
    if len(engines) < 2:
        raise SpecError("--engines", f"has {len(engines)} engine(s)", "at least two")
    from ..engines.simulation import operation_inputs
    if args.out:
        out_folder(args.out, "--out")
    spec, inputs = _spec_from_args(args)
    warn_underdriven_selector(spec, inputs)
    results = simulate_all(spec, inputs, engines, operation=args.operation, workdir=args.workdir,
                           timeout_s=args.timeout or DEFAULT_TIMEOUT_S, solver=args.solver,
                           allow_approximate_cells=args.allow_approximate_cells)
    comparison = compare(results, full_scale_current(spec, operation_inputs(spec, inputs,
                                                                            args.operation)),
                         ideal_model_error(spec, args.operation))
    decomposition = None
    exact = results.get("ngspice") or results.get("nodal")
    if exact is not None:
        from ..analysis.sneak import decompose, format_decomposition
        decomposition = decompose(spec, exact, args.operation)
    if args.out:
        from ..io import write_text_atomic
        from ..plots.maps import plot_column_error, plot_voltage_maps, save_figure
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name, r in results.items():
            r.save(out / f"result_{name}.npz")
        write_text_atomic(out / "comparison.json", comparison.to_json())
        exact = results.get("ngspice") or results.get("nodal") or next(iter(results.values()))
        save_figure(plot_voltage_maps(exact), out / "voltage_maps.png")
        save_figure(plot_column_error(comparison), out / "column_error.png")
        if decomposition is not None:
            from ..plots.cells import plot_cell_maps, plot_decomposition
            save_figure(plot_cell_maps(exact), out / "cell_maps.png")
            save_figure(plot_decomposition(decomposition), out / "decomposition.png")
    if args.json:
        import json
        d = json.loads(comparison.to_json())
        if decomposition is not None:
            d["decomposition"] = {"engine": decomposition.engine, "max_abs_a": decomposition.summary(),
                                  **{t: getattr(decomposition, t).tolist() for t in
                                     ("total", "ideal", "ir_drop", "device", "sneak", "residual")}}
        print(json.dumps(d, indent=2))
    else:
        print(format_table(comparison))
        if decomposition is not None:
            cols = [args.operation.col] if getattr(args.operation, "mode", "") == "read" else None
            print()
            print(format_decomposition(decomposition, cols))
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo
    if args.size < 1 or args.size > 512:
        raise SpecError("--size", f"is {args.size}", "1..512")
    if args.seed < 0:
        raise SpecError("--seed", f"is {args.seed}", "an integer >= 0")
    from ..circuit.bounds import check
    check("--r-wire", args.r_wire, "r_wl, r_bl, r_driver, r_sense")
    out_folder(args.out, "--out")
    run_demo(args.out, rows=args.size, cols=args.size, r_wire_ohm=args.r_wire, seed=args.seed)
    return 0


def cmd_mvm(args) -> int:
    from .mvm import cmd_mvm as run
    return run(args)


def cmd_network(args) -> int:
    from .network import cmd_network as run
    return run(args)


def cmd_doctor(args) -> int:
    from ..engines.ngspice.toolchain import INSTALL_HINT, ngspice_version
    info = ngspice_version()
    for k, v in info.items():
        if k not in ("library_kind", "library_why"):
            print(f"{k:>10}: {v}")
    from ..engines.ngspice.doctor import library_lines
    print("\n".join(library_lines(info)))
    if not info["library"] or not info["klu"]:
        print(f"problem: {INSTALL_HINT}")
        return EXIT_FAILED
    from ..engines.simulation import simulate
    from ..circuit.spec import CrossbarSpec
    r = simulate(CrossbarSpec([[1e-4]], r_wl=1.0, r_bl=1.0), [1.0], "ngspice", timeout_s=60)
    print(f"  1x1 run: {r.currents[0, 0]:.9e} A (expected {1 / 10002:.9e} A)")
    from .devices import doctor_devices
    lines, va_ok = doctor_devices()
    print("\n".join(lines))
    if not va_ok:
        print("note: Verilog-A devices (--cell device --device FILE.va) need the compiler above; "
              "everything else works without it")
    return 0


COMMANDS = {"simulate": cmd_simulate, "generate": cmd_generate, "compare": cmd_compare,
            "demo": cmd_demo, "doctor": cmd_doctor, "mvm": cmd_mvm, "sweep": cmd_sweep,
            "plot": cmd_plot, "array": cmd_array,
            "network": cmd_network}


class Terminated(KeyboardInterrupt):
    """SIGTERM, taken like Ctrl-C: every run folder, worker and pool is cleaned up."""


def _terminate(signum, frame):
    raise Terminated()


@contextmanager
def _sigterm_as_interrupt():
    """SIGTERM raises :class:`Terminated` while a command runs (main thread only)."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        apply_threads(args)
        with _sigterm_as_interrupt():
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
    except KeyboardInterrupt as exc:
        print("spicebar: terminated" if isinstance(exc, Terminated) else "spicebar: interrupted",
              file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except OSError as exc:  # disk full, a folder that vanished: earlier outputs are kept
        if args.debug:
            raise
        print(f"spicebar: error: {exc.strerror or type(exc).__name__}: "
              f"{exc.filename or exc} (nothing was replaced)", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # a bug or an environment problem: one line, traceback on --debug
        if args.debug:
            raise
        print(f"spicebar: internal error: {type(exc).__name__}: {exc} (run with --debug for the "
              "traceback)", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
