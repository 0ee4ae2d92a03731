"""Reading user arrays from .npy and .csv files (the CLI's edge)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .errors import InputFileError

READABLE = (".npy", ".csv", ".txt")


def load_array(path: str | Path, parameter: str) -> np.ndarray:
    """Read a numeric array from ``.npy`` or ``.csv``/``.txt`` (comma or whitespace separated).

    Raises InputFileError naming ``parameter`` when the file is missing, unreadable
    or not numeric.
    """
    p = Path(path)
    if not p.exists():
        raise InputFileError(parameter, f"file {str(p)!r} does not exist")
    if p.is_dir():
        raise InputFileError(parameter, f"{str(p)!r} is a directory", "a .npy or .csv file")
    suffix = p.suffix.lower()
    if suffix not in READABLE:
        raise InputFileError(parameter, f"file {str(p)!r} has suffix {suffix!r}", ", ".join(READABLE))
    try:
        if suffix == ".npy":
            arr = np.load(p, allow_pickle=False)
        else:
            text = p.read_text()
            delimiter = "," if "," in text else None
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # an empty file is an error, not a warning
                arr = np.loadtxt(p, delimiter=delimiter, ndmin=2, dtype=float)  # a row per line
    except (ValueError, OSError, EOFError, UnicodeDecodeError, UserWarning) as exc:
        raise InputFileError(parameter, f"cannot read {str(p)!r} ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else 'no detail'})") from None
    if not isinstance(arr, np.ndarray):
        raise InputFileError(parameter, f"{str(p)!r} holds no single array")
    return arr
