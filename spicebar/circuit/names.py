"""The one place node and element names are made.

Every engine keys its results by these names, so they line up across engines.
Names are lower case (ngspice lower-cases everything it reads).

Nodes: ``in_i`` / ``inr_i`` (left / right driver end of word line ``i``),
``out_j`` / ``outt_j`` (bottom / top readout end of bit line ``j``),
``src_i``, ``srcr_i``, ``sns_j``, ``snst_j`` (source side of a driver or sense
resistance), ``wl_i_j`` and ``bl_i_j`` (the word-line and bit-line node of cell
``(i, j)``: the row line and the column line), ``mid_i_j`` (inside a two-part cell),
``gl_i`` (the driven end of gate line ``i``) and ``gl_i_j`` (the gate of cell ``(i, j)`` on
a resistive gate line). Ground is ``0``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

GROUND = "0"


def indexed_names(prefix: str, labels: np.ndarray) -> list[str]:
    """``prefix_a_b...`` for each row of ``labels`` (shape ``(n,)`` or ``(n, k)``, ints >= 0)."""
    labels = np.asarray(labels)
    labels = labels[:, None] if labels.ndim == 1 else labels
    if labels.size == 0:
        return [prefix] * labels.shape[0]
    return (prefix + _suffixes(labels)).tolist()


#: Label tables up to this many rows have their suffixes kept for reuse (a 512x512 array).
SUFFIX_CACHE_ROWS = 1 << 18


def _suffixes(labels: np.ndarray) -> np.ndarray:
    """``_a_b...`` for each row of ``labels`` ``(n, k)``, as an object array of ``str``.

    Vectorised: each index is formatted once and the pieces joined as object arrays,
    4x faster than formatting every name. Arrays of one shape share their label
    tables (every cell, segment and node block), so small tables are also cached.
    """
    if labels.shape[0] > SUFFIX_CACHE_ROWS:
        return _build_suffixes(labels)
    return _cached_suffixes(labels.shape, labels.dtype.str, labels.tobytes())


@lru_cache(maxsize=16)
def _cached_suffixes(shape, dtype, data) -> np.ndarray:
    suffixes = _build_suffixes(np.frombuffer(data, dtype=dtype).reshape(shape))
    suffixes.flags.writeable = False  # shared between calls
    return suffixes


def _build_suffixes(labels: np.ndarray) -> np.ndarray:
    pieces = np.array([f"_{k}" for k in range(int(labels.max()) + 1)], dtype=object)
    out = pieces[labels[:, 0]]
    for column in labels.T[1:]:
        out = out + pieces[column]
    return out


def node_name(prefix: str, *index: int) -> str:
    """Name of one node, e.g. ``node_name("wl", 3, 7) == "wl_3_7"``."""
    return prefix + "".join(f"_{int(i)}" for i in index)


def branch_name(source_name: str) -> str:
    """ngspice's name of the current through a voltage source."""
    return f"{source_name}#branch"
