"""Write (program) operations: what the selected cell really gets, and what the others suffer.

A write of cell ``(row, col)`` at ``V_w`` biases the lines as a read does
(:class:`~spicebar.circuit.operation.ReadOperation`, at the write voltage): the selected word
line at ``V_w``, the selected bit line at 0 V, the unselected lines by ``scheme``:

========== ======================= ========================== =====================
scheme     unselected word lines   unselected bit lines       ideal stress (no IR)
========== ======================= ========================== =====================
floating   open                    open                       set by the sneak paths
v2         ``V_w / 2``             ``V_w / 2``                half-selected ``V_w/2``, others 0
v3         ``V_w / 3``             ``2 V_w / 3``              every other cell ``+-V_w/3``
========== ======================= ========================== =====================

The DC operating point is solved (nodal or ngspice); the cell voltage is its word-line
terminal minus its bit-line terminal (across the whole cell: selector or transistor
included). Half-selected cells share the selected row or column; unselected cells share
neither. With ``v_switch_volt`` (the write threshold) and ``v_disturb_volt`` (the largest
voltage a cell bears without changing), the write margin is the smaller of the two slacks,
``V_selected - v_switch`` and ``v_disturb - max |V_other|``: positive, the write works and
disturbs nothing.

Cells with an access device (1S1R, 1T1R, 2T2R) are stressed on their memory element, the
linear ``1/G`` in series with the selector or transistor: its voltage ``I_cell / G`` is the
stress (:attr:`WriteResult.stress`) that the thresholds, the worst cell and the margin use,
while ``cell_voltage`` stays the voltage across the whole cell (``ir_drop_v``: what the wires
take). A selector passes little current at ``V_w/2`` or ``V_w/3``, so a half-selected
element sees a small part of it; in a 1T1R or 2T2R write the selected row's gate is on
(``vg_on_volt``) and every other row's off (``vg_off_volt``), so the cells of the other
rows carry only the transistors' leakage whatever their line voltages. DC only: pulse shape, switching dynamics and the cell's change during
the pulse are not modelled. A write of the opposite polarity (selected bit line at ``V_w``)
gives the same magnitudes for cells with a symmetric I-V.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import _validate as v
from ..circuit.operation import ReadOperation
from ..circuit.spec import CrossbarSpec
from ..errors import SpecError

#: Cell kinds whose memory element is a linear ``1/G`` behind an access device: their stress
#: is the element's voltage ``I / G``.
ACCESS_DEVICE_KINDS = ("1s1r", "1t1r", "2t2r")
#: Cell roles in :attr:`WriteResult.role`.
SELECTED, HALF_ROW, HALF_COL, UNSELECTED = 0, 1, 2, 3
ROLE_NAMES = {SELECTED: "selected", HALF_ROW: "half-selected (row)",
              HALF_COL: "half-selected (column)", UNSELECTED: "unselected"}


@dataclass(frozen=True, eq=False)
class WriteResult:
    """One DC write: voltages in volts, currents in amperes, maps of shape ``(rows, cols)``.

    Attributes:
        cell_voltage: word-line minus bit-line terminal voltage of every cell.
        cell_current: current through every cell, word line to bit line.
        element_voltage: the memory element's voltage ``cell_current / G`` for cells with an
            access device (1S1R, 1T1R, 2T2R), else None (the element is the whole cell).
        role: :data:`SELECTED`, :data:`HALF_ROW`, :data:`HALF_COL` or :data:`UNSELECTED`.
        worst: ``(row, col)`` of the most stressed cell other than the selected one.
        margin_v: ``min(write_slack_v, disturb_slack_v)`` where thresholds were given.
    """

    engine: str
    row: int
    col: int
    scheme: str
    v_write_volt: float
    cell_voltage: np.ndarray = field(repr=False)
    cell_current: np.ndarray = field(repr=False)
    role: np.ndarray = field(repr=False)
    driver_current_a: float = 0.0
    v_switch_volt: float | None = None
    v_disturb_volt: float | None = None
    info: dict = field(default_factory=dict, repr=False)
    element_voltage: np.ndarray | None = field(default=None, repr=False)

    @property
    def stress(self) -> np.ndarray:
        """The voltage the memory elements bear, ``(rows, cols)`` V: ``element_voltage``
        where the cells have an access device, else ``cell_voltage``."""
        return self.cell_voltage if self.element_voltage is None else self.element_voltage

    @property
    def v_selected_volt(self) -> float:
        """What the selected memory element receives, V (after IR drop and access device)."""
        return float(self.stress[self.row, self.col])

    @property
    def v_selected_cell_volt(self) -> float:
        """The selected cell's terminal voltage, V (after IR drop only)."""
        return float(self.cell_voltage[self.row, self.col])

    @property
    def i_selected_a(self) -> float:
        return float(self.cell_current[self.row, self.col])

    @property
    def worst(self) -> tuple[int, int]:
        stress = np.abs(self.stress).copy()
        stress[self.row, self.col] = -np.inf
        i, j = np.unravel_index(int(np.argmax(stress)), stress.shape)
        return int(i), int(j)

    @property
    def worst_v(self) -> float:
        return float(self.stress[self.worst])

    @property
    def worst_i(self) -> float:
        return float(self.cell_current[self.worst])

    def worst_of(self, role: int) -> float:
        """Largest ``|V|`` over the cells of ``role`` (0 if there are none), volts."""
        m = self.role == role
        return float(np.abs(self.stress[m]).max()) if m.any() else 0.0

    @property
    def ir_drop_v(self) -> float:
        """What the wires take from the selected cell: ``V_w`` minus its terminal voltage, volts."""
        return self.v_write_volt - self.v_selected_cell_volt

    @property
    def write_slack_v(self) -> float | None:
        return None if self.v_switch_volt is None else self.v_selected_volt - self.v_switch_volt

    @property
    def disturb_slack_v(self) -> float | None:
        return None if self.v_disturb_volt is None else self.v_disturb_volt - abs(self.worst_v)

    @property
    def margin_v(self) -> float | None:
        slacks = [s for s in (self.write_slack_v, self.disturb_slack_v) if s is not None]
        return min(slacks) if slacks else None

    @property
    def disturbed(self) -> int:
        """How many non-selected cells reach ``|V| >= v_disturb_volt`` (0 without it)."""
        if self.v_disturb_volt is None:
            return 0
        m = np.abs(self.stress) >= self.v_disturb_volt
        m[self.row, self.col] = False
        return int(m.sum())

    def summary(self) -> dict:
        """The figures as a JSON-able dict."""
        wi, wj = self.worst
        return {"engine": self.engine, "rows": int(self.role.shape[0]),
                "cols": int(self.role.shape[1]), "selected": [self.row, self.col],
                "scheme": self.scheme, "v_write_volt": self.v_write_volt,
                "v_selected_volt": self.v_selected_volt, "i_selected_a": self.i_selected_a,
                "v_selected_cell_volt": self.v_selected_cell_volt,
                "stress_on": "whole cell" if self.element_voltage is None else "memory element",
                "ir_drop_v": self.ir_drop_v, "worst_cell": [wi, wj],
                "worst_role": ROLE_NAMES[int(self.role[wi, wj])], "worst_v": self.worst_v,
                "worst_i_a": self.worst_i,
                "worst_half_selected_v": max(self.worst_of(HALF_ROW), self.worst_of(HALF_COL)),
                "worst_unselected_v": self.worst_of(UNSELECTED),
                "driver_current_a": self.driver_current_a,
                "v_switch_volt": self.v_switch_volt, "v_disturb_volt": self.v_disturb_volt,
                "write_slack_v": self.write_slack_v, "disturb_slack_v": self.disturb_slack_v,
                "margin_v": self.margin_v, "disturbed_cells": self.disturbed,
                **({"wires": self.info["wires"]} if "wires" in self.info else {})}


def roles(rows: int, cols: int, row: int, col: int) -> np.ndarray:
    """The role of every cell in a write of ``(row, col)``, shape ``(rows, cols)``."""
    out = np.full((rows, cols), UNSELECTED, dtype=np.int8)
    out[row, :] = HALF_ROW
    out[:, col] = HALF_COL
    out[row, col] = SELECTED
    return out


def _threshold(name: str, value) -> float | None:
    if value is None:
        return None
    x = v.positive_scalar(name, value, "V")
    if x > 20:
        raise SpecError(name, f"is {value!r} V", "> 0 and <= 20 V")
    return x


def write_cell(spec: CrossbarSpec, row: int, col: int, v_write_volt: float, *,
               scheme: str = "v3", v_switch_volt: float | None = None,
               v_disturb_volt: float | None = None, engine: str = "nodal",
               **simulate_options) -> WriteResult:
    """DC write of cell ``(row, col)`` of ``spec`` at ``v_write_volt`` (see the module notes).

    Args:
        scheme: ``v2``, ``v3`` or ``floating`` (unselected lines open).
        v_switch_volt: write threshold: the selected cell must receive at least this.
        v_disturb_volt: disturb threshold: no other cell may reach this magnitude.
        engine: ``nodal`` or ``ngspice``.
        simulate_options: passed to :func:`spicebar.engines.simulation.simulate`.
    """
    from ..engines.simulation import simulate
    v.choice("engine", engine, ("nodal", "ngspice"))
    v_sw = _threshold("v_switch_volt", v_switch_volt)
    v_dist = _threshold("v_disturb_volt", v_disturb_volt)
    op = ReadOperation(row=row, col=col, v_read_volt=v_write_volt, scheme=scheme)
    op.check(spec.rows, spec.cols, spec.cell.kind)
    r = simulate(spec, None, engine, operation=op, **simulate_options)
    vc = np.asarray(r.v_wl[0] - r.v_bl[0])
    ic = np.asarray(r.cell_currents[0])
    ve = ic / spec.conductances if spec.cell.kind in ACCESS_DEVICE_KINDS else None
    info = {"operation": f"write of cell ({row}, {col}) at {op.v_read_volt:g} V, {scheme} "
                         "scheme (DC operating point)", **{k: r.info[k] for k in ("wires",)
                                                           if k in r.info}}
    return WriteResult(engine, int(row), int(col), scheme, op.v_read_volt, vc, ic,
                       roles(spec.rows, spec.cols, row, col),
                       float(np.abs(r.driver_currents[0]).sum()), v_sw, v_dist, info, ve)


def _num(x) -> str:
    if x is None:
        return "-"
    return f"{x:.4g}" if not isinstance(x, list) else f"{x[0]:.4g}..{x[1]:.4g}"


def format_write(res: WriteResult) -> str:
    """A few lines for a terminal."""
    s = res.summary()
    lines = [f"{s['engine']}: write of cell ({res.row}, {res.col}) of a {s['rows']}x{s['cols']} "
             f"array at {res.v_write_volt:g} V, {res.scheme} scheme (DC)",
             f"  selected cell: {s['v_selected_cell_volt']:.6g} V ({s['ir_drop_v']:.4g} V lost to "
             f"the wires), {s['i_selected_a']:.6g} A"
             + ("" if res.element_voltage is None else
                f"; its memory element {s['v_selected_volt']:.6g} V (stress below: on the "
                "memory elements)"),
             f"  worst disturbed cell: ({s['worst_cell'][0]}, {s['worst_cell'][1]}), "
             f"{s['worst_role']}, {s['worst_v']:.6g} V, {s['worst_i_a']:.6g} A",
             f"  worst half-selected |V| {s['worst_half_selected_v']:.6g} V, worst unselected "
             f"|V| {s['worst_unselected_v']:.6g} V"]
    if res.margin_v is not None:
        parts = []
        if res.write_slack_v is not None:
            parts.append(f"write slack {res.write_slack_v:+.4g} V (threshold {res.v_switch_volt:g} V)")
        if res.disturb_slack_v is not None:
            parts.append(f"disturb slack {res.disturb_slack_v:+.4g} V (threshold "
                         f"{res.v_disturb_volt:g} V, {res.disturbed} cell(s) at or above)")
        lines.append(f"  write margin {res.margin_v:+.4g} V: " + ", ".join(parts))
    w = res.info.get("wires")
    if w:
        lines.append(f"  wires at {w['temperature_k']:g} K: r_wl {_num(w['r_wl_ohm'])} ohm, r_bl "
                     f"{_num(w['r_bl_ohm'])} ohm, c {_num(w['c_wl_f'])} F per segment")
    return "\n".join(lines)
