"""User devices as cells: a Verilog-A model or SPICE ``.subckt`` from a file.

:class:`DeviceCell` puts the user's device between the word line (its first terminal)
and the bit line (its second) of every cell; a third terminal named ``gate`` (or ``g``)
goes to the row's gate line, driven like the 1T1R's. ``G[i, j]`` goes into the device
parameter named by ``cell_param`` (default ``g``): a device whose state is a gap or a
filament radius takes that array as it is.

* ``.va``: a Verilog-A module, compiled by ``openvaf-r`` into an OSDI library that
  ngspice loads (``pre_osdi``); instances are ``N`` elements, parameters go on one
  ``.model`` card per distinct parameter set. The library is cached by the content
  hash of the source (:func:`osdi_path`); the compiler runs at the engine's edge
  (:mod:`spicebar.engines.ngspice.openvaf`).
* ``.sp``/``.cir``/``.lib``/``.subckt`` (anything else): a SPICE file holding
  ``.subckt NAME p n [params: k=v ...]``; instances are ``X`` elements with the
  parameters on the instance line. The file's lines pass an allow-list before they
  reach a netlist (:mod:`spicebar.netlist.device_cards`).

Only the header is read here (module or subcircuit name, terminals, parameters):
pure parsing, no compiler, no simulator.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Union

from ..errors import SpecError

#: Suffix of Verilog-A sources; every other file is read as SPICE text.
VA_SUFFIXES = (".va", ".vams")

#: Noise kinds of a user device in the noise analysis (see ``DeviceCell.noise``).
DEVICE_NOISE_KINDS = ("thermal", "shot", "none")

#: Names of the terminal that goes to the row's gate line.
GATE_PORTS = ("gate", "g")

#: Device and parameter names that may reach a netlist (no spaces, quotes or punctuation).
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

_VA_MODULE = re.compile(r"\bmodule\s+([A-Za-z_]\w*)\s*\(([^)]*)\)\s*;(.*?)\bendmodule\b", re.S)
_VA_PARAM = re.compile(r"\bparameter\s+(?:real|integer)?\s*([A-Za-z_]\w*)\s*=\s*(.*?)\s*"
                       r"(?:\bfrom\b|\bexclude\b|;)", re.S)
_SPICE_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def cache_dir() -> Path:
    """Where compiled OSDI libraries and device tables are kept: ``$SPICEBAR_CACHE_DIR``,
    else ``$XDG_CACHE_HOME/spicebar``, else ``~/.cache/spicebar``."""
    env = os.environ.get("SPICEBAR_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "spicebar"


def content_hash(*parts: Union[str, bytes]) -> str:
    """sha256 (hex, 24 characters) of ``parts``, each length-prefixed."""
    h = hashlib.sha256()
    for p in parts:
        b = p.encode() if isinstance(p, str) else p
        h.update(str(len(b)).encode() + b":" + b)
    return h.hexdigest()[:24]


@dataclass(frozen=True)
class DeviceHeader:
    """What a device file declares.

    Attributes:
        kind: ``va`` (Verilog-A module) or ``subckt``.
        name: module or subcircuit name, lower case.
        ports: terminal names in order, lower case.
        params: ``{name: default or None}`` (lower case; None where the default is an
            expression spicebar does not evaluate).
        names: every module/subcircuit the file holds (for the error naming the choices).
    """

    kind: str
    name: str
    ports: tuple
    params: dict
    names: tuple


def _spice_value(text: str) -> Optional[float]:
    m = _SPICE_NUMBER.fullmatch(text.strip())
    return float(text) if m else None


def _strip_va_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _va_headers(text: str) -> dict:
    out = {}
    for m in _VA_MODULE.finditer(_strip_va_comments(text)):
        ports = tuple(p.strip().lower() for p in m.group(2).split(",") if p.strip())
        params = {k.lower(): _spice_value(v) for k, v in _VA_PARAM.findall(m.group(3))}
        out[m.group(1).lower()] = (ports, params)
    return out


def spice_logical_lines(text: str) -> list[tuple[int, str]]:
    """``(first line number, text)`` of each logical line: ``+`` continuations joined,
    comments (``*`` lines, ``;`` and ``$ `` tails) removed, blank lines dropped."""
    out: list[tuple[int, str]] = []
    for no, raw in enumerate(text.splitlines(), 1):
        s = raw.split(";", 1)[0]
        s = re.split(r"\s\$\s", s, maxsplit=1)[0].strip()
        if not s or s.startswith("*"):
            continue
        if s.startswith("+") and out:
            out[-1] = (out[-1][0], out[-1][1] + " " + s[1:].strip())
        else:
            out.append((no, s))
    return out


def _subckt_headers(text: str) -> dict:
    out = {}
    for _, line in spice_logical_lines(text):
        if not line.lower().startswith(".subckt"):
            continue
        words = re.sub(r"\s*=\s*", "=", line).split()
        if len(words) < 2:
            continue
        ports, params, in_params = [], {}, False
        for w in words[2:]:
            if w.lower() == "params:":
                in_params = True
            elif "=" in w:
                k, _, val = w.partition("=")
                params[k.lower()] = _spice_value(val.strip("{}'\""))
                in_params = True
            elif not in_params:
                ports.append(w.lower())
        out[words[1].lower()] = (tuple(ports), params)
    return out


def read_device_header(path: Union[str, Path], name: Optional[str] = None) -> DeviceHeader:
    """The header of device ``name`` (default: the file's only one) in ``path``."""
    p = Path(path)
    if not p.is_file():
        raise SpecError("device", f"is {str(path)!r}: no such file",
                        "a Verilog-A file (.va) or a SPICE file with a .subckt")
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError("device", f"{p.name} cannot be read ({exc})", "a UTF-8 text file") from None
    kind = "va" if p.suffix.lower() in VA_SUFFIXES else "subckt"
    found = _va_headers(text) if kind == "va" else _subckt_headers(text)
    what = "module NAME(p, n); ... endmodule" if kind == "va" else ".subckt NAME p n ... .ends"
    if not found:
        raise SpecError("device", f"{p.name} declares no device", f"a file with {what}")
    if name is None:
        if len(found) > 1:
            raise SpecError("device_name", f"is not given and {p.name} holds {len(found)} devices",
                            ", ".join(sorted(found)))
        name = next(iter(found))
    key = str(name).lower()
    if key not in found:
        raise SpecError("device_name", f"is {name!r}: not in {p.name}", ", ".join(sorted(found)))
    ports, params = found[key]
    return DeviceHeader(kind, key, ports, params, tuple(sorted(found)))


def osdi_path(va_path: Union[str, Path]) -> Path:
    """Where the OSDI library compiled from ``va_path`` is cached: by the content hash
    of the source (a changed file compiles again; the same file never twice)."""
    data = Path(va_path).read_bytes()
    return cache_dir() / "osdi" / content_hash(data) / (Path(va_path).stem + ".osdi")


def _param_items(value) -> tuple:
    items = value.items() if isinstance(value, Mapping) else value
    out = []
    try:
        pairs = [(str(k), v) for k, v in items]
    except (TypeError, ValueError):
        raise SpecError("device_params", f"is {value!r}", "a mapping NAME -> number") from None
    for k, v in pairs:
        if not _NAME.match(k):
            raise SpecError("device_params", f"has the name {k!r}", "letters, digits and _")
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise SpecError(f"device_params[{k}]", f"is {v!r}", "a finite number") from None
        if isinstance(v, bool) or not math.isfinite(x):
            raise SpecError(f"device_params[{k}]", f"is {v!r}", "a finite number")
        out.append((k.lower(), x))
    return tuple(sorted(out))


@dataclass(frozen=True)
class DeviceCell:
    """The user's two-terminal device at every crossing (first terminal on the word line).

    Attributes:
        path: the device file (``.va`` Verilog-A, else SPICE with ``.subckt``).
        name: module or subcircuit name; default the file's only one.
        params: fixed device parameters ``{name: value}`` (SI units, as the model
            declares them), the same for every cell.
        cell_param: the device parameter that takes ``G[i, j]`` (default ``g``); as the
            array's cell it may not also be in ``params``.
        selector: another DeviceCell in series, from the word line to the internal node
            ``mid_i_j`` (a 1S1R of two user devices; this device then runs from ``mid_i_j``
            to the bit line). The selector is the same in every cell: its ``cell_param``
            takes the value in its ``params``, or its declared default.
        vg_on_volt, vg_off_volt: gate-line voltages (volts, -5..5) of a device with a gate
            terminal: selected rows and gated-off rows (a read's unselected rows).
        noise: the device's noise in the noise analysis (:func:`spicebar.noise`), one of
            :data:`DEVICE_NOISE_KINDS`: ``"thermal"`` (default) ``4 k T g`` with ``g`` its
            small-signal conductance ``dI/dV`` at the operating point; ``"shot"``
            ``2 q |I|`` with ``I`` its operating-point current (a junction-like device:
            a diode, a tunnelling selector); ``"none"`` (a noiseless model). It sets no
            I-V: simulations and device tables ignore it.
    """

    path: Union[str, Path]
    name: Optional[str] = None
    params: Union[Mapping, tuple] = ()
    cell_param: str = "g"
    selector: Optional["DeviceCell"] = None
    vg_on_volt: Optional[float] = None
    vg_off_volt: float = 0.0
    noise: str = "thermal"
    header: DeviceHeader = field(init=False, repr=False, compare=False)
    kind = "device"

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", str(Path(self.path)))
        header = read_device_header(self.path, self.name)
        object.__setattr__(self, "header", header)
        object.__setattr__(self, "name", header.name)
        if not _NAME.match(header.name):
            raise SpecError("device_name", f"is {header.name!r}", "letters, digits and _")
        gates = [q for q in header.ports if q in GATE_PORTS]
        if not (len(header.ports) == 2 or (len(header.ports) == 3 and len(gates) == 1)):
            raise SpecError("device", f"{header.name} has {len(header.ports)} terminals "
                            f"({', '.join(header.ports)})",
                            "two terminals (first on the word line, second on the bit line), "
                            "or three of which one is named gate or g (on the row's gate line)")
        self._check_gate_voltages(bool(gates))
        if not isinstance(self.noise, str) or self.noise not in DEVICE_NOISE_KINDS:
            raise SpecError("device_noise", f"is {self.noise!r}", " | ".join(DEVICE_NOISE_KINDS))
        params = _param_items(self.params)
        object.__setattr__(self, "params", params)
        cp = str(self.cell_param).lower()
        if not _NAME.match(cp) or cp not in header.params:
            raise SpecError("device_cell_param", f"is {self.cell_param!r}: {header.name} has no "
                            "such parameter", ", ".join(header.params) or "(it declares none)")
        object.__setattr__(self, "cell_param", cp)
        for k, _ in params:
            if k not in header.params:
                raise SpecError("device_params", f"names {k!r}: {header.name} has no such "
                                "parameter", ", ".join(header.params) or "(it declares none)")
        if self.selector is not None:
            if (not isinstance(self.selector, DeviceCell) or self.selector.selector is not None
                    or self.selector.gated or self.gated):
                raise SpecError("selector", f"is {self.selector!r}",
                                "a two-terminal DeviceCell without a selector of its own, in "
                                "series with a two-terminal device; or None")
            self.selector.fixed_value()  # refuses a selector whose cell parameter has no value

    def _check_gate_voltages(self, gated: bool) -> None:
        if not gated:
            if self.vg_on_volt is not None:
                raise SpecError("vg_on_volt", f"is given but {self.header.name} has no gate "
                                "terminal", "only for a device with a terminal named gate or g")
            return
        if self.vg_on_volt is None:
            raise SpecError("vg_on_volt", f"is missing: {self.header.name} has a gate terminal",
                            "the gate-line voltage of selected rows in volts, e.g. 1.8")
        for name in ("vg_on_volt", "vg_off_volt"):
            x = getattr(self, name)
            try:
                f = float(x)
            except (TypeError, ValueError):
                f = math.nan
            if isinstance(x, bool) or not math.isfinite(f) or abs(f) > 5.0:
                raise SpecError(name, f"is {x!r} V", "a finite number in -5..5 V")
            object.__setattr__(self, name, f)

    @property
    def gated(self) -> bool:
        """Whether the device has a gate terminal (on the row's gate line)."""
        return len(self.header.ports) == 3

    def check_as_cell(self) -> None:
        """Refuse a value in ``params`` for ``cell_param`` (G[i, j] takes it): called where
        this device becomes the array's cell."""
        if self.cell_param in dict(self.params):
            raise SpecError("device_params", f"sets {self.cell_param!r}, the cell parameter",
                            f"any parameter but {self.cell_param} (it takes G[i, j])")

    def fixed_value(self) -> float:
        """The value of ``cell_param`` where this device is the same in every cell (a
        selector): from ``params``, else the declared default."""
        given = dict(self.params)
        value = given.get(self.cell_param, self.header.params.get(self.cell_param))
        if value is None:
            raise SpecError("selector", f"{self.name} declares no numeric default for "
                            f"{self.cell_param}", f"params={{{self.cell_param!r}: value}}")
        return float(value)

    @property
    def is_va(self) -> bool:
        return self.header.kind == "va"

    @property
    def source_hash(self) -> str:
        """Content hash of the device file (what the netlist and the tables depend on)."""
        return content_hash(Path(self.path).read_bytes())

    def describe(self) -> str:
        fixed = ", ".join(f"{k}={v:g}" for k, v in self.params)
        what = "Verilog-A module" if self.is_va else "subcircuit"
        text = (f"device cells: {what} {self.name} from {Path(self.path).name}, "
                f"{self.cell_param} = G[i, j]" + (f", {fixed}" if fixed else ""))
        if self.selector is not None:
            text += "; in series with the selector " + self.selector.describe_fixed()
        if self.gated:
            text += f"; gate lines at {self.vg_on_volt:g} V (off {self.vg_off_volt:g} V)"
        return text

    def describe_fixed(self) -> str:
        """One line for this device as a selector (the same in every cell)."""
        params = dict(self.params)
        params[self.cell_param] = self.fixed_value()
        return (f"{self.name} from {Path(self.path).name} ("
                + ", ".join(f"{k}={v:g}" for k, v in sorted(params.items())) + ")")
