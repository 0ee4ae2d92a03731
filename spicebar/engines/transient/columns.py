"""The readout of every column as equations: ``models/opamp.lib`` and the feedback network.

Per column ``j`` (vectorised over columns), with the virtual ground ``vg = v0 + e``,
``v0 = v_ref + v_os`` and the array seen as ``J = a - Y e`` (:mod:`.boundary`):

* op-amp ``spicebar_opamp`` (macro): stage-1 node ``p``,
  ``C_p dp/dt = -e - p / a0 - gcl * (sp(p - v_hi) - sp(v_lo - p))`` with
  ``C_p = 1 / (2 pi gbw)``, ``sp(u) = max(u, 0) + v_sm ln(1 + exp(-|u| / v_sm))``;
  internal output ``o1 = v_lo + sp(p - v_lo) - sp(p - v_hi)``; ``gcl = 1 S`` (the library's
  default, which the netlist does not override).
* op-amp ``spicebar_opamp_vcvs`` (ideal): ``o1 = -a0 e`` (no state).
* output ``v_out = o1 + r_out J`` (all of ``J`` returns through ``r_out``).
* integrator: capacitor voltage ``q = vg - v_out`` with ``C dq/dt = J - g_rst(t) q``;
  the reset switch is the conductance ``g_rst = rst(t) / r_reset`` of the netlist.
* TIA: ``vg - v_out = r_f J``.

Eliminating ``vg`` and ``v_out`` leaves ``(alpha I + R Y) e = s + R a - v0`` with
``alpha = 1`` (macro) or ``1 + a0`` (ideal), ``R = r_out`` (integrator) or ``r_f + r_out``
(TIA), ``s = q + clamp(p)``, ``q`` or ``clamp(p)``. The states ``x = (q, p)`` (those that
exist) obey ``M dx/dt = f(x, t)``; :meth:`Columns.stage` solves one implicit stage
``M x - dh f(x) = rhs`` by Newton with the dense Jacobian (one LU, reused while the
clamp's slopes stay put).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from ...errors import SolverError

#: ``gcl`` of ``models/opamp.lib`` (not an instance parameter), S.
OPAMP_GCL = 1.0
#: Newton on the readout states: converged when the last update is below
#: ``NEWTON_VTOL + NEWTON_RTOL * |x|`` volts (far below ngspice's reltol=1e-6).
NEWTON_VTOL = 1e-10
NEWTON_RTOL = 1e-10
NEWTON_MAX_ITER = 60
#: Admittance contexts kept (each holds two dense cols x cols matrices).
CONTEXT_CACHE = 24
#: Updates with the per-column Jacobian blocks before Newton takes the dense Jacobian.
BLOCK_ITER = 12


def softplus(u: np.ndarray, w: float) -> tuple[np.ndarray, np.ndarray]:
    """``sp(u) = max(u, 0) + w ln(1 + exp(-|u|/w))`` and its derivative (the macromodel's clamp)."""
    ex = np.exp(-np.abs(u) / w)
    return np.maximum(u, 0.0) + w * np.log1p(ex), np.where(u >= 0, 1.0, 0.0) - np.sign(u) * ex / (1 + ex)


class Columns:
    """The readouts of ``cols`` columns for one readout spec (an IntegratorSpec or TIASpec)."""

    def __init__(self, readout, cols: int):
        op = readout.opamp
        self.cols = cols
        self.integrator = readout.kind == "integrator"
        self.macro = op.kind == "macro"
        self.op = op
        self.v0 = readout.v_ref + op.v_os
        self.r = op.r_out + (0.0 if self.integrator else readout.r_f_ohm)
        self.alpha = 1.0 if self.macro else 1.0 + op.a0
        self.c_int = readout.c_int_f if self.integrator else None
        self.r_reset = readout.r_reset_ohm if self.integrator else None
        self.c_p = 1.0 / (2 * np.pi * op.gbw_hz)
        mass = ([np.full(cols, self.c_int)] if self.integrator else []) + \
               ([np.full(cols, self.c_p)] if self.macro else [])
        self.mass = np.concatenate(mass) if mass else np.zeros(0)
        self._ctx_key = None
        self._contexts: dict = {}
        self._lu = None

    @property
    def n_states(self) -> int:
        return self.mass.size

    @property
    def output_states(self) -> np.ndarray:
        """Indices of the states whose local error reaches the samples: an integrator's
        capacitor voltages (the charge it sums). The op-amp's loop mode decays (L-stable
        steps damp its error) and reaches an integrator's sample only through the charge it
        moves; a TIA samples a settled output, which carries no integration history."""
        return np.arange(self.cols if self.integrator else 0)

    @property
    def loop_states(self) -> np.ndarray:
        """Indices of the macro op-amp's stage-1 states ``p`` (none for the ideal op-amp):
        the output follows them, so their error reaches a sample taken before the loop
        has settled (:func:`loop_weights`)."""
        if not self.macro:
            return np.arange(0)
        start = self.cols if self.integrator else 0
        return np.arange(start, start + self.cols)

    def loop_weights(self, t_grid: np.ndarray, t_sample: np.ndarray) -> np.ndarray:
        """``(n - 1,)``: how much of a loop state's local error in each step is left at the
        next sampling instant, ``exp(-(t_sample - t_end) / tau)``, ``tau = C_p / 1 S`` (the
        loop's fastest decay, 1 / (2 pi gbw): the weight is not below the true one for a
        loop with feedback factor 1); 0 after the last sample."""
        t_end = t_grid[1:]
        ts = np.sort(np.asarray(t_sample, float))
        k = np.searchsorted(ts, t_end * (1.0 - 1e-12), side="left")
        out = np.zeros(t_end.size)
        ok = k < ts.size
        if self.macro:
            out[ok] = np.exp(-(ts[k[ok]] - t_end[ok]) / self.c_p)
        return out

    # -- the algebra -------------------------------------------------------------------
    def context(self, key, y: np.ndarray):
        """Precompute ``A^-1`` and ``Y A^-1`` for an admittance ``y`` (cached by ``key``:
        a few step lengths, or one per input vector with nonlinear cells)."""
        if key != self._ctx_key:
            if key not in self._contexts:
                if len(self._contexts) >= CONTEXT_CACHE:
                    self._contexts.clear()
                a = self.alpha * np.eye(self.cols) + self.r * y
                d = np.diag(y).copy()
                diagonal = np.count_nonzero(y) == np.count_nonzero(d)   # (line solver's)
                if diagonal:
                    ainv = np.diag(1.0 / np.diag(a))
                    yainv = np.diag(d * np.diag(ainv))   # (no dense product: 1 s at 1024)
                else:
                    ainv = np.linalg.inv(a)
                    yainv = y @ ainv
                self._contexts[key] = (y, ainv, yainv, np.diag(ainv).copy(), np.diag(yainv).copy(),
                                       diagonal, d)
            self._ctx = self._contexts[key]
            self._ctx_key = key
            self._lu = None
        return self._ctx

    def _split(self, x):
        c = self.cols
        q = x[:c] if self.integrator else None
        p = x[c:] if (self.integrator and self.macro) else (x if self.macro else None)
        return q, p

    def evaluate(self, x, a, g_rst, ctx):
        """``f (n_x,)``, the slopes of the clamp ``(dclamp, dsc)`` (or None) and the node
        values ``(e, J, v_out)``."""
        y, ainv = ctx[0], ctx[1]
        diagonal = ctx[5]    # (then y and A^-1 are their diagonals' products)
        q, p = self._split(x)
        s = -self.v0 + self.r * a
        slopes = None
        if q is not None:
            s = s + q
        if p is not None:
            o1, dclamp = self._clamp(p)
            s = s + o1
        e = ctx[3] * s if diagonal else ainv @ s
        j = a - (ctx[6] * e if diagonal else y @ e)
        if p is None:
            o1 = -self.op.a0 * e
        vout = o1 + self.op.r_out * j
        f = []
        if q is not None:
            f.append(j - g_rst * q)
        if p is not None:
            sc, dsc = self._clamp_current(p)
            f.append(-e - p / self.op.a0 - OPAMP_GCL * sc)
            slopes = (dclamp, dsc)
        return (np.concatenate(f) if f else np.zeros(0)), slopes, (e, j, vout)

    def jacobian(self, g_rst, ctx, slopes) -> np.ndarray:
        """``df/dx``, dense ``(n_x, n_x)``."""
        _, ainv, yainv = ctx[:3]
        c = self.cols
        blocks = []
        if self.integrator:
            row = [-yainv - g_rst * np.eye(c)]
            if self.macro:
                row.append(-yainv * slopes[0][None, :])
            blocks.append(row)
        if self.macro:
            row = [-ainv] if self.integrator else []
            row.append(-ainv * slopes[0][None, :]
                       - np.diag(1.0 / self.op.a0 + OPAMP_GCL * slopes[1]))
            blocks.append(row)
        return np.block(blocks)

    def _block_solve(self, res, dh, g_rst, ctx, slopes):
        """``-B^-1 res`` with ``B`` the per-column (1x1 or 2x2) diagonal blocks of
        ``M - dh df/dx``: the columns' own dynamics, without the array's coupling."""
        da, dya = ctx[3], ctx[4]
        c = self.cols
        if self.integrator and self.macro:
            m_q, m_p = self.mass[:c], self.mass[c:]
            dcl, dsc = slopes
            b11 = m_q + dh * (dya + g_rst)
            b12 = dh * dya * dcl
            b21 = dh * da
            b22 = m_p + dh * (da * dcl + 1.0 / self.op.a0 + OPAMP_GCL * dsc)
            r1, r2 = res[:c], res[c:]
            det = b11 * b22 - b12 * b21
            return -np.concatenate([(b22 * r1 - b12 * r2) / det, (b11 * r2 - b21 * r1) / det])
        if self.integrator:
            return -res / (self.mass + dh * (dya + g_rst))
        dcl, dsc = slopes
        return -res / (self.mass + dh * (da * dcl + 1.0 / self.op.a0 + OPAMP_GCL * dsc))

    def _clamp(self, p):
        op = self.op
        a, da = softplus(p - op.v_lo, op.v_smooth)
        b, db = softplus(p - op.v_hi, op.v_smooth)
        return op.v_lo + a - b, da - db

    def _clamp_current(self, p):
        op = self.op
        a, da = softplus(p - op.v_hi, op.v_smooth)
        b, db = softplus(op.v_lo - p, op.v_smooth)
        return a - b, da + db

    # -- one implicit stage -----------------------------------------------------------
    def stage(self, x0, a, g_rst, dh, rhs, ctx, where: str = ""):
        """Solve ``M x - dh f(x) = rhs`` from the guess ``x0``; returns ``(x, f, (e, J, v_out))``.

        Newton with the per-column blocks of the Jacobian first (the array couples the
        columns only weakly through an integrator's ``r_out Y``): cheap, and converging
        linearly at the coupling's ratio; if that has not converged after
        :data:`BLOCK_ITER` updates, Newton with the dense Jacobian (one LU, reused while the
        clamp's slopes stay put), which a TIA's ``r_f Y`` coupling needs.
        """
        x = x0.copy()
        if self.n_states == 0:
            f, _, nodes = self.evaluate(x, a, g_rst, ctx)
            return x, f, nodes
        m = self.mass
        dense = not self.integrator
        for it in range(NEWTON_MAX_ITER):
            f, slopes, nodes = self.evaluate(x, a, g_rst, ctx)
            res = m * x - dh * f - rhs
            if not dense:
                dx = self._block_solve(res, dh, g_rst, ctx, slopes)
                if it + 1 >= BLOCK_ITER:
                    dense = True
            else:
                dx = self._dense_step(res, dh, g_rst, ctx, slopes, it)
            if self.macro and it < 8:  # keep early updates within a few rail spans
                span = 2 * (self.op.v_hi - self.op.v_lo) + 1.0
                dx = np.clip(dx, -span, span)
            x += dx
            if np.all(np.abs(dx) <= NEWTON_VTOL + NEWTON_RTOL * np.abs(x)):
                f, _, nodes = self.evaluate(x, a, g_rst, ctx)
                return x, f, nodes
        raise SolverError(f"the readout's Newton iteration did not converge {where} "
                          f"(last update {np.abs(dx).max():.3g} V)")

    def _dense_step(self, res, dh, g_rst, ctx, slopes, it):
        key = (dh, g_rst)
        diag = None if slopes is None else np.concatenate(slopes)
        fresh = self._lu is None or self._lu[0] != key or it >= BLOCK_ITER + 3
        if not fresh and diag is not None:
            fresh = not np.allclose(diag, self._lu[2], rtol=1e-6, atol=1e-12)
        if fresh:
            mat = np.diag(self.mass) - dh * self.jacobian(g_rst, ctx, slopes)
            self._lu = (key, sla.lu_factor(mat, check_finite=False), diag)
        return -sla.lu_solve(self._lu[1], res, check_finite=False)
