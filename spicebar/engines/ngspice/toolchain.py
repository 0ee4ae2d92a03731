"""Finding ngspice and its shared library; checking that it is a KLU build."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess

LIBRARY_GLOBS = ("/usr/lib/*/libngspice.so", "/usr/lib/libngspice.so", "/usr/local/lib/libngspice.so",
                 "/usr/lib/*/libngspice.so.0", "/usr/lib/libngspice.so.0",
                 "/usr/local/lib/libngspice.so.0")

INSTALL_HINT = ("install ngspice with KLU and its shared library: `make setup` does it on Debian; "
                "by hand, Debian 12: apt-get install -t bookworm-backports ngspice libngspice0 "
                "libngspice0-dev; Debian 13: apt-get install ngspice libngspice0 libngspice0-dev; "
                "elsewhere set NGSPICE_LIBRARY_PATH to a KLU build's libngspice.so.0")


def find_library() -> str | None:
    """Path of libngspice, honouring ``NGSPICE_LIBRARY_PATH``; None if not found."""
    env = os.environ.get("NGSPICE_LIBRARY_PATH")
    if env:
        return env
    for pattern in LIBRARY_GLOBS:
        hits = sorted(glob.glob(pattern))
        if hits:
            return hits[0]
    return None


def configure_library_path() -> None:
    """Point PySpice at libngspice when only ``libngspice.so.0`` exists (no -dev package)."""
    if os.environ.get("NGSPICE_LIBRARY_PATH"):
        return
    lib = find_library()
    if lib and lib.endswith(".so.0"):
        os.environ["NGSPICE_LIBRARY_PATH"] = lib


def ngspice_version() -> dict:
    """``{"version": str|None, "klu": bool, "executable": str|None, "library": str|None}``."""
    exe = shutil.which("ngspice")
    text = ""
    if exe:
        try:
            text = subprocess.run([exe, "-v"], capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            text = ""
    match = re.search(r"ngspice-(\S+)", text)
    return {"version": match.group(1) if match else None, "klu": "KLU" in text,
            "executable": exe, "library": find_library()}
