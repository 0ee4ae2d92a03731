"""Stage solves of a plain crossbar with wire capacitance on its own grid layout.

The line solver of :mod:`.stage_cg` reads the lines from the IR's graph and keeps the
unknowns in line layouts: the word lines ``(cols, rows)``, the bit lines ``(rows, cols)``;
the cells, which join the two, are then a transpose (a sparse product per use), and every
solve scatters its right-hand side into the layouts and gathers the answer back. For the
array :func:`spicebar.circuit.elaboration.elaborate` builds (every inner node a cell's
word-line or bit-line node, each line a chain of them) both layouts are ``(rows, cols)``:
word line ``i`` is row ``i`` (contiguous), bit line ``j`` column ``j``, and the cells join
the same ``(i, j)`` of the two, so ``C`` is the product with ``G`` element by element (as
in :mod:`spicebar.engines.nodal.grid`). With the elaborated node order the layouts are
views of the inner vector (no scatter, no gather).

:class:`GridStages` solves ``K x = b``, ``K = L + C / (d h)`` on the inner nodes, by
conjugate gradients on the bit-line Schur complement preconditioned by the word lines
(the same iteration as :func:`spicebar.engines.nodal.lines.schur_cg`), on the compiled
kernels of :mod:`spicebar.engines.nodal._kernels` and
:mod:`~spicebar.engines.nodal._stage_kernels`, in preallocated buffers, warm-started
from the previous solve: the full residual ``b - K x0`` is one compiled pass, and the
correction is solved to the same stop rule as the line solver's
(``||b - K x|| <= rtol ||b||``, 2-norm).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ...errors import SolverError

#: The shifted line factors of the step lengths used last are kept up to this many bytes
#: (nine ``(rows, cols)`` arrays per step length, at least :data:`MIN_CACHE_STEPS` of
#: them; least recently used out): a refined grid alternates between a few lengths
#: (128x128, 4 windows: 18 lengths, 103 factorisations with 4 kept).
CACHE_BYTES = 512 * 2**20
MIN_CACHE_STEPS = 4


def grid_layout(ir, inner: np.ndarray):
    """``(w, b)`` ``(rows, cols)`` int: the position in ``inner`` of each cell's word-line
    and bit-line node, or a one-line reason the inner nodes are not exactly those."""
    rows, cols = ir.rows, ir.cols
    wl, bl = np.asarray(ir.wl_node), np.asarray(ir.bl_node)
    if wl.shape != (rows, cols) or bl.shape != (rows, cols):
        return "the word/bit-line nodes are not one per cell"
    if inner.size != 2 * rows * cols:
        return "the array has inner nodes other than the cells' word- and bit-line nodes"
    u_of = np.full(ir.n_nodes, -1)
    u_of[inner] = np.arange(inner.size)
    w, b = u_of[wl], u_of[bl]
    both = np.concatenate([w.ravel(), b.ravel()])
    if np.any(both < 0) or np.bincount(both, minlength=inner.size).max(initial=0) > 1:
        return "a cell's node is held by a source or shared"
    return w, b


class _Shift:
    """One step length's line matrices: the diagonals ``diag_w``, ``diag_b`` ``(rows,
    cols)`` with ``C / dh``, the word-line factors along axis 1, the bit-line factors along
    axis 0, and those with ``G`` folded into the first (``A_b^-1 G x`` in one pass)."""

    def __init__(self, grid: "GridStages", dh: float):
        from ..nodal._stage_kernels import thomas_lines
        self.diag_w = grid.diag_w + grid.c_w / dh
        self.diag_b = grid.diag_b + grid.c_b / dh
        self.fac_w = thomas_lines(self.diag_w, grid.off_w, 1)
        self.fac_b = thomas_lines(self.diag_b, grid.off_b, 0)
        self.fac_bg = [self.fac_b[0] * grid.g, *self.fac_b[1:]]


class GridStages:
    """``K_oo(dh) x = b`` on the grid layout (see the module docstring).

    Built by :meth:`build` from the IR and the inner nodes (None where the array is not
    a plain grid: the line solver of :mod:`.stage_cg` then reads the lines from the graph).
    """

    def __init__(self, lap_oo: sp.csr_matrix, w: np.ndarray, b: np.ndarray,
                 c_inner: np.ndarray):
        self.rows, self.cols = w.shape
        self.w, self.b = w, b
        n = w.size
        #: the elaborated order: word-line nodes row by row, then the bit-line nodes
        self.views = (np.array_equal(w.ravel(), np.arange(n))
                      and np.array_equal(b.ravel(), n + np.arange(n)))
        d = lap_oo.diagonal()
        self.diag_w, self.diag_b = d[w], d[b]
        self.c_w, self.c_b = c_inner[w], c_inner[b]
        self.off_w = np.zeros((self.rows, self.cols))   # off_w[i, j] joins (i, j), (i, j+1)
        self.off_b = np.zeros((self.rows, self.cols))   # off_b[i, j] joins (i, j), (i+1, j)
        self.off_w[:, :-1] = _entries(lap_oo, w[:, :-1], w[:, 1:])
        self.off_b[:-1] = _entries(lap_oo, b[:-1], b[1:])
        self.g = -_entries(lap_oo, w, b)
        self._check(lap_oo)
        shape = (1, self.rows, self.cols)
        self._x = np.zeros((2, *shape))            # the last warm answer: word, bit lines
        self._have = False
        self._buf = {k: np.empty(shape) for k in ("rw", "rb", "s", "z", "p", "q", "u")}
        self._buf["d"] = np.empty((2, *shape))
        self._lines = np.empty((1, self.rows))
        self._shifts: dict = {}
        self.iterations = 0
        self.solves = 0

    @classmethod
    def build(cls, ir, inner: np.ndarray, lap: sp.csr_matrix, c_inner: np.ndarray):
        """The grid stages of ``ir``, or None with the reason when it is not a plain grid
        (``lap``: the conductance matrix on every node)."""
        lay = grid_layout(ir, inner)
        if isinstance(lay, str):
            return None, lay
        try:
            return cls(lap.tocsr()[inner][:, inner].tocsr(), *lay, c_inner), ""
        except SolverError as exc:
            return None, str(exc)

    def _check(self, lap_oo: sp.csr_matrix) -> None:
        """The grid's entries must be all of ``L_oo``: rebuilt from them, nothing is left."""
        w, b, n = self.w, self.b, self.w.size
        r = [w.ravel(), b.ravel(), w[:, :-1].ravel(), w[:, 1:].ravel(), b[:-1].ravel(),
             b[1:].ravel(), w.ravel(), b.ravel()]
        c = [w.ravel(), b.ravel(), w[:, 1:].ravel(), w[:, :-1].ravel(), b[1:].ravel(),
             b[:-1].ravel(), b.ravel(), w.ravel()]
        v = [self.diag_w.ravel(), self.diag_b.ravel()] + [self.off_w[:, :-1].ravel()] * 2 \
            + [self.off_b[:-1].ravel()] * 2 + [-self.g.ravel()] * 2
        m = sp.csr_matrix((np.concatenate(v), (np.concatenate(r), np.concatenate(c))),
                          shape=(2 * n, 2 * n))
        rest = abs(lap_oo - m)
        if rest.nnz and rest.max() > 0.0:
            raise SolverError("the array's matrix has entries outside its word and bit lines")
        if np.any(self.g < 0):
            raise SolverError("a cell has a negative conductance")

    def _shift(self, dh: float) -> _Shift:
        if dh not in self._shifts:
            keep = max(MIN_CACHE_STEPS, CACHE_BYTES // (72 * self.w.size))
            while len(self._shifts) >= keep:
                self._shifts.pop(next(iter(self._shifts)))
            self._shifts[dh] = _Shift(self, dh)
        else:  # most recently used last
            self._shifts[dh] = self._shifts.pop(dh)
        return self._shifts[dh]

    def _split(self, vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """An inner vector ``(n_inner,)`` as its two ``(rows, cols)`` layouts."""
        n = self.w.size
        if self.views:
            return vec[:n].reshape(self.rows, self.cols), vec[n:].reshape(self.rows, self.cols)
        return vec[self.w], vec[self.b]

    def _join(self, out: np.ndarray | None) -> np.ndarray:
        """The current answer as an inner vector ``(n_inner,)``, written to ``out`` (a new
        array if None)."""
        out = np.empty(2 * self.w.size) if out is None else out
        if self.views:
            out[...] = self._x.ravel()
        else:
            out[self.w], out[self.b] = self._x[0, 0], self._x[1, 0]
        return out

    def solve(self, dh: float, b: np.ndarray, rtol: float, warm: bool = True,
              out: np.ndarray | None = None) -> np.ndarray:
        """``x`` ``(n_inner,)`` with ``||b - K x||_2 <= rtol ||b||_2``, started from the
        previous warm solve's answer (``warm=False``: from zero, and not remembered);
        written to ``out`` where given."""
        from ..nodal._kernels import along_cols, along_rows, schur_finish, xpby
        from ..nodal._stage_kernels import add_scaled, cg_step2, grid_residual
        self.solves += 1
        f = self._shift(dh)
        buf = self._buf
        saved = None if warm else self._x.copy()
        if not (warm and self._have):
            self._x[...] = 0.0
        x_w, x_b = self._x[0], self._x[1]
        b_w, b_b = self._split(b)
        rw, rb = buf["rw"], buf["rb"]
        lines = self._lines
        grid_residual(f.diag_w, self.off_w, f.diag_b, self.off_b, self.g,
                      np.ascontiguousarray(b_w), np.ascontiguousarray(b_b),
                      x_w[0], x_b[0], rw[0], rb[0], lines[0])
        target = rtol * float(np.sqrt(lines.sum()))
        d = buf["d"]                 # the correction: word lines d[0], bit lines d[1]
        dx, t = d[0], d[1]
        s, z, p, q, u = (buf[k] for k in ("s", "z", "p", "q", "u"))
        # the Schur right-hand side of the correction: s = r_w + G A_b^-1 r_b
        along_rows(*f.fac_b, rb, t)
        add_scaled(rw[0], self.g, t[0], s[0], lines[0])
        ss = float(lines.sum())
        it = 0
        if ss > target * target:
            # dx: the word lines' correction; t gathers the bit lines' (t + A_b^-1 G dx)
            dx[...] = 0.0
            along_cols(*f.fac_w, s, z, lines)
            rz = lines.sum(axis=1)
            p[...] = z
            max_iter = 20 * int(np.sqrt(self.w.size)) + 100
            rr = np.empty(1)
            while ss > target * target:
                if it >= max_iter:
                    raise SolverError(f"conjugate gradients did not converge on a stage: "
                                      f"residual {np.sqrt(ss) / max(target / rtol, 1e-300):.2e} "
                                      f"of the right-hand side after {it} iterations "
                                      f"(target {rtol:.0e})")
                along_rows(*f.fac_bg, p, u)
                schur_finish(f.diag_w, self.off_w, self.g, p, u, q, lines)
                pq = lines.sum(axis=1)
                alpha = np.divide(rz, pq, out=np.zeros_like(rz), where=pq > 0)
                cg_step2(dx, t, s, p, q, u, alpha, rr)
                ss = float(rr[0])
                along_cols(*f.fac_w, s, z, lines)
                rz_new = lines.sum(axis=1)
                beta = np.divide(rz_new, rz, out=np.zeros_like(rz), where=rz > 0)
                rz = rz_new
                xpby(p, z, beta)
                it += 1
            self._x += d
        else:
            x_b += t      # the bit lines: dx_b = A_b^-1 (r_b + G dx_w)
        self.iterations += it
        out = self._join(out)
        if warm:
            self._have = True
        else:
            self._x[...] = saved
        return out


def _entries(m: sp.csr_matrix, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``m[r, c]`` element by element, shaped as ``r``."""
    if r.size == 0:
        return np.zeros(r.shape)
    return np.asarray(m[r.ravel(), c.ravel()]).reshape(r.shape)
