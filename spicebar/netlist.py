"""SPICE netlist text from the circuit IR (one formatter per element kind)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from .ir import CAPACITOR, RESISTOR, VSOURCE, CircuitIR, ElementGroup

#: Simulator options written into every netlist. reltol/abstol/vntol only decide
#: when Newton stops; a linear network converges on the second iteration, so the
#: answer is the direct (KLU) solve to about 1e-12 relative either way.
NGSPICE_OPTIONS = {"reltol": "1e-9", "abstol": "1e-15", "vntol": "1e-12"}


def format_value(x: float) -> str:
    """Shortest text that reads back to the same float64."""
    return repr(float(x))


def _format_resistors(g: ElementGroup, node_names: np.ndarray, value: np.ndarray) -> list[str]:
    p = node_names[g.node_p].tolist()
    n = node_names[g.node_n].tolist()
    return [f"{name} {a} {b} {v!r}" for name, a, b, v in zip(g.names, p, n, value.tolist())]


def _format_vsources(g: ElementGroup, node_names: np.ndarray, value: np.ndarray) -> list[str]:
    p = node_names[g.node_p].tolist()
    n = node_names[g.node_n].tolist()
    return [f"{name} {a} {b} dc {v!r}" for name, a, b, v in zip(g.names, p, n, value.tolist())]


#: One netlist formatter per IR element kind.
FORMATTERS: dict[str, Callable[[ElementGroup, np.ndarray, np.ndarray], list[str]]] = {
    RESISTOR: _format_resistors,
    VSOURCE: _format_vsources,
    CAPACITOR: _format_resistors,  # same card shape: name node node value (farad)
}


def format_netlist(ir: CircuitIR, input_vector: np.ndarray | None = None,
                   analysis: str = ".op") -> str:
    """The whole netlist as text.

    Args:
        ir: the circuit.
        input_vector: word-line voltages, shape ``(rows,)`` volts; zeros if omitted.
        analysis: the analysis card.
    """
    if input_vector is None:
        input_vector = np.zeros(ir.rows)
    driver_values = np.asarray(input_vector, dtype=float)[ir.driver_row] + 0.0  # no -0.0
    lines = [f"* spicebar: {ir.title}",
             "* column current j = i(vsense_j) (+ i(vsenset_j)); node names: see spicebar.names",
             ".options klu " + " ".join(f"{k}={v}" for k, v in NGSPICE_OPTIONS.items())]
    for group in ir.groups:
        value = driver_values if group is ir.drivers else group.value
        lines.append(f"* {group.comment}")
        lines.extend(FORMATTERS[group.kind](group, ir.node_names, value))
    lines += [analysis, ".end", ""]
    return "\n".join(lines)


def write_netlist(path: str | Path, ir: CircuitIR, input_vector: np.ndarray | None = None) -> Path:
    """Write :func:`format_netlist` to ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_netlist(ir, input_vector))
    return path
