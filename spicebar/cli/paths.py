"""Output paths of the command line: checked before any work starts.

:func:`out_path` refuses a wrong suffix, a folder, an unwritable place (read-only, or
below a file) and a path that is one of the command's own input files (``generate -o
card.sp --mos-model card.sp`` would overwrite the user's model), each as a SpecError
naming the flag. Outputs are then written atomically (:func:`spicebar.io.atomic_output`)
under exactly the name given.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import SpecError

#: argparse destinations that name input files, and their flags.
INPUT_FLAGS = {"conductances": "--conductances", "inputs": "--inputs", "mos_model": "--mos-model",
               "weights": "--weights", "sweep_file": "SWEEP.toml", "result": "RESULT.npz",
               "sweep_dir": "DIR"}


def same_file(a: str | Path, b: str | Path) -> bool:
    """True when ``a`` and ``b`` name one file (same path after resolving links, or the
    same inode when both exist)."""
    try:
        if Path(a).resolve() == Path(b).resolve():
            return True
        return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)
    except OSError:
        return False


def refuse_inputs(path: str | Path, parameter: str, args) -> None:
    """SpecError if ``path`` is one of the input files named in ``args``."""
    for dest, flag in INPUT_FLAGS.items():
        given = getattr(args, dest, None)
        if isinstance(given, str) and given and same_file(path, given):
            raise SpecError(parameter, f"{str(path)!r} is the input file of {flag}",
                            "an output path that is not one of the inputs")


def out_path(path: str, suffixes: tuple[str, ...], parameter: str, args=None) -> Path:
    """``path`` checked as an output file (see the module docstring)."""
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise SpecError(parameter, f"{path!r} has suffix {p.suffix!r}", ", ".join(suffixes))
    if p.exists() and p.is_dir():
        raise SpecError(parameter, f"{path!r} is a directory", "a file path")
    if args is not None:
        refuse_inputs(p, parameter, args)
    existing = next((q for q in (p.parent, *p.parent.parents) if q.exists()), Path("."))
    try:  # probe with a file that vanishes: nothing is left if a later check fails
        if not existing.is_dir():
            raise OSError(f"{existing} is not a folder")
        with tempfile.TemporaryFile(dir=existing):
            pass
        if p.exists() and not os.access(p, os.W_OK):
            raise OSError(f"{path} is read-only")
    except OSError as exc:
        raise SpecError(parameter, f"cannot write {path!r} ({exc})",
                        "a path in a writable folder") from None
    return p


def out_folder(path: str, parameter: str) -> Path:
    """``path`` checked as an output folder: not a file, and writable where it exists."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise SpecError(parameter, f"{path!r} is a file", "a folder")
    existing = next((q for q in (p, *p.parents) if q.exists()), Path("."))
    try:
        if not existing.is_dir():
            raise OSError(f"{existing} is not a folder")
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise SpecError(parameter, f"cannot write into {path!r} ({exc})",
                        "a folder that can be written") from None
    return p


def add_deprecated_out_dir(p) -> None:
    """``--out DIR``, the old spelling of ``--out-dir DIR`` in a command that writes a folder
    (``--out`` is a file in every command now): still taken, with a deprecation note."""
    p.add_argument("--out", "-o", dest="out_legacy", default=None, metavar="DIR",
                   help="deprecated: use --out-dir (--out names a file in every command)")


#: Suffixes of the files spicebar writes: a folder flag given one of these is a mix-up.
FILE_SUFFIXES = (".npz", ".npy", ".csv", ".json", ".png", ".cir", ".sp", ".dat", ".txt")


def out_dir_flag(args) -> str:
    """The flag the user typed for the output folder (named in errors)."""
    return "--out" if getattr(args, "out_legacy", None) is not None else "--out-dir"


def resolve_out_dir(args, default: str | None) -> str | None:
    """The output folder of ``--out-dir`` or the deprecated ``--out DIR``; SpecError when
    both are given or when ``--out`` names a file (a suffix), saying which flag to use. The
    deprecation note goes to ``args.deprecation_notes``: printed after the command succeeds
    (a failing command prints its one error line only)."""
    legacy = getattr(args, "out_legacy", None)
    if legacy is not None:
        if args.out_dir is not None:
            raise SpecError("--out", "was given with --out-dir", "--out-dir DIR alone")
        if Path(legacy).suffix.lower() in FILE_SUFFIXES:
            raise SpecError("--out", f"{legacy!r} looks like a file, but this command writes a "
                            "folder", "--out-dir DIR")
        args.deprecation_notes = [f"spicebar: warning: --out DIR is deprecated for "
                                  f"`{args.command}` and will be removed; use --out-dir {legacy}"]
        return legacy
    if args.out_dir is not None and Path(args.out_dir).suffix.lower() in FILE_SUFFIXES:
        raise SpecError("--out-dir", f"{args.out_dir!r} looks like a file, but it names a folder",
                        "a folder (a file is --out FILE in the commands that write one)")
    return args.out_dir if args.out_dir is not None else default
