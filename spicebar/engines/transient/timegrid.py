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
#: With the energy asked for, the steps after a breakpoint are finer: an energy is the
#: integral of a power that decays twice as fast as the state (``exp(-2 t / tau)``),
#: integrated by the trapezoidal rule on these points, and the truncation-error control
#: (``nodal.LTE_REL``) watches the sampled states, not the powers of the fast modes. The
#: first step is ``ENERGY_FIRST_STEP_FRACTION`` of the fastest time constant; each step
#: length is taken ``ENERGY_STEP_REPEAT`` times, then multiplied by ``ENERGY_STEP_GROWTH``
#: (few distinct lengths: with wire capacitance each length costs a factorisation).
#: Measured on a 16x16 integrator with the macro op-amp (1 GHz) and 2 fF wires, largest
#: component difference from ngspice as a fraction of the window's energy, nodal wall time
#: (load ~13): the plain grid (growth 4, first step 1/8) 1.1e-3, 6.3 s; growth 1.1 from
#: 1/80, 9.8e-6, 22 s; these values 1.2e-5, 10.5 s (growth 2 taken 6 times: 5.2e-5, 8.6 s).
ENERGY_STEP_GROWTH = 2.0
ENERGY_FIRST_STEP_FRACTION = 1.0 / 80.0
ENERGY_STEP_REPEAT = 8


#: TR-BDF2's local error constant: one step of ``x' = -x / tau`` is off by
#: ``TRBDF2_LTE * (h / tau)**3`` of ``x`` (``(-3 g^2 + 4 g - 2) / (12 (2 - g))``, g = GAMMA).
TRBDF2_LTE = abs((-3 * GAMMA ** 2 + 4 * GAMMA - 2) / (12 * (2 - GAMMA)))
#: What the reset leaves of a window (``exp(-t / (r C))``) is computed to this fraction of
#: the window's output: the steps while the switch is closed are at most
#: ``tau * sqrt(RESET_TOL / (TRBDF2_LTE * leftover * t / tau))`` (the error of ``n`` steps
#: of ``h / tau = z`` on a decay that ends at ``leftover`` is ``leftover * n * LTE z^3``),
#: and never above ``RESET_MAX_TAUS`` time constants. A reset long enough to leave nothing
#: takes long L-stable steps; a short one (warned about) is followed closely.
RESET_TOL = 1e-7
RESET_MAX_TAUS = 2.0


def reset_step(tau: float, t_closed: float) -> float:
    """Longest step while a reset of time constant ``tau`` is closed for ``t_closed``, s."""
    periods = t_closed / tau
    error_per_z3 = TRBDF2_LTE * np.exp(-periods) * periods
    if error_per_z3 * RESET_MAX_TAUS ** 2 <= RESET_TOL:  # also a leftover that underflows
        return RESET_MAX_TAUS * tau
    return tau * float(np.sqrt(RESET_TOL / error_per_z3))


def step_grid(breakpoints: np.ndarray, h_max: float, h_first: float,
              h_cap=None, growth: float = STEP_GROWTH, repeat: int = 1) -> np.ndarray:
    """Time points ``(n,)`` s from ``breakpoints[0]`` to ``breakpoints[-1]`` (sorted, unique).

    ``h_cap(t0, t1)``: an optional smaller maximum step for the interval ``[t0, t1]``;
    ``growth``: each step length after a breakpoint over the one before, each length
    taken ``repeat`` times (few distinct lengths: one factorisation each)."""
    out = [np.asarray([breakpoints[0]])]
    h_top = h_max
    for t0, t1 in zip(breakpoints[:-1], breakpoints[1:]):
        h_max = h_top if h_cap is None else min(h_top, h_cap(t0, t1))
        length = t1 - t0
        steps = []
        h, s, k = min(h_first, h_max), 0.0, 0
        while h < h_max and s + 2 * h <= length:
            steps.append(h)
            s += h
            k += 1
            if k % repeat == 0:
                h *= growth
        rest = length - s
        n = max(1, int(np.ceil(rest / h_max - 1e-9)))
        steps += [rest / n] * n
        pts = t0 + np.cumsum(steps)
        pts[-1] = t1
        out.append(pts)
    t = np.concatenate(out)
    keep = np.concatenate([[True], np.diff(t) > 0])
    return t[keep]


def rows_at(schedule, t: np.ndarray) -> np.ndarray:
    """Input voltages of every row of a ``Schedule`` at times ``t``: ``(n_t, rows)`` V."""
    return np.stack([np.interp(t, rt, rv) for rt, rv in zip(schedule.row_t, schedule.row_v)], 1)
