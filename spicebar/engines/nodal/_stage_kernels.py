"""Compiled kernels of the readout transient's stages on a crossbar's grid layout
(:mod:`spicebar.engines.transient.stage_grid`), with numpy fallbacks: the residual of a
stage, the fused conjugate-gradient updates, and the line factors of each step length.
Arrays are ``(rows, cols)`` (or ``(batch, rows, cols)``): word line ``i`` is row ``i``,
bit line ``j`` column ``j``; built by :func:`._kernels._dispatch`, compiled ahead by
:func:`warm`.
"""

from __future__ import annotations

import numpy as np

from ...errors import SolverError
from ._kernels import _cg_step_np, _dispatch, thomas_factors

try:
    from numba import prange
except ImportError:  # pragma: no cover - exercised only where numba is missing
    prange = range


def _grid_residual_py(diag_w, off_w, diag_b, off_b, g, b_w, b_b, x_w, x_b, r_w, r_b, bsq):
    """The residual ``b - K x`` of a crossbar's inner nodes on the grid layout, all arrays
    ``(rows, cols)``: ``r_w`` on the word-line nodes (``K``'s rows: ``diag_w``, ``off_w``
    along each row, ``-g`` to the bit-line node), ``r_b`` on the bit-line nodes
    (``diag_b``, ``off_b`` along each column, ``-g`` to the word-line node); ``bsq[i]``
    ``(rows,)``: the sum of ``b``'s squares over row ``i`` of both layouts."""
    R, K = x_w.shape
    for i in prange(R):
        acc = 0.0
        for k in range(K):
            acc += b_w[i, k] * b_w[i, k] + b_b[i, k] * b_b[i, k]
        bsq[i] = acc
        for k in range(K):
            v = b_w[i, k] - diag_w[i, k] * x_w[i, k] + g[i, k] * x_b[i, k]
            if k > 0:
                v -= off_w[i, k - 1] * x_w[i, k - 1]
            if k < K - 1:
                v -= off_w[i, k] * x_w[i, k + 1]
            r_w[i, k] = v
            u = b_b[i, k] - diag_b[i, k] * x_b[i, k] + g[i, k] * x_w[i, k]
            if i > 0:
                u -= off_b[i - 1, k] * x_b[i - 1, k]
            if i < R - 1:
                u -= off_b[i, k] * x_b[i + 1, k]
            r_b[i, k] = u


def _grid_residual_np(diag_w, off_w, diag_b, off_b, g, b_w, b_b, x_w, x_b, r_w, r_b, bsq):
    bsq[:] = np.einsum("ik,ik->i", b_w, b_w) + np.einsum("ik,ik->i", b_b, b_b)
    r_w[...] = b_w - diag_w * x_w + g * x_b
    r_w[:, 1:] -= off_w[:, :-1] * x_w[:, :-1]
    r_w[:, :-1] -= off_w[:, :-1] * x_w[:, 1:]
    r_b[...] = b_b - diag_b * x_b + g * x_w
    r_b[1:] -= off_b[:-1] * x_b[:-1]
    r_b[:-1] -= off_b[:-1] * x_b[1:]


def _add_scaled_py(r, g, t, out, rows):
    """``out = r + g t`` (all ``(rows, cols)``) and ``rows[i]``: the sum of ``out``'s
    squares over row ``i``."""
    R, K = r.shape
    for i in range(R):
        acc = 0.0
        for k in range(K):
            v = r[i, k] + g[i, k] * t[i, k]
            out[i, k] = v
            acc += v * v
        rows[i] = acc


def _add_scaled_np(r, g, t, out, rows):
    np.multiply(g, t, out=out)
    out += r
    rows[:] = np.einsum("ik,ik->i", out, out)


def _thomas_rows_py(diag, off, inv, fwd, back):
    """:func:`thomas_factors` of lines along axis 0 (``(L, P)``, vectorised over axis 1),
    the same operations in the same order; returns how many pivots are not positive."""
    L, P = diag.shape
    bad = 0
    for j in range(P):
        piv = diag[0, j]
        if not piv > 0.0:
            bad += 1
        inv[0, j] = 1.0 / piv if piv > 0.0 else 0.0
        back[0, j] = off[0, j] * inv[0, j]
        fwd[0, j] = 0.0
    for k in range(1, L):
        for j in range(P):
            piv = diag[k, j] - off[k - 1, j] * back[k - 1, j]
            if not piv > 0.0:
                bad += 1
            inv[k, j] = 1.0 / piv if piv > 0.0 else 0.0
            back[k, j] = off[k, j] * inv[k, j]
            fwd[k, j] = off[k - 1, j] * inv[k, j]
    return bad


def _thomas_cols_py(diag, off, inv, fwd, back):
    """:func:`thomas_factors` of lines along axis 1 (``(P, L)``: line ``i`` is row ``i``,
    ``off[i, k]`` joins ``k`` and ``k + 1``); returns how many pivots are not positive."""
    P, L = diag.shape
    bad = 0
    for i in range(P):
        piv = diag[i, 0]
        if not piv > 0.0:
            bad += 1
        inv[i, 0] = 1.0 / piv if piv > 0.0 else 0.0
        back[i, 0] = off[i, 0] * inv[i, 0]
        fwd[i, 0] = 0.0
        for k in range(1, L):
            piv = diag[i, k] - off[i, k - 1] * back[i, k - 1]
            if not piv > 0.0:
                bad += 1
            inv[i, k] = 1.0 / piv if piv > 0.0 else 0.0
            back[i, k] = off[i, k] * inv[i, k]
            fwd[i, k] = off[i, k - 1] * inv[i, k]
    return bad


def _thomas_rows_np(diag, off, inv, fwd, back):
    try:
        inv[...], fwd[...], back[...] = thomas_factors(diag, off)
    except SolverError:
        return 1
    return 0


def _thomas_cols_np(diag, off, inv, fwd, back):
    return _thomas_rows_np(diag.T, off.T, inv.T, fwd.T, back.T)


def thomas_lines(diag: np.ndarray, off: np.ndarray, axis: int) -> list[np.ndarray]:
    """``[inv, fwd, back]`` of tridiagonal lines along ``axis`` (0 or 1) of ``diag``
    ``(rows, cols)``, ``off[..]`` joining each position to the next along that axis
    (compiled: :func:`thomas_factors`'s operations in its order). Raises SolverError as
    :func:`thomas_factors` does."""
    out = [np.empty_like(diag) for _ in range(3)]
    bad = (thomas_rows if axis == 0 else thomas_cols)(diag, off, *out)
    if bad:
        raise SolverError("a line matrix is not positive definite: some node has no DC "
                          "path to a driver or readout")
    return out


def _cg_step2_py(x, y, r, p, q, u, alpha, rr):
    """:func:`_cg_step_py` (``x += alpha p``, ``r -= alpha q``, ``rr = |r|^2``) with a
    second unknown carried along: ``y += alpha u`` (the bit lines' share of the step)."""
    B, R, K = x.shape
    for b in range(B):
        a = alpha[b]
        s = 0.0
        for i in range(R):
            for k in range(K):
                x[b, i, k] += a * p[b, i, k]
                y[b, i, k] += a * u[b, i, k]
                v = r[b, i, k] - a * q[b, i, k]
                r[b, i, k] = v
                s += v * v
        rr[b] = s


def _cg_step2_np(x, y, r, p, q, u, alpha, rr):
    a = alpha[:, None, None]
    y += a * u
    _cg_step_np(x, r, p, q, alpha, rr)


grid_residual = _dispatch(_grid_residual_py, _grid_residual_np, parallel=False)
add_scaled = _dispatch(_add_scaled_py, _add_scaled_np, parallel=False)
thomas_rows = _dispatch(_thomas_rows_py, _thomas_rows_np, parallel=False)
thomas_cols = _dispatch(_thomas_cols_py, _thomas_cols_np, parallel=False)
cg_step2 = _dispatch(_cg_step2_py, _cg_step2_np, fastmath=True, parallel=False)


def warm() -> list[str]:
    """Compile (or load from numba's cache) these kernels for the argument types the grid
    stages pass, on tiny arrays; returns their names (as :func:`._kernels.warm`, which
    ``python -m spicebar.engines.nodal.warm`` runs with this)."""
    from ._kernels import HAVE_NUMBA
    if not HAVE_NUMBA:  # pragma: no cover
        return []
    f = np.full((2, 3), 3.0)
    x = [np.full((1, 2, 3), v) for v in (1.0, 2.0, 3.0, 4.0)]
    rows, scal = np.empty(2), np.ones(1)
    calls = {
        "grid_residual": (grid_residual, (f, f, f, f, f, f, f, f, f, f.copy(), f.copy(),
                                          rows)),
        "add_scaled": (add_scaled, (f, f, f, f.copy(), rows)),
        "thomas_rows": (thomas_rows, (f, f, f.copy(), f.copy(), f.copy())),
        "thomas_cols": (thomas_cols, (f, f, f.copy(), f.copy(), f.copy())),
        "cg_step2": (cg_step2, (x[0], x[1], x[2], x[3], x[0].copy(), x[1].copy(), scal,
                                np.empty(1))),
    }
    for kernel, args in calls.values():
        kernel(*args)
    return list(calls)
