"""The circuit IR: element tables as numpy arrays, the one truth about topology.

The netlist emitter and the nodal solver both read this; neither knows how a
crossbar is laid out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .names import indexed_names

#: Element kinds every engine must handle (a test checks each has an emitter and a stamp).
RESISTOR = "resistor"
VSOURCE = "vsource"
CAPACITOR = "capacitor"  # value in farad; open at DC (wire capacitance for transients)
ELEMENT_KINDS = (RESISTOR, VSOURCE, CAPACITOR)


@dataclass(frozen=True, eq=False)
class ElementGroup:
    """Elements of one kind and role, as arrays.

    Attributes:
        kind: one of :data:`ELEMENT_KINDS`.
        prefix: element-name prefix (``rcell``), or one prefix per element (str array)
            where a table joins two roles; names are ``prefix_<labels>``.
        labels: shape ``(n,)`` or ``(n, 2)`` int, the indices in each name.
        node_p, node_n: shape ``(n,)`` int, node indices into ``CircuitIR.node_names``.
        value: shape ``(n,)`` float: ohm for resistors, volts for sources.
        comment: one line for the netlist section header.
    """

    kind: str
    prefix: str | np.ndarray
    labels: np.ndarray
    node_p: np.ndarray
    node_n: np.ndarray
    value: np.ndarray
    comment: str = ""

    def __len__(self) -> int:
        return int(self.node_p.shape[0])

    @cached_property
    def names(self) -> list[str]:
        if isinstance(self.prefix, str):
            return indexed_names(self.prefix, self.labels)
        return [indexed_names(p, lab[None])[0] for p, lab in zip(self.prefix.tolist(), self.labels)]

    def subset(self, keep: np.ndarray) -> "ElementGroup":
        prefix = self.prefix if isinstance(self.prefix, str) else self.prefix[keep]
        return ElementGroup(self.kind, prefix, self.labels[keep], self.node_p[keep],
                            self.node_n[keep], self.value[keep], self.comment)


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
        capacitors: capacitor groups (wire capacitance to ground), farad; open at DC.
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
    capacitors: tuple[ElementGroup, ...] = ()

    @property
    def n_nodes(self) -> int:
        return int(self.node_names.shape[0])

    @property
    def groups(self) -> tuple[ElementGroup, ...]:
        """Every element group, in netlist order."""
        return (self.drivers, *self.resistors, *self.capacitors, self.senses)

    def n_elements(self) -> int:
        return sum(len(g) for g in self.groups)

    def driver_voltages(self, inputs: np.ndarray) -> np.ndarray:
        """Source values for each input vector: ``(batch, rows)`` -> ``(batch, n_drivers)``."""
        return inputs[:, self.driver_row]
