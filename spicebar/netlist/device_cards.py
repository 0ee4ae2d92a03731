"""Netlist text of user devices (:class:`spicebar.circuit.devices.DeviceCell`).

* A SPICE device file is parsed, not copied: every logical line must be a comment, a
  ``.subckt`` / ``.ends`` pair, a ``.model`` or ``.param`` card, or an element line
  inside a subcircuit whose letter is in :data:`SUBCKT_ELEMENTS`. Anything else
  (``.control``, ``.include``, ``.lib``, ``.options``, ``.temp``, elements outside a
  subcircuit, ...) is refused with the file, the line number and why
  (:func:`subckt_lines`), before any netlist is written.
* A Verilog-A device is loaded from its compiled OSDI library (``pre_osdi`` in a
  control block that holds nothing else) and takes one ``.model`` card per distinct
  parameter set, since OSDI parameters are model parameters.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..circuit.devices import DeviceCell, osdi_path, spice_logical_lines
from ..circuit.ir import ElementGroup
from ..errors import SpecError

#: Element letters allowed inside a user subcircuit: passive parts, diodes, transistors,
#: behavioural and controlled sources, independent sources (sense sources) and nested
#: subcircuits of the same file. (No XSPICE ``A``, OSDI ``N``, switches or lines.)
SUBCKT_ELEMENTS = frozenset("rcldmqjbegfhvix")

#: Dot cards allowed in a device file.
SUBCKT_CARDS = (".subckt", ".ends", ".model", ".param")

#: Characters a path may have to reach a netlist's ``pre_osdi`` line unquoted.
_SAFE_PATH = re.compile(r"[\w./+-]+\Z")


def _refuse(path: str, line_no: int, why: str) -> SpecError:
    return SpecError("device", f"{Path(path).name} line {line_no}: {why}",
                     "comments, .subckt/.ends, .model, .param and element lines "
                     f"({''.join(sorted(SUBCKT_ELEMENTS)).upper()}) inside a .subckt")


def subckt_lines(path: str) -> list[str]:
    """The logical lines of a SPICE device file that passed the allow-list (comments
    dropped, continuations joined). Raises SpecError naming the first refused line."""
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError("device", f"{Path(path).name} cannot be read ({exc})") from None
    out, depth = [], 0
    for no, line in spice_logical_lines(text):
        if not line.isprintable():
            raise _refuse(path, no, "holds control characters")
        word = line.split()[0].lower()
        if word.startswith("."):
            if word not in SUBCKT_CARDS:
                raise _refuse(path, no, f"the card {word} is not allowed in a device file")
            if word == ".subckt":
                if depth:
                    raise _refuse(path, no, ".subckt inside a .subckt")
                depth += 1
            elif word == ".ends":
                if not depth:
                    raise _refuse(path, no, ".ends without .subckt")
                depth -= 1
        elif word[0] not in SUBCKT_ELEMENTS:
            raise _refuse(path, no, f"element {word!r}: its kind ({word[0].upper()}) is not allowed")
        elif not depth:
            raise _refuse(path, no, f"element {word!r} outside a .subckt would join the array "
                          "circuit itself")
        out.append(line)
    if depth:
        raise _refuse(path, len(text.splitlines()), ".subckt without .ends")
    return out


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and, per element, the index of its value."""
    unique, where = np.unique(np.asarray(values, dtype=float) + 0.0, return_inverse=True)
    return unique, where.ravel()


def _param_text(cell: DeviceCell) -> str:
    return "".join(f" {k}={v!r}" for k, v in cell.params)


def device_model_cards(g: ElementGroup) -> list[str]:
    """The cards a user-device group needs: the subcircuit, or the OSDI load and one
    ``.model`` card per distinct value of the cell parameter."""
    cell: DeviceCell = g.model
    name = Path(cell.path).name
    safe = re.sub(r"[^\w.+-]", "_", name)  # a file name never reaches a netlist raw
    if not cell.is_va:
        return [f"* device subcircuit {cell.name} from {safe}", *subckt_lines(cell.path)]
    lib = osdi_path(cell.path)
    if not _SAFE_PATH.match(str(lib)):
        raise SpecError("SPICEBAR_CACHE_DIR", f"gives the OSDI path {str(lib)!r}, which ngspice "
                        "would split", "a cache folder whose path has no spaces or quotes")
    unique, _ = _distinct(g.value)
    lines = [f"* device {cell.name}: Verilog-A {safe}, compiled to OSDI (content-hash cache)",
             ".control", f"pre_osdi {lib}", ".endc"]
    lines += [f".model {_model_name(g, k)} {cell.name} {cell.cell_param}={v!r}{_param_text(cell)}"
              for k, v in enumerate(unique.tolist())]
    return lines


def _model_name(g: ElementGroup, k: int) -> str:
    prefix = g.prefix if isinstance(g.prefix, str) else "dev"
    return f"{prefix}_m{k}"


def format_devices(g: ElementGroup, node_names: np.ndarray, value: np.ndarray) -> list[str]:
    """Instance lines: ``X p n SUBCKT g=value ...`` or ``N p n MODEL_k``."""
    cell: DeviceCell = g.model
    p = node_names[g.node_p].tolist()
    n = node_names[g.node_n].tolist()
    if cell.is_va:
        _, where = _distinct(value)
        return [f"{name} {a} {b} {_model_name(g, k)}"
                for name, a, b, k in zip(g.names, p, n, where.tolist())]
    fixed = _param_text(cell)
    return [f"{name} {a} {b} {cell.name} {cell.cell_param}={v!r}{fixed}"
            for name, a, b, v in zip(g.names, p, n, value.tolist())]
