"""``spicebar settling`` and ``spicebar noise``: what a read costs in time and in noise.

    spicebar settling -G G.npy -V V.npy --r-wl 2 --r-bl 2 --c-wire 2e-15 --bits 8 --out DIR
    spicebar noise -G G.npy -V V.npy --r-wl 2 --r-bl 2 --readout integrator --opamp macro \
        --c-wire 2e-15 --en 10e-9 --out DIR

Both take the array and readout flags of ``spicebar simulate``, print a table and write
their result (``settling.npz`` / ``noise.npz`` with a JSON summary beside it) and figures
into ``--out``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import SpecError
from .readout import add_readout_flags, readout_spec_from_args


def add_cost_parsers(sub, array_flags) -> None:
    """The two subcommands, with ``array_flags`` (the array flags of ``simulate``)."""
    p = sub.add_parser("settling", help="slowest time constant, step response and half-LSB "
                       "settling time of an array with wire capacitance; delay models scored")
    array_flags(p, inputs_required=True)
    add_readout_flags(p)
    p.add_argument("--out-dir", required=True, metavar="DIR",
                   help="folder for settling.npz, settling.json, settling.png, charge_error.png")
    p.add_argument("--vector", type=int, default=0, help="which input vector steps on (0)")
    p.add_argument("--settle-bits", type=int, default=None, metavar="N",
                   help="settle to half an LSB of N bits (default --adc-bits, else 8)")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")

    p = sub.add_parser("noise", help="readout noise per column split by source, SNR and "
                       "effective bits (integrator or TIA readout)")
    array_flags(p, inputs_required=True)
    add_readout_flags(p)
    p.add_argument("--out-dir", required=True, metavar="DIR",
                   help="folder for noise.npz, noise.json, noise_budget.png, noise_spectrum.png")
    p.add_argument("--vector", type=int, default=0, help="input vector of the operating point (0)")
    p.add_argument("--columns", default=None, metavar="J,K,...",
                   help="columns to analyse (default all; the cost grows with their number)")
    p.add_argument("--en", type=float, default=0.0, metavar="V/rtHz",
                   help="op-amp input voltage noise density (0)")
    p.add_argument("--in", dest="in_noise", type=float, default=0.0, metavar="A/rtHz",
                   help="op-amp input current noise density (0)")
    p.add_argument("--kf", type=float, default=0.0,
                   help="cell 1/f coefficient: S_I = kf I^2 / f (0)")
    p.add_argument("--no-cds", action="store_true",
                   help="no correlated double sampling: the reset's kT/C stays in the sample")
    p.add_argument("--bandwidth", type=float, default=None, metavar="HZ",
                   help="TIA sampling noise bandwidth (default 1 / (2 t_int))")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")


def _spec(args, spec, inputs, default_readout: str):
    if args.readout == "ideal":
        if default_readout is None:
            raise SpecError("--readout", "is 'ideal' (a DC virtual ground has no noise "
                            "bandwidth)", "integrator or tia")
        args.readout = default_readout
    args.engine = "nodal"
    spec, _ = readout_spec_from_args(args, spec, inputs)
    return spec


def _as_flag(exc: SpecError, flags: dict) -> SpecError:
    """The error with the Python parameter replaced by the flag the user typed."""
    if exc.parameter in flags:
        return SpecError(flags[exc.parameter], exc.problem, exc.allowed)
    return exc


def _write(out: Path, stem: str, res, figures: dict) -> str:
    """``STEM.npz``, ``STEM.json`` (returned as text) and the figures, each atomically."""
    from ..io import write_text_atomic
    from ..plots.maps import save_figure
    out.mkdir(parents=True, exist_ok=True)
    res.save(out / f"{stem}.npz")
    summary = json.dumps(res.to_dict(), indent=2, default=float)
    write_text_atomic(out / f"{stem}.json", summary)
    for name, plot in figures.items():
        save_figure(plot(res), out / name)
    return summary


def run_settling(args, spec, inputs) -> int:
    from ..analysis.delay_models import format_estimates
    from ..analysis.settling import settling
    out = Path(args.out_dir)
    spec = _spec(args, spec, inputs, "integrator")
    bits = args.settle_bits if args.settle_bits is not None else (args.adc_bits or 8)
    try:
        res = settling(spec, inputs, bits, vector=args.vector)
    except SpecError as exc:
        raise _as_flag(exc, {"bits": "--settle-bits", "vector": "--vector",
                             "readout.c_wl_f/c_bl_f": "--c-wire"}) from None
    from ..plots.costs import plot_charge_error, plot_settling
    summary = _write(out, "settling", res, {"settling.png": plot_settling,
                                            "charge_error.png": plot_charge_error})
    if args.json:
        print(summary)
        return 0
    print(f"{spec.describe()}; wire capacitance {spec.readout.c_wl_f:g} / "
          f"{spec.readout.c_bl_f:g} F per segment")
    print(f"slowest time constant   {res.tau_s:.4g} s")
    print(f"settled to 1/2 LSB of {bits} bits in {res.t_settle_max_s:.4g} s (slowest column "
          f"{int(np.nanargmax(res.t_settle_s))}); max read rate {1 / res.t_settle_max_s:.4g} /s")
    print(f"integrator window for a charge error under 1/2 LSB: {res.t_window_s:.4g} s")
    print()
    print(format_estimates(res.estimates))
    print(f"\nwrote {out}/settling.npz, settling.json, settling.png, charge_error.png")
    return 0


def _columns(text, cols: int):
    if text is None:
        return None
    try:
        idx = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise SpecError("--columns", f"is {text!r}", "comma-separated column indices") from None
    if not idx or min(idx) < 0 or max(idx) >= cols:
        raise SpecError("--columns", f"is {text!r}", f"indices 0..{cols - 1}")
    return idx


def run_noise(args, spec, inputs) -> int:
    from ..analysis.noise import noise
    out = Path(args.out_dir)
    spec = _spec(args, spec, inputs, None)
    try:
        op = replace(spec.readout.opamp, en_v_rthz=args.en, in_a_rthz=args.in_noise)
    except SpecError as exc:
        flag = "--en" if "en_v" in exc.parameter else "--in"
        raise SpecError(flag, exc.problem, exc.allowed) from None
    spec = replace(spec, readout=replace(spec.readout, opamp=op))
    columns = _columns(args.columns, spec.cols)
    try:
        res = noise(spec, inputs, columns=columns, vector=args.vector,
                    temperature_k=spec.temperature_k, flicker_kf=args.kf, cds=not args.no_cds,
                    noise_bandwidth_hz=args.bandwidth)
    except SpecError as exc:
        raise _as_flag(exc, {"temperature_k": "--temperature-k", "flicker_kf": "--kf",
                             "vector": "--vector", "noise_bandwidth_hz": "--bandwidth",
                             "adc_bits": "--adc-bits", "cell.model": "--mos-model",
                             "device_noise": "--device-noise"}) from None
    from ..plots.costs import plot_noise_budget, plot_noise_spectra
    worst = int(res.columns[np.argmax(res.total_v)])
    summary = _write(out, "noise", res, {
        "noise_budget.png": plot_noise_budget,
        "noise_spectrum.png": lambda r: plot_noise_spectra(r, worst)})
    if args.json:
        print(summary)
        return 0
    print(format_noise(res))
    print(f"\nwrote {out}/noise.npz, noise.json, noise_budget.png, noise_spectrum.png")
    return 0


#: Column heads of the noise table.
SHORT = {"cells (thermal)": "cells", "word-line wires": "WL wires", "bit-line wires": "BL wires",
         "driver resistance": "driver R", "sense resistance": "sense R", "cells (1/f)": "cells 1/f",
         "cells (shot)": "cells shot", "access transistors": "access T",
         "gate-line wires": "GL wires",
         "op-amp voltage noise": "op-amp e_n", "op-amp current noise": "op-amp i_n",
         "op-amp model resistors": "op-amp R", "feedback resistor": "R_f",
         "reset kT/C": "reset kT/C", "ADC quantisation": "ADC quant"}


def format_noise(res, max_rows: int = 16) -> str:
    """The budget as a table: rms output noise per source (mV), total (LSB), SNR, bits."""
    short = [SHORT.get(c, c[:10]) for c in res.categories]
    head = f"{'col':>4} " + " ".join(f"{c:>10}" for c in short) + \
        f" {'total LSB':>9} {'SNR dB':>7} {'bits':>5} {'kT bound':>8}"
    lines = [f"output noise, rms mV per source ({res.info['readout']}, "
             f"{res.info['adc_bits']}-bit LSB = {res.lsb_v * 1e3:.4g} mV, "
             f"{'CDS' if res.info['cds'] else 'no CDS'}, T = {res.info['temperature_k']:g} K)",
             head]
    rows = np.arange(res.columns.size)
    if rows.size > max_rows:
        rows = np.unique(np.concatenate([rows[:max_rows // 2],
                                         [int(np.argmax(res.total_v))], rows[-max_rows // 2:]]))
    for k in rows:
        cells = " ".join(f"{1e3 * x:>10.4g}" for x in res.rms_v[k])
        bound = "" if not np.isfinite(res.thermal_bound_db[k]) else f"{res.thermal_bound_db[k]:.1f}"
        lines.append(f"{int(res.columns[k]):>4} {cells} {res.total_v[k] / res.lsb_v:>9.3g} "
                     f"{res.snr_db[k]:>7.1f} {res.bits[k]:>5.2f} {bound:>8}")
    if rows.size < res.columns.size:
        lines.append(f"... ({res.columns.size} columns; all in noise.json)")
    return "\n".join(lines)
