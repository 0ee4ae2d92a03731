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

import numpy as np

from ._kernels import thomas_factors
from .lapack_nogil import spd_inverse
from .row_kernels import line_solve
from .threads import on_workers

#: Right-hand sides of the word lines' ``T_r^-1 G_r`` solved at once: rows of ``width^2``.
LINE_CHUNK_BYTES = 32 << 20


def sweep_memory_bytes(rows: int, cols: int, k: int) -> int:
    """Bytes the sweep holds for a ``rows x cols`` grid and ``k`` right-hand sides at once
    (the block inverses, the right-hand sides and the solutions)."""
    return 8 * (rows * cols * min(rows, cols) + 4 * rows * cols * k)


class GridSweep:
    """The block elimination of a :class:`.grid._Grid` (resistive word and bit lines),
    factorised once; :meth:`solve` takes any number of right-hand sides."""

    def __init__(self, grid, workers: int = 1):
        """``workers``: 2 eliminates the top and the bottom half at once on two threads
        (LAPACK called without the GIL), meeting in the middle row."""
        rows, cols = grid.g.shape
        w, b = (grid.diag_w, grid.off_w[:, :-1]), (grid.diag_b, grid.off_b[:-1])
        self.transposed = rows < cols
        self.lines = (_Lines(*(a.T for a in (*b, *w, grid.g))) if self.transposed else
                      _Lines(*w, *b, grid.g))
        self.mid, self.m_inv = _factorise(self.lines, workers)
        self.workers = workers

    def solve(self, f_w: np.ndarray | None, f_b: np.ndarray, out_w: np.ndarray | None = None,
              out_b: np.ndarray | None = None, rhs_rows=None) -> tuple[np.ndarray, np.ndarray]:
        """``x_w``, ``x_b`` ``(rows, cols, k)`` volts for currents ``f_w``, ``f_b``
        ``(rows, cols, k)`` amperes into the word- and bit-line nodes (``f_w`` None: none
        into the word lines); written into ``out_w``, ``out_b`` where given (views into a
        caller's array are fine). ``rhs_rows``: the only rows where ``f_w``, ``f_b`` may be
        nonzero (None: any)."""
        out_w = np.empty_like(f_b) if out_w is None else out_w
        out_b = np.empty_like(f_b) if out_b is None else out_b
        if not self.transposed:
            args = (f_w, f_b, out_w, out_b)
        else:  # the word lines' currents enter across the steps: zeros where none
            f_w = np.zeros_like(f_b) if f_w is None else f_w
            args = tuple(a.transpose(1, 0, 2) for a in (f_b, f_w, out_b, out_w))
            rhs_rows = None
        if rhs_rows is None:
            live = [a.reshape(a.shape[0], -1).any(axis=1) for a in args[:2] if a is not None]
            steps = set(np.flatnonzero(np.logical_or.reduce(live)).tolist())
        else:   # (of those, the rows whose right-hand side is not zero after all)
            steps = {int(r) % f_b.shape[0] for r in rhs_rows}
            steps = {r for r in steps if any(a[r].any() for a in args[:2] if a is not None)}
        _solve(self.lines, self.mid, self.m_inv, steps, self.workers, *args)
        return out_w, out_b


class _Lines:
    """The grid's stamps: ``diag_a`` ``(n_sweep, width)`` and ``off_a`` ``(n_sweep, width-1)``
    of the lines eliminated within a sweep step (with their Thomas factors), ``diag_c``
    ``(n_sweep, width)`` and ``off_c`` ``(n_sweep-1, width)`` of the lines across the
    steps, ``g`` the cells."""

    def __init__(self, diag_a, off_a, diag_c, off_c, g):
        self.diag_a, self.off_a, self.diag_c, self.off_c, self.g = diag_a, off_a, diag_c, off_c, g
        off = np.zeros((diag_a.shape[1], diag_a.shape[0]))
        off[:-1] = off_a.T
        self.factors = [np.ascontiguousarray(f) for f in thomas_factors(diag_a.T, off)]

    def line_solve(self, lines: slice, x: np.ndarray) -> None:
        """``x[i] <- T_i^-1 x[i]`` in place for the step lines ``lines`` (a slice of
        ``n_sweep``), ``x`` ``(len, width, k)``."""
        line_solve(*(f[:, lines] for f in self.factors), x)


def _factorise(lines: _Lines, workers: int) -> tuple[int, np.ndarray]:
    """``(mid, m_inv)``: the inverse ``(n_sweep, width, width)`` of every step's block,
    eliminated from the top down to ``mid`` and (two workers) from the bottom up to
    ``mid + 1`` at once: ``M_r`` above the middle row (the rows above eliminated), ``N_r``
    below it (the rows below eliminated), and at ``mid`` the whole Schur complement
    ``M_mid - O N_{mid+1}^-1 O``. One worker: ``mid`` is the last row (the plain sweep).
    Each inverse but the middle one is held times ``O_r``, its coupling towards the middle
    (``P_r = M_r^-1 O_r``: the product every later use of it takes)."""
    n_sweep, width = lines.g.shape
    m_inv = np.empty((n_sweep, width, width))
    mid = n_sweep // 2 if workers > 1 and n_sweep >= 4 else n_sweep - 1
    top, bottom = list(range(mid + 1)), list(range(n_sweep - 1, mid, -1))
    if bottom:
        m = on_workers(lambda order: _eliminate(lines, order, m_inv, mid, order is top),
                       [top, bottom], 2)[0]                   # M_mid, not inverted
        m -= lines.off_c[mid][:, None] * m_inv[mid + 1]      # O N^-1 O = O P
    else:
        m = _eliminate(lines, top, m_inv, mid, True)
    m_inv[mid] = spd_inverse(m)
    return mid, m_inv


def _eliminate(lines: _Lines, order: list, m_inv: np.ndarray, mid: int, keep_last: bool):
    """Eliminate the steps ``order`` in turn (each coupled to the one before it, all on one
    side of ``mid``), storing each block's inverse times its coupling towards ``mid`` in
    ``m_inv``; ``keep_last``: not the last's, returned instead.
    ``T_r^-1 G_r`` is solved for :data:`LINE_CHUNK_BYTES` of rows at once by the compiled
    line kernel."""
    width = lines.g.shape[1]
    chunk = max(1, LINE_CHUNK_BYTES // (8 * width * width))
    diag = np.arange(width)
    prev = None
    for c0 in range(0, len(order), chunk):
        rs = order[c0:c0 + chunk]
        lo, hi = min(rs), max(rs)
        t_inv_g = np.zeros((hi - lo + 1, width, width))
        t_inv_g[:, diag, diag] = lines.g[lo:hi + 1]
        lines.line_solve(slice(lo, hi + 1), t_inv_g)           # T_r^-1 G_r, each row
        for r in rs:
            m = t_inv_g[r - lo]
            m *= -lines.g[r][:, None]                           # -G T^-1 G
            m[diag, diag] += lines.diag_c[r]
            if prev is not None:                                # O M_prev^-1 O = O P_prev
                m -= lines.off_c[min(prev, r)][:, None] * m_inv[prev]
            if keep_last and r == order[-1]:
                return m
            m_inv[r] = spd_inverse(m)
            m_inv[r] *= lines.off_c[r if r < mid else r - 1][None, :]
            prev = r
    return None


def _solve(lines: _Lines, mid: int, m_inv: np.ndarray, steps: set, workers: int,
           f_a, f_c, x_a, x_c) -> None:
    """Substitution over axis 0 of ``(n_sweep, width, k)`` arrays on :func:`_factorise`'s
    blocks: forward from both ends to the middle row, then outward; the forward
    solutions are held in ``x_c`` until the outward pass overwrites them. Only ``steps``
    carry a right-hand side (probes enter at the lines' ends): the forward pass starts at
    the first of them on each side. Two workers: the forward pass split by halves of the
    right-hand sides, the outward pass by side, on two threads."""
    n_sweep, k = m_inv.shape[0], f_c.shape[2]

    def forward(side: str, ks: slice) -> np.ndarray | None:
        """The carry into the middle row from one side, for right-hand sides ``ks``."""
        order = range(mid) if side == "top" else range(n_sweep - 1, mid, -1)
        carry = None
        for r in order:
            if carry is None and r not in steps:
                x_c[r, :, ks] = 0.0
                continue
            y = f_c[r, :, ks] if carry is None else f_c[r, :, ks] + carry
            if f_a is not None and r in steps:
                t = f_a[r, :, ks][None].copy()
                lines.line_solve(slice(r, r + 1), t)
                y = y + lines.g[r][:, None] * t[0]
            o = lines.off_c[r if r < mid else r - 1][:, None]
            np.matmul(m_inv[r], y / o, out=x_c[r, :, ks])          # M^-1 y = P (O^-1 y)
            carry = -o * x_c[r, :, ks]
        return carry

    def outward(side: str) -> None:
        buf = np.empty_like(x_c[mid])
        if side == "top":            # b_r = z_r - P_r b_{r+1}
            for r in range(mid - 1, -1, -1):
                x_c[r] -= np.matmul(m_inv[r], x_c[r + 1], out=buf)
            rs = slice(0, mid)
        else:
            for r in range(mid + 1, n_sweep):
                x_c[r] -= np.matmul(m_inv[r], x_c[r - 1], out=buf)
            rs = slice(mid, n_sweep)
        np.multiply(lines.g[rs, :, None], x_c[rs], out=x_a[rs])      # w = T^-1 (f_a + G b)
        if f_a is not None:
            x_a[rs] += f_a[rs]
        lines.line_solve(rs, x_a[rs])

    halves = [slice(0, k)] if workers < 2 or k < 2 else [slice(0, k // 2), slice(k // 2, k)]
    tasks = [(side, ks) for side in ("top", "bottom") for ks in halves]
    y_mid = f_c[mid].copy()
    for (side, ks), carry in zip(tasks, on_workers(lambda t: forward(*t), tasks, workers)):
        if carry is not None:
            y_mid[:, ks] += carry
    if f_a is not None and mid in steps:
        t = f_a[mid][None].copy()
        lines.line_solve(slice(mid, mid + 1), t)
        y_mid += lines.g[mid][:, None] * t[0]
    np.matmul(m_inv[mid], y_mid, out=x_c[mid])
    on_workers(outward, ["top", "bottom"], workers)

