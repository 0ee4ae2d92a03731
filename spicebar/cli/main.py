"""The ``spicebar`` command line.

    spicebar simulate --conductances G.npy --inputs V.npy --r-wire 1 --engine ngspice --out r.npz
    spicebar generate --conductances G.npy --inputs V.npy --r-wire 1 -o job.cir  (ngspice -b job.cir)
    spicebar compare  --conductances G.npy --inputs V.npy --r-wire 1 [--json] [--out-dir DIR]
    spicebar compare  A.npz B.npz                  (two result files, DC or readout)
    spicebar demo [--out-dir DIR] [--quick]        (what `make demo` does)
    spicebar plot maps RESULT.npz -o FILE.png      (any result)
    spicebar export RESULT.npz --out-dir DIR       (CSV, units in the headers)
    spicebar show RESULT.npz                       (what a file is and holds)
    spicebar mvm --weights W.npy --inputs X.npy --array 128x128 --out Y.npz   (see cli_mvm)
    spicebar network --network NET.npz --array 128x128 --out DIR   (see cli/network.py)
    spicebar doctor
    spicebar array --rows 64 --cols 64 --batch 4 -G G.npy -V V.npy   (see cli.array)
    spicebar simulate ... --readout integrator [--encoding bit_serial --adc-bits 8 ...]
        spicebar sweep SWEEP.toml [--workers N] [--scheduler ADDR] [--out DIR]
    spicebar plot sweep DIR -o FILE.png [--where KEY=VALUE] [--facet KEY]
    spicebar plot transient RESULT.npz -o FILE.png
    spicebar settling -G G.npy -V V.npy --c-wire 2e-15 --out-dir DIR   (see cli/costs.py)
    spicebar noise -G G.npy -V V.npy --readout integrator --out-dir DIR   (see cli/costs.py)

Errors print one line (``spicebar: error: ...``) and exit non-zero; ``--debug``
shows the traceback. One vocabulary of flags: ``--out`` is always a file, ``--out-dir`` a
folder (the old ``--out DIR`` still works, deprecated); ``--r-wire`` everywhere;
``--no-progress`` on every command (bars are off anyway when stderr is not a terminal); a
mistyped flag or command gets a "did you mean".
"""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

from .. import __version__
from .array import add_array_parser, cmd_array
from .flag_domains import apply_flag_domains
from .cells import add_cell_flags, cell_and_operation, warn_underdriven_selector
from .parser import EXIT_BAD_INPUT, _Parser, add_no_progress
from .paths import add_deprecated_out_dir, out_dir_flag, out_folder, out_path, resolve_out_dir
from .results import add_compare_files_argument
from .results import add_plot_maps_parser as _plot_maps_parser, cmd_plot_maps as _cmd_plot_maps
from .environment import add_environment_flags, environment_kwargs, make_spec
from .readout import (add_plot_transient_parser, add_readout_flags, cmd_plot_transient,
                      run_simulate_readout)
from .speed import add_threads_flag, apply_threads
from .wires import add_wire_flags, wire_resistances
from .sweep import PLOT_KINDS, add_plot_parser, add_sweep_parser, cmd_plot, cmd_sweep
from ..errors import SpecError, SpicebarError
from ..engines.ngspice.limits import DEFAULT_TIMEOUT_S

PLOT_KINDS.setdefault("transient", (add_plot_transient_parser, cmd_plot_transient))
PLOT_KINDS.setdefault("maps", (_plot_maps_parser, _cmd_plot_maps))

EXIT_FAILED = 1


def _array_flags(p: argparse.ArgumentParser, inputs_required: bool,
                 conductances_required: bool = True) -> None:
    g = p.add_argument_group("array")
    g.add_argument("--conductances", "-G", required=conductances_required, metavar="G.npy",
                   help="cell conductances, (rows, cols) siemens, .npy or .csv")
    g.add_argument("--inputs", "-V", required=inputs_required, metavar="V.npy",
                   help="word-line voltages, (batch, rows) or (rows,) volts, .npy or .csv")
    add_wire_flags(g)
    g.add_argument("--drive", choices=("left", "right", "both"), default="left",
                   help="driven end of the word lines (default left)")
    g.add_argument("--sense", choices=("bottom", "top", "both"), default="bottom",
                   help="read end of the bit lines (default bottom)")
    g.add_argument("--label", default="", help="free text for the netlist header and reports")
    add_environment_flags(p)
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
    p.add_argument("--format", choices=("npz", "csv"), default="npz",
                   help="npz (default), or csv: also the CSV tables (units in the headers) in "
                        "RESULT_csv/ beside RESULT.npz")
    _ngspice_flags(p)
    add_readout_flags(p)
    from .energy import add_energy_flags
    add_energy_flags(p)

    p = sub.add_parser("generate", help="write the whole job as a netlist that `ngspice -b` "
                                        "runs as it is (answers in FILE.dat)")
    _array_flags(p, inputs_required=False)
    p.add_argument("--vector", type=int, default=None, metavar="K",
                   help="write input vector K only (default: every vector of --inputs; zeros "
                        "without --inputs)")
    p.add_argument("-o", "--out", required=True, metavar="FILE.cir",
                   help="netlist file; ngspice -b writes its answers to FILE.dat beside it")
    p.set_defaults(engine="ngspice")
    add_readout_flags(p)

    p = sub.add_parser("compare", help="run every engine and print the error table, or "
                                       "compare two result files")
    add_compare_files_argument(p)
    _array_flags(p, inputs_required=False, conductances_required=False)
    p.set_defaults(inputs_needed=True)
    p.add_argument("--engines", default="ideal,nodal,ngspice",
                   help="comma-separated engines (default ideal,nodal,ngspice)")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--out-dir", default=None, metavar="DIR",
                   help="also write each result, comparison.json and the plots here")
    add_deprecated_out_dir(p)
    _ngspice_flags(p)

    p = sub.add_parser("demo", help="what `make demo` does: a 64x64 RRAM array in every engine "
                                    "(table, plots), its integrator readout in ngspice and a "
                                    "neural-network layer on tiles")
    p.add_argument("--out-dir", default=None, metavar="DIR",
                   help="output folder (default demo_out)")
    add_deprecated_out_dir(p)
    p.add_argument("--size", type=int, default=64, help="rows = cols (default 64)")
    p.add_argument("--r-wire", type=float, default=2.0, metavar="OHM",
                   help="word- and bit-line segment resistance (default 2)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the array and inputs "
                                                       "(default 0)")
    p.add_argument("--quick", action="store_true",
                   help="the DC part only (no readout transient, no layer)")

    sub.add_parser("doctor", help="check ngspice, its KLU solver and its shared library")
    from .mvm import add_parser as add_mvm_parser
    add_mvm_parser(sub)
    from .network import add_parser as add_network_parser
    add_network_parser(sub)
    add_sweep_parser(sub)
    add_plot_parser(sub)
    add_array_parser(sub)
    from .results import add_export_parser, add_show_parser
    add_export_parser(sub)
    add_show_parser(sub)
    from .write import add_write_parser
    add_write_parser(sub)
    from .costs import add_cost_parsers
    add_cost_parsers(sub, _array_flags)
    add_no_progress(parser)
    apply_flag_domains(parser)
    return parser


def _spec_from_args(args):
    from ..io import load_array
    g = load_array(args.conductances, "conductances")
    cell, op = cell_and_operation(args)
    r_wl, r_bl = wire_resistances(args)
    spec = make_spec(g, r_wl=r_wl, r_bl=r_bl, r_driver=args.r_driver,
                     r_sense=args.r_sense, drive=args.drive, sense=args.sense, cell=cell,
                     label=args.label, **environment_kwargs(args))
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


def _timeout(args) -> float:
    """``--timeout`` (checked while parsing: > 0), or the default limit when not given."""
    return DEFAULT_TIMEOUT_S if args.timeout is None else args.timeout


def cmd_simulate(args) -> int:
    from ..engines.simulation import simulate
    out = out_path(args.out, (".npz",), "--out", args)
    from .energy import check_energy_args, run_simulate_energy
    energy_plot = check_energy_args(args)
    spec, inputs = _spec_from_args(args)
    warn_underdriven_selector(spec, inputs)
    if args.readout != "ideal":
        rc = run_simulate_readout(args, spec, inputs, out, energy_plot)
        if rc == 0 and args.format == "csv":
            from .results import write_csv_beside
            print(f"  CSV tables -> {write_csv_beside(SimulationResult_load(out), out)}")
        return rc
    if args.energy:
        rc = run_simulate_energy(args, spec, inputs, out, energy_plot)
        if rc == 0 and args.format == "csv":
            from .results import write_csv_beside
            print(f"  CSV tables -> {write_csv_beside(SimulationResult_load(out), out)}")
        return rc
    result = simulate(spec, inputs, args.engine, workdir=args.workdir,
                      timeout_s=_timeout(args),
                      operation=args.operation, solver=args.solver,
                      allow_approximate_cells=args.allow_approximate_cells)
    result.save(out, maps=args.maps)
    print(f"{args.engine}: {spec.describe()}; {result.batch} vector(s) in {result.elapsed_s:.3g} s "
          f"-> {out}")
    if spec.cell.kind == "2t2r":
        import numpy as np

        from ..circuit.differential_cells import differential_currents
        d = differential_currents(result.currents)
        print(f"  2T2R differential output I[2p] - I[2p+1]: {d.shape[1]} pair(s), largest "
              f"|I+ - I-| {np.abs(d).max():.6g} A (the currents in the file are per bit line)")
    if args.format == "csv":
        from .results import write_csv_beside
        print(f"  CSV tables -> {write_csv_beside(SimulationResult_load(out), out)}")
    return 0


def SimulationResult_load(path):
    """The result just written, as a file reader sees it (maps only where saved)."""
    from ..sweeps.result_files import load
    return load(path)


def cmd_generate(args) -> int:
    from .generate import cmd_generate as run
    return run(args, _spec_from_args)


def cmd_compare(args) -> int:
    from ..analysis.comparison import compare, format_table, ideal_model_error
    from ..engines.simulation import ENGINES, full_scale_current, simulate_all
    engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    for e in engines:
        if e not in ENGINES:
            raise SpecError("--engines", f"has {e!r}", ", ".join(ENGINES))
    twice = next((e for e in engines if engines.count(e) > 1), None)
    if twice is not None:
        raise SpecError("--engines", f"names {twice!r} twice", "at least two different engines")
    if len(engines) < 2:
        raise SpecError("--engines", f"has {len(engines)} engine(s)", "at least two")
    from ..engines.simulation import operation_inputs
    if args.results:
        from .results import print_compare_files
        return print_compare_files(args)
    if args.conductances is None:
        raise SpecError("--conductances", "is missing", "G.npy (or two result files to compare)")
    out_dir = resolve_out_dir(args, None)
    if out_dir:
        out_folder(out_dir, out_dir_flag(args))
    spec, inputs = _spec_from_args(args)
    warn_underdriven_selector(spec, inputs)
    results = simulate_all(spec, inputs, engines, operation=args.operation, workdir=args.workdir,
                           timeout_s=_timeout(args), solver=args.solver,
                           allow_approximate_cells=args.allow_approximate_cells)
    from ..engines.simulation import ideal_conductances
    v = operation_inputs(spec, inputs, args.operation)
    g_ss = ideal_conductances(spec, v)  # the ideal array for any cell: V @ G_ss
    comparison = compare(results, full_scale_current(spec, v, g_ss),
                         ideal_model_error(spec, args.operation), args.operation)
    decomposition = None
    exact = results.get("ngspice") or results.get("nodal")
    if exact is not None:
        from ..analysis.sneak import decompose, format_decomposition
        decomposition = decompose(spec, exact, args.operation, g_ss)
    if out_dir:
        from ..io import write_text_atomic
        from ..plots.maps import plot_column_error, plot_voltage_maps, save_figure
        out = Path(out_dir)
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
    out_dir = resolve_out_dir(args, "demo_out")
    out_folder(out_dir, out_dir_flag(args))
    run_demo(out_dir, rows=args.size, cols=args.size, r_wire_ohm=args.r_wire, seed=args.seed,
             progress=not args.no_progress)
    if not args.quick:
        return run_demo_rest(out_dir, progress=not args.no_progress)
    return 0


def run_demo_rest(out_dir: str | Path = "demo_out", progress: bool = True) -> int:
    """The rest of ``make demo`` after :func:`run_demo`: the same array with a capacitor
    integrator on every column (macro op-amp, ngspice transient) and its figure, then a
    neural-network layer on 64x64 tiles with its error budget (``mvm --demo``)."""
    out = Path(out_dir)
    quiet = [] if progress else ["--no-progress"]
    steps = [
        ["simulate", "-G", str(out / "conductances.npy"), "-V", str(out / "inputs.npy"),
         "--r-wire", "2", "--engine", "ngspice", "--readout", "integrator", "--opamp", "macro",
         "--c-int", "4e-12", "--t-int", "8e-9", "--t-reset", "3e-9", "--bits", "6",
         "--adc-bits", "8", "-o", str(out / "integrator.npz"), *quiet],
        ["plot", "transient", str(out / "integrator.npz"), "-o", str(out / "integrator.png")],
        ["mvm", "--demo", "--out-dir", str(out / "mvm"), *quiet],
    ]
    for argv in steps:
        rc = main(argv)
        if rc:
            return rc
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


def cmd_export(args) -> int:
    from .results import cmd_export as run
    return run(args)


def cmd_show(args) -> int:
    from .results import cmd_show as run
    return run(args)


def cmd_settling(args) -> int:
    from .costs import run_settling
    out_folder(args.out_dir, "--out-dir")
    return run_settling(args, *_spec_from_args(args))


def cmd_noise(args) -> int:
    from .costs import run_noise
    out_folder(args.out_dir, "--out-dir")
    return run_noise(args, *_spec_from_args(args))


COMMANDS = {"simulate": cmd_simulate, "generate": cmd_generate, "compare": cmd_compare,
            "demo": cmd_demo, "doctor": cmd_doctor, "mvm": cmd_mvm, "sweep": cmd_sweep,
            "plot": cmd_plot, "array": cmd_array,
            "network": cmd_network, "export": cmd_export, "show": cmd_show,
            "write": lambda args: _cmd_write(args), "settling": cmd_settling, "noise": cmd_noise}


def _cmd_write(args) -> int:
    from .write import cmd_write
    return cmd_write(args)


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
    import os
    from .._progress import ENV
    before = os.environ.get(ENV)
    if getattr(args, "no_progress", False):
        os.environ[ENV] = "0"  # every bar of this command and its workers
    try:
        rc = _run(args)
        if rc == 0:
            for note in getattr(args, "deprecation_notes", ()):
                print(note, file=sys.stderr)
        return rc
    finally:
        if before is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = before


def _run(args) -> int:
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
