"""The energy of a read, itemised: where each joule comes from and where it goes (pure).

Every engine hands over the power of each element of the circuit IR (watts, ``(n_periods,
n_elements)`` per element group, *absorbed* positive, so a source that delivers reads
negative, as ngspice's instance parameter ``p`` does). This module files each element
under one component, integrates over each period (the read time of a DC read, the window of
a readout transient) and checks the balance (Tellegen's theorem: what the sources deliver
is what the elements dissipate plus the change of what they store).

Components (keys in result files; :data:`LABELS` gives the words):

* delivered: ``drivers`` (word-line drivers / DACs of selected rows), ``bias`` (sources of
  unselected lines and bit-line bias), ``gates`` (1T1R gate lines), ``supplies`` (the
  op-amps' rails), ``opamp_out`` (op-amp outputs with no supply modelled: energy from
  nowhere, named as such);
* absorbed: ``memory`` (memory elements of selected cells), ``access`` (their selectors /
  transistors / devices), ``sneak`` (every cell on an unselected or half-selected line),
  ``wl_wire``, ``bl_wire`` (wire segments), ``driver_r``, ``sense_r`` (driver and sense
  resistances), ``wire_c`` (wire capacitance, stored), ``c_int`` (integration capacitor,
  stored), ``reset`` (reset switch), ``opamp`` (op-amp: rail energy not passed to its output).

The converters (ADC, DAC) are not circuit elements here: their energy is an estimate from a
figure of merit (:class:`ConverterEnergy`) reported beside the circuit's, never in the balance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from .. import _validate as v
from ..circuit.ir import CAPACITOR, DEVICE, NMOS, RESISTOR, SINH, VSOURCE, CircuitIR
from ..errors import SpecError

DELIVERED = ("drivers", "bias", "gates", "supplies", "opamp_out")
ABSORBED = ("memory", "access", "sneak", "wl_wire", "bl_wire", "driver_r", "sense_r",
            "wire_c", "c_int", "reset", "r_f", "opamp")
STORED = ("wire_c", "c_int")
LABELS = {
    "drivers": "word-line drivers", "bias": "bias sources (unselected lines)",
    "gates": "gate lines", "supplies": "op-amp supplies", "opamp_out": "op-amp outputs (no supply)",
    "memory": "memory elements", "access": "access devices", "sneak": "sneak cells (unselected lines)",
    "wl_wire": "word-line wires", "bl_wire": "bit-line wires", "driver_r": "driver resistance",
    "sense_r": "sense resistance", "wire_c": "wire capacitance (stored)",
    "c_int": "integration capacitor (stored)", "reset": "reset switch", "r_f": "feedback resistor (TIA)", "opamp": "op-amp",
}
#: Resistor prefixes -> component (cells are split by line selection, see below).
_RESISTOR_ROLE = {"rdrv": "driver_r", "rdrvr": "driver_r", "rwl": "wl_wire", "rbl": "bl_wire",
                  "rbltop": "bl_wire", "rsense": "sense_r", "rsenset": "sense_r"}
#: Device prefixes that are access devices (the rest of the cells are memory elements).
_ACCESS = ("bsel", "xsel", "nsel", "macc")
#: Element kinds whose energy is itemised (a MOSFET's and a user device's power need their
#: junction and charge terms, which spicebar does not itemise yet).
ITEMISED_KINDS = (RESISTOR, VSOURCE, SINH, CAPACITOR)

#: Default ADC figure of merit, J per conversion step (Walden: E = FoM * 2^bits per
#: conversion). 10 fJ/step: the range of good 8-10 bit SAR ADCs in B. Murmann, "ADC
#: Performance Survey 1997-2024" (github.com/bmurmann/ADC-survey), where the best reach
#: ~1 fJ/step; ISAAC's 8-bit ADC (2 mW at 1.28 GS/s) is 6.1 fJ/step.
ADC_FOM_J_PER_STEP = 10e-15
#: Default DAC energy per 1-bit conversion, J: ISAAC's 1-bit DAC (A. Shafiee et al., ISCA
#: 2016, Table 1: 3.9 uW) over its 100 ns crossbar read cycle.
DAC_J_PER_CONVERSION = 3.9e-6 * 100e-9
SOURCES = {"adc_fom_j_per_step": "B. Murmann, ADC Performance Survey 1997-2024 (10 fJ/step, "
                                 "good 8-10 bit SAR ADCs)",
           "dac_j_per_conversion": "ISAAC (Shafiee et al., ISCA 2016): 1-bit DAC 3.9 uW x 100 ns"}


@dataclass(frozen=True)
class ConverterEnergy:
    """Figures of merit of the converters (estimates beside the circuit's energy).

    Attributes:
        adc_bits: ADC resolution, bits (1..24): ``adc_fom_j_per_step * 2**adc_bits`` J a
            conversion, one conversion per column and period.
        adc_fom_j_per_step: Walden figure of merit, J per conversion step, >= 0.
        dac_j_per_conversion: J per DAC conversion (one per driven row and period), >= 0.
    """

    adc_bits: int = 8
    adc_fom_j_per_step: float = ADC_FOM_J_PER_STEP
    dac_j_per_conversion: float = DAC_J_PER_CONVERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "adc_bits", v.integer_in("adc_bits", self.adc_bits, 1, 24))
        object.__setattr__(self, "adc_fom_j_per_step", v.nonnegative_scalar(
            "adc_fom_j_per_step", self.adc_fom_j_per_step, "J/step"))
        object.__setattr__(self, "dac_j_per_conversion", v.nonnegative_scalar(
            "dac_j_per_conversion", self.dac_j_per_conversion, "J"))

    @property
    def adc_j_per_conversion(self) -> float:
        return self.adc_fom_j_per_step * 2.0 ** self.adc_bits


@dataclass(frozen=True, eq=False)
class EnergyBreakdown:
    """The itemised energy of every period (a DC read's vector, a transient's window).

    Attributes:
        engine: the engine whose powers these are.
        mode: ``dc`` (power x ``period_s``) or ``transient`` (power integrated over each window).
        period_s: ``(n,)`` s, length of each period.
        delivered: component -> ``(n,)`` J delivered by that kind of source (:data:`DELIVERED`).
        absorbed: component -> ``(n,)`` J dissipated or stored (:data:`ABSORBED`).
        columns: ``(n, cols)`` J dissipated in each column's cells and bit-line wires.
        macs: multiply-accumulates of one period (rows x cols for a DC VMM; a transient
            window of a multi-window encoding holds its share of a vector's).
        converters: ``adc``, ``dac`` -> ``(n,)`` J estimated from the figures of merit.
        ideal_wires: ``(n,)`` J the same array absorbs with ideal wires, or None.
        stored_check: ``(n,)`` J, ``0.5 C V^2`` at the period's end minus its start, summed
            over the capacitors (transient; the integrated ``p`` of the capacitors should match).
        meta: engine details and figure-of-merit sources (JSON-able).
    """

    engine: str
    mode: str
    period_s: np.ndarray
    delivered: dict
    absorbed: dict
    columns: np.ndarray
    macs: float
    converters: dict = field(default_factory=dict)
    ideal_wires: np.ndarray | None = None
    stored_check: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.period_s.shape[0])

    @property
    def total_delivered(self) -> np.ndarray:
        """``(n,)`` J every source delivered."""
        return sum((x for x in self.delivered.values()), np.zeros(self.n))

    @property
    def total_absorbed(self) -> np.ndarray:
        """``(n,)`` J dissipated plus stored."""
        return sum((x for x in self.absorbed.values()), np.zeros(self.n))

    @property
    def balance_residual(self) -> np.ndarray:
        """``(n,)``: (delivered - dissipated - stored) / (the larger magnitude, or the largest
        term): Tellegen's theorem says 0 up to rounding."""
        terms = [np.abs(x) for x in (*self.delivered.values(), *self.absorbed.values())]
        scale = np.maximum(np.max(terms, axis=0), np.finfo(float).tiny)
        return (self.total_delivered - self.total_absorbed) / scale

    @property
    def wires(self) -> np.ndarray:
        """``(n,)`` J dissipated in word- and bit-line wires."""
        return self.absorbed.get("wl_wire", 0) + self.absorbed.get("bl_wire", 0) + np.zeros(self.n)

    @property
    def ir_drop_cost(self) -> np.ndarray | None:
        """``(n,)`` J: this array's absorbed energy minus the same array's with ideal wires."""
        return None if self.ideal_wires is None else self.total_absorbed - self.ideal_wires

    @property
    def total_with_converters(self) -> np.ndarray:
        return self.total_delivered + sum((x for x in self.converters.values()), np.zeros(self.n))

    def fj_per_mac(self, converters: bool = True) -> float:
        """Energy per multiply-accumulate over every period, fJ."""
        e = self.total_with_converters if converters else self.total_delivered
        return float(e.sum() / (self.macs * self.n)) * 1e15

    def tops_per_w(self, converters: bool = True) -> float:
        """Operations (2 per MAC) per joule, in TOPS/W (= 1e12 op/J)."""
        fj = self.fj_per_mac(converters)
        return float("inf") if fj == 0 else 2.0 / (fj * 1e-15) / 1e12

    def to_record(self) -> dict:
        """Arrays (and one JSON string) for a result file; :meth:`from_record` reads them."""
        keys_d, keys_a = list(self.delivered), list(self.absorbed)
        rec = {"delivered_j": np.array([self.delivered[k] for k in keys_d]).reshape(len(keys_d), self.n),
               "absorbed_j": np.array([self.absorbed[k] for k in keys_a]).reshape(len(keys_a), self.n),
               "period_s": self.period_s, "columns_j": self.columns,
               "converters_j": np.array([self.converters[k] for k in self.converters]).reshape(-1, self.n)}
        if self.ideal_wires is not None:
            rec["ideal_wires_j"] = self.ideal_wires
        if self.stored_check is not None:
            rec["stored_check_j"] = self.stored_check
        rec["meta"] = np.array(json.dumps({
            "engine": self.engine, "mode": self.mode, "macs": self.macs, "delivered": keys_d,
            "absorbed": keys_a, "converters": list(self.converters), **self.meta}, default=str))
        return rec

    @classmethod
    def from_record(cls, rec: dict) -> "EnergyBreakdown":
        meta = json.loads(str(rec["meta"]))
        engine, mode, macs = meta.pop("engine"), meta.pop("mode"), meta.pop("macs")
        kd, ka, kc = meta.pop("delivered"), meta.pop("absorbed"), meta.pop("converters")
        return cls(engine=engine, mode=mode, period_s=np.asarray(rec["period_s"]),
                   delivered=dict(zip(kd, np.asarray(rec["delivered_j"]))),
                   absorbed=dict(zip(ka, np.asarray(rec["absorbed_j"]))),
                   columns=np.asarray(rec["columns_j"]), macs=macs,
                   converters=dict(zip(kc, np.asarray(rec["converters_j"]))),
                   ideal_wires=np.asarray(rec["ideal_wires_j"]) if "ideal_wires_j" in rec else None,
                   stored_check=np.asarray(rec["stored_check_j"]) if "stored_check_j" in rec else None,
                   meta=meta)

    def table(self, period: int | None = None) -> str:
        """A text table of every component (J), summed over the periods or of one period."""
        def pick(x):
            x = np.asarray(x)
            return float(x.sum()) if period is None else float(x[period])
        what = f"period {period}" if period is not None else f"{self.n} period(s)"
        lines = [f"energy ({self.engine}, {self.mode}, {what}):"]
        tot = pick(self.total_delivered)
        for title, items in (("delivered", self.delivered), ("absorbed", self.absorbed),
                             ("converters (estimates)", self.converters)):
            lines.append(f"  {title}:")
            for k, x in items.items():
                e = pick(x)
                share = f"{100 * e / tot:6.2f} %" if tot and title != "converters (estimates)" else ""
                lines.append(f"    {LABELS.get(k, k):36s} {e:12.5g} J {share}")
        lines.append(f"  balance residual (Tellegen): {np.abs(self.balance_residual).max():.2g}")
        if self.ideal_wires is not None:
            lines.append(f"  IR-drop cost (vs ideal wires): {pick(self.ir_drop_cost):.5g} J")
        lines.append(f"  {self.fj_per_mac(False):.4g} fJ/MAC ({self.tops_per_w(False):.4g} TOPS/W) "
                     f"circuit; {self.fj_per_mac(True):.4g} fJ/MAC ({self.tops_per_w(True):.4g} "
                     "TOPS/W) with converters")
        return "\n".join(lines)


def scatter(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """``out[b, index[k]] += values[b, k]``: ``(batch, n)`` -> ``(batch, size)`` (bincount per
    row: ten times faster than ``np.add.at``)."""
    return np.stack([np.bincount(index, weights=row, minlength=size) for row in values]) \
        if values.shape[0] else np.zeros((0, size))


def _by_column(col: np.ndarray, e: np.ndarray, cols: int) -> np.ndarray:
    """``(batch, n)`` per element -> ``(batch, cols)`` summed by column (a sparse product)."""
    import scipy.sparse as sp
    m = sp.csr_matrix((np.ones(col.size), (col, np.arange(col.size))), shape=(cols, col.size))
    return np.asarray(m @ e.T).T


def selected_cells(ir: CircuitIR, operation) -> np.ndarray:
    """``(rows, cols)`` bool: cells on a selected word line and a selected bit line (the
    rest are sneak cells)."""
    rows, cols = ir.rows, ir.cols
    if operation is None:
        row_sel = np.ones(rows, bool)
    else:
        row_sel = operation.intended_inputs(np.ones((1, rows)))[0] != 0
    col_sel = np.ones(cols, bool)
    if getattr(operation, "mode", "vmm") == "read":
        col_sel = np.arange(cols) == operation.col
    elif operation is not None:
        col_sel = ~operation.floating_col_mask(cols)
    return row_sel[:, None] & col_sel[None, :]


def check_itemised(ir: CircuitIR) -> None:
    """Refuse (SpecError) circuits with elements whose energy is not itemised."""
    for g in ir.groups:
        if g.kind not in ITEMISED_KINDS:
            what = "1T1R (MOSFET)" if g.kind == NMOS else "user-device" if g.kind == DEVICE else g.kind
            raise SpecError("cell", f"is a {what} cell: its energy (channel, junction and charge "
                            "terms) is not itemised by spicebar yet",
                            "passive, nonlinear (sinh) or 1S1R cells for --energy")


def _role(g, selected: np.ndarray, sources) -> str | dict:
    """Component of the elements of ``g``: one key, or ``{key: (n,) bool}`` where the
    group splits (cells on selected lines or not; drivers of the read row or not)."""
    if g.kind == VSOURCE:
        return sources(g)
    if g.kind == CAPACITOR:
        return "wire_c"
    prefix = g.prefix if isinstance(g.prefix, str) else None
    if prefix in _RESISTOR_ROLE:
        return _RESISTOR_ROLE[prefix]
    base = "access" if prefix in _ACCESS else "memory"
    sel = selected[g.labels[:, 0], g.labels[:, 1]]
    return base if sel.all() else {base: sel, "sneak": ~sel}


def _column_of(g) -> np.ndarray | None:
    """The column of each cell or bit-line element, else None."""
    prefix = g.prefix if isinstance(g.prefix, str) else None
    if prefix in ("rbl",) or (prefix not in _RESISTOR_ROLE and g.kind in (RESISTOR, SINH)):
        return g.labels[:, 1]
    if prefix == "rbltop":
        return g.labels
    return None


def aggregate(ir: CircuitIR, powers: list[np.ndarray], dt: np.ndarray, selected: np.ndarray,
              operation=None, extra_delivered: dict | None = None,
              extra_absorbed: dict | None = None) -> tuple[dict, dict, np.ndarray]:
    """File each element's energy under its component.

    Args:
        powers: one ``(n, len(group))`` array per group of ``ir.groups``: energy of each
            element over each period, J, absorbed positive (``dt`` multiplies it: pass
            ``dt = 1`` for energies, the period for DC powers).
        dt: ``(n,)`` s (or ones).
        selected: ``(rows, cols)`` bool (:func:`selected_cells`).
        extra_delivered, extra_absorbed: readout components (J, ``(n,)``) added as they are.
    Returns:
        ``(delivered, absorbed, columns)``: dicts of ``(n,)`` J and ``(n, cols)`` J.
    """
    n = dt.shape[0]
    delivered = {k: np.zeros(n) for k in DELIVERED}
    absorbed = {k: np.zeros(n) for k in ABSORBED}
    columns = np.zeros((n, ir.cols))
    read_row = getattr(operation, "row", None) if getattr(operation, "mode", "") == "read" else None

    def sources(g):
        if g is ir.drivers:
            if read_row is None:
                return "drivers"
            mine = ir.driver_row == read_row
            return {"drivers": mine, "bias": ~mine}
        if g is ir.gates:
            return "gates"
        return "bias"  # the readout's virtual grounds: 0 V in a VMM, biased in a read

    for g, p in zip(ir.groups, powers):
        e = np.asarray(p, float) * dt[:, None]
        role = _role(g, selected, sources)
        target = delivered if g.kind == VSOURCE else absorbed
        sign = -1.0 if g.kind == VSOURCE else 1.0
        if isinstance(role, str):
            target[role] += sign * e.sum(axis=1)
        else:
            for key, mask in role.items():
                target[key] += sign * e[:, mask].sum(axis=1)
        col = _column_of(g)
        if col is not None:
            columns += _by_column(np.asarray(col).ravel(), e, ir.cols)
    for src, dst in ((extra_delivered, delivered), (extra_absorbed, absorbed)):
        for k, x in (src or {}).items():
            dst[k] = dst[k] + x
    keep = lambda d: {k: x for k, x in d.items() if np.any(x != 0)}  # noqa: E731
    return keep(delivered), keep(absorbed), columns


def element_currents(ir: CircuitIR, v: np.ndarray) -> list[np.ndarray | None]:
    """Current of every non-source element from ``p`` to ``n`` (``(batch, len(group))`` A)
    at node voltages ``v`` ``(batch, n_nodes)``; None for sources and capacitors (DC)."""
    from ..circuit.iv_models import sinh_iv
    out = []
    for g in ir.groups:
        dv = v[:, g.node_p] - v[:, g.node_n]
        if g.kind == RESISTOR:
            out.append(dv / g.value)
        elif g.kind == SINH:
            out.append(sinh_iv(dv, g.value, g.param)[0])
        elif g.kind == CAPACITOR:
            out.append(np.zeros_like(dv))
        elif g.kind == VSOURCE:
            out.append(None)
        else:
            check_itemised(ir)
    return out


def dc_powers(ir: CircuitIR, v: np.ndarray) -> list[np.ndarray]:
    """Power of every element at node voltages ``v`` ``(batch, n_nodes)``, W absorbed,
    one ``(batch, len(group))`` array per group of ``ir.groups``. A source's current is
    what KCL leaves at its node (every source has its ``-`` terminal at ground)."""
    check_itemised(ir)
    cur = element_currents(ir, v)
    is_src = np.zeros(ir.n_nodes, bool)  # KCL is needed at the sources' nodes only
    for g in ir.groups:
        if g.kind == VSOURCE:
            is_src[g.node_p] = True
    net = np.zeros((v.shape[0], ir.n_nodes))  # current each source node sends into the elements
    for g, i in zip(ir.groups, cur):
        if i is not None:
            for nodes, sign in ((g.node_p, 1.0), (g.node_n, -1.0)):
                at = np.flatnonzero(is_src[nodes])
                if at.size:
                    net += sign * scatter(nodes[at], i[:, at], ir.n_nodes)
    out = []
    for g, i in zip(ir.groups, cur):
        dv = v[:, g.node_p] - v[:, g.node_n]
        out.append(-dv * net[:, g.node_p] if i is None else dv * i)
    return out


def converter_energy(conv: ConverterEnergy, n_conversions_adc: np.ndarray,
                     n_conversions_dac: np.ndarray) -> dict:
    """``adc`` and ``dac`` J per period from the numbers of conversions ``(n,)``."""
    return {"adc": conv.adc_j_per_conversion * np.asarray(n_conversions_adc, float),
            "dac": conv.dac_j_per_conversion * np.asarray(n_conversions_dac, float)}
