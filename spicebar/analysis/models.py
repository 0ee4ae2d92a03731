"""Fast crossbar models to validate: callables ``model(G, V, spec) -> I``.

Every model takes the cell conductances ``G`` ``(rows, cols)`` S, the inputs
``V`` ``(batch, rows)`` V and the :class:`~spicebar.circuit.spec.CrossbarSpec` (wires,
driven and read ends), and returns the column currents ``I`` ``(batch, cols)`` A.
A model that cannot handle a spec raises :class:`~spicebar.errors.SpecError`;
the scoring harness records that as "not applicable" rather than a wrong answer.

Shipped models (:data:`MODELS`):

* ``ideal``: ``I = V @ G``.
* ``first_order``: the first-order IR-drop correction (see :func:`first_order`).
* ``nodal``: the exact nodal solver (as a model, so it can be scored against ngspice).

A user's own model is any function with that signature; in a sweep file it is
named ``"package.module:function"``.
"""

from __future__ import annotations

import importlib
from typing import Callable

import numpy as np

from ..errors import SpecError
from ..circuit.spec import CrossbarSpec

Model = Callable[[np.ndarray, np.ndarray, CrossbarSpec], np.ndarray]


def ideal(G: np.ndarray, V: np.ndarray, spec: CrossbarSpec) -> np.ndarray:
    """``I = V @ G``: no wires, perfect virtual ground. ``(batch, cols)`` A."""
    return np.asarray(V, float) @ np.asarray(G, float)


def first_order(G: np.ndarray, V: np.ndarray, spec: CrossbarSpec) -> np.ndarray:
    """First-order IR-drop correction of ``V @ G`` for the default topology, ``(batch, cols)`` A.

    Source: the first-order IR-drop estimate of the crossbar IR-drop
    compensation literature (for example B. Liu et al., "Reduction and IR-drop
    compensations techniques for reliable neuromorphic computing systems",
    ICCAD 2014, doi:10.1109/ICCAD.2014.7001330): the wire drops are computed from
    the *ideal* cell currents and subtracted from each cell's voltage. The formula below is derived here for
    spicebar's default topology. It is one fixed-point step from ``V @ G``, the
    first term of the expansion of the exact solution in the wire resistance, so its error
    is second order, about ``(r G N^2)^2`` relative for an ``N x N`` array with
    segment resistance ``r`` and typical cell conductance ``G``; where
    ``r G N^2`` approaches 1 it over-corrects and can be worse than ``V @ G``.

    Derivation for drivers at the left (``r_driver``, then one segment before
    the first cell) and readouts at the bottom (one segment after the last
    cell, then ``r_sense``), with ideal cell currents ``c[i, k] = V[i] G[i, k]``:

    * word-line segment slot ``m`` of row ``i`` (left of cell ``m``) carries
      ``S[i, m] = sum_{k >= m} c[i, k]``, so cell ``(i, j)``'s word-line node
      sits ``dWL[i, j] = r_driver S[i, 0] + sum_{m <= j} r_wl[i, m] S[i, m]`` below ``V[i]``;
    * bit-line slot ``m + 1`` of column ``j`` (below cell ``m``) carries
      ``C[m, j] = sum_{k <= m} c[k, j]``, so cell ``(i, j)``'s bit-line node sits
      ``vBL[i, j] = r_sense C[rows-1, j] + sum_{m >= i} r_bl[m+1, j] C[m, j]`` above 0 V;
    * ``I[j] = sum_i G[i, j] (V[i] - dWL[i, j] - vBL[i, j])``.

    Per-segment ``r_wl``/``r_bl`` arrays are honoured. Other ends (``drive`` not
    ``left`` or ``sense`` not ``bottom``) raise :class:`SpecError`.
    """
    if spec.drive != "left":
        raise SpecError("drive", f"is {spec.drive!r}: the first-order model assumes left drivers",
                        "left")
    if spec.sense != "bottom":
        raise SpecError("sense", f"is {spec.sense!r}: the first-order model assumes bottom "
                        "readouts", "bottom")
    g = np.asarray(G, float)
    v = np.asarray(V, float)
    rows, cols = g.shape
    c = v[:, :, None] * g[None, :, :]                       # (batch, rows, cols) A
    s = np.flip(np.cumsum(np.flip(c, axis=2), axis=2), axis=2)  # current right of each slot
    r_wl = spec.wl_segments()[:, :cols]                     # slots 0..cols-1
    d_wl = spec.r_driver * s[:, :, :1] + np.cumsum(r_wl[None] * s, axis=2)
    cc = np.cumsum(c, axis=1)                               # current above each lower slot
    r_bl = spec.bl_segments()[1:, :]                        # slots 1..rows
    t = r_bl[None] * cc
    v_bl = spec.r_sense * cc[:, -1:, :] + np.flip(np.cumsum(np.flip(t, axis=1), axis=1), axis=1)
    return np.einsum("ij,bij->bj", g, v[:, :, None] - d_wl - v_bl)


def nodal(G: np.ndarray, V: np.ndarray, spec: CrossbarSpec) -> np.ndarray:
    """The exact nodal solver (``spec``'s own conductances; ``G`` must match them)."""
    from ..engines.simulation import simulate
    return simulate(spec, V, "nodal").currents


#: Models shipped with spicebar, by name.
MODELS: dict[str, Model] = {"ideal": ideal, "first_order": first_order, "nodal": nodal}


def resolve_model(name: str) -> Model:
    """A shipped model by name, or a user's ``"package.module:function"``."""
    if not isinstance(name, str):
        raise SpecError("model", f"is {name!r}", "a name or 'package.module:function'")
    if name in MODELS:
        return MODELS[name]
    if ":" not in name:
        raise SpecError("model", f"is {name!r}",
                        ", ".join(MODELS) + " or 'package.module:function'")
    module, _, attr = name.partition(":")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise SpecError("model", f"{name!r} cannot be imported ({exc})",
                        "an importable 'package.module:function'") from None
    if not callable(fn):
        raise SpecError("model", f"{name!r} is not callable", "a function model(G, V, spec) -> I")
    return fn
