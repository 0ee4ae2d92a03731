"""The nodal transient's steppers: one implicit stage of the readout with its array.

:class:`_Algebraic` looks up an algebraic array's currents and admittance at the bit-line
ends per stage time; :class:`_AlgebraicStepper` steps the readout states against it;
:class:`_WiredStepper` solves the array with wire capacitance and the readouts together,
iterating their column currents to agreement. Each stepper's ``initial`` finds the
operating point at t = 0 and ``stage`` takes one TR-BDF2 stage
(:func:`.nodal._integrate` drives them).
"""

from __future__ import annotations

import numpy as np

from ...circuit.encoding import Schedule
from ...errors import SolverError
from .boundary import AlgebraicArray, CapacitiveArray
from .columns import Columns
from .timegrid import GAMMA, rows_at

#: The pseudo-transient that finds the operating point at t = 0 (as ngspice's .op):
#: implicit stages of this length, s (long against every time constant of the circuit).
DC_STAGE_S = 1.0
DC_STAGES = 3
#: With wire capacitance the readout is solved against an approximate admittance, the
#: array re-solved at the resulting virtual grounds, and the two iterated until the
#: column currents agree to this (A, relative to the largest column current).
WIRED_ATOL = 1e-15
WIRED_RTOL = 1e-9
WIRED_MAX_ITER = 30

_D = GAMMA / 2.0                                   # stage coefficient on f (both stages)
_C1 = 1.0 / (GAMMA * (2.0 - GAMMA))                # BDF2 stage: x_{n+1} from x_g ...
_C2 = (1.0 - GAMMA) ** 2 / (GAMMA * (2.0 - GAMMA))  # ... and x_n


class _Algebraic:
    """Array source for the stepper: currents and admittance looked up per stage time."""

    def __init__(self, ir, schedule, times, v0, memory, e_times=None):
        """``e_times``: ``(len(times), cols)`` V, virtual-ground errors of a first pass: each
        input vector is then linearised at the mean of its times' errors (nonlinear cells)."""
        self.ir = ir
        self.offsets = None
        if ir.nonlinear:
            v = rows_at(schedule, times)
            uniq, inv = np.unique(v, axis=0, return_inverse=True)
            inv = np.ravel(inv)
            if e_times is not None:
                tot = np.zeros((uniq.shape[0], ir.cols))
                np.add.at(tot, inv, e_times)
                self.offsets = tot / np.bincount(inv, minlength=uniq.shape[0])[:, None]
            self.arr = AlgebraicArray(ir, uniq, v0, memory, self.offsets)
            self.index = dict(zip(times.tolist(), inv.tolist()))
        else:
            bp = schedule.breakpoints()
            self.arr = AlgebraicArray(ir, rows_at(schedule, bp), v0, memory)
            self.bp = bp
        self.solver = self.arr.solver

    def offset(self, t: float) -> np.ndarray:
        """The linearisation point of the input vector at ``t``, ``(cols,)`` V above ``v0``."""
        if self.offsets is None:
            return np.zeros(self.ir.cols)
        return self.offsets[self.index[t]]

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


class _AlgebraicStepper:
    def __init__(self, ir, src: _Algebraic, cols: Columns):
        self.ir, self.src, self.cols = ir, src, cols
        self.seen = None    # a list: every stage's virtual-ground errors are kept there

    def _solve(self, x0, t, g, dh, rhs, where):
        j0, i0, level = self.src.at(t)
        ctx = self.cols.context(("alg", level, self.src.arr.version), self.src.arr.y[level])
        x, f, nodes = self.cols.stage(x0, j0, g, dh, rhs, ctx, where)
        if self.seen is not None:
            self.seen.append(nodes[0])
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

    def __init__(self, ir, array: CapacitiveArray, cols: Columns, schedule: Schedule,
                 times: np.ndarray, rtol: float = WIRED_RTOL):
        """``times``: every time a stage lands on (the fixed nodes' voltages there are
        looked up at once); ``rtol``: the column currents' agreement (of the largest)."""
        self.ir, self.array, self.cols, self.schedule = ir, array, cols, schedule
        self.rtol = rtol
        fixed = array.part.fixed_values(ir, rows_at(schedule, times))
        self.v_fixed = dict(zip(times.tolist(), fixed.T))
        self.e_last = None   # the previous stage's virtual-ground errors (cols,) V

    def _solve(self, x0, t, g, dh, rhs, rhs_nodes, where):
        arr, cols, part = self.array, self.cols, self.array.part
        v_fixed = self.v_fixed[t]
        v_s0 = np.full(part.sense.size, cols.v0)
        y = arr.admittance(dh)
        yd = np.diag(y) if arr.mode == "cg" else None   # (the line solver's is diagonal)

        def y_at(e):
            return yd * e if yd is not None else y @ e
        # The line solver's admittance is approximate, so the loop below iterates anyway:
        # its first solve is at the previous stage's virtual grounds (a near guess) and
        # the currents' intercept ``a`` is taken from there. The LU's is exact: at v0.
        e0 = self.e_last if arr.mode == "cg" else None
        v = arr.solve(dh, rhs_nodes, v_fixed, v_s0 if e0 is None else v_s0 + e0[self.ir.sense_col])
        a, _ = arr.injected(dh, rhs_nodes, v)
        if e0 is not None:
            a = a + y_at(e0)
        ctx = cols.context(("wired", dh, arr.plans), y)   # (y may change with each grid's plan)
        x = x0
        for _ in range(WIRED_MAX_ITER):
            x, f, nodes = cols.stage(x, a, g, dh, rhs, ctx, where)
            e = nodes[0]
            v = arr.solve(dh, rhs_nodes, v_fixed, v_s0 + e[self.ir.sense_col])
            j, idrv = arr.injected(dh, rhs_nodes, v)
            miss = j - (a - y_at(e))
            if np.abs(miss).max(initial=0.0) <= WIRED_ATOL + self.rtol * np.abs(j).max(initial=0.0):
                break
            a = a + miss
        else:
            raise SolverError(f"the array and the readouts did not agree {where} "
                              f"(column currents off by {np.abs(miss).max():.3g} A)")
        f_nodes = (arr.c * v - rhs_nodes) / dh
        self.e_last = e
        return x, f, (e, j, nodes[2]), {"i_drv": idrv, "v": v, "f_nodes": f_nodes}

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
