"""Time-domain readout: encode the inputs, run a transient, sample, quantise, compare.

    >>> spec = CrossbarSpec(G, readout=IntegratorSpec(c_int_f=1e-12, t_int_s=100e-9))
    >>> r = simulate_readout(spec, V, EncodingSpec("pulse_width", bits=4), engine="ngspice")
    >>> r.time, r.vout, r.samples, r.digital_currents

Units of the results: every ``*_currents`` array is an *equivalent DC column current*
(A, shape ``(batch, cols)``), directly comparable with ``V_eq @ G`` where ``V_eq =
encoding.equivalent_voltages(inputs)``:

* ``currents``: from the measured column charge ``Q`` of each window, ``Q / t_int``
  (integrator) or the column current at the sampling instant (TIA), combined over the
  windows of a vector with their shift-and-add weights. It measures the array and the
  virtual ground, not the amplifier's output.
* ``readout_currents``: from the sampled output signal ``s = v_ref - v_out``:
  ``s * c_int / t_int`` or ``s / r_f``, combined the same way. Its difference from
  ``currents`` is the readout error (finite gain, bandwidth, swing).
* ``digital_currents``: the same from the ADC's value of each sample (NaN without ADC);
  its difference from ``readout_currents`` is the ADC error.

Saturation: before the run each window's ideal swing is checked against the rails
(:mod:`.saturation`: a ``ReadoutWarning`` naming the ``c_int``/``t_int`` that would fit, or
with ``strict`` a ``SpecError``); after it, a window whose output came within
``RAIL_MARGIN_SMOOTH * v_smooth`` of a rail is flagged in ``saturated`` and listed in
``info["readout_errors"]``, never hidden, and :func:`error_budget` books it on its own line.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..._validate import choice, time_limit_s
from ...circuit.elaboration import elaborate
from ...circuit.encoding import EncodingSpec, Schedule, build_schedule
from ...errors import SpecError
from ...circuit.readout import IntegratorSpec, TIASpec
from ...netlist.readout import TranSettings
from .result import TRANSIENT_ARRAYS, RawTransient, TransientResult  # noqa: F401 (re-exported)
from ...circuit.spec import CrossbarSpec, check_cell_voltages, validate_inputs

from .saturation import RAIL_MARGIN_SMOOTH, check_readout  # noqa: F401 (the margin is re-exported)
from ..ngspice.limits import DEFAULT_TIMEOUT_S

TRANSIENT_ENGINES = ("ngspice", "nodal")
#: ngspice's default time limit grows with the circuit: this many seconds per cell and
#: window (measured: 128x128 with the macro op-amp, 2 windows, 635 s = 0.02 s per
#: cell-window on a loaded 2-core machine; 5x margin), never below the DC engines' 600 s.
TIMEOUT_S_PER_CELL_WINDOW = 0.1
TIMEOUT_MIN_S = DEFAULT_TIMEOUT_S

def _windows(raw: RawTransient, schedule: Schedule, readout, batch: int):
    """Per-window samples, charges and saturation; per-vector equivalent currents."""
    t = raw.time

    def charge(i):  # (n, n_t) currents -> charge since t[0], trapezoidal, (n, n_t)
        steps = 0.5 * (i[:, 1:] + i[:, :-1]) * np.diff(t)
        return np.concatenate([np.zeros((i.shape[0], 1)), np.cumsum(steps, axis=1)], axis=1)

    q_col, q_drv = charge(raw.i_col), charge(raw.i_drv)

    def at(x, ts):  # (n, n_t) traces at times ts -> (len(ts), n)
        return np.stack([np.interp(ts, t, row) for row in x], 1)

    signal = readout.v_ref - at(raw.vout, schedule.t_sample)
    if readout.kind == "integrator":
        x_col = (at(q_col, schedule.t_sample) - at(q_col, schedule.t_open)) / schedule.t_int
        x_drv = (at(q_drv, schedule.t_sample) - at(q_drv, schedule.t_open)) / schedule.t_int
    else:
        x_col = at(raw.i_col, schedule.t_sample)
        x_drv = at(raw.i_drv, schedule.t_sample)
    saturated = np.zeros(signal.shape, dtype=bool)
    if readout.opamp.has_rails:
        margin = RAIL_MARGIN_SMOOTH * readout.opamp.v_smooth
        for w, (t0, t1) in enumerate(zip(schedule.t_open, schedule.t_sample)):
            sel = (t >= t0) & (t <= t1)
            seg = raw.vout[:, sel]
            saturated[w] = ((seg.max(axis=1) >= readout.opamp.v_hi - margin)
                            | (seg.min(axis=1) <= readout.opamp.v_lo + margin))
    combine = np.zeros((batch, schedule.n_windows))
    combine[schedule.vector, np.arange(schedule.n_windows)] = schedule.weight
    return signal, combine, combine @ x_col, combine @ x_drv, saturated


def default_timeout_s(spec: CrossbarSpec, n_windows: int) -> float:
    """ngspice's time limit for a readout transient when the caller sets none, s."""
    wired = 2.0 if (spec.readout.c_wl_f or spec.readout.c_bl_f) else 1.0
    return max(TIMEOUT_MIN_S, TIMEOUT_S_PER_CELL_WINDOW * spec.rows * spec.cols * n_windows * wired)


def simulate_readout(spec: CrossbarSpec, inputs, encoding: EncodingSpec = EncodingSpec(),
                     engine: str = "ngspice", *, workdir: str | Path | None = None,
                     timeout_s: float | None = None, keep_files: bool = False,
                     settings: TranSettings = TranSettings(), operation=None,
                     strict: bool = False, progress: bool = False, energy: bool = False,
                     converters=None, transient_tol: float | None = None) -> TransientResult:
    """Encode ``inputs`` (``(batch, rows)`` or ``(rows,)`` V), run the readout, sample, quantise.

    Args:
        spec: the array; ``spec.readout`` must be an ``IntegratorSpec`` or ``TIASpec``.
        encoding: how inputs become pulses (:class:`spicebar.circuit.encoding.EncodingSpec`).
        engine: ``ngspice`` (the full circuit, ``.tran`` with KLU) or ``nodal`` (the same
            circuit, integrated by :mod:`.nodal`).
        timeout_s: ngspice's time limit, s (default :func:`default_timeout_s`).
        settings: timestep control (ngspice's maximum step; the nodal grid's scales with it).
        operation: a :class:`~spicebar.circuit.operation.VmmOperation` (floating or gated-off
            rows); read mode is refused (a single-cell read needs no readout transient).
        strict: refuse (SpecError) a run whose windows will hit a rail or whose reset leaves
            more than half an ADC LSB, instead of warning (:mod:`.saturation`).
        progress: show ngspice's progress over simulated time (stderr).
        energy: also itemise the energy of every window (:mod:`.energy`; the result's
            ``energy`` record, read by :func:`spicebar.analysis.energy_run.energy_of`);
            ``converters``: the ADC/DAC figures of merit then (a ``ConverterEnergy``).
        transient_tol: the nodal engine's accuracy goal, a fraction of the output full
            scale: its error control refines the time grid until halving every step would
            move no sample by more than this (default ``1e-6``, allowed ``1e-7..1e-3``;
            ``info["transient_tol_fs"]``). A looser goal takes fewer steps. ngspice has
            its own step control (``settings``): refused with ``engine="ngspice"``.
    """
    choice("engine", engine, TRANSIENT_ENGINES)
    if transient_tol is not None:
        from .refine import transient_tol as check_tol
        transient_tol = check_tol("transient_tol", transient_tol)
        if engine != "nodal":
            raise SpecError("transient_tol", f"was given with engine={engine!r} (it sets the "
                            "nodal engine's error control; ngspice's step is set by settings)",
                            "engine='nodal', or no transient_tol")
    from ...circuit.temperature import at_temperature, wires_info
    wires = wires_info(spec)
    spec = at_temperature(spec)  # geometry and temperature: the ohms and farads used
    if timeout_s is not None:
        timeout_s = time_limit_s("timeout_s", timeout_s)
    if workdir is not None:
        from ..ngspice.engine import check_workdir
        check_workdir(workdir)
    if operation is not None and operation.mode == "read":
        raise SpecError("operation", "is a read of one cell with a time-domain readout",
                        "a VMM operation (floating/gated-off rows) with a readout, or the ideal "
                        "virtual ground (readout=None) for a read")
    readout = spec.readout
    if not isinstance(readout, (IntegratorSpec, TIASpec)):
        raise SpecError("readout", f"is {type(readout).__name__}", "IntegratorSpec or TIASpec "
                        "(the ideal virtual ground needs no transient: use simulate())")
    if not isinstance(encoding, EncodingSpec):
        raise SpecError("encoding", f"is {type(encoding).__name__}", "an EncodingSpec")
    v = validate_inputs(inputs, spec.rows)
    check_cell_voltages(spec, v)
    t0 = time.perf_counter()
    schedule = build_schedule(encoding, v, readout.t_int_s, readout.t_reset_s, readout.t_settle_s,
                              sample_flat_end=readout.kind == "tia")
    if operation is not None:
        operation.check(spec.rows, spec.cols, spec.cell.kind)
    meant = np.ones(spec.rows) if operation is None else operation.intended_inputs(np.ones((1, spec.rows)))[0]
    forecast = check_readout(readout, schedule, spec.conductances * meant[:, None],
                             encoding.t_edge_s, strict)
    ir = elaborate(spec, operation)
    if energy:
        from ..energy import ConverterEnergy, check_itemised
        if converters is not None and not isinstance(converters, ConverterEnergy):
            raise SpecError("converters", f"is {type(converters).__name__}", "a ConverterEnergy or None")
        check_itemised(ir)
        if converters is None:  # the documented figures of merit, at the readout's ADC bits
            converters = ConverterEnergy(adc_bits=readout.adc.bits) if readout.adc is not None \
                else ConverterEnergy()
        if engine == "nodal" and ir.nonlinear:
            raise SpecError("energy", "was asked of the nodal transient with nonlinear cells",
                            "linear cells, or engine='ngspice'")
    from .gate_lines import check_gate_ramp, has_gate_dynamics
    check_gate_ramp(ir)  # RC gate lines (three-line 1T1R): the ramp both engines can follow
    if engine == "nodal":  # cells with no closed form: their tables, over the pulse levels
        from .nodal import check_supported
        check_supported(ir)  # before any table is measured
        if not has_gate_dynamics(ir):  # (ramped gates on such a card were refused above)
            from .gate_lines import warn_gate_charge
            warn_gate_charge(ir)
        if ir.devices:  # (a passive array has none: the ngspice modules stay unloaded)
            from ..characterise import characterise
            ir = characterise(ir, np.concatenate([np.ravel(x) for x in schedule.row_v]),
                              timeout_s=timeout_s if timeout_s is not None else TIMEOUT_MIN_S)
    if engine == "ngspice":
        from .ngspice import run_readout_ngspice
        if timeout_s is None:
            timeout_s = default_timeout_s(spec, schedule.n_windows)
        raw, info = run_readout_ngspice(ir, readout, schedule, encoding.t_edge_s, workdir,
                                        timeout_s, keep_files, settings, progress, energy)
    else:
        from .nodal import run_readout_nodal
        from .refine import DEFAULT_TRANSIENT_TOL
        raw, info = run_readout_nodal(ir, readout, schedule, encoding.t_edge_s, settings,
                                      energy=energy, transient_tol=DEFAULT_TRANSIENT_TOL
                                      if transient_tol is None else transient_tol)
    batch = v.shape[0]
    v_eq = encoding.equivalent_voltages(v)
    signal, combine, currents, driver_currents, saturated = _windows(raw, schedule, readout, batch)
    gain = readout.gain()
    readout_currents = combine @ signal / gain
    adc = readout.adc
    if adc is not None:
        codes = adc.codes(signal)
        digital_currents = combine @ adc.value(codes) / gain
        adc_clipped = adc.clipped(signal)
    else:
        codes = np.full(signal.shape, -1, dtype=np.int64)
        digital_currents = np.full(readout_currents.shape, np.nan)
        adc_clipped = np.zeros(signal.shape, dtype=bool)
    errors = [f"vector {schedule.vector[w]}, window {w}, column {j}: the output reached an "
              f"op-amp rail (clipped; the sample is wrong)" for w, j in np.argwhere(saturated)]
    errors += [f"vector {schedule.vector[w]}, window {w}, column {j}: the sample lies outside "
               f"the ADC range (clipped)" for w, j in np.argwhere(adc_clipped)]
    info.update(forecast)
    if wires is not None:
        info["wires"] = wires
    if operation is not None:
        v_eq = operation.intended_inputs(v_eq)
        info["operation"] = operation.describe()
    if engine == "nodal":  # solved when first read (a CLI run without --maps never does)
        from ...results import Deferred
        v_wl, v_bl = Deferred(_dc_map, ir, v_eq, "v_wl"), Deferred(_dc_map, ir, v_eq, "v_bl")
    else:
        v_wl = v_bl = np.full((batch, spec.rows, spec.cols), np.nan)
    info.update({"readout": readout.describe(), "encoding": encoding.kind,
                 "encoding_bits": encoding.bits, "signed": bool(encoding.signed),
                 "t_int_s": readout.t_int_s, "gain_v_per_a": gain, "v_ref": readout.v_ref,
                 "n_windows": schedule.n_windows, "readout_errors": errors[:200],
                 "rails": [readout.opamp.v_lo, readout.opamp.v_hi] if readout.opamp.has_rails else None,
                 "n_saturated": int(saturated.sum()), "n_adc_clipped": int(adc_clipped.sum()),
                 "adc": None if adc is None else {"bits": adc.bits, "x_min": adc.x_min,
                                                  "x_max": adc.x_max, "lsb": adc.lsb}})
    record = None
    if energy:
        from .energy import transient_breakdown
        record = transient_breakdown(ir, readout, schedule, raw, engine, batch, operation,
                                     converters).to_record()
    return TransientResult(
        energy=record, engine=engine, inputs=v, currents=currents, v_wl=v_wl, v_bl=v_bl,
        driver_currents=driver_currents, elapsed_s=time.perf_counter() - t0, info=info,
        time=raw.time, vout=raw.vout, vg=raw.vg, i_col=raw.i_col, window_vector=schedule.vector,
        window_weight=schedule.weight, t_open=schedule.t_open, t_sample=schedule.t_sample,
        samples=signal, codes=codes, readout_currents=readout_currents,
        digital_currents=digital_currents, saturated=saturated, equivalent_inputs=v_eq,
        ideal_currents=v_eq @ _ideal_g(spec, ir, v),
        reset_t=schedule.reset_t, reset_v=schedule.reset_v)


def _ideal_g(spec: CrossbarSpec, ir, v: np.ndarray) -> np.ndarray:
    """``G_ss`` ``(rows, cols)`` S: the ideal answer is ``V_eq @ G_ss`` for any cell."""
    from ..simulation import ideal_conductances
    return ideal_conductances(spec, v, ir=ir)


def _dc_map(result: TransientResult, ir, v_eq: np.ndarray, name: str) -> np.ndarray:
    """``v_wl`` or ``v_bl`` ``(batch, rows, cols)`` V of the nodal engine: the DC solve at
    the equivalent inputs ``v_eq``; the other map is kept as well."""
    if ir.nonlinear:
        from ..nodal.newton import solve_newton
        dc = solve_newton(ir, v_eq)
    else:  # (not solvers.solve_nodal: the grid solver's numba loads only where it runs)
        from ..nodal.linear import solve_linear  # the LU below 128x128, the lines above
        dc = solve_linear(ir, v_eq, solver="auto")
    other = "v_bl" if name == "v_wl" else "v_wl"
    result.keep_built(other, getattr(dc, other))
    return getattr(dc, name)


def error_budget(result: TransientResult, spec: CrossbarSpec,
                 array_currents: np.ndarray | None = None) -> dict[str, float]:
    """Where the digital result departs from the ideal ``V_eq @ G``: the largest error over full scale.

    ``array`` (wires and cells with every virtual ground held at 0 V: the exact DC column
    currents at the equivalent inputs minus ideal), ``virtual ground`` (the op-amp's share
    of the array current: its virtual ground left 0 V through finite gain, bandwidth or
    offset, ``currents - array``), ``readout`` (amplifier output: ``readout_currents -
    currents``), ``adc`` (quantisation and clipping: ``digital_currents -
    readout_currents``) and ``total``, over the vectors whose windows stayed inside the
    rails; ``readout saturation``: the whole analog error (``readout_currents - ideal``) of
    the vectors with a saturated window. Full scale: ``v_read`` times the largest column
    conductance sum.

    ``array_currents``: ``(batch, cols)`` A, the DC currents at the equivalent inputs if
    already known; else one nodal DC solve here.
    """
    ideal = result.ideal_currents
    if array_currents is None:
        from dataclasses import replace
        from ..simulation import simulate
        array_currents = simulate(replace(spec, readout=None), result.equivalent_inputs,
                                  "nodal").currents
    v_fs = max(float(np.abs(result.equivalent_inputs).max()), np.finfo(float).tiny)
    fs = v_fs * float(spec.conductances.sum(axis=0).max())
    sat = np.zeros(ideal.shape[0], bool)
    np.logical_or.at(sat, result.window_vector, result.saturated.any(axis=1))
    ok = ~sat

    def worst(x, rows):
        return float(np.abs(x[rows]).max(initial=0.0) / fs)

    parts = {"array": worst(array_currents - ideal, ok),
             "virtual ground": worst(result.currents - array_currents, ok),
             "readout": worst(result.readout_currents - result.currents, ok),
             "readout saturation": worst(result.readout_currents - ideal, sat)}
    if np.all(np.isfinite(result.digital_currents)):
        parts["adc"] = worst(result.digital_currents - result.readout_currents, slice(None))
        parts["total"] = worst(result.digital_currents - ideal, slice(None))
    else:
        parts["total"] = worst(result.readout_currents - ideal, slice(None))
    return parts


def output_full_scale(result: TransientResult, spec: CrossbarSpec) -> float:
    """The readout's output full scale, V: the ideal signal of the largest input on the
    largest column (``max|V_eq| * max column conductance sum * gain``), capped at the
    op-amp's rail span where it has rails."""
    v_fs = max(float(np.abs(result.equivalent_inputs).max()), np.finfo(float).tiny)
    fs = v_fs * float(spec.conductances.sum(axis=0).max()) * spec.readout.gain()
    op = spec.readout.opamp
    return min(fs, op.v_hi - op.v_lo) if op.has_rails else fs


def compare_readouts(a: TransientResult, b: TransientResult, spec: CrossbarSpec) -> dict:
    """How far two runs of one readout are apart, as fractions of the output full scale.

    ``sample_deviation_fs``: the largest difference of the samples (every window, every
    column). ``waveform_deviation_fs``: the largest difference of the output waveforms,
    ``a`` interpolated linearly onto ``b``'s time points (so it includes the interpolation
    error across fast edges, an upper bound on the engines' disagreement).
    """
    fs = output_full_scale(b, spec)
    va = np.stack([np.interp(b.time, a.time, row) for row in a.vout])
    return {"full_scale_v": fs,
            "sample_deviation_fs": float(np.abs(a.samples - b.samples).max() / fs),
            "waveform_deviation_fs": float(np.abs(va - b.vout).max() / fs),
            "code_deviation_max": int(np.abs(a.codes - b.codes).max(initial=0))}
