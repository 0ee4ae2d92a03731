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
every time point (:func:`gate_lines_as_inputs`), like the word-line drivers. What this
leaves out is the transistors' own gate charge (the Meyer capacitances of a card with
``TOX``): their ``C_ox W L`` is added to each ladder node as a constant capacitance to
ground (:func:`gate_capacitance_f`), and the coupling of the gate ramp into the drains
and sources is not modelled (``info["not_modelled"]``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...circuit.ir import VSOURCE, CircuitIR, ElementGroup
from ...netlist.readout import gate_ramp, has_gate_dynamics  # noqa: F401 (one ramp for both engines)

#: Permittivity of SiO2, F/m (3.9 eps0), ngspice's value for the level-1 C_ox.
EPS_OX = 3.9 * 8.854214871e-12
#: Ladder responses closer to their final value than this (relative) are set to it, so
#: the gate voltages stop changing and later time points share one array solve.
SETTLED_REL = 1e-13


def gate_capacitance_f(ir: CircuitIR) -> float:
    """The access transistor's gate capacitance ``C_ox W L`` (F) of a level-1 card with
    ``TOX`` (0 without: ngspice's level 1 then has no gate charge)."""
    from ...circuit.iv_models import read_model_card
    mos = [g for g in ir.devices if g.kind == "nmos"]
    if not mos:
        return 0.0
    tox = read_model_card(str(mos[0].model))[1].get("tox", 0.0)
    return EPS_OX / tox * float(mos[0].value[0]) * float(mos[0].param[0]) if tox > 0 else 0.0


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
    n = ir.cols
    lam_min = 4.0 * np.sin(np.pi / (2 * (2 * n + 1))) ** 2  # of the open-ended ladder
    return cell.r_gl_ohm * (cell.c_gl_f + gate_capacitance_f(ir)) / lam_min


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
        unit = ladder_ramp_response(cell.r_gl_ohm, cell.c_gl_f + gate_capacitance_f(ir),
                                    ir.cols, t_on, t_edge, times)
    else:  # an ideal gate line: every gate is its source
        ramp = np.clip((np.asarray(times, float) - t_on) / t_edge, 0.0, 1.0)
        unit = np.repeat(ramp[:, None], ir.cols, 1)
    v = off + (on - off)[None, :, None] * unit[:, None, :]  # (n_t, rows, cols)
    return gates.ravel(), v.reshape(len(times), -1)


def gate_lines_as_inputs(ir: CircuitIR, schedule, t_edge: float, times: np.ndarray):
    """``(ir, schedule)`` where every gate node is held by a driver of an extra input row,
    whose PWL is its ladder voltage at ``times`` (exact there), the gate-line segments and
    capacitors removed; the array's rows keep their indices (the extra rows come after)."""
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
    aug = replace(ir, rows=ir.rows + k, drivers=drivers, resistors=keep_r, capacitors=keep_c,
                  driver_row=np.concatenate([ir.driver_row, ir.rows + np.arange(k)]), gates=gates)
    t = np.asarray(times, float)
    order_t = np.argsort(t)
    t_sorted, idx = np.unique(t[order_t], return_index=True)
    v_sorted = v[order_t][idx]
    row_t = tuple(schedule.row_t) + tuple(t_sorted for _ in range(k))
    row_v = tuple(schedule.row_v) + tuple(v_sorted[:, m] for m in range(k))
    return aug, replace(schedule, row_t=row_t, row_v=row_v)


def with_gate_corner(schedule, t_edge: float):
    """``schedule`` with the gate ramp's corners among its breakpoints (the step grid's)."""
    t_on = float(schedule.t_open[0])
    extra = np.array([0.0, t_on, t_on + t_edge])
    return replace(schedule, row_t=tuple(schedule.row_t) + (extra,),
                   row_v=tuple(schedule.row_v) + (np.array([0.0, 0.0, 1.0]),))
