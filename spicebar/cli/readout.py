"""Command-line pieces of the time-domain readout (kept out of cli.py).

    spicebar simulate -G G.npy -V V.npy --readout integrator --c-int 1e-12 --t-int 100e-9 \
        --encoding bit_serial --bits 4 --adc-bits 8 --engine ngspice --out r.npz
    spicebar plot transient r.npz -o waves.png [--columns 0,3]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from ..errors import SpecError


def _pair(text: str, parameter: str) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in text.split(","))
    except ValueError:
        raise SpecError(parameter, f"is {text!r}", "two numbers LO,HI") from None
    return lo, hi


def add_readout_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("time-domain readout (a transient; engines ngspice or nodal)")
    g.add_argument("--readout", choices=("ideal", "integrator", "tia"), default="ideal",
                   help="ideal virtual ground (default, DC), capacitor integrator or TIA")
    g.add_argument("--c-int", type=float, default=1e-12, metavar="F", help="integrator capacitor (1e-12)")
    g.add_argument("--t-int", type=float, default=None, metavar="S",
                   help="integration window / TIA dwell (100e-9 / 20e-9)")
    g.add_argument("--r-f", type=float, default=10e3, metavar="OHM", help="TIA feedback resistor (1e4)")
    g.add_argument("--t-settle", type=float, default=0.0, metavar="S", help="wait before sampling (0)")
    g.add_argument("--opamp", choices=("ideal", "macro"), default="ideal",
                   help="VCVS of gain --a0, or single pole + rails (models/opamp.lib)")
    g.add_argument("--a0", type=float, default=None, help="open-loop gain (1e9 ideal, 1e5 macro)")
    g.add_argument("--gbw", type=float, default=1e9, metavar="HZ", help="gain-bandwidth (1e9)")
    g.add_argument("--rails", default="-1,1", metavar="LO,HI", help="output swing, V (-1,1)")
    g.add_argument("--c-wire", type=float, default=0.0, metavar="F",
                   help="word- and bit-line capacitance per segment (0)")
    g.add_argument("--encoding", choices=("amplitude", "pulse_width", "bit_serial"),
                   default="amplitude",
                   help="how an input becomes a pulse: amplitude (height), pulse_width (duration "
                        "at --v-fs) or bit_serial (one window per bit, shift-and-add); "
                        "default amplitude")
    g.add_argument("--bits", type=int, default=4, help="input bits (4)")
    g.add_argument("--v-fs", type=float, default=None, metavar="V",
                   help="full-scale input: DAC range and pulse height (default: --v-read if "
                        "given, else max |inputs|)")
    g.add_argument("--signed", action="store_true", help="two-phase signed inputs")
    g.add_argument("--adc-bits", type=int, default=None, help="ADC bits (default: no ADC)")
    g.add_argument("--adc-range", default=None, metavar="LO,HI",
                   help="ADC range of the signal v_ref - v_out, V (default: the ideal full scale)")
    g.add_argument("--r-reset", type=float, default=100.0, metavar="OHM",
                   help="integrator reset switch on-resistance (100)")
    g.add_argument("--t-reset", type=float, default=None, metavar="S",
                   help="reset pulse before each window (2e-9 integrator, 1e-9 TIA)")
    g.add_argument("--steps-per-window", type=int, default=100, metavar="N",
                   help="largest time step t_int/N (100; ngspice's accuracy on fast readout "
                        "dynamics: ~2e-6 at 100, ~5e-5 at 33; fewer steps, less time)")
    g.add_argument("--transient-tol", type=float, default=None, metavar="FS",
                   help="the nodal engine's accuracy goal, a fraction of full scale: halving "
                        "every step moves no sample by more than this (1e-6; 1e-7..1e-3; "
                        "looser is faster)")
    g.add_argument("--strict", action="store_true",
                   help="refuse a run whose windows will hit a rail, or whose reset leaves more "
                        "than half an ADC LSB (default: warn and run)")
    g.add_argument("--progress", action="store_true",
                   help="show ngspice's progress over simulated time (default: on a terminal)")


def readout_spec_from_args(args, spec, inputs):
    """Build (spec with readout, encoding) from the flags."""
    from dataclasses import replace

    from ..circuit.converters import ADCSpec
    from ..circuit.encoding import EncodingSpec
    from ..circuit.readout import IntegratorSpec, OpAmpSpec, TIASpec
    if args.engine == "ideal":
        raise SpecError("--engine", "is 'ideal' with a time-domain readout", "ngspice or nodal")
    lo, hi = _pair(args.rails, "--rails")
    a0 = args.a0 if args.a0 is not None else (1e9 if args.opamp == "ideal" else 1e5)
    op = OpAmpSpec(args.opamp, a0=a0, gbw_hz=args.gbw, v_lo=lo, v_hi=hi)
    if getattr(args, "energy", False):
        from .energy import supply_from_args
        op = replace(op, supply=supply_from_args(args, op))
    signed = args.signed or bool(np.any(inputs < 0))
    v_read = (args.v_fs if args.v_fs is not None
              else args.v_read if getattr(args, "v_read", None) is not None
              else float(np.abs(inputs).max()) or 1.0)
    enc = EncodingSpec(args.encoding, bits=args.bits, v_read=v_read, signed=signed)
    common = dict(opamp=op, t_settle_s=args.t_settle, c_wl_f=args.c_wire, c_bl_f=args.c_wire)
    if args.t_reset is not None:
        common["t_reset_s"] = args.t_reset
    if args.readout == "integrator":
        ro = IntegratorSpec(c_int_f=args.c_int, t_int_s=args.t_int or 100e-9,
                            r_reset_ohm=args.r_reset, **common)
    else:
        ro = TIASpec(r_f_ohm=args.r_f, t_int_s=args.t_int or 20e-9, **common)
    if args.adc_bits is not None:
        if args.adc_range is not None:
            x_lo, x_hi = _pair(args.adc_range, "--adc-range")
        else:
            x_hi = v_read * float(spec.conductances.sum(axis=0).max()) * ro.gain()
            x_lo = -x_hi if signed else 0.0
        ro = replace(ro, adc=ADCSpec(args.adc_bits, x_lo, x_hi))
    return replace(spec, readout=ro), enc


def run_simulate_readout(args, spec, inputs, out, energy_plot=None) -> int:
    import warnings

    from ..engines.transient.run import error_budget, simulate_readout
    from ..netlist.readout import TranSettings
    from ..errors import ReadoutWarning
    op = getattr(args, "operation", None)
    if op is not None and op.mode == "read":
        raise SpecError("--readout", f"is {args.readout!r} with --mode read (a single-cell read "
                        "has no inputs to encode)", "ideal with --mode read, or --mode vmm")
    spec, enc = readout_spec_from_args(args, spec, inputs)
    try:
        settings = TranSettings(args.steps_per_window)
    except SpecError as exc:
        raise SpecError("--steps-per-window", exc.problem, exc.allowed) from None
    tol = getattr(args, "transient_tol", None)
    if tol is not None:
        from ..engines.transient.refine import transient_tol
        tol = transient_tol("--transient-tol", tol)
        if args.engine != "nodal":
            raise SpecError("--transient-tol", f"was given with --engine {args.engine} (it sets "
                            "the nodal engine's error control; ngspice's step is set by "
                            "--steps-per-window)", "--engine nodal, or no --transient-tol")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ReadoutWarning)
        result = simulate_readout(spec, inputs, enc, args.engine, workdir=args.workdir,
                                  timeout_s=args.timeout, operation=op, strict=args.strict,
                                  settings=settings,
                                  progress=args.progress or sys.stderr.isatty(),
                                  energy=getattr(args, "energy", False),
                                  converters=energy_converters(args, spec),
                                  transient_tol=tol)
    for w in caught:
        if issubclass(w.category, ReadoutWarning):
            print(f"spicebar: warning: {w.message}", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    result.save(out, maps=getattr(args, "maps", True))
    budget = ", ".join(f"{k} {v:.2e}" for k, v in error_budget(result, spec).items())
    print(f"{args.engine}: {spec.describe()}; {spec.readout.describe()}; {enc.kind} encoding, "
          f"{result.info['n_windows']} window(s), {result.time.size} time points in "
          f"{result.elapsed_s:.3g} s -> {out}\n  max error / full scale: {budget}")
    if getattr(args, "energy", False):
        from .energy import report_energy
        report_energy(result, energy_plot)
    for line in result.info["readout_errors"][:5]:
        print(f"spicebar: readout error: {line}", file=sys.stderr)
    if len(result.info["readout_errors"]) > 5:
        print(f"spicebar: ... {len(result.info['readout_errors']) - 5} more readout errors",
              file=sys.stderr)
    return 0


def energy_converters(args, spec):
    """The converters' figures of merit of ``--energy`` (None without it)."""
    if not getattr(args, "energy", False):
        return None
    from .energy import converters_from_args
    return converters_from_args(args, spec)


def add_plot_transient_parser(kinds) -> None:
    """``spicebar plot transient RESULT.npz -o FILE.png`` (registered in cli_sweep.PLOT_KINDS)."""
    p = kinds.add_parser("transient", help="readout waveforms and end-of-window values")
    p.add_argument("result", metavar="RESULT.npz",
                   help="a readout result (simulate --readout integrator|tia, either engine)")
    p.add_argument("-o", "--out", required=True, metavar="FILE.png", help="figure file (.png)")
    p.add_argument("--columns", default=None, metavar="J,K,...",
                   help="columns to draw (default: the four with the largest signal)")


def cmd_plot_transient(args) -> int:
    from pathlib import Path

    from ..plots.maps import save_figure
    from ..plots.transient import plot_transient_summary
    from ..engines.transient.run import TransientResult
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise SpecError("--out", f"{args.out!r} has suffix {out.suffix!r}", ".png")
    if not Path(args.result).is_file():
        raise SpecError("result", f"file {args.result!r} does not exist", "a result .npz")
    result = TransientResult.load(args.result)
    columns = None
    if args.columns:
        try:
            columns = [int(c) for c in args.columns.split(",")]
        except ValueError:
            raise SpecError("--columns", f"is {args.columns!r}", "comma-separated integers") from None
        bad = [c for c in columns if not 0 <= c < result.vout.shape[0]]
        if bad:
            raise SpecError("--columns", f"has {bad}", f"0..{result.vout.shape[0] - 1}")
    ax, _ = plot_transient_summary(result, columns)
    save_figure(ax, out)
    print(f"wrote {out}")
    return 0
