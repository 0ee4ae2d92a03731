"""Small validators shared by the specs: each raises SpecError naming the parameter."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from .errors import SpecError


def real_array(name: str, value: Any, ndim: int | tuple[int, ...]) -> np.ndarray:
    """Return ``value`` as a float64 array with ``ndim`` dimensions, all finite."""
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise SpecError(name, f"cannot be read as an array ({exc})") from None
    if arr.dtype == object or arr.dtype.kind not in "iufc":  # no bool, datetime, timedelta
        raise SpecError(name, f"has dtype {arr.dtype}", "real numbers (not bool, dates or "
                        "time spans)")
    if np.iscomplexobj(arr):
        raise SpecError(name, "is complex", "real numbers")
    if arr.ndim not in ndims:
        want = " or ".join(f"{d}-D" for d in ndims)
        raise SpecError(name, f"has shape {arr.shape} ({arr.ndim}-D)", want)
    if arr.size == 0:
        raise SpecError(name, f"is empty (shape {arr.shape})", "at least one element per axis")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise SpecError(name, f"has a non-finite value at index {tuple(int(b) for b in bad)}",
                        "finite numbers")
    return arr


def positive_array(name: str, value: Any, ndim: int, unit: str) -> np.ndarray:
    arr = real_array(name, value, ndim)
    if np.any(arr <= 0):
        bad = np.argwhere(arr <= 0)[0]
        raise SpecError(name, f"has {float(arr[tuple(bad)])!r} {unit} at index {tuple(int(b) for b in bad)}",
                        f"> 0 {unit}")
    return arr


def nonnegative_scalar(name: str, value: Any, unit: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise SpecError(name, f"is {value!r}", f"a number >= 0 {unit}") from None
    if isinstance(value, bool) or not math.isfinite(x) or x < 0:
        raise SpecError(name, f"is {value!r}", f"a finite number >= 0 {unit}")
    return x


def positive_scalar(name: str, value: Any, unit: str) -> float:
    x = nonnegative_scalar(name, value, unit)
    if x <= 0:
        raise SpecError(name, f"is {value!r}", f"a finite number > 0 {unit}")
    return x


def integer_in(name: str, value: Any, low: int, high: int) -> int:
    """``value`` as an int in ``low..high`` (bools and floats refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not low <= value <= high:
        raise SpecError(name, f"is {value!r}", f"an integer {low}..{high}")
    return int(value)


def choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise SpecError(name, f"is {value!r}", ", ".join(allowed))
    return value


def frozen(arr: np.ndarray) -> np.ndarray:
    """A private read-only copy, so a frozen spec stays frozen."""
    out = np.array(arr, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


#: Characters a user label may hold: it is written into netlist comments, so no newline,
#: no control character and nothing that could start a SPICE card on a line of its own.
LABEL_PATTERN = re.compile(r"[A-Za-z0-9 _.,:;+\-=()/#%@]*")
MAX_LABEL_CHARS = 80


def safe_label(name: str, value: Any) -> str:
    """A short free-text label that is safe inside a SPICE comment line."""
    if not isinstance(value, str):
        raise SpecError(name, f"is {value!r}", "a string")
    if len(value) > MAX_LABEL_CHARS:
        raise SpecError(name, f"has {len(value)} characters", f"at most {MAX_LABEL_CHARS}")
    if not LABEL_PATTERN.fullmatch(value):
        bad = next(c for c in value if not LABEL_PATTERN.fullmatch(c))
        raise SpecError(name, f"contains {bad!r}",
                        "letters, digits, space and _ . , : ; + - = ( ) / # % @ (no newlines)")
    return value


#: Longest time limit a run may be given, seconds (7 days): no analysis spicebar runs
#: needs more, and a larger number is a typo (or an overflow waiting to happen).
MAX_TIME_LIMIT_S = 7 * 24 * 3600.0


def time_limit_s(name: str, value: Any) -> float:
    """A wall-time limit in seconds: a finite number in ``(0, MAX_TIME_LIMIT_S]`` (bools,
    strings and None refused). The one check of every ``timeout_s`` / ``--timeout``."""
    allowed = f"a number of seconds > 0 and <= {MAX_TIME_LIMIT_S:g}"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise SpecError(name, f"is {value!r}", allowed)
    x = float(value)
    if not math.isfinite(x) or not 0 < x <= MAX_TIME_LIMIT_S:
        raise SpecError(name, f"is {value!r}", allowed)
    return x


def number(name: str, value: Any, *, low: float = -math.inf, high: float = math.inf,
           low_open: bool = False, integer: bool = False, unit: str = "") -> float | int:
    """A number parsed from a file (TOML, JSON): a real int or float, never a bool (TOML's
    ``true`` is not 1), finite, in ``[low, high]`` (``(low, high]`` with ``low_open``);
    ``integer`` asks for an int. SpecError naming ``name`` and the range otherwise."""
    kind = "an integer" if integer else "a number"
    lo = "" if low == -math.inf else f"{'>' if low_open else '>='} {low:g}"
    hi = "" if high == math.inf else f"<= {high:g}"
    allowed = " ".join(p for p in (kind, " and ".join(p for p in (lo, hi) if p), unit) if p)
    types = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, types):
        raise SpecError(name, f"is {value!r}", allowed)
    x = int(value) if integer else float(value)
    if not math.isfinite(x) or x < low or (low_open and x == low) or x > high:
        raise SpecError(name, f"is {value!r}", allowed)
    return x


#: Characters no path handed to a worker, a netlist or a log may hold: a newline would
#: split the line protocols (one job path a line) and the netlist's own lines.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def plain_path(name: str, value: Any) -> str:
    """A path as text, refused when it holds a control character (newline, tab, NUL...)."""
    text = str(value)
    bad = CONTROL_CHARS.search(text)
    if bad:
        raise SpecError(name, f"{text!r} contains the control character {bad.group()!r}",
                        "a path without newlines, tabs or other control characters")
    return text
