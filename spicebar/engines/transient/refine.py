"""Which steps of a nodal transient's grid to split, given each step's local error estimate.

The error control (:mod:`.nodal`) holds the run's summed local error estimates to a budget:
``tol_per_s`` (V per second of simulated time) times the run's length, i.e. ``LTE_REL`` of
the output's full swing per window length. Splitting a step of estimate ``e`` into ``m``
equal parts leaves about ``e / m^2`` (TR-BDF2's error is third order in the step, ``m``
steps of it). The budget is met by splitting the fewest steps: those whose error density
``e / h`` passes ``s * tol_per_s``, with the largest ``s >= 1`` whose predicted sum meets
the budget with the safety factor's margin. ``s = 1`` is the per-step rule (every step
within its share of the budget), which a grid that needs it still gets; a grid over budget
only at a few steps (an input edge driving the wires' picosecond modes) gets those few
split, not every step near them down to float64's resolution.
"""

from __future__ import annotations

import numpy as np

#: Values of ``s`` tried between 1 and the largest ratio (geometric bisection steps).
BISECTIONS = 40
#: The share of ``tol_per_s`` times the run the summed estimates are held to. The sum is
#: not always an upper bound on what the steps do to the sample: with the whole budget
#: (share 1), tests/test_transient_accuracy.py's "macro op-amp, settle 1 ns" case ended at
#: an estimate of 3.0e-6 of full scale while halving every step moved its samples 1.8e-5;
#: at 1/32 all eight configurations there pass (halving moves them < 1e-6).
BUDGET_SHARE = 1.0 / 32.0


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
    budget = BUDGET_SHARE * tol_per_s * float(h.sum())
    if float(lte.sum()) <= budget:
        return np.ones(h.size, dtype=int)
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


def split_steps(t_grid: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """``t_grid`` ``(n,)`` with step ``k`` cut into ``parts[k]`` equal steps."""
    h = np.diff(t_grid)
    pieces = [t_grid[:1]]
    for k in range(h.size):
        p = parts[k]
        pieces.append(t_grid[k] + h[k] * np.arange(1, p + 1) / p if p > 1 else t_grid[k + 1:k + 2])
    out = np.concatenate(pieces)
    out[-1] = t_grid[-1]
    return out
