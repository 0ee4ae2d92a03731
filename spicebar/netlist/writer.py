"""SPICE netlist text from the circuit IR (one formatter per element kind)."""

from __future__ import annotations

from itertools import repeat
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..circuit.ir import CAPACITOR, DEVICE, NMOS, RESISTOR, SINH, VSOURCE, CircuitIR, ElementGroup
from ..circuit.temperature import temp_cards
from .cards import comment_text
from .device_cards import device_card_parts, format_devices

#: Simulator options written into every netlist. reltol/abstol/vntol only decide
#: when Newton stops; a linear network converges on the second iteration, so the
#: answer is the direct (KLU) solve to about 1e-12 relative either way.
NGSPICE_OPTIONS = {"reltol": "1e-9", "abstol": "1e-15", "vntol": "1e-12"}

#: Overrides for circuits with nonlinear cells. Lines left floating behind selectors sit at
#: nodes whose every conductance is ~1e-9 S; there ngspice cannot meet abstol=1e-15 A and
#: gives up ("timestep too small"). 1e-12 A / 1e-9 V is still 1e-7 of a 10 uA cell current,
#: and Newton's quadratic convergence leaves the answer far below those stopping limits.
NGSPICE_NONLINEAR_OPTIONS = {"abstol": "1e-12", "vntol": "1e-9"}


def format_value(x: float) -> str:
    """Shortest text that reads back to the same float64."""
    return repr(float(x))


def value_texts(values: np.ndarray) -> list[str]:
    """:func:`format_value` of each of ``values``.

    Each distinct value is formatted once: float formatting costs ~1.5 us a number,
    and the wires of an array usually share a handful of values.
    """
    unique, where = np.unique(np.asarray(values, dtype=float) + 0.0, return_inverse=True)
    return np.array(list(map(repr, unique.tolist())), dtype=object)[where.ravel()].tolist()


def _cards(*fields) -> list[str]:
    """Lines of space-separated ``fields`` (each a list of ``str``, or one ``str``)."""
    columns = [repeat(f) if isinstance(f, str) else f for f in fields]
    return list(map(" ".join, zip(*columns)))


def _element_nodes(g: ElementGroup, node_names: np.ndarray) -> tuple[list[str], list[str]]:
    return node_names[g.node_p].tolist(), node_names[g.node_n].tolist()


def _format_resistors(g: ElementGroup, node_names: np.ndarray, value: np.ndarray) -> list[str]:
    return _cards(g.names, *_element_nodes(g, node_names), value_texts(value))


def _format_vsources(g: ElementGroup, node_names: np.ndarray, value: np.ndarray) -> list[str]:
    return _cards(g.names, *_element_nodes(g, node_names), "dc", value_texts(value))


def _format_sinh(g: ElementGroup, node_names: np.ndarray, value: np.ndarray) -> list[str]:
    """Behavioural B-sources ``I = a*sinh(V(p,n)/b)`` (current from p through the source to n)."""
    p = node_names[g.node_p].tolist()
    n = node_names[g.node_n].tolist()
    return [f"{name} {a} {b} i={v!r}*sinh(v({a},{b})/{w!r})"
            for name, a, b, v, w in zip(g.names, p, n, value.tolist(), g.param.tolist())]


def _format_nmos(g: ElementGroup, node_names: np.ndarray, value: np.ndarray) -> list[str]:
    """MOSFETs ``M d g s b model w= l=`` (bulk at ground); the card is written by model_cards.
    A PDK transistor is its subcircuit: ``X d g s b sky130_fd_pr__<device> w= l=``."""
    from ..circuit.iv_models import read_model_card
    from ..circuit.pdk import PdkMosfet
    pdk = isinstance(g.model, PdkMosfet)
    model = g.model.subckt if pdk else read_model_card(str(g.model))[0]
    d, gate, s = (node_names[x].tolist() for x in (g.node_p, g.node_g, g.node_n))
    return [f"{name} {a} {c} {b} 0 {model} w={w!r} l={ln!r}"
            for name, a, c, b, w, ln in zip(g.names, d, gate, s, value.tolist(), g.param.tolist())]


#: One netlist formatter per IR element kind.
FORMATTERS: dict[str, Callable[[ElementGroup, np.ndarray, np.ndarray], list[str]]] = {
    RESISTOR: _format_resistors,
    VSOURCE: _format_vsources,
    SINH: _format_sinh,
    NMOS: _format_nmos,
    CAPACITOR: _format_resistors,  # same card shape: name node node value (farad)
    DEVICE: format_devices,  # user devices: X (subcircuit) or N (Verilog-A via OSDI) lines
}


def model_cards(ir: CircuitIR) -> list[str]:
    """The model cards the devices use, so a netlist stands alone: parsed by the card guard
    (:func:`spicebar.netlist.cards.read_card_file`) and written from what it parsed, never
    copied from the file (user devices: see :mod:`spicebar.netlist.device_cards`)."""
    return group_model_cards(ir.devices)


def group_model_cards(devices: Sequence[ElementGroup]) -> list[str]:
    """:func:`model_cards` of the device groups ``devices`` (also for circuits other than
    an array: the device characterisation of :mod:`spicebar.engines.characterise`)."""
    from ..circuit.pdk import PdkMosfet
    from .cards import read_card_file
    pdk = {g.model.name: g.model for g in devices if isinstance(g.model, PdkMosfet)}
    paths = sorted({str(g.model) for g in devices if g.model is not None and g.kind != DEVICE
                    and not isinstance(g.model, PdkMosfet)})
    out, loaded = [], set()
    for name in sorted(pdk):  # the PDK's own files, by their checked paths (circuit/pdk.py)
        out.extend(pdk[name].netlist_lines())
    for g in devices:  # a definition used by two groups (selector and memory device): once
        if g.kind == DEVICE:
            key, load, models = device_card_parts(g)
            out.extend(load if key not in loaded else [])
            out.extend(models)
            loaded.add(key)
    for path in paths:
        out.extend(read_card_file(path, "model").netlist_lines())
    return out


def format_netlist(ir: CircuitIR, input_vector: np.ndarray | None = None,
                   analysis: str = ".op", extra_cards: Sequence[str] = ()) -> str:
    """The whole netlist as text.

    Args:
        ir: the circuit.
        input_vector: word-line voltages, shape ``(rows,)`` volts; zeros if omitted.
        analysis: the analysis card.
        extra_cards: lines written just before the analysis card (``.include``,
            ``.options``, ``.temp``), as given.
    """
    if input_vector is None:
        input_vector = np.zeros(ir.rows)
    driver_values = np.asarray(input_vector, dtype=float)[ir.driver_row] + 0.0  # no -0.0
    lines = [f"* spicebar: {comment_text(ir.title)}",
             "* column current j = i(vsense_j) (+ i(vsenset_j)); node names: see spicebar.circuit.names",
             ".options klu " + " ".join(f"{k}={v}" for k, v in {
                 **NGSPICE_OPTIONS, **(NGSPICE_NONLINEAR_OPTIONS if ir.nonlinear else {})}.items()),
             *temp_cards(ir.temperature_k)]  # none at 27 C (ngspice's default)
    lines += model_cards(ir)
    node_names = ir.node_names.astype(object)  # indexing str objects: no new string each time
    for group in ir.groups:
        value = driver_values if group is ir.drivers else group.value
        lines.append(f"* {comment_text(group.comment)}")
        lines.extend(FORMATTERS[group.kind](group, node_names, value))
    if extra_cards:
        lines += ["* extra cards", *extra_cards]
    lines += [analysis, ".end", ""]
    return "\n".join(lines)


def write_netlist(path: str | Path, ir: CircuitIR, input_vector: np.ndarray | None = None,
                  extra_cards: Sequence[str] = ()) -> Path:
    """Write :func:`format_netlist` to ``path``; returns the path."""
    from ..io import write_text_atomic
    return write_text_atomic(path, format_netlist(ir, input_vector, extra_cards=extra_cards))
