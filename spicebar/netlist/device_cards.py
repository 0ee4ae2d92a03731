"""Netlist text of user devices (:class:`spicebar.circuit.devices.DeviceCell`).

* A SPICE device file is parsed, not copied, by the one card guard
  (:func:`spicebar.netlist.cards.read_card_file` with ``allow_subckt=True``): comments,
  ``.model`` / ``.param`` cards and ``.subckt`` ... ``.ends`` bodies of element lines;
  anything else is refused with the file, the line number and why, before any netlist
  is written. The netlist gets the cards it parsed.
* A Verilog-A device is loaded from its compiled OSDI library (``pre_osdi`` in a
  control block that holds nothing else) and takes one ``.model`` card per distinct
  parameter set, since OSDI parameters are model parameters.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..circuit.devices import GATE_PORTS, DeviceCell, osdi_path
from ..circuit.ir import ElementGroup
from ..errors import SpecError
from .cards import comment_text, read_card_file

#: Characters a path may have to reach a netlist's ``pre_osdi`` line unquoted.
_SAFE_PATH = re.compile(r"[\w./+-]+\Z")


def subckt_lines(path: str, name: str | None = None) -> list[str]:
    """The netlist lines of a SPICE device file, as the card guard parsed them (comments
    dropped, continuations joined); SpecError naming ``device``, the file and the line
    otherwise, or when the file has no subcircuit ``name``."""
    cards = read_card_file(path, "device", allow_subckt=True)
    if name is not None and name.lower() not in cards.subckts:
        raise SpecError("device_name", f"is {name!r}: no such .subckt in {Path(path).name}",
                        ", ".join(cards.subckts) or "(the file has none)")
    return cards.netlist_lines()


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and, per element, the index of its value."""
    unique, where = np.unique(np.asarray(values, dtype=float) + 0.0, return_inverse=True)
    return unique, where.ravel()


def _param_text(cell: DeviceCell) -> str:
    """The fixed parameters (a selector's cell parameter is written from the group's value)."""
    return "".join(f" {k}={v!r}" for k, v in cell.params if k != cell.cell_param)


def device_card_parts(g: ElementGroup) -> tuple[tuple, list[str], list[str]]:
    """``(key, load, models)``: the lines that load the device's definition (the same for
    every group with the same ``key``: write them once) and the group's own ``.model`` cards."""
    cell: DeviceCell = g.model
    safe = comment_text(Path(cell.path).name)  # a file name never reaches a netlist raw
    if not cell.is_va:
        return (("subckt", cell.path, cell.name), [f"* device subcircuit {cell.name}",
                                                   *subckt_lines(cell.path, cell.name)], [])
    lib = osdi_path(cell.path)
    if not _SAFE_PATH.match(str(lib)):
        raise SpecError("SPICEBAR_CACHE_DIR", f"gives the OSDI path {str(lib)!r}, which ngspice "
                        "would split", "a cache folder whose path has no spaces or quotes")
    unique, _ = _distinct(g.value)
    load = [f"* device {cell.name}: Verilog-A {safe}, compiled to OSDI (content-hash cache)",
            ".control", f"pre_osdi {lib}", ".endc"]
    models = [f".model {_model_name(g, k)} {cell.name} {cell.cell_param}={v!r}{_param_text(cell)}"
              for k, v in enumerate(unique.tolist())]
    return ("osdi", str(lib)), load, models


def _model_name(g: ElementGroup, k: int) -> str:
    prefix = g.prefix if isinstance(g.prefix, str) else "dev"
    return f"{prefix}_m{k}"


def format_devices(g: ElementGroup, node_names: np.ndarray, value: np.ndarray) -> list[str]:
    """Instance lines: ``X p n SUBCKT g=value ...`` or ``N p n MODEL_k``."""
    cell: DeviceCell = g.model
    p = node_names[g.node_p].tolist()
    n = node_names[g.node_n].tolist()
    if g.node_g is None:
        nodes = [f"{a} {b}" for a, b in zip(p, n)]
    else:  # the file's terminal order: the gate where it is declared, p and n in order
        gate = node_names[g.node_g].tolist()
        order = [("g" if q in GATE_PORTS else None) for q in cell.header.ports]
        slots = iter("pn")
        order = [o or next(slots) for o in order]
        by = {"p": p, "n": n, "g": gate}
        nodes = [" ".join(by[o][k] for o in order) for k in range(len(p))]
    if cell.is_va:
        _, where = _distinct(value)
        return [f"{name} {x} {_model_name(g, k)}"
                for name, x, k in zip(g.names, nodes, where.tolist())]
    fixed = _param_text(cell)
    return [f"{name} {x} {cell.name} {cell.cell_param}={v!r}{fixed}"
            for name, x, v in zip(g.names, nodes, value.tolist())]
