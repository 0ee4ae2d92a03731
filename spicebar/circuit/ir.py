"""The circuit IR: element tables as numpy arrays, the one truth about topology.

The netlist emitter and the nodal solver both read this; neither knows how a
crossbar is laid out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from .names import indexed_names

#: Element kinds every engine must handle (a test checks each has an emitter and a stamp).
RESISTOR = "resistor"
VSOURCE = "vsource"
SINH = "sinh"  # two-terminal I = value * sinh(V / param): nonlinear element, selector
NMOS = "nmos"  # MOSFET: node_p drain, node_g gate, node_n source, bulk ground; W = value, L = param
CAPACITOR = "capacitor"  # value in farad; open at DC (wire capacitance for transients)
#: A user device (circuit/devices.py): node_p first terminal, node_n second; value is the
#: device parameter ``model.cell_param`` (G[i, j]); ``model`` the DeviceCell.
DEVICE = "device"
ELEMENT_KINDS = (RESISTOR, VSOURCE, SINH, NMOS, CAPACITOR, DEVICE)


@dataclass(frozen=True, eq=False)
class ElementGroup:
    """Elements of one kind and role, as arrays.

    Attributes:
        kind: one of :data:`ELEMENT_KINDS`.
        prefix: element-name prefix (``rcell``), or one prefix per element (str array)
            where a table joins two roles; names are ``prefix_<labels>``.
        labels: shape ``(n,)`` or ``(n, 2)`` int, the indices in each name.
        node_p, node_n: shape ``(n,)`` int, node indices into ``CircuitIR.node_names``.
        value: shape ``(n,)`` float: ohm for resistors, volts for sources, amperes
            (``I = value * sinh(V / param)``) for sinh elements, width in metres for MOSFETs.
        comment: one line for the netlist section header.
        param: shape ``(n,)`` float, the second parameter: volts for sinh elements,
            channel length in metres for MOSFETs; None otherwise.
        node_g: shape ``(n,)`` int, gate nodes of MOSFETs; None otherwise.
        model: path of the model card of MOSFETs, the ``DeviceCell`` of user devices;
            None otherwise.
        table: how the nodal engine follows a device with no closed form in spicebar
            (user devices, MOSFETs of other levels than 1): a characterised table
            (:mod:`spicebar.engines.nodal.tables`), attached by
            :func:`spicebar.engines.characterise.characterise`; None until then.
        temperature_k: devices (MOSFETs, user devices) at a temperature other than
            300.15 K: that temperature, kelvin (their law and tables follow it); else None.
    """

    kind: str
    prefix: str | np.ndarray
    labels: np.ndarray
    node_p: np.ndarray
    node_n: np.ndarray
    value: np.ndarray
    comment: str = ""
    param: np.ndarray | None = None
    node_g: np.ndarray | None = None
    model: Any = None
    table: Any = None
    temperature_k: float | None = None

    def __len__(self) -> int:
        return int(self.node_p.shape[0])

    @cached_property
    def names(self) -> list[str]:
        if isinstance(self.prefix, str):
            return indexed_names(self.prefix, self.labels)
        return [indexed_names(p, lab[None])[0] for p, lab in zip(self.prefix.tolist(), self.labels)]

    def subset(self, keep: np.ndarray) -> "ElementGroup":
        prefix = self.prefix if isinstance(self.prefix, str) else self.prefix[keep]
        return replace(self, prefix=prefix, labels=self.labels[keep], node_p=self.node_p[keep],
                       node_n=self.node_n[keep], value=self.value[keep],
                       param=None if self.param is None else self.param[keep],
                       node_g=None if self.node_g is None else self.node_g[keep])

    def renode(self, remap: np.ndarray) -> "ElementGroup":
        """The same elements with node indices mapped through ``remap``."""
        return replace(self, node_p=remap[self.node_p], node_n=remap[self.node_n],
                       node_g=None if self.node_g is None else remap[self.node_g])


@dataclass(frozen=True, eq=False)
class CircuitIR:
    """A crossbar circuit after elaboration (nodes merged where wires are ideal).

    Attributes:
        rows, cols: array size.
        node_names: shape ``(n_nodes,)`` str; index 0 is ground ``"0"``.
        resistors: resistor groups in netlist order.
        drivers: voltage sources driving word lines; their value is set per input vector.
        driver_row: shape ``(n_drivers,)``, the input row each driver applies.
        senses: 0 V sources of the readout; the current into each is a column current.
        sense_col: shape ``(n_senses,)``, the column each sense source reads.
        wl_node, bl_node: shape ``(rows, cols)``, node index of each cell's word-line
            and bit-line terminal.
        title: one line describing the circuit.
        devices: nonlinear element groups (sinh elements, MOSFETs) in netlist order.
        gates: grounded sources of the 1T1R gate lines ``vg_i`` (fixed values), or None.
        mid_node: shape ``(rows, cols)``, the internal node of two-part cells, or None.
        cell: the cell spec the cells were built from (None: passive linear).
        capacitors: capacitor groups (wire capacitance to ground), farad; open at DC.
        temperature_k: the circuit's temperature, kelvin (ngspice's ``.temp``; 300.15 K,
            ngspice's default, writes none).
    """

    rows: int
    cols: int
    node_names: np.ndarray
    resistors: tuple[ElementGroup, ...]
    drivers: ElementGroup
    driver_row: np.ndarray
    senses: ElementGroup
    sense_col: np.ndarray
    wl_node: np.ndarray
    bl_node: np.ndarray
    title: str = field(default="")
    devices: tuple[ElementGroup, ...] = ()
    gates: ElementGroup | None = None
    mid_node: np.ndarray | None = None
    cell: Any = None

    @property
    def nonlinear(self) -> bool:
        """True when a Newton solve is needed."""
        return bool(self.devices)
    capacitors: tuple[ElementGroup, ...] = ()
    temperature_k: float = 300.15

    @property
    def n_nodes(self) -> int:
        return int(self.node_names.shape[0])

    @property
    def groups(self) -> tuple[ElementGroup, ...]:
        """Every element group, in netlist order."""
        gates = () if self.gates is None else (self.gates,)
        return (self.drivers, *gates, *self.resistors, *self.devices, *self.capacitors,
                self.senses)

    def n_elements(self) -> int:
        return sum(len(g) for g in self.groups)

    def driver_voltages(self, inputs: np.ndarray) -> np.ndarray:
        """Source values for each input vector: ``(batch, rows)`` -> ``(batch, n_drivers)``."""
        return inputs[:, self.driver_row]
