"""Resistive-capacitive gate lines in a readout transient (three-line 1T1R arrays).

When the gate lines have capacitance (``TransistorCell(c_gl_f > 0)``) the readout turns
the rows on: every gate source ``vg_i`` ramps from ``vg_off_volt`` to its value over the
encoding's edge time as the first window opens (the reset releases the integrator), and
each gate-line node follows through its RC ladder, so the cells far from the gate driver
turn on later and the first window integrates less of their current. Both
engines see the same ramp (:func:`gate_ramp`).

The nodal engine takes the gate lines apart from the array: a gate draws no DC current,
so each line is a linear RC ladder driven by its source alone, solved here exactly
(eigenmodes of the ladder, each a first-order system under a piecewise-linear input:
closed form, no time step). The array then sees the gate voltages as held inputs at
every time point (:func:`gate_lines_as_inputs`), like the word-line drivers. This is
exact for transistors without gate charge; a level-1 card with ``TOX`` (Meyer gate
capacitances) is refused for ramped gates (:func:`check_gate_ramp`): ngspice cannot follow
the ramp on it, and its gate charge would load the ladder and couple into the cells.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from ...circuit.ir import VSOURCE, CircuitIR, ElementGroup
from ...errors import SpecError
from ...netlist.readout import gate_ramp, has_gate_dynamics  # noqa: F401 (one ramp for both engines)

#: Ladder responses closer to their final value than this (relative) are set to it, so
#: the gate voltages stop changing and later time points share one array solve.
SETTLED_REL = 1e-13


def check_gate_ramp(ir: CircuitIR) -> None:
    """Refuse, before any run, ramped gates on a level-1 card with ``TOX``: ngspice's Meyer
    gate capacitances stall its time step on the ramp ("timestep too small", measured on
    1x1 to 8x8 arrays with 0.1-1 ns ramps), and the nodal engine would hold a constant
    ``C_ox W L`` where ngspice moves charge into the drains and sources."""
    from ...circuit.iv_models import read_model_card
    if not has_gate_dynamics(ir):
        return
    for g in ir.devices:
        if g.kind == "nmos" and isinstance(g.model, str):
            name, p = read_model_card(g.model)
            if int(p.get("level", 1)) == 1 and p.get("tox", 0.0) > 0:
                raise SpecError("c_gl_f", f"is {ir.cell.c_gl_f:g} F, so the readout ramps the gates "
                                f"on, but the level-1 card {name} has TOX (Meyer gate "
                                "capacitances), on which ngspice's time step stalls during the ramp",
                                "model='level1-nocap' (the same card without gate charge; "
                                "--mos-model level1-nocap), a card without TOX, or c_gl_f=0")


def warn_gate_charge(ir: CircuitIR) -> str:
    """Warn (:class:`~spicebar.errors.ReadoutWarning`) when the nodal readout runs a level-1
    card with ``TOX``: ngspice integrates that card's Meyer gate capacitances (gate to drain and
    source, charged as the cells' drains and sources move with the bit lines), the nodal
    transient does not, so the two engines' samples part by about 1e-4 of full scale.
    Returns the text ("" when there is nothing to say). Ramped gates are refused instead
    (:func:`check_gate_ramp`)."""
    import warnings

    from ...circuit.iv_models import read_model_card
    from ...errors import ReadoutWarning
    for g in ir.devices:
        if g.kind == "nmos" and isinstance(g.model, str):
            name, p = read_model_card(g.model)
            if int(p.get("level", 1)) == 1 and p.get("tox", 0.0) > 0:
                text = (f"the nodal readout leaves out the gate charge of the level-1 card {name} "
                        f"({Path(g.model).name} has TOX, so ngspice integrates its Meyer gate "
                        "capacitances): expect ~1e-4 of full scale between the engines; for "
                        "the same transistor without gate charge use model='level1-nocap' "
                        "(--mos-model level1-nocap), or engine='ngspice' for the card's charges")
                warnings.warn(text, ReadoutWarning, stacklevel=3)
                return text
    return ""


def _share(ir: CircuitIR) -> int:
    """Columns per gate node: 1 (1T1R), 2 (2T2R, a pair of columns on one gate)."""
    return int(getattr(ir.cell, "cells_per_gate", 1))


def ladder_ramp_response(r_ohm: float, c_f: float, n: int, t_on: float, t_edge: float,
                         times: np.ndarray) -> np.ndarray:
    """Node voltages ``(len(times), n)`` of an RC ladder (``n`` nodes, a segment ``r_ohm``
    before each, ``c_f`` to ground at each, far end open) driven by a unit ramp 0 -> 1
    over ``[t_on, t_on + t_edge]`` s, from rest. Exact: the ladder's eigenmodes under the ramp."""
    t = np.asarray(times, float) - t_on
    lap = 2.0 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    lap[-1, -1] = 1.0  # the open far end
    lam, q = np.linalg.eigh(lap)
    a = lam / (r_ohm * c_f)              # (n,) 1/s, every mode decays (lam > 0)
    b = q[0] / (r_ohm * c_f)             # (n,) the source's drive of each mode
    s = 1.0 / t_edge                     # ramp slope, 1/s

    def ramp_part(tt):  # response to s * t * step(t), per mode: s (t/a - (1 - e^{-a t})/a^2)
        tt = np.maximum(tt, 0.0)[:, None]
        return s * (tt / a - (-np.expm1(-a * tt)) / a ** 2)
    w = b * (ramp_part(t) - ramp_part(t - t_edge))  # the ramp minus the same ramp delayed
    v = w @ q.T
    v[np.abs(v - 1.0) <= SETTLED_REL] = 1.0
    return v


def ladder_time_constant_s(ir: CircuitIR) -> float:
    """The gate ladder's slowest time constant, s (0 for an ideal gate line): the step
    grid resolves it after the gate ramp, as it does the edges and the reset."""
    cell = ir.cell
    if cell.r_gl_ohm <= 0:
        return 0.0
    n = ir.cols // _share(ir)
    lam_min = 4.0 * np.sin(np.pi / (2 * (2 * n + 1))) ** 2  # of the open-ended ladder
    return cell.r_gl_ohm * (cell.c_gl_f) / lam_min


def gate_node_voltages(ir: CircuitIR, schedule, t_edge: float,
                       times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(nodes (rows*cols,), v (len(times), rows*cols))``: every gate of the array over time
    under the ramp of :func:`gate_ramp`."""
    cell = ir.cell
    t_ramp, _ = gate_ramp(ir, schedule, t_edge)
    t_on = float(t_ramp[1])
    mos = [g for g in ir.devices if g.kind == "nmos"][0]
    gates = mos.node_g.reshape(ir.rows, ir.cols)
    off = float(cell.vg_off_volt)
    on = ir.gates.value  # (rows,) the final value of each row's source
    if cell.r_gl_ohm > 0:
        share = _share(ir)
        unit = ladder_ramp_response(cell.r_gl_ohm, cell.c_gl_f,
                                    ir.cols // share, t_on, t_edge, times)
        unit = np.repeat(unit, share, axis=1)  # 2T2R: both cells of a pair on one gate
    else:  # an ideal gate line: every gate is its source
        ramp = np.clip((np.asarray(times, float) - t_on) / t_edge, 0.0, 1.0)
        unit = np.repeat(ramp[:, None], ir.cols, 1)
    v = off + (on - off)[None, :, None] * unit[:, None, :]  # (n_t, rows, cols)
    return gates.ravel(), v.reshape(len(times), -1)


def gate_lines_as_inputs(ir: CircuitIR, schedule, t_edge: float, times: np.ndarray):
    """``(ir, schedule)`` where every gate node is held by a driver of an extra input (beyond
    ``ir.rows``: the array keeps its rows, and these drivers deliver no row's current), whose
    PWL is its ladder voltage at ``times`` (exact there), the gate-line segments and
    capacitors removed."""
    nodes, v = gate_node_voltages(ir, schedule, t_edge, times)
    unique, first = np.unique(nodes, return_index=True)
    order = np.sort(first)
    nodes, v = nodes[order], v[:, order]
    k = nodes.size
    held = ElementGroup(VSOURCE, "vgate", np.arange(k), nodes, np.zeros(k, int), np.zeros(k),
                        "gate-line nodes (held at their ladder voltage)")
    from ...circuit.elaboration import _concat
    drivers = _concat([ir.drivers, held])
    keep_r = tuple(g for g in ir.resistors if g.prefix != "rgl")
    keep_c = tuple(g for g in ir.capacitors if g.prefix != "cgl")
    gates = ir.gates if not np.isin(ir.gates.node_p, nodes).any() else None
    aug = replace(ir, drivers=drivers, resistors=keep_r, capacitors=keep_c,
                  driver_row=np.concatenate([ir.driver_row, ir.rows + np.arange(k)]), gates=gates)
    t = np.asarray(times, float)
    order_t = np.argsort(t)
    t_sorted, idx = np.unique(t[order_t], return_index=True)
    v_sorted = v[order_t][idx]
    row_t = tuple(schedule.row_t) + tuple(t_sorted for _ in range(k))
    row_v = tuple(schedule.row_v) + tuple(v_sorted[:, m] for m in range(k))
    return aug, replace(schedule, row_t=row_t, row_v=row_v)


#: The nodal grid follows the gate ramp through this many equal parts (the cells turn on
#: inside it, where the column current bends sharply) ...
GATE_RAMP_PARTS = 16
#: ... and the gate ladder's settling through breakpoints at these multiples of its slowest
#: time constant after the ramp (the steps restart small at each).
GATE_SETTLE_TAUS = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


#: While the far gates cross their threshold (up to GATE_CAP_TAUS slowest time constants
#: after the ramp) the nodal steps are at most 1/GATE_STEPS_PER_TAU of that time constant:
#: each cell's current bends as its gate passes the threshold, and the breakpoints alone
#: leave ~5e-4 of full scale there (measured, 6x6, 2 kohm / 20 fF segments; 1.3e-5 capped).
GATE_CAP_TAUS = 4.0
GATE_STEPS_PER_TAU = 16.0


def gate_step_cap(schedule, t_edge: float, tau_s: float, other=None):
    """``h_cap(t0, t1)`` for the step grid: the gate settling's cap, and ``other``'s (the reset's)."""
    t_on = float(schedule.t_open[0])
    t_end = t_on + t_edge + GATE_CAP_TAUS * tau_s
    cap = min(t_edge, tau_s) / GATE_STEPS_PER_TAU if tau_s > 0 else t_edge / GATE_RAMP_PARTS

    def h_cap(t0: float, t1: float) -> float:
        h = other(t0, t1) if other is not None else np.inf
        return min(h, cap) if (t1 > t_on and t0 < t_end) else h
    return h_cap


def with_gate_corner(schedule, t_edge: float, tau_s: float = 0.0):
    """``schedule`` with the gate ramp's corners, its parts and the ladder's settling points
    (``tau_s``: :func:`ladder_time_constant_s`) among its breakpoints (the nodal step grid's)."""
    t_on = float(schedule.t_open[0])
    ramp = t_on + t_edge * np.arange(GATE_RAMP_PARTS + 1) / GATE_RAMP_PARTS
    settle = t_on + t_edge + tau_s * np.asarray(GATE_SETTLE_TAUS) if tau_s > 0 else np.zeros(0)
    extra = np.unique(np.concatenate([[0.0], ramp, settle[settle < schedule.t_stop]]))
    return replace(schedule, row_t=tuple(schedule.row_t) + (extra,),
                   row_v=tuple(schedule.row_v) + (np.zeros(extra.size),))
