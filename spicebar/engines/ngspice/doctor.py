"""What ``spicebar doctor`` says about the ngspice library: which one runs, why, and how
large an array it takes (:mod:`.capacity`)."""

from __future__ import annotations

from . import capacity
from .patched import private_library_path

#: One line per library kind: what it is.
KIND_TEXT = {
    "patched": "spicebar's patched copy of Debian 12 backports' libngspice 46 (KLU initmem_amd "
               "1.2 instead of 10; results identical to the stock library)",
    "stock-46-bpo": "Debian 12 backports' libngspice 46 as shipped (KLU initmem_amd 10)",
    "other": "a build spicebar has no checksum for (stock limits assumed)",
    "missing": "no library found",
}


def library_lines(info: dict) -> list[str]:
    """Lines for the doctor from :func:`.toolchain.ngspice_version`'s ``info``."""
    kind = info.get("library_kind", "missing")
    side = capacity.largest_square(lambda n: capacity.fits_index(kind, n, n))
    lines = [f"{'kind':>10}: {kind}: {KIND_TEXT.get(kind, kind)}",
             f"{'why':>10}: {info.get('library_why', '')}"]
    if kind == "patched":
        lines.append(f"{'limit':>10}: KLU's index limit allows square arrays up to about "
                     f"{side}x{side}, memory permitting (about "
                     f"{capacity.ngspice_bytes(1024, 1024) / 1e9:.1f} GB at 1024x1024)")
    elif kind != "missing":
        lines.append(f"{'limit':>10}: square arrays up to {side}x{side} (KLU's first "
                     "allocation at 10x its fill estimate passes 2^31 units beyond)")
    if kind == "stock-46-bpo":
        lines.append(f"{'note':>10}: `python -m spicebar.engines.ngspice.patched` (or `make "
                     f"setup`) writes the patched copy to {private_library_path()}")
    return lines
