"""A direct solve of a passive grid for many right-hand sides: block elimination line by line.

The grid's nodal system (:class:`.grid._Grid`: word lines along the columns, bit lines
along the rows, one cell joining the two nodes of each crossing) ::

    A_w x_w - G x_b = f_w,        -G x_w + A_b x_b = f_b

is block tridiagonal when ordered row by row: row ``r`` holds its word line ``w_r``
(tridiagonal ``T_r`` along the columns) and the bit-line nodes ``b_r`` of that row, and
rows couple only through the bit-line segments ``O_r = diag(off_b[r])``. Eliminating
``w_r`` (``w_r = T_r^-1 (f_w[r] + G_r b_r)``) leaves a block-tridiagonal system in the
bit-line nodes alone, with dense diagonal blocks ``A_r = D_r - G_r T_r^-1 G_r``, solved by
block Thomas elimination::

    M_0 = A_0,     M_r = A_r - O_{r-1} M_{r-1}^-1 O_{r-1}                   (cols, cols)
    b_last = M_last^-1 y_last,     b_r = M_r^-1 (y_r - O_r b_{r+1})

Every ``M_r`` is symmetric positive definite (a Schur complement of an SPD matrix), so
each is inverted through its Cholesky factor. Cost: ``rows`` dense ``cols^3`` inversions,
and ``2 rows cols^2 k`` for ``k`` right-hand sides, all in LAPACK/BLAS: exact (no
iteration, rounding only) and, for ``k`` about ``cols``, several times faster than ``k``
conjugate-gradient solves. Memory: the ``rows`` inverses, ``8 rows cols^2`` bytes. A grid
with fewer rows than columns is swept along its columns instead (its transpose: the bit
lines play the word lines' part), so the dense blocks are ``min(rows, cols)`` wide.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.linalg import lapack, solveh_banded

from ...errors import SolverError


def sweep_memory_bytes(rows: int, cols: int, k: int) -> int:
    """Bytes the sweep holds for a ``rows x cols`` grid and ``k`` right-hand sides at once
    (the block inverses, the right-hand sides and the solutions)."""
    return 8 * (rows * cols * min(rows, cols) + 4 * rows * cols * k)


class GridSweep:
    """The block elimination of a :class:`.grid._Grid` (resistive word and bit lines),
    factorised once; :meth:`solve` takes any number of right-hand sides."""

    def __init__(self, grid):
        rows, cols = grid.g.shape
        lines = _Lines(grid.diag_w, grid.off_w[:, :-1], grid.diag_b, grid.off_b[:-1], grid.g)
        self.transposed = rows < cols
        self.lines = lines.transposed() if self.transposed else lines
        self.m_inv = _factorise(self.lines)

    def solve(self, f_w: np.ndarray | None, f_b: np.ndarray, out_w: np.ndarray | None = None,
              out_b: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``x_w``, ``x_b`` ``(rows, cols, k)`` volts for currents ``f_w``, ``f_b``
        ``(rows, cols, k)`` amperes into the word- and bit-line nodes (``f_w`` None: none
        into the word lines); written into ``out_w``, ``out_b`` where given (views into a
        caller's array are fine)."""
        out_w = np.empty_like(f_b) if out_w is None else out_w
        out_b = np.empty_like(f_b) if out_b is None else out_b
        if not self.transposed:
            _solve(self.lines, self.m_inv, f_w, f_b, out_w, out_b)
        else:  # the word lines' currents enter across the steps: zeros where none
            f_w = np.zeros_like(f_b) if f_w is None else f_w
            t = (lambda a: a.transpose(1, 0, 2))  # noqa: E731
            _solve(self.lines, self.m_inv, t(f_b), t(f_w), t(out_b), t(out_w))
        return out_w, out_b


class _Lines:
    """The grid's stamps: ``diag_a`` ``(n_sweep, width)`` and ``off_a`` ``(n_sweep, width-1)``
    of the lines eliminated within a sweep step, ``diag_c`` ``(n_sweep, width)`` and
    ``off_c`` ``(n_sweep-1, width)`` of the lines across the steps, ``g`` the cells."""

    def __init__(self, diag_a, off_a, diag_c, off_c, g):
        self.diag_a, self.off_a, self.diag_c, self.off_c, self.g = diag_a, off_a, diag_c, off_c, g

    def transposed(self) -> "_Lines":
        return _Lines(self.diag_c.T, self.off_c.T, self.diag_a.T, self.off_a.T, self.g.T)

    def line_solve(self, r: int, rhs: np.ndarray) -> np.ndarray:
        """``T_r^-1 rhs`` for ``rhs`` ``(width, k)``: step ``r``'s tridiagonal line matrix
        (LAPACK's banded Cholesky; a line of one node is a division)."""
        if self.g.shape[1] == 1:
            return rhs / self.diag_a[r][:, None]
        ab = np.zeros((2, self.g.shape[1]))
        ab[0, 1:] = self.off_a[r]
        ab[1] = self.diag_a[r]
        return solveh_banded(ab, rhs, overwrite_b=True, check_finite=False)


def _factorise(lines: _Lines) -> np.ndarray:
    """``M_r^-1`` ``(n_sweep, width, width)`` of every step (module docstring); each
    symmetric, held in full."""
    n_sweep, width = lines.g.shape
    m_inv = np.empty((n_sweep, width, width))
    diag = np.diag_indices(width)
    for r in range(n_sweep):
        g = lines.g[r]
        m = lines.line_solve(r, np.diag(g))              # T^-1 G
        m *= -g[:, None]
        m[diag] += lines.diag_c[r]
        if r:
            o = lines.off_c[r - 1]
            m -= (o[:, None] * o[None, :]) * m_inv[r - 1]
        m_inv[r] = _spd_inverse(m)
    return m_inv


def _solve(lines: _Lines, m_inv: np.ndarray, f_a, f_c, x_a, x_c) -> None:
    """Forward and back substitution over axis 0 of ``(n_sweep, width, k)`` arrays, the
    forward solutions ``M_r^-1 y_r`` held in ``x_c`` until the back substitution
    overwrites them; steps whose right-hand side is zero (probes enter at the lines'
    ends) cost nothing on the way forward."""
    n_sweep = m_inv.shape[0]
    carry = None                              # y_r's part from the step before: -O z_{r-1}
    for r in range(n_sweep):
        y = f_c[r] if carry is None else f_c[r] + carry
        if f_a is not None and np.any(f_a[r]):
            y = y + lines.g[r][:, None] * lines.line_solve(r, f_a[r].copy())
        carry = None
        if np.any(y):
            np.matmul(m_inv[r], y, out=x_c[r])
            if r + 1 < n_sweep:
                carry = -lines.off_c[r][:, None] * x_c[r]
        else:
            x_c[r] = 0.0
    for r in range(n_sweep - 2, -1, -1):
        x_c[r] -= m_inv[r] @ (lines.off_c[r][:, None] * x_c[r + 1])
    for r in range(n_sweep):
        rhs = lines.g[r][:, None] * x_c[r]
        if f_a is not None:
            rhs += f_a[r]
        x_a[r] = lines.line_solve(r, rhs)


def _spd_inverse(m: np.ndarray) -> np.ndarray:
    """The inverse of the symmetric positive definite ``m`` through its Cholesky factor."""
    c, info = lapack.dpotrf(m, lower=False, clean=False, overwrite_a=True)
    if info != 0:
        raise SolverError("the grid's block elimination met a matrix that is not positive "
                          "definite: some node has no DC path to a driver or readout")
    inv, info = lapack.dpotri(c, lower=False, overwrite_c=True)
    if info != 0:  # pragma: no cover - dpotri fails only where dpotrf already did
        raise SolverError(f"LAPACK dpotri failed (info {info})")
    lower, upper = _mirror(inv.shape[0])
    if inv.flags.f_contiguous:   # LAPACK's layout: its upper triangle is the C-view's lower
        inv = inv.T
        lower, upper = upper, lower
    flat = inv.reshape(-1)           # a view (C-contiguous)
    flat[lower] = flat[upper]
    return inv


@lru_cache(maxsize=8)
def _mirror(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices of an ``n x n`` matrix's strict lower triangle and of their mirrors."""
    i, j = np.tril_indices(n, -1)
    return i * n + j, j * n + i
