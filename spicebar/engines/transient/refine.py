"""Which steps of a nodal transient's grid to split, given each step's local error estimate.

The error control (:mod:`.nodal`) holds the run's summed local error estimates to a budget:
``tol_per_s`` (V per second of simulated time) times the run's length, i.e. the accuracy
goal over :data:`HALVING_SAFETY` of the output's full swing per window length. Splitting a step of estimate ``e`` into ``m``
equal parts leaves about ``e / m^2`` (TR-BDF2's error is third order in the step, ``m``
steps of it). The budget is met by splitting the fewest steps: those whose error density
``e / h`` passes ``s * tol_per_s``, with the largest ``s >= 1`` whose predicted sum meets
the budget with the safety factor's margin. ``s = 1`` is the per-step rule (every step
within its share of the budget), which a grid that needs it still gets; a grid over budget
only at a few steps (an input edge driving the wires' picosecond modes) gets those few
split, not every step near them down to float64's resolution. A step whose error falls
off from its start (at an input edge or a reset corner) is split into parts that start
short and grow geometrically (:func:`graded_fractions`: 7 parts where an equal split
takes 64).
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import SpecError

#: The nodal transient's accuracy goal by default, a fraction of the output full scale:
#: halving every step of the final grid moves no sample by more than this
#: (``simulate_readout(transient_tol=...)``, ``--transient-tol``).
DEFAULT_TRANSIENT_TOL = 1e-6
#: The goals a run may ask for: tighter than 1e-7 would ask for more refinements than a
#: run makes (``nodal.MAX_REFINEMENTS``), looser than 1e-3 is past the engines' agreement.
TRANSIENT_TOL_RANGE = (1e-7, 1e-3)


def transient_tol(name: str, value) -> float:
    """``value`` as an accuracy goal (fraction of full scale, in
    :data:`TRANSIENT_TOL_RANGE`); SpecError naming ``name`` and the range otherwise."""
    lo, hi = TRANSIENT_TOL_RANGE
    allowed = f"a fraction of full scale from {lo:g} to {hi:g} (default {DEFAULT_TRANSIENT_TOL:g})"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                    np.floating)):
        raise SpecError(name, f"is {value!r}", allowed)
    x = float(value)
    if not math.isfinite(x) or not lo <= x <= hi:
        raise SpecError(name, f"is {value!r}", allowed)
    return x

#: Values of ``s`` tried between 1 and the largest ratio (geometric bisection steps).
BISECTIONS = 40
#: The summed estimates are held to the accuracy goal over this (the goal: halving every
#: step moves no sample by more than ``transient_tol`` of full scale). The estimates watch
#: the integrator's charge and the op-amp loop's states near each sample; measured over
#: tests/test_transient_accuracy.py's seven configurations at goals 1e-6, 1e-5 and 1e-4,
#: halving every step moved the samples by at most 0.91 of the final summed estimate
#: (bit-serial, 1 kohm / 3 ns reset), and by 0.01-0.6 of it elsewhere: a factor 4 keeps
#: the goal with room (the watch list before the loop states was no bound: "macro op-amp,
#: settle 1 ns" moved 6-11x its estimate, the loop's over-damped decay before the sample).
HALVING_SAFETY = 4.0
#: A graded split (a step whose error falls off from its start: the fast modes an input
#: edge or a reset excites) makes each part this many times the one before.
GRADED_GROWTH = 2.0


def split_parts(ratio: np.ndarray, s: float, safety: float, max_split: int) -> np.ndarray:
    """Parts per step ``(n_steps,)`` int: ``2^k >= safety sqrt(ratio / s)`` for the steps
    with ``ratio > s`` (at most ``max_split``), 1 for the others."""
    parts = np.ones(ratio.size, dtype=int)
    over = ratio > s
    if over.any():
        need = np.sqrt(ratio[over] / s) * safety
        parts[over] = np.minimum(2 ** np.ceil(np.log2(np.maximum(need, 1.0))).astype(int),
                                 max_split)
    return parts


def parts_for_budget(lte: np.ndarray, h: np.ndarray, tol_per_s: float, safety: float,
                     max_split: int) -> np.ndarray:
    """Parts per step ``(n_steps,)``: all 1 when ``sum(lte) <= tol_per_s * sum(h)``, else
    the split of the largest ``s`` (:func:`split_parts`) whose predicted sum
    ``sum(lte / parts^2)`` is within the budget over ``safety^2``; ``s = 1`` when none is."""
    budget = tol_per_s * float(h.sum())
    if float(lte.sum()) <= budget:
        return np.ones(h.size, dtype=int)
    # the per-step rule (s = 1, every step within its share) always meets the budget, so
    # no run ends above it with nothing left to split
    ratio = lte / np.maximum(tol_per_s * h, np.finfo(float).tiny)

    def meets(s: float) -> bool:
        return float((lte / split_parts(ratio, s, safety, max_split) ** 2).sum()) \
            <= budget / safety ** 2
    lo, hi = 1.0, max(float(ratio.max()), 1.0)
    if not meets(lo):
        return split_parts(ratio, lo, safety, max_split)
    for _ in range(BISECTIONS):   # meets(lo) holds; find the largest such s (log scale)
        if hi / lo < 1.01:
            break
        mid = float(np.sqrt(lo * hi))
        lo, hi = (mid, hi) if meets(mid) else (lo, mid)
    return split_parts(ratio, lo, safety, max_split)


def graded_fractions(p: int, growth: float = GRADED_GROWTH) -> np.ndarray:
    """Where a graded split of a step into (at most) ``p`` equal parts' worth puts its
    points, as fractions of the step ``(m,)`` (the last is 1): the first part is at most
    ``1 / p`` of the step and each next one ``growth`` times the one before, so
    ``m = ceil(log(1 + (growth - 1) p) / log(growth))`` parts (``p = 64``, growth 2: 7)."""
    if p <= 1:
        return np.ones(1)
    m = int(np.ceil(np.log1p((growth - 1.0) * p) / np.log(growth) - 1e-12))
    m = max(1, min(m, p))
    widths = growth ** np.arange(m)
    return np.cumsum(widths) / widths.sum()


def decaying(lte: np.ndarray, h: np.ndarray, corner: np.ndarray) -> np.ndarray:
    """Steps ``(n_steps,)`` bool whose error is taken to fall off from their start: those
    starting at a stimulus corner (``corner``), and those whose error density ``lte / h``
    is below the step's before them (the fast modes an edge excites die away)."""
    density = lte / np.maximum(h, np.finfo(float).tiny)
    out = np.asarray(corner, bool).copy()
    out[1:] |= density[1:] < density[:-1]
    return out


def split_steps(t_grid: np.ndarray, parts: np.ndarray, graded=None) -> np.ndarray:
    """``t_grid`` ``(n,)`` with step ``k`` cut into ``parts[k]`` equal steps, or, where
    ``graded[k]`` (``(n_steps,)`` bool), into the graded parts of :func:`graded_fractions`
    (first part as short as the equal split's, then growing)."""
    h = np.diff(t_grid)
    pieces = [t_grid[:1]]
    for k in range(h.size):
        p = parts[k]
        if p <= 1:
            pieces.append(t_grid[k + 1:k + 2])
        elif graded is not None and graded[k]:
            pieces.append(t_grid[k] + h[k] * graded_fractions(int(p)))
        else:
            pieces.append(t_grid[k] + h[k] * np.arange(1, p + 1) / p)
    out = np.concatenate(pieces)
    out[-1] = t_grid[-1]
    return out
