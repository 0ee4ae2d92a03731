"""``spicebar simulate --energy``: the itemised energy of every read (DC and readout).

    spicebar simulate -g G.npy -i V.npy --r-wl 2 --r-bl 2 --engine ngspice --energy \\
        --energy-plot energy.png -o r.npz

Prints the breakdown, stores it in the result file (``energy.*`` keys; the other keys are
unchanged) and, with ``--energy-plot``, draws it (:func:`spicebar.plots.energy.plot_energy`).
"""

from __future__ import annotations

import math

from ..errors import SpecError
from .paths import out_path


def add_energy_flags(p) -> None:
    g = p.add_argument_group("energy of each read (engines nodal and ngspice; DC reads and "
                             "--readout transients)")
    g.add_argument("--energy", action="store_true",
                   help="itemise the energy of every input vector (DC) or window (--readout): "
                        "sources, memory elements, wires, driver/sense resistance, sneak cells, "
                        "wire and integration capacitors, reset, op-amp; check its balance, "
                        "print it and store it in the result file")
    g.add_argument("--read-time", type=float, default=None, metavar="S",
                   help="how long one DC read lasts, s (default: --t-int with a readout, "
                        "else 1e-7)")
    g.add_argument("--energy-plot", default=None, metavar="FILE.png",
                   help="draw the breakdown (stacked bars per vector, per-column map); "
                        "implies --energy")
    g.add_argument("--supply", default=None, metavar="V_SS,V_DD",
                   help="op-amp rails, V, with --readout (default: the macro op-amp's --rails; "
                        "an ideal op-amp has no supply unless given one)")
    g.add_argument("--i-q", type=float, default=None, metavar="A",
                   help="op-amp quiescent current, A (1e-5)")
    g.add_argument("--adc-fom", type=float, default=None, metavar="J",
                   help="ADC Walden figure of merit, J per conversion step (1e-14)")
    g.add_argument("--dac-energy", type=float, default=None, metavar="J",
                   help="DAC energy per conversion, J (3.9e-13)")


def check_energy_args(args):
    """Validate the energy flags before anything runs; returns the plot path or None."""
    plot = None
    if args.energy_plot is not None:
        plot = out_path(args.energy_plot, (".png",), "--energy-plot", args)
        args.energy = True
    for flag, value in (("--read-time", args.read_time), ("--adc-fom", args.adc_fom),
                        ("--dac-energy", args.dac_energy), ("--supply", args.supply),
                        ("--i-q", args.i_q)):
        if value is not None and not args.energy:
            raise SpecError(flag, "was given without --energy", "only with --energy")
    if not args.energy:
        return None
    if args.engine == "ideal":
        raise SpecError("--engine", "is ideal with --energy: V @ G has no circuit whose power "
                        "could be measured", "nodal or ngspice with --energy")
    if args.readout != "ideal" and args.read_time is not None:
        raise SpecError("--read-time", f"was given with --readout {args.readout}: a transient's "
                        "windows are its periods", "only with --readout ideal (DC reads)")
    if args.read_time is not None and not (math.isfinite(args.read_time) and args.read_time > 0):
        raise SpecError("--read-time", f"is {args.read_time!r}", "> 0 s")
    if args.readout == "ideal" and (args.supply is not None or args.i_q is not None):
        raise SpecError("--supply" if args.supply is not None else "--i-q", "was given "
                        "without --readout", "only with --readout integrator|tia")
    for flag, value in (("--adc-fom", args.adc_fom), ("--dac-energy", args.dac_energy),
                        ("--i-q", args.i_q)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise SpecError(flag, f"is {value!r}", ">= 0 J")
    return plot


def supply_from_args(args, op):
    """The op-amp supply of ``--energy`` with a readout: ``--supply`` (else the macro
    op-amp's rails, else none) with ``--i-q``."""
    from ..circuit.readout import I_Q_DEFAULT_A, OpAmpSupply
    i_q = I_Q_DEFAULT_A if args.i_q is None else args.i_q
    if args.supply is None:
        return OpAmpSupply(v_dd=op.v_hi, v_ss=op.v_lo, i_q_a=i_q) if op.has_rails else None
    try:
        lo, hi = (float(x) for x in args.supply.split(","))
    except ValueError:
        raise SpecError("--supply", f"is {args.supply!r}", "two numbers V_SS,V_DD") from None
    try:
        return OpAmpSupply(v_dd=hi, v_ss=lo, i_q_a=i_q)
    except SpecError as exc:
        raise SpecError("--supply", exc.problem, exc.allowed) from None


def converters_from_args(args, spec):
    """The figures of merit: ``--adc-bits`` (else the spec's ADC, else 8), ``--adc-fom``,
    ``--dac-energy`` (else the documented defaults)."""
    from ..engines.energy import ADC_FOM_J_PER_STEP, DAC_J_PER_CONVERSION, ConverterEnergy
    adc = getattr(spec.readout, "adc", None)
    bits = args.adc_bits if args.adc_bits is not None else adc.bits if adc is not None else 8
    return ConverterEnergy(
        adc_bits=bits,
        adc_fom_j_per_step=ADC_FOM_J_PER_STEP if args.adc_fom is None else args.adc_fom,
        dac_j_per_conversion=DAC_J_PER_CONVERSION if args.dac_energy is None else args.dac_energy)


def report_energy(result, plot) -> None:
    """Print a result's breakdown and draw it to ``plot`` (a path, or None)."""
    from ..analysis.energy_run import energy_of
    energy = energy_of(result)
    print(energy.table())
    if plot is not None:
        from ..plots.energy import plot_energy
        from ..plots.maps import save_figure
        save_figure(plot_energy(energy), plot)
        print(f"energy plot -> {plot}")


def run_simulate_energy(args, spec, inputs, out, plot) -> int:
    from ..analysis.energy_run import simulate_with_energy
    from ..engines.ngspice.limits import DEFAULT_TIMEOUT_S
    result, energy = simulate_with_energy(
        spec, inputs, args.engine, read_time_s=args.read_time, operation=args.operation,
        converters=converters_from_args(args, spec), workdir=args.workdir,
        timeout_s=args.timeout or DEFAULT_TIMEOUT_S, solver=args.solver)
    result.save(out, maps=args.maps)
    print(f"{args.engine}: {spec.describe()}; {result.batch} vector(s) in {result.elapsed_s:.3g} s "
          f"-> {out}")
    report_energy(result, plot)
    from ..analysis.energy_models import format_energy_scores, score_energy_models
    if args.operation is None or args.operation.mode != "read":
        print("idealised energy models against this answer:")
        print(format_energy_scores(score_energy_models(spec, result.inputs, energy)))
    return 0
