"""Elaboration of the cells: each cell kind becomes IR element groups (pure, vectorised).

Called by :func:`spicebar.circuit.elaboration.elaborate`; see :mod:`spicebar.circuit.cells` for the kinds.
Element names: ``rcell_i_j`` (linear element), ``bcell_i_j`` (nonlinear element, a
SPICE B-source), ``bsel_i_j`` (selector), ``macc_i_j`` (access transistor),
``xcell_i_j`` / ``ncell_i_j`` (a user device: subcircuit / Verilog-A instance), ``xacc_i_j``
(a PDK access transistor, a subcircuit; a 2T2R cell is two of them sharing one gate, see
:mod:`spicebar.circuit.differential_cells`); nodes ``mid_i_j`` (between the two parts of a
cell) and ``gl_i`` (gate line of row ``i``, driven by ``vg_i``). A resistive gate line
(three-line 1T1R) adds ``gl_i_j`` (the gate of cell ``(i, j)``), segments ``rgl_i_j``
(left of cell ``(i, j)``) and capacitors ``cgl_i_j``; at 0 ohm the segments are merged
away and the array is the two-line one, name for name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cells import NonlinearCell, PassiveCell, SelectorCell, TransistorCell
from .devices import DeviceCell
from .ir import CAPACITOR, DEVICE, NMOS, RESISTOR, SINH, VSOURCE, ElementGroup


@dataclass
class CellParts:
    """What the cells add to the circuit."""

    resistors: list
    devices: list
    gates: ElementGroup | None = None
    mid: np.ndarray | None = None  # (rows, cols) pre-merge node ids
    capacitors: tuple = ()  # gate-line capacitance (three-line 1T1R)


def _grp(kind, prefix, labels, p, n, value, comment, **extra) -> ElementGroup:
    return ElementGroup(kind, prefix, np.asarray(labels), np.asarray(p).ravel(),
                        np.asarray(n).ravel(), np.asarray(value, dtype=float).ravel(), comment,
                        **extra)


def _gate_lines(nodes, gated_off: np.ndarray, vg_on: float, vg_off: float):
    """The rows' gate-line nodes ``gl_i`` and their sources ``vg_i`` (``vg_off`` on gated-off rows)."""
    rows = gated_off.shape[0]
    gl = nodes.block("gl", (rows,))
    vg = np.where(gated_off, vg_off, vg_on)
    return gl, _grp(VSOURCE, "vg", np.arange(rows), gl, np.zeros(rows, int), vg,
                    "gate lines (vg_on / vg_off per row)")


def cell_parts(cell, conductances: np.ndarray, nodes, wl: np.ndarray, bl: np.ndarray,
               gated_off: np.ndarray) -> CellParts:
    """Element groups of every cell.

    Args:
        cell: a cell spec; conductances: ``(rows, cols)`` siemens.
        nodes: the elaboration's node allocator (``block(prefix, shape)``).
        wl, bl: ``(rows, cols)`` pre-merge node ids of each cell's terminals.
        gated_off: ``(rows,)`` bool, 1T1R rows whose gate line is at ``vg_off_volt``.
    """
    rows, cols = conductances.shape
    ii, jj = np.indices((rows, cols))
    labels = np.stack([ii.ravel(), jj.ravel()], 1)
    g = conductances
    if isinstance(cell, PassiveCell):
        return CellParts([_grp(RESISTOR, "rcell", labels, wl, bl, 1.0 / g,
                               "cells (resistance = 1 / G)")], [])
    if isinstance(cell, NonlinearCell):
        v0 = cell.v0_volt
        return CellParts([], [_grp(SINH, "bcell", labels, wl, bl, g * v0, "nonlinear cells: "
                                   f"I = G*V0*sinh(V/V0), V0 = {v0!r} V",
                                   param=np.full(g.size, v0))])
    if isinstance(cell, DeviceCell):
        prefix = "ncell" if cell.is_va else "xcell"
        if cell.gated:
            gl, gates = _gate_lines(nodes, gated_off, cell.vg_on_volt, cell.vg_off_volt)
            dev = _grp(DEVICE, prefix, labels, wl, bl, g, f"{cell.describe()} (value = "
                       f"{cell.cell_param})", model=cell, node_g=np.repeat(gl, cols))
            return CellParts([], [dev], gates=gates)
        if cell.selector is None:
            return CellParts([], [_grp(DEVICE, prefix, labels, wl, bl, g,
                                       f"{cell.describe()} (value = {cell.cell_param})", model=cell)])
        mid = nodes.block("mid", (rows, cols))
        s = cell.selector
        sel = _grp(DEVICE, "nsel" if s.is_va else "xsel", labels, wl, mid,
                   np.full(g.size, s.fixed_value()), f"selectors: {s.describe_fixed()}", model=s)
        mem = _grp(DEVICE, prefix, labels, mid, bl, g,
                   f"memory devices: {cell.name}, {cell.cell_param} = G[i, j]", model=cell)
        return CellParts([], [sel, mem], mid=mid)
    mid = nodes.block("mid", (rows, cols))
    if isinstance(cell, SelectorCell):
        sel = _grp(SINH, "bsel", labels, wl, mid, np.full(g.size, cell.i_s_amp),
                   f"selectors: I = Is*sinh(V/Vs), K = {cell.nonlinearity:g} at "
                   f"{cell.v_read_volt:g} V", param=np.full(g.size, cell.v_s_volt))
        res = _grp(RESISTOR, "rcell", labels, mid, bl, 1.0 / g, "memory elements (resistance = 1 / G)")
        return CellParts([res], [sel], mid=mid)
    if isinstance(cell, TransistorCell):
        return _transistor_parts(cell, g, nodes, wl, bl, mid, labels, gated_off)
    raise TypeError(f"unknown cell spec {cell!r}")


def _transistor_parts(cell, g, nodes, wl, bl, mid, labels, gated_off) -> CellParts:
    """1T1R: element and access transistor in the order ``cell.source_lines`` sets, and the
    gate lines (ideal: one node ``gl_i`` a row; resistive: a ladder of ``rgl`` segments)."""
    rows, cols = g.shape
    share = getattr(cell, "cells_per_gate", 1)  # 2T2R: the two columns of a pair share a gate
    n_gates = cols // share
    gl, gates = _gate_lines(nodes, gated_off, cell.vg_on_volt, cell.vg_off_volt)
    gate = np.repeat(gl, cols).reshape(rows, cols)
    resistors = []
    caps = ()
    if cell.three_line:
        gate_n = nodes.block("gl", (rows, n_gates))
        gi, gj = np.indices((rows, n_gates))
        g_labels = np.stack([gi.ravel(), gj.ravel()], 1)
        left = np.concatenate([gl[:, None], gate_n[:, :-1]], 1)
        what = "cell (i, j)" if share == 1 else "2T2R cell (i, j) (columns 2j, 2j+1)"
        resistors.append(_grp(RESISTOR, "rgl", g_labels, left, gate_n,
                              np.full(gate_n.size, cell.r_gl_ohm),
                              f"gate-line segments (rgl_i_j left of {what})"))
        if cell.c_gl_f > 0:
            caps = (_grp(CAPACITOR, "cgl", g_labels, gate_n, np.zeros(gate_n.size, int),
                         np.full(gate_n.size, cell.c_gl_f),
                         "gate-line capacitance to ground per segment"),)
        gate = np.repeat(gate_n, share, axis=1)
    if cell.source_lines == "columns":  # row line - element - mid - transistor - column line
        res = _grp(RESISTOR, "rcell", labels, wl, mid, 1.0 / g, "memory elements (resistance = 1 / G)")
        d, s = mid, bl
        where = ("drain mid, gate gl_i_j, source the column (source) line" if cell.three_line
                 else "drain mid, gate gl_i, source bit line")  # (the two-line text, as before)
    else:  # row (source) line - transistor - mid - element - column (bit) line
        res = _grp(RESISTOR, "rcell", labels, mid, bl, 1.0 / g, "memory elements (resistance = 1 / G)")
        d, s = wl, mid
        where = "drain the row (source) line, gate gl_i_j, source mid"
    mos = _grp(NMOS, "xacc" if cell.is_pdk else "macc", labels, d, s, np.full(g.size, cell.w_m),
               f"access transistors: {where}, bulk 0 ({cell.model_name})",
               param=np.full(g.size, cell.l_m), node_g=gate.ravel(), model=cell.mos_model)
    return CellParts([res, *resistors], [mos], gates=gates, mid=mid, capacitors=caps)
