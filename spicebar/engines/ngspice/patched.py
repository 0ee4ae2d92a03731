"""A private copy of Debian's libngspice with KLU's first allocation at SuiteSparse's size.

ngspice's bundled KLU (``src/maths/KLU/klu_defaults.c``) sets ``initmem_amd = 10``
(SuiteSparse ships 1.2). ``klu_factor`` first asks for ``3 (initmem_amd * Lnz + n)``
8-byte units and returns ``KLU_OUT_OF_MEMORY`` once that passes ``INT_MAX``: with 10, from
AMD fill estimates ``Lnz`` of about 71.4e6 (848x848 cells and up), which ngspice reports as
"singular matrix: check node 0". No netlist option reaches the constant.

In Debian 12 backports' ``libngspice0 46+ds-1~bpo12+1`` (``libngspice.so.0.0.15``, stripped,
no ``klu_*`` symbols to interpose) the 16 bytes at file offset ``0x7cd680`` are the doubles
``(0.001, 10.0)``, read only by ``klu_defaults``: the first is ``tol``, the second is stored
into ``memgrow``, ``initmem_amd`` and ``initmem``. :func:`make_private_copy` copies that one
build (checked by its sha256 and those 16 bytes) and writes the double 1.2 over the second
8 bytes. ngspice overwrites ``memgrow`` at once (with 1.2) and ``initmem`` is unused with
AMD ordering, so the only effect is KLU's first allocation: the fill limit moves from about
71.4e6 to about 590e6 (1024x1024: 116.6e6 fits; 2048x2048: 594.5e6 does not).

The file the package manager owns is never touched: the copy goes to
:func:`private_library_path` (inside the virtual environment), and it is checked again
(sha256) every time spicebar resolves its library (:mod:`.toolchain`). Any other build is
left alone and keeps the stock limit (:mod:`.limits`).

Run ``python -m spicebar.engines.ngspice.patched`` to make the copy (``make setup`` does).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

#: The one build this patch is for: Debian 12 backports' libngspice0 46+ds-1~bpo12+1.
STOCK_SHA256 = "776e9d8552e6b38c0f80a7a512d662a10c1cbe1f3dce8b2a6a08fa39ab8704a4"
#: The file after the patch (verified before it is put in place).
PATCHED_SHA256 = "42bfd4e23129e0aad98a72a835c67f3e17f99dbc52c64676748482d5f0bbc1bd"
#: ``klu_defaults``' two double constants: ``tol = 0.001`` and ``10.0`` (memgrow, initmem_amd,
#: initmem), little-endian IEEE 754, at this file offset.
CONSTANTS_OFFSET = 0x7CD680
STOCK_CONSTANTS = bytes.fromhex("fca9f1d24d62503f" "0000000000002440")
#: The second double becomes 1.2 (SuiteSparse's ``initmem_amd``).
PATCH_OFFSET = CONSTANTS_OFFSET + 8
PATCH_BYTES = bytes.fromhex("333333333333f33f")
#: What the patched copy is called (PySpice loads the file named by NGSPICE_LIBRARY_PATH).
PRIVATE_NAME = "libngspice.so.0"
#: Debian's file, where the multiarch triplet is x86_64 (the only build with known bytes).
DEBIAN_LIBRARY = "/usr/lib/x86_64-linux-gnu/libngspice.so.0.0.15"

_HASHES: dict[tuple, str] = {}


def sha256_of(path: str | Path) -> str:
    """The sha256 of a file (hex), cached by path, size and modification time."""
    st = os.stat(path)
    key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _HASHES[key] = h.hexdigest()
    return _HASHES[key]


def private_library_path() -> Path:
    """Where spicebar keeps its patched copy: ``<virtual environment>/lib/spicebar-ngspice``."""
    return Path(sys.prefix) / "lib" / "spicebar-ngspice" / PRIVATE_NAME


def kind_of(path: str | Path | None) -> str:
    """``"patched"`` (the known patched bytes), ``"stock-46-bpo"`` (the known Debian build the
    patch applies to), ``"other"`` (any other build) or ``"missing"``."""
    if not path or not os.path.isfile(path):
        return "missing"
    digest = sha256_of(path)
    return {PATCHED_SHA256: "patched", STOCK_SHA256: "stock-46-bpo"}.get(digest, "other")


def private_library() -> Path | None:
    """The private patched copy if it exists and is byte for byte the known patched file."""
    path = private_library_path()
    return path if kind_of(path) == "patched" else None


def _check_source(data: bytes, source: Path) -> str | None:
    """Why ``data`` (the file ``source``) must not be patched, or None."""
    digest = hashlib.sha256(data).hexdigest()
    if digest != STOCK_SHA256:
        return (f"{source} is not the known build (sha256 {digest[:16]}..., expected "
                f"{STOCK_SHA256[:16]}... of Debian 12 backports' libngspice0 46+ds-1~bpo12+1)")
    got = data[CONSTANTS_OFFSET:CONSTANTS_OFFSET + 16]
    if got != STOCK_CONSTANTS:   # cannot happen with the right sha256; checked all the same
        return f"{source}: the 16 bytes at {CONSTANTS_OFFSET:#x} are {got.hex()}, not klu_defaults'"
    return None


def make_private_copy(source: str | Path = DEBIAN_LIBRARY,
                      dest: str | Path | None = None) -> tuple[Path | None, str]:
    """Write the patched copy of ``source`` to ``dest`` (default :func:`private_library_path`).

    Only a ``source`` whose sha256 and 16 constant bytes are exactly the known ones is
    patched; the result's sha256 is checked before it replaces ``dest`` (atomically).
    ``source`` itself is only read. Returns ``(path or None, what happened)``: None and the
    reason when the source is another build or missing (the stock limit then applies).
    """
    dest = Path(dest) if dest is not None else private_library_path()
    source = Path(source)
    if dest.is_file() and kind_of(dest) == "patched":
        return dest, f"{dest} is already the patched copy"
    if not source.is_file():
        return None, f"{source} not found (no Debian 12 backports libngspice0 46)"
    data = bytearray(source.read_bytes())
    why = _check_source(bytes(data), source)
    if why:
        return None, why + "; left unpatched: ngspice keeps its 832x832 limit"
    data[PATCH_OFFSET:PATCH_OFFSET + 8] = PATCH_BYTES
    digest = hashlib.sha256(data).hexdigest()
    if digest != PATCHED_SHA256:
        return None, f"the patched bytes hash to {digest[:16]}..., not {PATCHED_SHA256[:16]}...; not written"
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".libngspice-", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o444)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest, (f"wrote {dest}: {source} with KLU's initmem_amd 10 -> 1.2 "
                  f"(8 bytes at {PATCH_OFFSET:#x}), sha256 {PATCHED_SHA256[:16]}... verified")


def main(argv: list[str] | None = None) -> int:
    """``python -m spicebar.engines.ngspice.patched [SOURCE [DEST]]``: make the copy; exit 0
    also when the source is another build (nothing to do: the stock limit stays)."""
    args = list(sys.argv[1:] if argv is None else argv)
    path, message = make_private_copy(*args[:2])
    print(f"spicebar setup: {message}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
