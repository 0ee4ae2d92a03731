"""Settling time and read speed of a crossbar with wire capacitance (exact, nodal).

The array's dynamics with every bit-line end held at its virtual ground (an ideal readout)
and the word lines stepped from 0 to the input vector at ``t = 0``:

    C dv/dt + G v = B u(t)        on the inner nodes (word- and bit-line nodes)

``G`` is the nodal conductance matrix of the inner nodes (drivers and senses held), ``C``
the wire capacitance to ground (diagonal, farad). Its slowest time constant is ``1 / lambda``
for the smallest ``lambda`` of the generalised eigenproblem ``G x = lambda C x`` (symmetric
positive definite pair), found by ARPACK in shift-invert mode on a sparse LU of ``G``
(never a dense factorisation). The step response of every column current into its
virtual ground is integrated by TR-BDF2 (L-stable, second order) on a uniform grid of
``tau / steps_per_tau``: one sparse LU of ``G + C / (d h)``.

Read speed: the settling time to half an LSB of an ``bits``-bit readout (LSB = the
full-scale current ``max|V| max_j sum_i G_ij`` over ``2^bits``), and the integrator's charge
error ``(integral_0^T i dt - i_inf T) / (I_fs T)`` against window length ``T``.

Analytic estimates (:mod:`.delay_models`) are scored next to it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..circuit.elaboration import elaborate
from ..circuit.spec import CrossbarSpec, validate_inputs
from ..errors import SpecError
from .. import _validate as v
from .delay_models import DELAY_MODELS, score_delay_models

#: Steps per slowest time constant of the step response (TR-BDF2, second order: the slowest
#: mode's amplitude drifts by ~1 % over the span at 5, which moves a half-LSB crossing by
#: ~0.01 of a time constant, a twentieth of a step).
STEPS_PER_TAU = 5
#: The step response runs to this many times the one-pole settling time ``tau (N+1) ln 2``
#: plus ``SPAN_EXTRA_TAU`` time constants (room for the amplitude of the slow modes).
SPAN_FACTOR = 1.0
SPAN_EXTRA_TAU = 3.0
#: ARPACK's tolerance on the slowest eigenvalue (relative).
EIG_TOL = 1e-10
#: The number of slowest modes found (ARPACK converges much faster on one alone where the
#: modes of many columns cluster: 128x128, 4.9 s for one against 18 s for three).
N_MODES = 1
#: How the inner-node systems are solved (:mod:`.settling_solvers`).
METHODS = ("auto", "direct", "lines")


@dataclass(frozen=True, eq=False)
class SettlingResult:
    """What :func:`settling` finds.

    Attributes:
        tau_s: slowest time constant of the array, s (exact, generalised eigenproblem).
        taus_s: the ``N_MODES`` slowest time constants, s, slowest first.
        bits: readout resolution the settling is measured against.
        lsb_a: one LSB of current, A (full scale / 2^bits).
        full_scale_a: full-scale column current, A.
        t: shape ``(n_t,)`` time points of the step response, s.
        currents: shape ``(cols, n_t)`` column currents into the virtual grounds, A.
        final_a: shape ``(cols,)`` DC column currents, A.
        t_settle_s: shape ``(cols,)`` time after which each column stays within half an
            LSB of its final current, s (NaN: still outside at the end of the span).
        charge_error: shape ``(cols, n_t)``: the integrator's charge error over a window of
            length ``t``, relative to full scale ``I_fs t``.
        t_window_s: shortest window whose charge error stays within half an LSB (all
            columns), s, or NaN if beyond the simulated span.
        estimates: one dict per delay model: name, tau_s, t_settle_s, error of each.
        info: solver details and timings.
    """

    tau_s: float
    taus_s: np.ndarray
    bits: int
    lsb_a: float
    full_scale_a: float
    t: np.ndarray
    currents: np.ndarray
    final_a: np.ndarray
    t_settle_s: np.ndarray
    charge_error: np.ndarray
    t_window_s: float
    estimates: list = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def t_settle_max_s(self) -> float:
        """The array's settling time (slowest column), s."""
        return float(self.t_settle_s.max())

    def to_dict(self) -> dict:
        """The scalar answers and the estimates (JSON-ready)."""
        return {"tau_s": self.tau_s, "taus_s": self.taus_s.tolist(), "bits": self.bits,
                "lsb_a": self.lsb_a, "full_scale_a": self.full_scale_a,
                "t_settle_s": self.t_settle_max_s, "t_settle_per_column_s":
                self.t_settle_s.tolist(), "t_window_s": self.t_window_s,
                "estimates": self.estimates, "info": self.info}

    def save(self, path) -> None:
        """Write the arrays to ``path`` (.npz, atomically)."""
        import json
        from ..io import atomic_output
        with atomic_output(path) as f:
            np.savez(f, summary=np.array(json.dumps(self.to_dict())), t=self.t, currents=self.currents,
                     final_a=self.final_a,
                     t_settle_s=self.t_settle_s, charge_error=self.charge_error,
                     taus_s=self.taus_s, tau_s=np.array(self.tau_s),
                     lsb_a=np.array(self.lsb_a), bits=np.array(self.bits))


class Dynamics:
    """The inner-node system ``C dv/dt + G v = B u`` of a linear array with capacitance.

    Attributes:
        g: ``(n, n)`` csc, S; ``c``: ``(n,)`` F (diagonal); ``b``: ``(n, n_fixed)`` S, the
        coupling to the held nodes; ``s_in``: ``(n_senses, n)`` S and ``s_fix``:
        ``(n_senses, n_fixed)`` S: the current into each sense is ``-(s_in v + s_fix u)``.
    """

    def __init__(self, spec: CrossbarSpec):
        from ..engines.nodal.stamps import conductance_matrix
        from ..engines.transient.boundary import Partition
        ir = elaborate(spec)
        if ir.nonlinear:
            raise SpecError("cell", f"is {spec.cell.describe()}: the settling analysis takes "
                            "linear (passive) cells", "a PassiveCell array")
        if not ir.capacitors:
            raise SpecError("readout.c_wl_f/c_bl_f", "are 0 F (or no readout is set): without "
                            "wire capacitance the array settles at once",
                            "c_wl_f and/or c_bl_f > 0 (--c-wire on the command line)")
        part = Partition(ir)
        lap = conductance_matrix(ir).tocsr()
        cap = np.zeros(ir.n_nodes)
        for grp in ir.capacitors:
            np.add.at(cap, grp.node_p, grp.value)
            np.add.at(cap, grp.node_n, grp.value)
        fixed = np.concatenate([part.fixed, part.sense])
        inner = part.inner
        self.ir, self.part = ir, part
        self.g = lap[inner][:, inner].tocsc()
        self.c = cap[inner]
        self.b = -lap[inner][:, fixed].tocsr()
        rows_s = lap[part.sense]
        self.s_in = rows_s[:, inner].tocsr()
        self.s_fix = rows_s[:, fixed].tocsr()
        self.n_fixed_drv = part.fixed.size

    def g_lu(self):
        """The sparse LU of ``G`` (made once, shared by the modes and the final state)."""
        if getattr(self, "_g_lu", None) is None:
            from .settling_solvers import direct_lu
            self._g_lu = direct_lu(self.g)
        return self._g_lu

    def line_solver(self):
        """The line solver of this array (made once; its ``reason`` says if it has none)."""
        if getattr(self, "_lines", None) is None:
            from .settling_solvers import LineSolver
            self._lines = LineSolver(self)
        return self._lines

    def fixed_values(self, v_rows: np.ndarray) -> np.ndarray:
        """Held-node voltages for one input vector ``(rows,)``: ``(n_fixed + n_senses,)`` V."""
        u = self.part.fixed_values(self.ir, v_rows[None, :])[:, 0]
        return np.concatenate([u, self.ir.senses.value])

    def sense_currents(self, v: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Current into each sense source (out of the array), ``(n_senses, ...)`` A."""
        return -(self.s_in @ v + (self.s_fix @ u)[:, None] if v.ndim == 2 else
                 self.s_in @ v + self.s_fix @ u)


def _method(dyn: Dynamics, method: str, what: str = "modes"):
    """``("direct", None)`` or ``("lines", LineSolver)`` for ``method`` auto/direct/lines.

    ``auto``: the slowest modes on the LU of ``G`` below :data:`LINES_FROM_NODES` inner nodes
    (ARPACK converges in few exact solves), the step response on the lines from
    :data:`LINES_STEP_FROM_NODES` (``G + C / (d h)`` takes ~3 line iterations, and no
    second factorisation is needed)."""
    from .settling_solvers import LINES_FROM_NODES, LINES_STEP_FROM_NODES
    v.choice("method", method, METHODS)
    limit = LINES_FROM_NODES if what == "modes" else LINES_STEP_FROM_NODES
    if method == "direct" or (method == "auto" and dyn.g.shape[0] < limit):
        return "direct", None
    lines = dyn.line_solver()
    problem = lines.reason or ("some node has no capacitance" if np.any(dyn.c <= 0) else None)
    if problem is not None:
        if method == "lines":
            raise SpecError("method", f"is 'lines' but {problem}", "'direct' or 'auto'")
        return "direct", None
    return "lines", lines


def slowest_modes(dyn: Dynamics, k: int = N_MODES, method: str = "auto") -> np.ndarray:
    """The ``k`` slowest time constants, s, slowest first (``G x = lambda C x``)."""
    from .settling_solvers import arpack_modes
    k = max(1, min(k, dyn.g.shape[0] - 1))
    kind, lines = _method(dyn, method)
    lam = arpack_modes(dyn, k, lines)
    return 1.0 / np.sort(lam)


def step_response(dyn: Dynamics, v_rows: np.ndarray, tau: float, t_end: float,
                  steps_per_tau: int = STEPS_PER_TAU, method: str = "auto"):
    """Column currents after the word lines step from 0 to ``v_rows`` at ``t = 0``.

    Returns ``(t (n_t,), currents (cols, n_t) A, final (cols,) A)``. TR-BDF2 with one step
    length: a trapezoidal stage to ``t + gamma h``, then BDF2, both on ``G + C / (d h)``.
    """
    import scipy.sparse as sp
    from ..engines.transient.timegrid import GAMMA
    h = tau / steps_per_tau
    n_steps = int(np.ceil(t_end / h))
    d = GAMMA / 2.0
    c1 = 1.0 / (GAMMA * (2.0 - GAMMA))
    c2 = (1.0 - GAMMA) ** 2 / (GAMMA * (2.0 - GAMMA))
    u = dyn.fixed_values(np.asarray(v_rows, float))
    bu = dyn.b @ u
    kind, lines = _method(dyn, method, "step")
    if kind == "direct":
        from .settling_solvers import direct_lu
        solve = direct_lu(dyn.g + sp.diags(dyn.c / (d * h))).solve
        final_v = dyn.g_lu().solve(bu)
    else:
        shift = dyn.c / (d * h)

        def solve(f):
            return lines.solve(f, shift, d * h)
        final_v = lines.solve(bu)
    x = np.zeros(dyn.g.shape[0])
    cd = dyn.c / (d * h)
    f = bu - dyn.g @ x   # C dx/dt at t = 0+ (the drivers are stepped, nodes start at 0)
    out = np.empty((dyn.s_in.shape[0], n_steps + 1))
    out[:, 0] = dyn.sense_currents(x, u)
    for k in range(n_steps):
        # trapezoidal stage: C (xg - x) / (d h) = f(x) + f(xg)
        xg = solve(cd * x + f + bu)
        # BDF2 stage: C (x1 - c1 xg + c2 x) / (d h) = f(x1)
        x1 = solve(cd * (c1 * xg - c2 * x) + bu)
        f = bu - dyn.g @ x1
        x = x1
        out[:, k + 1] = dyn.sense_currents(x, u)
    t = h * np.arange(n_steps + 1)
    cols = _per_column(dyn.ir, out)
    return t, cols, _per_column(dyn.ir, dyn.sense_currents(final_v, u)[:, None])[:, 0]


def _per_column(ir, per_sense: np.ndarray) -> np.ndarray:
    out = np.zeros((ir.cols, per_sense.shape[1]))
    np.add.at(out, ir.sense_col, per_sense)
    return out


def settle_times(t: np.ndarray, currents: np.ndarray, final: np.ndarray, band: float) -> np.ndarray:
    """Per column, the time after which ``|i - final| <= band`` holds to the end, s
    (linear interpolation at the last crossing; 0 if never outside; NaN if outside at the end)."""
    dev = np.abs(currents - final[:, None])
    out = np.zeros(currents.shape[0])
    for j in range(currents.shape[0]):
        outside = np.flatnonzero(dev[j] > band)
        if outside.size == 0:
            continue
        k = int(outside[-1])
        if k == t.size - 1:
            out[j] = np.nan
            continue
        d0, d1 = dev[j, k], dev[j, k + 1]
        out[j] = t[k] + (t[k + 1] - t[k]) * (d0 - band) / (d0 - d1)
    return out


def charge_error(t: np.ndarray, currents: np.ndarray, final: np.ndarray, i_fs: float) -> np.ndarray:
    """``(integral_0^T i dt - final T) / (i_fs T)`` for every window length ``T = t[k]``."""
    q = np.concatenate([np.zeros((currents.shape[0], 1)), np.cumsum(
        0.5 * (currents[:, 1:] + currents[:, :-1]) * np.diff(t), axis=1)], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(t > 0, (q - final[:, None] * t) / (i_fs * np.where(t > 0, t, 1.0)), 0.0)


def window_length(t, currents, final, lsb, qerr, bits) -> float:
    """Shortest integration window whose charge error stays within half an LSB, s.

    Past the simulated span the charge deficit ``D = integral (i - final) dt`` no longer
    changes (the columns have settled), so the error is ``D / (I_fs T)`` and the window is
    ``max |D| / (lsb / 2)``."""
    bad = np.abs(qerr).max(axis=0) > 0.5 / 2 ** bits
    if not bad.any():
        return 0.0
    if not bad[-1]:
        return float(t[np.flatnonzero(bad)[-1] + 1])
    deficit = np.sum(0.5 * (currents[:, 1:] + currents[:, :-1] - 2 * final[:, None])
                     * np.diff(t), axis=1)
    return float(np.abs(deficit).max() / (0.5 * lsb))


def settling(spec: CrossbarSpec, inputs, bits: int = 8, *, vector: int = 0,
             models=None, steps_per_tau: int = STEPS_PER_TAU,
             method: str = "auto") -> SettlingResult:
    """Settling time and read speed of ``spec`` (with wire capacitance) for one input vector.

    Args:
        spec: a linear array whose ``readout`` sets ``c_wl_f`` / ``c_bl_f`` (F per segment).
        inputs: ``(batch, rows)`` or ``(rows,)`` V; the word lines step to ``inputs[vector]``.
        bits: readout resolution, 1..24: settling is to half an LSB of full scale.
        models: extra delay models ``{name: callable(spec) -> tau_s}`` scored beside the
            built-in ones (:data:`spicebar.analysis.delay_models.DELAY_MODELS`).
        steps_per_tau: time steps per slowest time constant, 4..1000.
        method: ``direct`` (sparse LU, ARPACK), ``lines`` (the line solver, LOBPCG) or
            ``auto`` (lines from 600 000 inner nodes where the array has them).
    """
    bits = v.integer_in("bits", bits, 1, 24)
    steps_per_tau = v.integer_in("steps_per_tau", steps_per_tau, 4, 1000)
    v.choice("method", method, METHODS)
    x = validate_inputs(inputs, spec.rows)
    if not 0 <= vector < x.shape[0]:
        raise SpecError("vector", f"is {vector}", f"0..{x.shape[0] - 1}")
    if models is not None and not isinstance(models, dict):
        raise SpecError("models", f"is {type(models).__name__}", "a dict {name: callable(spec)}")
    t0 = time.perf_counter()
    dyn = Dynamics(spec)
    t1 = time.perf_counter()
    taus = slowest_modes(dyn, N_MODES, method)
    t2 = time.perf_counter()
    tau = float(taus[0])
    i_fs = float(np.abs(x).max() * spec.conductances.sum(axis=0).max())
    if i_fs == 0:
        raise SpecError("inputs", "are all 0 V", "a vector with some nonzero input")
    lsb = i_fs / 2 ** bits
    t_end = tau * (SPAN_FACTOR * (bits + 1) * np.log(2.0) + SPAN_EXTRA_TAU)
    t, cur, final = step_response(dyn, x[vector], tau, t_end, steps_per_tau, method)
    ts = settle_times(t, cur, final, 0.5 * lsb)
    qerr = charge_error(t, cur, final, i_fs)
    t_window = window_length(t, cur, final, lsb, qerr, bits)
    t3 = time.perf_counter()
    est = score_delay_models(spec, tau, float(np.nanmax(ts)), bits, models or {})
    info = {"nodes": int(dyn.g.shape[0]), "steps": int(t.size - 1), "step_s": float(t[1] - t[0]),
            "build_s": t1 - t0, "eigen_s": t2 - t1, "step_response_s": t3 - t2,
            "method": f"modes: {_method(dyn, method)[0]}, step: {_method(dyn, method, 'step')[0]}",
            "models": list(DELAY_MODELS)}
    return SettlingResult(tau, np.asarray(taus), bits, lsb, i_fs, t, cur, final, ts, qerr,
                          t_window, est, info)
