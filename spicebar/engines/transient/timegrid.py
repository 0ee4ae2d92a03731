"""The nodal transient's time points: every breakpoint, small steps after each, at most ``h_max``.

Every stimulus corner (PWL pulse edges, reset edges) and every sampling instant is a
breakpoint the grid lands on exactly, as in ngspice. After each breakpoint the steps start
at ``h_first`` and grow by :data:`STEP_GROWTH` until they reach ``h_max`` (``t_int / steps_per_window``, the
same maximum step ngspice gets), so the fast modes a corner excites (the op-amp loop, the
reset's ``r C``, the wires' ``r C``) are followed while they matter; the rest of the
interval is cut into equal steps. The integration rule (:mod:`.nodal`) is L-stable, so
steps longer than a mode's time constant damp it instead of ringing.
"""

from __future__ import annotations

import numpy as np

#: TR-BDF2's split point: the trapezoidal stage ends at ``t + GAMMA h``. With this value
#: both stages have the same coefficient ``d = GAMMA / 2`` on ``f`` (one LU per step size).
GAMMA = 2.0 - np.sqrt(2.0)
#: First step after a breakpoint, as a fraction of the fastest time constant in play.
FIRST_STEP_FRACTION = 1.0 / 8.0
#: Each step after a breakpoint is this many times the one before, up to ``h_max`` (few
#: step lengths, so few factorisations with wire capacitance; the L-stable rule damps
#: what a longer step no longer follows).
STEP_GROWTH = 4.0


#: While the reset switch is closed the step stays below this many ``r_reset C``: the
#: capacitor's discharge is then followed to ~1e-4 of itself per step (TR-BDF2's local
#: error at h = tau / 4), so what a short reset leaves of the previous window (its
#: exp(-t_reset / (r C))) is computed to a few per cent of itself, not damped to zero
#: by long L-stable steps.
RESET_STEP_TAUS = 0.25


def step_grid(breakpoints: np.ndarray, h_max: float, h_first: float,
              h_cap=None) -> np.ndarray:
    """Time points ``(n,)`` s from ``breakpoints[0]`` to ``breakpoints[-1]`` (sorted, unique).

    ``h_cap(t0, t1)``: an optional smaller maximum step for the interval ``[t0, t1]``."""
    out = [np.asarray([breakpoints[0]])]
    h_top = h_max
    for t0, t1 in zip(breakpoints[:-1], breakpoints[1:]):
        h_max = h_top if h_cap is None else min(h_top, h_cap(t0, t1))
        length = t1 - t0
        steps = []
        h, s = min(h_first, h_max), 0.0
        while h < h_max and s + 2 * h <= length:
            steps.append(h)
            s += h
            h *= STEP_GROWTH
        rest = length - s
        n = max(1, int(np.ceil(rest / h_max - 1e-9)))
        steps += [rest / n] * n
        pts = t0 + np.cumsum(steps)
        pts[-1] = t1
        out.append(pts)
    t = np.concatenate(out)
    keep = np.concatenate([[True], np.diff(t) > 0])
    return t[keep]
