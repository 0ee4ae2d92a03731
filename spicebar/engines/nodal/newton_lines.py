"""Newton steps on the line solver: sinh cells (1S1R selectors, sinh cells) on a plain grid.

Each Newton step solves ``J dv = -F`` with ``J`` the Jacobian of the node currents. For
sinh devices ``J`` is itself a conductance matrix: every device is, for the step, a
resistor of its differential conductance ``g_d > 0`` at the (limited) linearisation
voltage, so ``J`` keeps the wires' line structure. A 1S1R cell's middle node joins only
its selector (``a = g_d``) and its memory element (``c = G``): it is eliminated exactly,

    dv_m = (-F_m + a dv_w + c dv_b) / (a + c),

which leaves a cell of conductance ``a c / (a + c)`` between the word- and bit-line
nodes and adds ``a F_m / (a + c)`` and ``c F_m / (a + c)`` to their right-hand sides.
The reduced system is the passive grid's (:mod:`.grid`) with those cells and sources on
both lines, solved by the line-preconditioned conjugate gradients to
:data:`~.lines.DEFAULT_RTOL`; Newton's own stopping rules (step and KCL residual, see
:mod:`.newton`) are unchanged. One step costs two Thomas factorisations and a few CG
iterations instead of a sparse LU.

:func:`line_step` says whether an IR qualifies (the grid's topology with every unknown a
word-line, bit-line or middle node of a cell) and builds the solver, or gives the reason.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...circuit.cells import NonlinearCell, PassiveCell, SelectorCell
from ...circuit.iv_models import sinh_iv
from ...circuit.ir import SINH, CircuitIR
from ...circuit.spec import CrossbarSpec
from .grid import _Grid, grid_reason
from .lines import DEFAULT_RTOL, schur_cg


class LineStep:
    """Solves Newton steps of one IR on its grid (see the module docstring).

    Attributes:
        w_pos, b_pos, m_pos: ``(rows, cols)`` unknown index of each cell's word-line,
            bit-line and middle node (``m_pos`` None for cells without one).
        g_mem: ``(rows, cols)`` siemens of the memory elements in series with the
            selectors (None for sinh cells).
    """

    def __init__(self, spec: CrossbarSpec, device, w_pos, b_pos, m_pos, g_mem, rtol: float):
        self.spec, self.device = spec, device
        self.w_pos, self.b_pos, self.m_pos, self.g_mem = w_pos, b_pos, m_pos, g_mem
        self.rtol = rtol
        self.iterations = 0  # CG iterations over every step solved

    def solve(self, v_lim: np.ndarray, f_u: np.ndarray) -> np.ndarray:
        """``dv`` (unknown order) with ``J dv = -f_u``; ``v_lim``: the devices' linearisation
        voltages ``(rows * cols,)`` V; ``f_u``: node currents at the unknowns, A."""
        shape = self.w_pos.shape
        _, a = sinh_iv(v_lim, self.device.value, self.device.param)
        a = a.reshape(shape)
        f_w, f_b = -f_u[self.w_pos], -f_u[self.b_pos]
        if self.m_pos is not None:
            c = self.g_mem
            s = a + c
            f_m = -f_u[self.m_pos]
            g_cell = a * c / s
            f_w = f_w + a * f_m / s
            f_b = f_b + c * f_m / s
        else:
            g_cell = a
        grid = _Grid(self.spec, g_cell)
        x_w, x_b, info = schur_cg(grid, f_w[None], f_b[None], self.rtol)
        self.iterations += info["iterations"]
        dv = np.empty_like(f_u)
        dv[self.w_pos], dv[self.b_pos] = x_w[0], x_b[0]
        if self.m_pos is not None:
            dv[self.m_pos] = (f_m + a * x_w[0] + c * x_b[0]) / s
        return dv


def line_step(spec: CrossbarSpec, ir: CircuitIR, unknown: np.ndarray,
              rtol: float = DEFAULT_RTOL) -> LineStep | str:
    """A :class:`LineStep` for ``ir`` (elaborated from ``spec`` without an operation), or
    the reason Newton keeps the sparse LU. ``unknown``: sorted node indices not held by a
    source (Newton's unknowns)."""
    if not isinstance(spec.cell, (NonlinearCell, SelectorCell)):
        return f"cells are {spec.cell.describe()}, not sinh cells or 1S1R selectors"
    reason = grid_reason(replace(spec, cell=PassiveCell()))
    if reason:
        return reason
    sinh = [g for g in ir.devices if g.kind == SINH]
    if len(sinh) != 1 or len(ir.devices) != 1:
        return "the cells' devices are not one group of sinh elements"
    dev = sinh[0]
    uidx = np.full(ir.n_nodes, -1)
    uidx[unknown] = np.arange(unknown.size)
    w_pos, b_pos = uidx[ir.wl_node], uidx[ir.bl_node]
    mid = isinstance(spec.cell, SelectorCell)
    m_pos = uidx[ir.mid_node] if mid else None
    parts = [w_pos, b_pos] + ([m_pos] if mid else [])
    every = np.concatenate([p.ravel() for p in parts])
    if np.any(every < 0) or every.size != unknown.size or np.unique(every).size != every.size:
        return "some unknown node is not a cell's word-line, bit-line or middle node"
    far = ir.mid_node if mid else ir.bl_node
    if not (np.array_equal(dev.node_p, ir.wl_node.ravel())
            and np.array_equal(dev.node_n, far.ravel())):
        return "the sinh devices are not ordered as the cells"
    return LineStep(spec, dev, w_pos, b_pos, m_pos,
                    spec.conductances if mid else None, rtol)
