"""A nonlinear array at one input vector after another: operating point and Schur complement.

A readout of nonlinear cells with RC gate lines solves the array at every time point of
the gates' turn-on (:class:`.boundary.AlgebraicArray`): the operating point with every
sense node held at its virtual ground, then the Schur complement of the Jacobian there
onto the sense nodes. :class:`PointSolver` does both with the structure fixed once (the
Newton system and the full-node system of :mod:`spicebar.engines.nodal.pattern`, every
block's positions in the Jacobian's data), so a point costs one device evaluation per
iteration and one LU.

Consecutive points differ little, so the Newton iteration starts from the previous point's
solution with the previous point's LU (a chord iteration: the Jacobian is not refactorised
while the steps shrink at least by half). The answer is still the Newton solution to
Newton's own tolerance: a point is accepted only when the *exact* Newton step at it,
with the Jacobian factorised there, is below ``VNTOL + RELTOL max|v|`` and the KCL residual
below :data:`~spicebar.engines.nodal.newton.KCL_TOL_REL`; otherwise full Newton
(:func:`~spicebar.engines.nodal.newton.newton_solve`) continues from there. That LU, of the
Jacobian at the accepted point, is the one the Schur complement uses. Cells with sinh
elements or tabled devices (voltage limiting, damping) take full Newton at every point.

Above :data:`~spicebar.engines.nodal.newton.DENSE_LU_MAX` inner nodes (level-1 transistors
and resistors: an M-matrix) the LU keeps the diagonal pivots and the Schur complement is
the tail of one LU of the array with its row and column ends ordered last
(:class:`_Bordered`); below it, dense LAPACK.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ...errors import SolverError
from ..nodal.linear import check_direct_memory
from ..nodal.newton import (DENSE_LU_MAX, KCL_TOL_REL, MAX_STEP_V, RELTOL, VNTOL, _DenseLU,
                            _System, factorise, newton_solve)
from .partition import SPD_LU, solve_columns

#: Chord iterations (the previous point's LU) before the Jacobian is factorised afresh.
CHORD_MAX = 8


class PointSolver:
    """Operating points and Schur complements of one IR at input vector after vector.

    ``system``: the Newton system (sense nodes held), ``fixed`` its held nodes in
    :func:`~spicebar.engines.nodal.stamps.fixed_voltages`' order; ``part``: the node sets
    (:class:`.partition.Partition`) whose inner nodes are that system's unknowns."""

    def __init__(self, ir, lap, part, system: _System, fixed: np.ndarray, memory=None):
        self.system = system
        self.full = _System(ir, lap, np.array([0]))  # every node but ground: the Schur blocks
        uf = self.full.uidx
        s, o, d = uf[part.sense], uf[part.inner], uf[part.driver]
        pat = self.full.pattern
        self.oo, self.os = pat.block(o, o), pat.block(o, s)
        self.so, self.ss = pat.block(s, o), pat.block(s, s)
        self.do, self.ds = pat.block(d, o), pat.block(d, s)
        npat = system.pattern
        same = (np.array_equal(system.unknown, part.inner) and self.oo.sel.size == npat.nnz
                and np.array_equal(self.oo.indices, npat.indices)
                and np.array_equal(self.oo.indptr, npat.indptr))
        if not same:  # the sense nodes are not the only nodes the Newton system adds
            raise ValueError("the Newton unknowns are not the partition's inner nodes")
        # level-1 transistors and resistors only (no sinh limiting, no tables' damping; an
        # M-matrix Jacobian, see _factorise)
        self.chord = (not system.sinh and not system.tabled
                      and all(p is not None for p in system.stamps.params))
        self.fixed = fixed
        if system.unknown.size > DENSE_LU_MAX:
            check_direct_memory(part.inner.size, part.sense.size, memory,
                                what="the bit-line admittance (LU of the array's inner nodes)",
                                advice="use a smaller array or tiles")
        self.factorisations = 0
        self.chord_steps = 0
        self.bordered = None
        if self.chord and system.unknown.size > DENSE_LU_MAX:
            self.bordered = _Bordered(pat, self.oo, o, d, s)
            if not self.bordered.ok:  # a border node without a diagonal: solves per sense
                self.bordered = None

    def _factorise(self, data: np.ndarray, k: int):
        """LU of the inner block of the full-node Jacobian ``data``. Level-1 transistors
        (gates held) and resistors make it a column diagonally dominant M-matrix (every
        column sums to the conductance to held nodes, off-diagonals <= 0), where elimination
        needs no pivoting: SuperLU keeps the diagonal pivots (about 2x faster)."""
        self.factorisations += 1
        if self.bordered is not None:
            lu = self.bordered.factorise(data)
            if lu is not None:
                return lu
            self.bordered = None  # from now on the inner block alone, and solves per sense
        if self.chord and self.system.unknown.size > DENSE_LU_MAX:
            try:
                return spla.splu(self.system.pattern.csc(data[self.oo.sel]), **SPD_LU)
            except RuntimeError:
                pass  # factorise() below reports it
        return factorise(self.system, data[self.oo.sel], 0, k)

    def _accept(self, v: np.ndarray, vmax: float, k: int):
        """``(ok, inj, data, lu)``: the full-node residual and Jacobian at ``v``, the LU of
        its inner block, and whether the exact Newton step there meets Newton's tolerance."""
        inj, cur, data = self.full.residual(v, None)
        lu = self._factorise(data, k)
        u = self.system.unknown
        dv = lu.solve(inj[u])
        ok = bool(np.all(np.isfinite(dv))) and float(np.abs(dv).max(initial=0.0)) <= VNTOL + RELTOL * vmax
        if ok:
            kcl = float(np.abs(inj[u]).max(initial=0.0)) / self.system.current_scale(v, cur)
            ok = kcl <= KCL_TOL_REL
        return ok, inj, data, lu

    def solve(self, v: np.ndarray, v_fixed: np.ndarray, k: int, lu=None):
        """Operating point from ``v`` ``(n_nodes,)`` (its fixed nodes set to ``v_fixed``,
        the rest the previous point's solution) and ``lu`` (the previous point's LU, or
        None): ``(v, inj (n_nodes,) A, data (the full-node Jacobian's values), lu)``."""
        system, u = self.system, self.system.unknown
        vmax = max(float(np.abs(v).max()), 1e-3)
        if self.chord and lu is not None:
            tol = VNTOL + RELTOL * vmax
            prev = np.inf
            for _ in range(CHORD_MAX):
                inj, _, _ = system.residual(v, None, jacobian=False)
                dv = -lu.solve(inj[u])
                big = float(np.abs(dv).max(initial=0.0))
                if not np.isfinite(big) or big > 0.5 * prev:
                    break  # not contracting: factorise afresh
                v = v.copy()
                v[u] += min(1.0, MAX_STEP_V / big) * dv if big > 0 else 0.0
                self.chord_steps += 1
                prev = big
                if big <= tol:
                    break
            ok, inj, data, lu = self._accept(v, vmax, k)
            if ok:
                return v, inj, data, lu
        try:
            v, _ = newton_solve(system, v, k)
        except SolverError:  # a warm start can stagnate near 0 V: start cold once
            v = np.zeros(v.size)
            v[self.fixed] = v_fixed
            v, _ = newton_solve(system, v, k)
        inj, _, data = self.full.residual(v, None)
        return v, inj, data, self._factorise(data, k)

    def schur(self, data: np.ndarray, lu) -> tuple[np.ndarray, np.ndarray]:
        """``(Y (n_s, n_s), Z (n_d, n_s))`` S: the Schur complement of the full-node Jacobian
        with values ``data`` onto the sense nodes, ``lu`` the LU of its inner block."""
        if isinstance(lu, _BorderedLU):
            return lu.y, lu.z
        y, z = self.ss.dense(data), self.ds.dense(data)
        if self.oo.shape[0] == 0:
            return y, z
        if isinstance(lu, _DenseLU):
            x = lu.solve(self.os.dense(data))
            return y - self.so.dense(data) @ x, z - self.do.dense(data) @ x
        x = solve_columns(lu.solve, self.os.csc(data))
        return y - self.so.csc(data) @ x, z - self.do.csc(data) @ x


class _Bordered:
    """The Schur complement onto the driver and sense nodes as the trailing block of one LU,
    and the Newton solves with the same LU.

    The full-node Jacobian ``M = [[A, B], [C, D]]`` is ordered ``[inner (in a fill-reducing
    order found once), drivers, senses]`` and factorised with diagonal pivots and no further
    ordering (an M-matrix, see :meth:`PointSolver._factorise`). After the inner nodes are
    eliminated, what is left of the trailing block is the Schur complement: no solve per
    sense node. ``S = D - C A^-1 B`` itself is nearly singular (the array's only path to
    ground with its ends free is ``gmin``), so ``D + sigma I`` is factorised instead
    (``sigma``: the largest diagonal entry of ``D``): the elimination of the inner nodes is
    unchanged, the tail is ``S + sigma I = L_tt U_tt`` (well conditioned), and
    ``Y, Z`` are its blocks with ``sigma I`` taken off again. Measured at 16x16 (three-line
    1T1R): 1.5 ms against 46 ms for the solves per sense; at 64x64 it replaces a second
    factorisation (:class:`_BorderedLU` solves ``A x = r`` with it)."""

    def __init__(self, pat, oo, o, d, s):
        diag = np.zeros(pat.m, bool)
        diag[pat.indices[pat.indices == pat.col_of]] = True
        row_used = np.zeros(pat.m, bool)
        row_used[pat.indices] = True
        # drivers whose rows hold nothing (gate nodes held as inputs: a gate draws no
        # current) have Z rows of zero and stay out of the border
        self.d_keep = np.flatnonzero(row_used[d])
        d_in = d[self.d_keep]
        self.n_drivers = d.size
        self.ok = bool(np.all(diag[d_in]) and np.all(diag[s]))
        if not self.ok:
            return
        a = oo.csc(np.ones(pat.nnz))
        a = abs(a) + sp.identity(a.shape[0], format="csc") * (1.0 + a.shape[0])
        first = spla.splu(a.tocsc(), **SPD_LU)  # structure only: its fill-reducing order
        self.o_perm = np.argsort(first.perm_c)  # position in M -> index among the inner nodes
        self.no, self.nd, self.t = o.size, d_in.size, d_in.size + s.size
        q = np.concatenate([o[self.o_perm], d_in, s])
        self.block = pat.block(q, q)
        self.n = self.block.shape[0]
        bl = self.block
        self.tail_diag = np.flatnonzero((bl.rows == bl.cols) & (bl.rows >= self.no))

    def factorise(self, data: np.ndarray):
        """A :class:`_BorderedLU` of the Jacobian values ``data``, or None (SuperLU moved
        the border, or found the matrix singular: the caller factorises the usual way)."""
        m_data = data[self.block.sel]
        sigma = float(np.abs(m_data[self.tail_diag]).max(initial=0.0)) or 1.0
        m_data[self.tail_diag] += sigma
        m = sp.csc_matrix((m_data, self.block.indices, self.block.indptr), shape=self.block.shape)
        try:
            lu = spla.splu(m, permc_spec="NATURAL", diag_pivot_thresh=0.0,
                           options=dict(SymmetricMode=True))
        except RuntimeError:
            return None
        tail = np.arange(self.n - self.t, self.n)
        if not (np.array_equal(lu.perm_c[tail], tail) and np.array_equal(lu.perm_r[tail], tail)):
            return None
        sch = (lu.L[-self.t:, -self.t:] @ lu.U[-self.t:, -self.t:]).toarray()
        if not np.all(np.isfinite(sch)):
            return None
        return _BorderedLU(self, lu, sch, sigma)


class _BorderedLU:
    """``solve(r)``: ``A^-1 r`` for the inner block ``A`` of a bordered LU of
    ``M = [[A, B], [C, D']]`` (``D' = D + sigma I``, ``S' = D' - C A^-1 B``), by block
    inversion: ``[x1; y1] = M^-1 [r; 0]`` holds ``x1 = A^-1 r + A^-1 B S'^-1 C A^-1 r`` and
    ``y1 = -S'^-1 C A^-1 r``, and ``[x2; .] = M^-1 [0; S' y1]`` holds
    ``x2 = -A^-1 B y1``, the same correction: ``A^-1 r = x1 - x2``.
    ``y``, ``z``: the sense and driver blocks of the Schur complement ``S = S' - sigma I``."""

    def __init__(self, b: _Bordered, lu, sch: np.ndarray, sigma: float):
        self.b, self.lu, self.sch = b, lu, sch
        s = sch - sigma * np.eye(b.t)
        self.y = s[b.nd:, b.nd:]
        self.z = np.zeros((b.n_drivers, b.t - b.nd))
        self.z[b.d_keep] = s[:b.nd, b.nd:]

    def solve(self, r: np.ndarray) -> np.ndarray:
        b = self.b
        rhs = np.zeros(b.n)
        rhs[:b.no] = r[b.o_perm]
        w = self.lu.solve(rhs)
        rhs[:] = 0.0
        rhs[b.no:] = self.sch @ w[b.no:]
        x = w[:b.no] - self.lu.solve(rhs)[:b.no]
        out = np.empty(b.no)
        out[b.o_perm] = x
        return out
