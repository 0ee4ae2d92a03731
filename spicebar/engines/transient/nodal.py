"""The nodal engine in the time domain: charge = integral of the DC column current.

With an ideal op-amp holding every bit line at ``v_ref = 0`` and no capacitance in the
array, the column currents follow the inputs instantly: ``I(t) = DC solution at V(t)``.
The inputs are piecewise linear, so ``I(t)`` is too, and solving at every stimulus
breakpoint and integrating with the trapezoidal rule gives the charge exactly (to float64
rounding). Output ``v_out = v_ref - Q / c_int`` (integrator) or ``v_ref - I r_f`` (TIA).

With nonlinear cells (1S1R, 1T1R) each time point is a Newton solve and the trapezoidal
rule is exact only on the flat parts of the pulses, not across their edges.

Not modelled (listed in ``info["not_modelled"]``): op-amp gain, bandwidth, swing limits,
offset and output resistance, the reset switch resistance, the virtual ground at a
``v_ref`` other than 0 V, and wire capacitance (settling).
"""

from __future__ import annotations

import numpy as np

from ...circuit.encoding import Schedule
from ...circuit.ir import CircuitIR
from ..nodal.solvers import solve_nodal
from .result import RawTransient


def not_modelled(readout, ir: CircuitIR) -> list[str]:
    """What the charge-based nodal engine leaves out for this readout."""
    out = []
    op = readout.opamp
    if op.kind == "macro":
        out += ["op-amp bandwidth (gbw)", "op-amp swing limits (rails)"]
    if op.a0 < 1e9 or op.kind == "macro":
        out.append("finite op-amp gain")
    if op.v_os != 0:
        out.append("input offset")
    if readout.v_ref != 0:
        out.append("virtual ground at v_ref != 0 (taken as 0 V for the array)")
    if ir.capacitors:
        out.append("wire capacitance (settling)")
    return out


def run_readout_nodal(ir: CircuitIR, readout, schedule: Schedule):
    """Traces at every stimulus breakpoint; returns ``(raw, info)``."""
    t = schedule.breakpoints()
    v_rows = np.stack([np.interp(t, rt, rv) for rt, rv in zip(schedule.row_t, schedule.row_v)], 1)
    dc = solve_nodal(ir, v_rows)
    i_col = dc.currents.T                     # (cols, n_t), A
    i_drv = dc.driver_currents.T              # (rows, n_t), A
    vout = np.full_like(i_col, readout.v_ref)
    if readout.kind == "tia":
        vout = readout.v_ref - readout.r_f_ohm * i_col
    else:
        dq = 0.5 * (i_col[:, 1:] + i_col[:, :-1]) * np.diff(t)
        q = np.concatenate([np.zeros((i_col.shape[0], 1)), np.cumsum(dq, axis=1)], axis=1)
        ends = np.append(schedule.t_open[1:], np.inf)
        for t_open, t_end in zip(schedule.t_open, ends):
            k0 = np.searchsorted(t, t_open)
            sel = (t >= t_open) & (t < t_end)
            vout[:, sel] = readout.v_ref - (q[:, sel] - q[:, [k0]]) / readout.c_int_f
        # during each reset the output sits at v_ref
        closed = np.interp(t, schedule.reset_t, schedule.reset_v) >= 0.5
        vout[:, closed] = readout.v_ref
    vg = np.full_like(i_col, readout.v_ref)
    info = {"solver": dc.info["solver"], "timepoints": int(t.size),
            "kcl_residual_rel": dc.info["kcl_residual_rel"],
            "not_modelled": not_modelled(readout, ir)}
    return RawTransient(t, vout, vg, i_col, i_drv), info
