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
each is inverted through its Cholesky factor (LAPACK without the GIL,
:mod:`.lapack_nogil`). Cost: ``rows`` dense ``cols^3`` inversions, and ``2 rows cols^2 k``
for ``k`` right-hand sides, all in LAPACK/BLAS: exact (no iteration, rounding only) and,
for ``k`` about ``cols``, several times faster than ``k`` conjugate-gradient solves.
Memory: the ``rows`` inverses, ``8 rows cols^2`` bytes. A grid with fewer rows than
columns is swept along its columns instead (its transpose: the bit lines play the word
lines' part), so the dense blocks are ``min(rows, cols)`` wide.

On two threads the elimination runs from both ends at once and meets at a middle row
``mid`` (the first solve's right-hand sides carried forward as each block is inverted,
``mid`` placed so that both threads finish together); the back substitution then runs
outward from ``mid``, one side a thread.
"""

from __future__ import annotations

import numpy as np

from ._kernels import thomas_factors
from .lapack_nogil import spd_inverse
from .row_kernels import assemble_block, line_solve, mirror_scale
from .threads import on_workers

#: Right-hand sides of the word lines' ``T_r^-1 G_r`` solved at once: rows of ``width^2``.
LINE_CHUNK_BYTES = 32 << 20
#: A row of the forward or back substitution (one ``width x width x k`` product, ``k =
#: width``) against a row of the elimination (a Cholesky inverse and its updates):
#: measured 0.46 ms against 1.3 ms at 256 wide, one thread each.
SUBSTITUTION_COST = 0.35


def sweep_memory_bytes(rows: int, cols: int, k: int) -> int:
    """Bytes the sweep holds for a ``rows x cols`` grid and ``k`` right-hand sides at once
    (the block inverses, the right-hand sides and the solutions)."""
    return 8 * (rows * cols * min(rows, cols) + 4 * rows * cols * k)


class GridSweep:
    """The block elimination of a :class:`.grid._Grid` (resistive word and bit lines),
    factorised at the first :meth:`solve` (with its right-hand sides carried along) and
    reused by later ones."""

    def __init__(self, grid, workers: int = 1):
        """``workers``: 2 eliminates from both ends at once on two threads (module
        docstring)."""
        rows, cols = grid.g.shape
        w, b = (grid.diag_w, grid.off_w[:, :-1]), (grid.diag_b, grid.off_b[:-1])
        self.transposed = rows < cols
        self.lines = (_Lines(*(a.T for a in (*b, *w, grid.g))) if self.transposed else
                      _Lines(*w, *b, grid.g))
        self.workers = workers
        self.mid = self.m_inv = None

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
            f_a, f_c, x_a, x_c = f_w, f_b, out_w, out_b
        else:  # the word lines' currents enter across the steps: zeros where none
            f_w = np.zeros_like(f_b) if f_w is None else f_w
            f_a, f_c, x_a, x_c = (a.transpose(1, 0, 2) for a in (f_b, f_w, out_b, out_w))
            rhs_rows = None
        n_sweep = f_c.shape[0]
        candidates = range(n_sweep) if rhs_rows is None else {int(r) % n_sweep for r in rhs_rows}
        steps = {r for r in candidates
                 if f_c[r].any() or (f_a is not None and f_a[r].any())}
        rhs = _Rhs(f_a, f_c, x_c, steps)
        if self.m_inv is None:
            self.mid = _middle(n_sweep, steps, self.workers)
            self.m_inv = np.empty((n_sweep,) + (self.lines.g.shape[1],) * 2)
            m, carries = _eliminate_both(self.lines, self.mid, self.m_inv, rhs)
            m_mid = m
        else:
            carries = on_workers(lambda side: _forward(self.lines, self.mid, self.m_inv, rhs,
                                                       side), ("top", "bottom"), self.workers)
            m_mid = None
        _finish(self.lines, self.mid, self.m_inv, rhs, carries, m_mid, x_a, self.workers)
        return out_w, out_b


class _Lines:
    """The grid's stamps: ``diag_a`` ``(n_sweep, width)`` and ``off_a`` ``(n_sweep, width-1)``
    of the lines eliminated within a sweep step (with their Thomas factors), ``diag_c``
    ``(n_sweep, width)`` and ``off_c`` ``(n_sweep-1, width)`` of the lines across the
    steps, ``g`` the cells."""

    def __init__(self, diag_a, off_a, diag_c, off_c, g):
        # contiguous, writable copies (a transposed grid's are views, the spec's cells are
        # read-only): the one argument layout the compiled kernels are warmed for
        self.diag_a, self.off_a, self.diag_c, self.off_c, self.g = (
            np.array(a, dtype=float, order="C") for a in (diag_a, off_a, diag_c, off_c, g))
        off = np.zeros((diag_a.shape[1], diag_a.shape[0]))
        off[:-1] = off_a.T
        self.factors = [np.ascontiguousarray(f) for f in thomas_factors(diag_a.T, off)]

    def towards(self, r: int, mid: int) -> np.ndarray:
        """``(width,)`` S: step ``r``'s coupling to its neighbour on the side of ``mid``."""
        return self.off_c[r if r < mid else r - 1]

    def line_solve(self, lines: slice, x: np.ndarray) -> None:
        """``x[i] <- T_i^-1 x[i]`` in place for the step lines ``lines`` (a slice of
        ``n_sweep``), ``x`` ``(len, width, k)``."""
        line_solve(*(f[:, lines] for f in self.factors), x)


def _middle(n_sweep: int, steps: set, workers: int) -> int:
    """The row where the elimination from both ends meets: both threads' work (their rows
    eliminated and substituted back, and the forward rows from their farthest right-hand
    side in) as equal as it can be; the last row for one worker."""
    if workers < 2 or n_sweep < 4:
        return n_sweep - 1

    def work(mid: int) -> float:       # each side: eliminate, forward, back substitution
        top = [r for r in steps if r < mid]
        bottom = [r for r in steps if r > mid]
        fwd_top = mid - min(top) if top else 0
        fwd_bottom = max(bottom) - mid if bottom else 0
        below = n_sweep - 1 - mid
        return max(mid * (1 + SUBSTITUTION_COST) + SUBSTITUTION_COST * fwd_top,
                   below * (1 + SUBSTITUTION_COST) + SUBSTITUTION_COST * fwd_bottom)
    return min(range(1, n_sweep - 1), key=work)


class _Rhs:
    """The right-hand sides ``f_a``, ``f_c`` ``(n_sweep, width, k)`` (``f_a`` may be None),
    the only ``steps`` where they are nonzero, and ``x_c`` where the forward solutions
    ``M_r^-1 y_r`` are held until the back substitution overwrites them."""

    def __init__(self, f_a, f_c, x_c, steps: set):
        self.f_a, self.f_c, self.x_c, self.steps = f_a, f_c, x_c, steps

    def forward_row(self, lines: _Lines, r: int, p_r: np.ndarray, o: np.ndarray, carry):
        """``z_r = M_r^-1 y_r`` into ``x_c[r]`` (``p_r = M_r^-1 O``, ``o`` the coupling towards
        the middle) and the carry ``-O z_r`` into the next row; zeros where nothing
        reaches ``r`` yet."""
        if carry is None and r not in self.steps:
            self.x_c[r] = 0.0
            return None
        y = self.f_c[r] if carry is None else self.f_c[r] + carry
        y = y + self.through_word_line(lines, r)
        np.matmul(p_r, y / o[:, None], out=self.x_c[r])         # M^-1 y = P (O^-1 y)
        return -o[:, None] * self.x_c[r]

    def through_word_line(self, lines: _Lines, r: int):
        """``G_r T_r^-1 f_a[r]`` ``(width, k)``: step ``r``'s word-line currents as they
        reach its bit-line nodes once the word line is eliminated (0 where none)."""
        if self.f_a is None or r not in self.steps:
            return 0.0
        t = self.f_a[r][None].copy()
        lines.line_solve(slice(r, r + 1), t)
        return lines.g[r][:, None] * t[0]


def _eliminate_both(lines: _Lines, mid: int, m_inv: np.ndarray, rhs: _Rhs):
    """Eliminate from the top down to ``mid`` and from the bottom up to ``mid + 1`` (two
    threads where there is a bottom part), carrying ``rhs`` forward as each block is
    inverted. Returns ``M_mid`` (not inverted, the bottom's part not yet taken off) and the
    carries into ``mid`` from each side."""
    top = list(range(mid + 1))
    bottom = list(range(lines.g.shape[0] - 1, mid, -1))
    runs = on_workers(lambda order: _eliminate(lines, order, m_inv, mid, rhs),
                      [top, bottom] if bottom else [top], 2)
    m, carry_top = runs[0]
    return m, [carry_top, runs[1][1] if bottom else None]


def _eliminate(lines: _Lines, order: list, m_inv: np.ndarray, mid: int, rhs: _Rhs):
    """Eliminate the steps ``order`` in turn (each coupled to the one before it, all on one
    side of ``mid``, ``mid`` itself kept last when ``order`` reaches it), storing each
    block's inverse times its coupling towards ``mid`` (``P_r = M_r^-1 O_r``: the product
    every later use takes) in ``m_inv`` and carrying ``rhs`` forward. ``T_r^-1 G_r`` is
    solved for :data:`LINE_CHUNK_BYTES` of rows at once by the compiled line kernel.
    Returns ``(M_mid or None, the carry into mid)``."""
    width = lines.g.shape[1]
    chunk = max(1, LINE_CHUNK_BYTES // (8 * width * width))
    diag = np.arange(width)
    prev, carry = None, None     # (mid's block: assembled, mirrored, not yet inverted)
    buf = np.empty((min(chunk, len(order)), width, width))   # one buffer: no fresh pages
    for c0 in range(0, len(order), chunk):
        rs = order[c0:c0 + chunk]
        lo, hi = min(rs), max(rs)
        t_inv_g = buf[:hi - lo + 1]
        t_inv_g.fill(0.0)
        t_inv_g[:, diag, diag] = lines.g[lo:hi + 1]
        lines.line_solve(slice(lo, hi + 1), t_inv_g)           # T_r^-1 G_r, each row
        for r in rs:
            # A_r - O M_prev^-1 O = -G T^-1 G + D - O P_prev, upper triangle, in place
            m = np.empty((width, width)) if r == mid else m_inv[r]
            o_prev = lines.off_c[min(prev, r)] if prev is not None else lines.g[r]
            assemble_block(t_inv_g[r - lo], lines.g[r], lines.diag_c[r], o_prev,
                           m_inv[prev] if prev is not None else m, prev is not None, m)
            if r == mid:
                mirror_scale(m, np.ones(width))                 # (kept whole for mid)
                return m, carry
            o = lines.towards(r, mid)
            mirror_scale(spd_inverse(m, full=False), o)          # P_r = M_r^-1 O
            carry = rhs.forward_row(lines, r, m, o, carry)
            prev = r
    return None, carry


def _forward(lines: _Lines, mid: int, m_inv: np.ndarray, rhs: _Rhs, side: str):
    """The forward substitution of one side on a factorisation already made; the carry
    into ``mid``."""
    order = range(mid) if side == "top" else range(m_inv.shape[0] - 1, mid, -1)
    carry = None
    for r in order:
        carry = rhs.forward_row(lines, r, m_inv[r], lines.towards(r, mid), carry)
    return carry


def _finish(lines: _Lines, mid: int, m_inv: np.ndarray, rhs: _Rhs, carries: list, m_mid,
            x_a, workers: int) -> None:
    """The middle row (``m_mid``: its block to invert, from a first solve), then the back
    substitution outward and the word lines, one side a thread."""
    n_sweep, x_c, f_a = m_inv.shape[0], rhs.x_c, rhs.f_a
    if m_mid is not None:
        if mid + 1 < n_sweep:
            m_mid -= lines.off_c[mid][:, None] * m_inv[mid + 1]   # O N^-1 O = O P
        m_inv[mid] = spd_inverse(m_mid)
    y_mid = rhs.f_c[mid].copy()
    for carry in carries:
        if carry is not None:
            y_mid += carry
    y_mid += rhs.through_word_line(lines, mid)
    np.matmul(m_inv[mid], y_mid, out=x_c[mid])

    def outward(side: str) -> None:         # b_r = z_r - P_r b_{r +- 1}, then the word lines
        if side == "top":
            for r in range(mid - 1, -1, -1):
                x_c[r] -= m_inv[r] @ x_c[r + 1]
            rs = slice(0, mid)
        else:
            for r in range(mid + 1, n_sweep):
                x_c[r] -= m_inv[r] @ x_c[r - 1]
            rs = slice(mid, n_sweep)
        np.multiply(lines.g[rs, :, None], x_c[rs], out=x_a[rs])
        if f_a is not None:
            x_a[rs] += f_a[rs]
        lines.line_solve(rs, x_a[rs])
    on_workers(outward, ("top", "bottom"), workers)     # (one side each: measured faster
    #                                                      than halves of the right-hand sides)
