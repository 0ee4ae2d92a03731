"""The nodal transient engine: the circuit ngspice simulates, integrated by TR-BDF2.

The same circuit as :mod:`spicebar.netlist.readout`: the array (any cell kind), wire
capacitance per segment, and per column the op-amp of ``models/opamp.lib`` (gain, pole,
soft rail clamp, anti-windup, offset, output resistance) with its integrator (capacitor
and reset switch ``rst(t) / r_reset``) or TIA. Nothing is left out:
``info["not_modelled"]`` is empty.

* Without wire capacitance the array is algebraic: it is reduced once per input vector
  to its currents and admittance at the bit-line ends (:class:`.boundary.AlgebraicArray`),
  and only the readout states (:mod:`.columns`, vectorised over columns) are stepped.
  Linear cells need the DC solve only at the stimulus breakpoints (the currents are
  linear in between); nonlinear cells are solved at every time point inside an edge.
* With wire capacitance (linear cells) every stage is one solve of the array with
  ``C / (d h)`` added, one LU per step size (:class:`.boundary.CapacitiveArray`).

Integration: TR-BDF2 (a trapezoidal stage to ``t + gamma h``, then BDF2), second order
like ngspice's trapezoidal rule but L-stable, on the grid of :mod:`.timegrid`, which lands
on every breakpoint. Nonlinear cells with a virtual ground that leaves ``v0`` by more than
:data:`LINEARISATION_MAX_V` (a saturated op-amp) are refused: the reduction linearises the
cells at ``v0``.
"""

from __future__ import annotations

import numpy as np

from ...circuit.encoding import Schedule
from ...circuit.ir import CircuitIR
from ...errors import SolverError, SpecError
from ...netlist.readout import TranSettings
from .boundary import AlgebraicArray, CapacitiveArray
from .columns import Columns
from .result import RawTransient
from .timegrid import FIRST_STEP_FRACTION, GAMMA, step_grid

#: With nonlinear cells the array is linearised at the virtual ground ``v0``; the error
#: is second order in the departure ``e``: ~ e^2 / (v_read * V_cell) of full scale, 2e-5
#: at 1 mV for a 0.2 V read through a 0.25 V sinh scale. Beyond this the run is refused.
LINEARISATION_MAX_V = 1e-3
#: The pseudo-transient that finds the operating point at t = 0 (as ngspice's .op):
#: implicit stages of this length, s (long against every time constant of the circuit).
DC_STAGE_S = 1.0
DC_STAGES = 3

_D = GAMMA / 2.0                                   # stage coefficient on f (both stages)
_C1 = 1.0 / (GAMMA * (2.0 - GAMMA))                # BDF2 stage: x_{n+1} from x_g ...
_C2 = (1.0 - GAMMA) ** 2 / (GAMMA * (2.0 - GAMMA))  # ... and x_n


def not_modelled(readout, ir: CircuitIR) -> list[str]:
    """What the nodal engine leaves out of the circuit: nothing (kept for the result key)."""
    return []


def check_supported(ir: CircuitIR) -> None:
    """Refuse the one combination the nodal transient does not reach, before any work."""
    if ir.capacitors and ir.nonlinear:
        raise SpecError("readout.c_wl_f/c_bl_f", "is set with nonlinear cells: the nodal "
                        "transient engine steps wire capacitance for linear (passive) arrays "
                        "only", "0 F with nonlinear/1S1R/1T1R cells, or engine='ngspice'")


def first_step(readout, t_edge: float) -> float:
    """Fastest time constant in play (edge, reset r C, op-amp pole), times the fraction."""
    taus = [t_edge]
    if readout.kind == "integrator":
        taus.append(readout.r_reset_ohm * readout.c_int_f)
    if readout.opamp.kind == "macro":
        taus.append(1.0 / (2 * np.pi * readout.opamp.gbw_hz))
    return FIRST_STEP_FRACTION * min(taus)


def rows_at(schedule: Schedule, t: np.ndarray) -> np.ndarray:
    """Input voltages of every row at times ``t``: ``(n_t, rows)`` V."""
    return np.stack([np.interp(t, rt, rv) for rt, rv in zip(schedule.row_t, schedule.row_v)], 1)


class _Algebraic:
    """Array source for the stepper: currents and admittance looked up per stage time."""

    def __init__(self, ir, schedule, times, v0, memory):
        self.ir = ir
        if ir.nonlinear:
            v = rows_at(schedule, times)
            uniq, inv = np.unique(v, axis=0, return_inverse=True)
            self.arr = AlgebraicArray(ir, uniq, v0, memory)
            self.index = dict(zip(times.tolist(), np.ravel(inv).tolist()))
        else:
            bp = schedule.breakpoints()
            self.arr = AlgebraicArray(ir, rows_at(schedule, bp), v0, memory)
            self.bp = bp
        self.solver = self.arr.solver

    def at(self, t: float):
        """``(J0 (cols,), I0 (rows,), level)`` at time ``t``."""
        if self.ir.nonlinear:
            k = self.index[t]
            return self.arr.j0[k], self.arr.i0[k], int(self.arr.level[k])
        k = int(np.clip(np.searchsorted(self.bp, t, side="right") - 1, 0, self.bp.size - 2))
        w = (t - self.bp[k]) / (self.bp[k + 1] - self.bp[k])
        j0 = (1.0 - w) * self.arr.j0[k] + w * self.arr.j0[k + 1]
        i0 = (1.0 - w) * self.arr.i0[k] + w * self.arr.i0[k + 1]
        return j0, i0, 0


def run_readout_nodal(ir: CircuitIR, readout, schedule: Schedule, t_edge: float,
                      settings: TranSettings = TranSettings(), memory=None):
    """Integrate the whole readout circuit; returns ``(raw, info)`` like the ngspice engine."""
    check_supported(ir)
    cols = Columns(readout, ir.cols)
    t_grid = step_grid(schedule.breakpoints(), settings.max_step(schedule.t_int),
                       first_step(readout, t_edge))
    h = np.diff(t_grid)
    t_stage = t_grid[:-1] + GAMMA * h
    g_of = (lambda t: float(np.interp(t, schedule.reset_t, schedule.reset_v)) / readout.r_reset_ohm) \
        if readout.kind == "integrator" else (lambda t: 0.0)
    wired = bool(ir.capacitors)
    if wired:
        array = CapacitiveArray(ir, memory)
        stepper = _WiredStepper(ir, array, cols, schedule)
        solver = "TR-BDF2; array with wire capacitance: sparse LU of L + C/(d h) per step size"
    else:
        src = _Algebraic(ir, schedule, np.concatenate([t_grid, t_stage]), cols.v0, memory)
        stepper = _AlgebraicStepper(ir, src, cols)
        solver = f"TR-BDF2; array reduced to its bit-line ends ({src.solver})"
    n = t_grid.size
    vout = np.empty((ir.cols, n)); vg = np.empty((ir.cols, n))
    i_col = np.empty((ir.cols, n)); i_drv = np.empty((ir.rows, n))
    m = cols.mass
    x = np.zeros(cols.n_states)
    state = stepper.initial(x, g_of(t_grid[0]))
    x, f, nodes, extra = state
    rec = lambda k, nodes, idrv: _record(k, nodes, idrv, cols, vout, vg, i_col, i_drv)  # noqa: E731
    rec(0, nodes, extra["i_drv"])
    e_max = float(np.abs(nodes[0]).max(initial=0.0))
    for k in range(n - 1):
        dh = _D * h[k]
        tg, t1 = t_stage[k], t_grid[k + 1]
        xg, fg, nodes_g, ex_g = stepper.stage(x, tg, g_of(tg), dh, m * x + dh * f, extra, 1,
                                              f"at t={tg:.6g} s")
        x1, f1, nodes1, ex1 = stepper.stage(xg, t1, g_of(t1), dh, m * (_C1 * xg - _C2 * x),
                                            (extra, ex_g), 2, f"at t={t1:.6g} s")
        x, f, extra = x1, f1, ex1
        rec(k + 1, nodes1, ex1["i_drv"])
        e_max = max(e_max, float(np.abs(nodes_g[0]).max(initial=0.0)),
                    float(np.abs(nodes1[0]).max(initial=0.0)))
    if ir.nonlinear and e_max > LINEARISATION_MAX_V:
        raise SolverError(f"the virtual ground left v_ref + v_os by {e_max:.3g} V (a saturated "
                          "op-amp?): the nodal transient linearises nonlinear cells there and is "
                          f"exact only within {LINEARISATION_MAX_V:g} V; use engine='ngspice' or "
                          "a readout that does not saturate (larger c_int, shorter t_int)")
    info = {"solver": solver, "timepoints": int(n), "kcl_residual_rel": 0.0,
            "max_step_s": settings.max_step(schedule.t_int), "first_step_s": float(h.min()),
            "virtual_ground_error_max_v": e_max, "not_modelled": not_modelled(readout, ir)}
    return RawTransient(t_grid, vout, vg, i_col, i_drv), info


def _record(k, nodes, idrv, cols, vout, vg, i_col, i_drv):
    e, j, vo = nodes
    vout[:, k] = vo
    vg[:, k] = cols.v0 + e
    i_col[:, k] = j
    i_drv[:, k] = idrv


class _AlgebraicStepper:
    def __init__(self, ir, src: _Algebraic, cols: Columns):
        self.ir, self.src, self.cols = ir, src, cols

    def _solve(self, x0, t, g, dh, rhs, where):
        j0, i0, level = self.src.at(t)
        ctx = self.cols.context(("alg", level), self.src.arr.y[level])
        x, f, nodes = self.cols.stage(x0, j0, g, dh, rhs, ctx, where)
        idrv = i0 + self.src.arr.z[level] @ nodes[0]
        return x, f, nodes, {"i_drv": idrv}

    def initial(self, x, g):
        t0 = float(self.src.bp[0]) if not self.ir.nonlinear else min(self.src.index)
        m = self.cols.mass
        for _ in range(DC_STAGES):
            x, f, nodes, ex = self._solve(x, t0, g, DC_STAGE_S, m * x, "at the operating point")
        return x, f, nodes, ex

    def stage(self, x0, t, g, dh, rhs, extra, which, where):
        return self._solve(x0, t, g, dh, rhs, where)


class _WiredStepper:
    """Stages of the array with capacitance and the readout together (two solves a stage)."""

    def __init__(self, ir, array: CapacitiveArray, cols: Columns, schedule: Schedule):
        self.ir, self.array, self.cols, self.schedule = ir, array, cols, schedule

    def _solve(self, x0, t, g, dh, rhs, rhs_nodes, where):
        arr, cols, part = self.array, self.cols, self.array.part
        v_fixed = part.fixed_values(self.ir, rows_at(self.schedule, np.array([t])))[:, 0]
        v_s0 = np.full(part.sense.size, cols.v0)
        v = arr.solve(dh, rhs_nodes, v_fixed, v_s0)
        a, _ = arr.injected(dh, rhs_nodes, v)
        ctx = cols.context(("wired", dh), arr.admittance(dh))
        x, f, nodes = cols.stage(x0, a, g, dh, rhs, ctx, where)
        v = arr.solve(dh, rhs_nodes, v_fixed, v_s0 + nodes[0][self.ir.sense_col])
        j, idrv = arr.injected(dh, rhs_nodes, v)
        f_nodes = (arr.c * v - rhs_nodes) / dh
        return x, f, (nodes[0], j, nodes[2]), {"i_drv": idrv, "v": v, "f_nodes": f_nodes}

    def initial(self, x, g):
        m, c = self.cols.mass, self.array.c
        v = np.zeros(self.ir.n_nodes)
        for _ in range(DC_STAGES):
            x, f, nodes, ex = self._solve(x, 0.0, g, DC_STAGE_S, m * x, c * v,
                                          "at the operating point")
            v = ex["v"]
        return x, f, nodes, ex

    def stage(self, x0, t, g, dh, rhs, extra, which, where):
        c = self.array.c
        if which == 1:
            rhs_nodes = c * extra["v"] + dh * extra["f_nodes"]
        else:
            prev, mid = extra
            rhs_nodes = c * (_C1 * mid["v"] - _C2 * prev["v"])
        return self._solve(x0, t, g, dh, rhs, rhs_nodes, where)
