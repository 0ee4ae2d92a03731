"""Before a readout runs: which windows will hit a rail, and what the reset leaves behind.

Both checks use only the spec, the schedule and the ideal currents (no simulation):

* :func:`forecast_swing`: each window's ideal output swing per column (the charge the
  encoded pulses deliver into ``V_eq @ G``-ideal columns over ``c_int``, or the largest
  pulse current times ``r_f``), against the op-amp's headroom from ``v_ref`` to each rail
  (less :data:`~spicebar.engines.transient.run.RAIL_MARGIN_SMOOTH` clamp widths). It names
  the windows that will saturate and the ``c_int`` / ``t_int`` (or ``r_f``) that would fit.
* :func:`reset_leftover`: the fraction ``exp(-(t_reset + t_edge) / (r_reset c_int))`` of
  a window's output the reset switch leaves for the next, against half an ADC LSB.

:func:`check_readout` turns both into :class:`~spicebar.errors.ReadoutWarning` s (or, with
``strict``, a :class:`~spicebar.errors.SpecError` naming the parameter to change).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ...errors import ReadoutWarning, SpecError

#: Outputs within this many clamp widths of a rail count as saturated (the soft clamp is
#: still linear to exp(-5) = 0.7 % there); the same margin as the run's flags.
RAIL_MARGIN_SMOOTH = 5.0


@dataclass(frozen=True)
class SwingForecast:
    """Ideal swings before a run.

    Attributes:
        swing: ``(n_windows, cols)`` V, peak of ``v_ref - v_out`` (signed: positive for
            current into the readout, i.e. the output going towards ``v_lo``).
        headroom_lo, headroom_hi: V from ``v_ref`` to the lower / upper rail (less the
            margin); inf without rails.
        hits: ``(n_windows, cols)`` bool, the window will reach a rail.
        fit: the readout values that would keep every window inside the rails:
            ``{"c_int_f": ..., "t_int_s": ...}`` (integrator) or ``{"r_f_ohm": ...}`` (TIA).
    """

    swing: np.ndarray
    headroom_lo: float
    headroom_hi: float
    hits: np.ndarray
    fit: dict

    @property
    def n_hits(self) -> int:
        return int(self.hits.sum())

    def describe(self, vector_of_window: np.ndarray) -> str:
        w, j = np.argwhere(self.hits)[0]
        need = float(np.max(np.abs(self.swing)))
        fits = ", ".join(f"{k} = {v:.3g}" for k, v in self.fit.items())
        return (f"{self.n_hits} of {self.hits.size} window outputs will reach an op-amp rail "
                f"(first: vector {vector_of_window[w]}, window {w}, column {j}; the largest "
                f"ideal swing is {need:.3g} V against {self.headroom_lo:.3g} V of headroom "
                f"below v_ref and {self.headroom_hi:.3g} V above); to fit: {fits}")


def forecast_swing(readout, schedule, conductances: np.ndarray) -> SwingForecast:
    """Ideal swing of every window and column, from the encoded volt-seconds ``schedule.area``."""
    g = np.asarray(conductances, float)
    pos = np.clip(schedule.area, 0.0, None) @ g       # phase 1 (positive rows), V s * S = C
    tot = schedule.area @ g
    if readout.kind == "integrator":
        peak = np.where(np.abs(pos) > np.abs(tot), pos, tot) / readout.c_int_f
    else:
        peak = tot / schedule.t_int * readout.r_f_ohm   # flat-part current times r_f
    op = readout.opamp
    if not op.has_rails:
        return SwingForecast(peak, np.inf, np.inf, np.zeros(peak.shape, bool), {})
    margin = RAIL_MARGIN_SMOOTH * op.v_smooth
    lo = readout.v_ref - op.v_lo - margin   # a positive signal drives v_out down
    hi = op.v_hi - readout.v_ref - margin
    hits = (peak > lo) | (-peak > hi)
    need = max(float(np.max(np.clip(peak, 0, None)) / max(lo, 1e-30)),
               float(np.max(np.clip(-peak, 0, None)) / max(hi, 1e-30)), 0.0)
    fit = {}
    if need > 1.0:
        if readout.kind == "integrator":
            fit = {"c_int_f": readout.c_int_f * need, "t_int_s": readout.t_int_s / need}
        else:
            fit = {"r_f_ohm": readout.r_f_ohm / need}
    return SwingForecast(peak, lo, hi, hits, fit)


def reset_leftover(readout, t_edge: float) -> float:
    """Fraction of a window's output the reset leaves for the next (0 for a TIA)."""
    if readout.kind != "integrator":
        return 0.0
    return float(np.exp(-(readout.t_reset_s + t_edge) / (readout.r_reset_ohm * readout.c_int_f)))


def check_readout(readout, schedule, conductances, t_edge: float, strict: bool = False) -> dict:
    """Warn (or with ``strict`` refuse) before a run; returns what goes into ``info``."""
    fc = forecast_swing(readout, schedule, conductances)
    out = {"forecast_saturated_windows": fc.n_hits, "forecast_fit": fc.fit,
           "forecast_swing_max_v": float(np.max(np.abs(fc.swing), initial=0.0))}
    if fc.n_hits:
        msg = fc.describe(schedule.vector)
        if strict:
            name, value = next(iter(fc.fit.items()))
            raise SpecError(f"readout.{name}", msg, f"{'>=' if name == 'c_int_f' else '<='} "
                            f"{value:.3g} (or drop --strict to run and flag the windows)")
        warnings.warn(msg, ReadoutWarning, stacklevel=3)
    left = reset_leftover(readout, t_edge)
    out["reset_leftover"] = left
    adc = readout.adc
    if adc is not None and left > 0:
        v_left = left * out["forecast_swing_max_v"]
        if v_left > 0.5 * adc.lsb:
            decades = np.log(out["forecast_swing_max_v"] / (0.5 * adc.lsb))  # time constants
            t_need = readout.r_reset_ohm * readout.c_int_f * decades - t_edge
            r_need = (readout.t_reset_s + t_edge) / (readout.c_int_f * decades)
            msg = (f"the reset leaves exp(-(t_reset + t_edge) / (r_reset c_int)) = {left:.3g} of "
                   f"each window's output ({v_left:.3g} V) for the next, more than half an ADC "
                   f"LSB ({0.5 * adc.lsb:.3g} V): raise t_reset_s to >= {t_need:.3g} s or lower "
                   f"r_reset_ohm to <= {r_need:.3g} ohm")
            if strict:
                raise SpecError("readout.t_reset_s", msg, f">= {t_need:.3g} s")
            warnings.warn(msg, ReadoutWarning, stacklevel=3)
    return out
