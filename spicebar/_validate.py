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
