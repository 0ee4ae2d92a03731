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


def _system_library() -> str | None:
    for pattern in LIBRARY_GLOBS:
        hits = sorted(glob.glob(pattern))
        if hits:
            return hits[0]
    return None


def library_choice() -> dict:
    """Which libngspice spicebar loads, and why: ``{"path": str|None, "kind": str, "why": str}``.

    In order: ``NGSPICE_LIBRARY_PATH`` when set (the user's choice always wins); else
    spicebar's private patched copy (:mod:`.patched`, made at set-up, checked by its sha256
    here); else the system's library. ``kind`` is that of :func:`.patched.kind_of`:
    ``patched``, ``stock-46-bpo``, ``other`` or ``missing``."""
    from .patched import kind_of, private_library, private_library_path
    env = os.environ.get("NGSPICE_LIBRARY_PATH")
    if env:
        return {"path": env, "kind": kind_of(env), "why": "NGSPICE_LIBRARY_PATH is set"}
    private = private_library()
    if private is not None:
        return {"path": str(private), "kind": "patched",
                "why": "spicebar's private copy of Debian's libngspice with KLU's first "
                       "allocation at SuiteSparse's size (initmem_amd 1.2), sha256 verified"}
    lib = _system_library()
    kind = kind_of(lib)
    copy = private_library_path()
    if kind == "stock-46-bpo":
        why = (f"the system's library (no private patched copy at {copy}: run `python -m "
               "spicebar.engines.ngspice.patched` or `make setup` to make it)")
    else:
        why = "the system's library (a build the patch does not apply to: stock limits)"
    return {"path": lib, "kind": kind, "why": why}


def find_library() -> str | None:
    """Path of the libngspice spicebar loads (:func:`library_choice`); None if not found."""
    return library_choice()["path"]


def configure_library_path() -> None:
    """Point PySpice at the library :func:`library_choice` picks (it reads
    ``NGSPICE_LIBRARY_PATH``; otherwise it would look for ``libngspice.so`` itself)."""
    if os.environ.get("NGSPICE_LIBRARY_PATH"):
        return
    lib = find_library()
    if lib:
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
    choice = library_choice()
    return {"version": match.group(1) if match else None, "klu": "KLU" in text,
            "executable": exe, "library": choice["path"], "library_kind": choice["kind"],
            "library_why": choice["why"]}
