"""Compiled kernels released from the GIL (numba ``nogil``), so two Python threads run
them side by side: the block elimination's (:mod:`.grid_sweep`: the word lines' Thomas
substitution for many right-hand sides, each step's block assembled and its inverse
mirrored and scaled in one pass) and the noise fold's scaled differences
(:func:`spicebar.analysis.noise_reduced.fold`). Without numba the same operations run in
numpy.
"""

from __future__ import annotations

import numpy as np


def _line_solve_py(inv, fwd, back, x):
    """Thomas substitution in place: ``x[i]`` ``(width, k)`` solved with line ``i``'s factors
    (:func:`._kernels.thomas_factors` layout ``(width, n_lines)``), for ``x``
    ``(n_lines, width, k)``."""
    n, width, k = x.shape
    for i in range(n):
        for j in range(k):
            x[i, 0, j] *= inv[0, i]
        for c in range(1, width):
            a, f = inv[c, i], fwd[c, i]
            for j in range(k):
                x[i, c, j] = x[i, c, j] * a - f * x[i, c - 1, j]
        for c in range(width - 2, -1, -1):
            b = back[c, i]
            for j in range(k):
                x[i, c, j] -= b * x[i, c + 1, j]


def _scaled_differences_py(u, p, n, scale, out):
    """``out[i] = scale[i] (u[p[i]] - u[n[i]])`` for ``out`` ``(m, k)``, ``u`` ``(rows, k)``
    (an index of -1 is the last row, as numpy's)."""
    rows, k = u.shape
    for i in range(p.size):
        a, b, s = p[i], n[i], scale[i]
        a = a + rows if a < 0 else a
        b = b + rows if b < 0 else b
        for j in range(k):
            out[i, j] = s * (u[a, j] - u[b, j])


def _assemble_block_py(t_inv_g, g, diag_c, o_prev, p_prev, has_prev, out):
    """The upper triangle (``j >= i``) of a step's block into ``out`` ``(w, w)``:
    ``-g_i (T^-1 G)_ij + [i = j] diag_c_i - o_prev_i P_prev_ij`` (the last where
    ``has_prev``), the lower triangle left as it was (LAPACK reads the upper one only)."""
    w = g.size
    for i in range(w):
        gi, oi = g[i], o_prev[i]
        for j in range(i, w):
            v = -gi * t_inv_g[i, j]
            if has_prev:
                v -= oi * p_prev[i, j]
            out[i, j] = v
        out[i, i] += diag_c[i]


def _mirror_scale_py(m, o):
    """``m`` holding a symmetric matrix in its upper triangle becomes ``M diag(o)`` in full."""
    w = o.size
    for i in range(w):
        m[i, i] *= o[i]
        for j in range(i + 1, w):
            v = m[i, j]
            m[i, j] = v * o[j]
            m[j, i] = v * o[i]


def _assemble_block_np(t_inv_g, g, diag_c, o_prev, p_prev, has_prev, out):  # pragma: no cover
    out[...] = -g[:, None] * t_inv_g + np.diag(diag_c)
    if has_prev:
        out -= o_prev[:, None] * p_prev


def _mirror_scale_np(m, o):  # pragma: no cover - only where numba is missing
    upper = np.triu(m)
    m[...] = (upper + np.triu(upper, 1).T) * o[None, :]


def _line_solve_np(inv, fwd, back, x):  # pragma: no cover - only where numba is missing
    x[:, 0] *= inv[0][:, None]
    for c in range(1, x.shape[1]):
        x[:, c] = x[:, c] * inv[c][:, None] - fwd[c][:, None] * x[:, c - 1]
    for c in range(x.shape[1] - 2, -1, -1):
        x[:, c] -= back[c][:, None] * x[:, c + 1]


def _scaled_differences_np(u, p, n, scale, out):  # pragma: no cover - only without numba
    np.multiply(scale[:, None], u[p] - u[n], out=out)


try:  # compiled where numba is (as the line solver's kernels)
    from numba import njit
    line_solve = njit(cache=True, nogil=True)(_line_solve_py)
    scaled_differences = njit(cache=True, nogil=True)(_scaled_differences_py)
    assemble_block = njit(cache=True, nogil=True)(_assemble_block_py)
    mirror_scale = njit(cache=True, nogil=True)(_mirror_scale_py)
except ImportError:  # pragma: no cover - exercised only where numba is missing
    line_solve, scaled_differences = _line_solve_np, _scaled_differences_np
    assemble_block, mirror_scale = _assemble_block_np, _mirror_scale_np


def warm() -> list[str]:
    """Compile (or load from numba's cache) the four kernels for the layouts their callers
    pass: contiguous, and column slices of a caller's array."""
    whole, part = np.ones((2, 1)), np.ones((2, 2))[:, :1]
    for f in (whole, part):
        for x in (np.ones((1, 2, 3)), np.ones((1, 2, 4))[:, :, 1:3]):
            line_solve(f, f, f, x)
    i = np.array([0, -1])
    scaled_differences(np.ones((3, 2)), i, i, np.ones(2), np.empty((2, 2)))
    sq, v = np.ones((2, 2)), np.ones(2)
    for has_prev in (True, False):
        assemble_block(np.ones((1, 2, 2))[0], v, v, v, sq, has_prev, np.empty((2, 2)))
    mirror_scale(np.ones((2, 2)), v)
    return ["line_solve", "scaled_differences", "assemble_block", "mirror_scale"]
