"""The array with wire capacitance at one implicit integration stage.

:class:`CapacitiveArray` is the reduction of :mod:`.boundary` for a linear array with
capacitance to ground at its nodes: ``K = L + C / (d h)`` replaces ``L``. Its stages are
solved on a sparse LU per step length (:class:`_OrderedLU`, whose trailing block is the
exact admittance at the senses; rare step lengths refine on a neighbour's LU) or, where
the LU does not fit or costs more, by the line solver without a factorisation
(:mod:`.stage_cg`, chosen by its cost model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ...circuit.ir import CircuitIR
from ...errors import SolverError
from ..memory import BASE_BYTES, MemoryGuard
from ..nodal.linear import check_direct_memory, direct_memory_bytes
from ..nodal.stamps import conductance_matrix
from .partition import SPD_LU, Partition, driver_map, sense_map, solve_columns
from .stage_cg import CG_BYTES_PER_UNKNOWN, IterativeStages, Shifted, choose_stage_solver

#: Iterative refinement of a stage solve on another step length's LU: at most this many
#: corrections, until a correction is below this fraction of the solution (float64's level;
#: each correction shrinks by about the ratio of the two ``C / dh`` differences to the
#: array's conductances: 1e-4 for fF wires at ns steps, 0.05 at ps steps); a step length
#: whose corrections shrink by less than REFINE_RATE gets its own LU.
REFINE_ITER = 30
REFINE_RTOL = 1e-13
REFINE_RATE = 0.3
#: A step length with at least this many stages gets its own LU, and with it the exact
#: admittance (each of its stages then takes two solves); the others are solved on the
#: nearest own LU with refinement and iterated against an approximate admittance (10-20
#: solves a stage, measured at 64x64, where an LU costs 10-15 ms against 0.3-0.5 ms a
#: solve: every step length with a whole step pays for its LU).
REFINE_USES = 2
#: The LUs kept at once are held to this many bytes (:func:`direct_memory_bytes`, a peak
#: estimate): the most used step lengths get theirs (256x256: 4), the rest refine.
LU_BUDGET_BYTES = 1 << 30
#: The exact admittance comes from the LU's trailing block when the inner nodes next to
#: the senses are at most this many per sense (a bit line's end node: one); else from one
#: solve per sense (an ideal bit line puts every cell next to its sense).
TRAILING_PER_SENSE = 4

class _OrderedLU:
    """Sparse LU of ``K_oo`` (inner nodes) in a fill-reducing order with the inner nodes
    next to the senses last, so the factors' trailing block is ``K_oo``'s Schur complement
    onto them: the exact sense admittance ``y`` ``(n_senses, n_senses)`` S comes with the LU.
    """

    def __init__(self, k: sp.csr_matrix, part: "Partition", order: np.ndarray, n_adj: int):
        o, s = part.inner, part.sense
        k_oo = k[o][:, o]
        self.order = order
        self.lu = spla.splu(k_oo[order][:, order].tocsc(), permc_spec="NATURAL",
                            diag_pivot_thresh=0.0, options=dict(SymmetricMode=True))
        k_ss = k[s][:, s].toarray()
        if n_adj and np.array_equal(self.lu.perm_r, np.arange(o.size)):
            adj = order[-n_adj:]
            tail = (self.lu.L[-n_adj:, -n_adj:] @ self.lu.U[-n_adj:, -n_adj:]).toarray()
            k_as = k[o[adj]][:, s].toarray()
            self.y = k_ss - k_as.T @ np.linalg.solve(tail, k_as)
        else:   # pivoted rows or no trailing block: one solve per sense
            x = solve_columns(self.solve, k[o][:, s].tocsc())
            self.y = k_ss - k[s][:, o] @ x

    def solve(self, b: np.ndarray) -> np.ndarray:
        """``K_oo^-1 b`` for ``b`` ``(n_inner,)``."""
        x = np.empty_like(b)
        x[self.order] = self.lu.solve(b[self.order])
        return x


@dataclass
class _Stage:
    """One step length's matrices (``K = L + C / dh`` and its blocks) and what is built
    from them on demand: the LU of the inner nodes and the readout's admittance."""

    k: sp.csr_matrix        # K on every node
    k_oo: sp.csr_matrix     # inner x inner
    k_of: sp.csr_matrix     # inner x fixed
    k_os: sp.csr_matrix     # inner x sense
    k_s: sp.csr_matrix      # sense rows
    k_d: sp.csr_matrix      # driver rows
    lu: "_OrderedLU | None" = None
    y: np.ndarray | None = None   # (cols, cols) S


class CapacitiveArray:
    """A linear array with capacitance to ground at its nodes, one implicit stage at a time.

    A stage with coefficient ``dh`` solves ``K v = rhs / dh`` on the inner nodes,
    ``K = L + C / dh``, with the fixed nodes at their sources and the sense nodes at
    their virtual grounds; ``rhs`` (``(n_nodes,)``, C) is the history term of the
    integration formula. The current a held node injects is ``(K v)_k - rhs_k / dh``.
    Step lengths with their own LU (:meth:`plan`) also have the exact Schur complement of
    ``K`` onto the senses (:class:`_OrderedLU`), so the readout solves against the exact
    ``J = a - Y e`` there.
    """

    def __init__(self, ir: CircuitIR, memory=None, stage_solver: str = "auto"):
        """``stage_solver``: ``"lu"`` (sparse LU per step length), ``"cg"`` (the line
        solver, :mod:`.stage_cg`) or ``"auto"`` (chosen in :meth:`plan` by the cost model,
        and ``cg`` wherever the LU does not fit the memory limit)."""
        if ir.nonlinear:
            raise SolverError("CapacitiveArray takes linear arrays only")
        self.ir = ir
        self.lap = conductance_matrix(ir)
        self.c = np.zeros(ir.n_nodes)
        for g in ir.capacitors:
            np.add.at(self.c, g.node_p, g.value)
            np.add.at(self.c, g.node_n, g.value)
        self.c[0] = 0.0
        self.part = Partition(ir)
        o = self.part.inner
        #: the inner nodes as a slice where they are consecutive (the elaborated order):
        #: a view, not a gather, of every node vector
        self._inner_at = slice(int(o[0]), int(o[-1]) + 1) if o.size and \
            o[-1] - o[0] + 1 == o.size else o
        self.ps, self.pd = sense_map(ir), driver_map(ir)
        self.memory = memory
        self._cache: dict[float, _Stage] = {}
        self._own: list[float] = []
        self._order = None
        self.stage_solver = stage_solver
        self.mode, self.mode_why = "lu", ""
        self.cg = None
        self._held_key = None
        self._held_val = None
        self._os_coo = None
        self._of_coo = None
        self._to_cols = None
        #: Counts :meth:`plan` calls: the admittance of a step length may change with each
        #: plan (exact or not, LU or line solver), so what is built on it is keyed by this.
        self.plans = 0

    def _factors(self, dh: float):
        if self.mode == "cg":
            return self._shifted(dh)
        if dh not in self._cache:
            if len(self._cache) > 32:
                self._cache.clear()
            p = self.part
            k = (self.lap + sp.diags(self.c / dh)).tocsr()
            o = p.inner
            k_oo = k[o][:, o].tocsr()
            self._cache[dh] = _Stage(k, k_oo, k[o][:, p.fixed].tocsr(), k[o][:, p.sense].tocsr(),
                                     k[p.sense].tocsr(), k[p.driver].tocsr())
        return self._cache[dh]

    def _shifted(self, dh: float) -> _Stage:
        """The iterative path's stage: ``K``'s blocks as operators on ``L``'s (no LU)."""
        if dh not in self._cache:
            if len(self._cache) > 32:
                self._cache.clear()
            p, blocks, c = self.part, self._blocks, self.c / dh
            self._cache[dh] = _Stage(None, Shifted(blocks["oo"], np.arange(p.inner.size), c[p.inner]),
                                     blocks["of"], blocks["os"],
                                     Shifted(blocks["s"], p.sense, c[p.sense]),
                                     Shifted(blocks["d"], p.driver, c[p.driver]))
        return self._cache[dh]

    def _choose(self, uses: dict) -> None:
        """LU or conjugate gradients for the stages (:func:`.stage_cg.choose_stage_solver`)."""
        p = self.part
        fits = direct_memory_bytes(p.inner.size, p.sense.size) <= MemoryGuard.resolve(
            self.memory).limit_bytes
        per_lu = direct_memory_bytes(p.inner.size, 1) - BASE_BYTES["nodal"]
        n_lu = 1 + min(sum(n >= REFINE_USES for n in uses.values()),
                       max(1, LU_BUDGET_BYTES // max(per_lu, 1)))
        # decided before the line system is built (that loads the compiled kernels)
        self.mode, self.mode_why = choose_stage_solver(
            p.inner.size, int(sum(uses.values())), n_lu, fits, True, self.stage_solver)
        lines = None
        if self.mode == "cg":
            try:
                lines = IterativeStages(self.ir, p.inner, self.c[p.inner], self.lap)
            except SolverError:
                if self.stage_solver == "cg":
                    raise
                self.mode, self.mode_why = choose_stage_solver(
                    p.inner.size, int(sum(uses.values())), n_lu, fits, False)
        if self.mode == "lu":
            check_direct_memory(p.inner.size, p.sense.size, self.memory, what="the stage LU "
                                "(the array's inner nodes with C/dh)",
                                advice="use a smaller array or tiles")
            if self.cg is not None:   # a previous grid ran the line solver: its stages hold
                self.cg = None        # no K (operators on L's blocks), so none is reused
                self._cache.clear()
            return
        if lines is None:
            raise SolverError("stage_solver='cg' needs an array made of word and bit lines")
        MemoryGuard.resolve(self.memory).require(
            BASE_BYTES["nodal"] + CG_BYTES_PER_UNKNOWN * p.inner.size,
            f"the line solver's stages on {self.ir.rows}x{self.ir.cols} cells",
            "use a smaller array or tiles")
        self.cg = lines
        lap = self.lap.tocsr()
        o = p.inner
        self._blocks = {"oo": lap[o][:, o].tocsr(), "of": lap[o][:, p.fixed].tocsr(),
                        "os": lap[o][:, p.sense].tocsr(), "s": lap[p.sense].tocsr(),
                        "d": lap[p.driver].tocsr()}
        self._cache.clear()

    def describe(self) -> str:
        """Which stage solver runs and why (for ``info``)."""
        if self.mode == "cg":
            return ("conjugate gradients on L + C/(d h) per stage (the line solver, warm-started; "
                    f"no factorisation): {self.mode_why}")
        return ("sparse LU of L + C/(d h) per step size, with its exact Schur complement onto "
                f"the senses{': ' + self.mode_why if self.mode_why else ''}")

    def plan(self, uses: dict, own=()) -> None:
        """Choose the stage solver (:meth:`_choose`); for the LU, which step lengths get their
        own LU: ``own``, and those with at least :data:`REFINE_USES` stages (``uses``:
        step-length coefficient ``dh`` -> stages), the most used first, as many as
        :data:`LU_BUDGET_BYTES` holds; the others are solved on the nearest of those (in
        ``log dh``) with refinement."""
        self.plans += 1
        self._choose(uses)
        if self.mode == "cg":
            return
        per_lu = direct_memory_bytes(self.part.inner.size, 1) - BASE_BYTES["nodal"]
        room = max(1, LU_BUDGET_BYTES // max(per_lu, 1) - len(own))
        mine = sorted((dh for dh, n in uses.items() if n >= REFINE_USES), key=uses.get,
                      reverse=True)[:room] + list(own)
        self._own = mine or [max(uses, key=uses.get)]

    def _ordering(self, k: sp.csr_matrix) -> tuple[np.ndarray, int]:
        """Fill-reducing order of the inner nodes (the same for every ``dh``: one pattern),
        with those next to a sense last, and how many those are."""
        if self._order is None:
            p = self.part
            o = p.inner
            adj = np.flatnonzero(np.diff(k[o][:, p.sense].tocsr().indptr))
            if adj.size > TRAILING_PER_SENSE * max(p.sense.size, 1):
                adj = adj[:0]
            first = np.argsort(spla.splu(k[o][:, o].tocsc(), **SPD_LU).perm_c)
            keep = np.ones(o.size, bool)
            keep[adj] = False
            self._order = (np.concatenate([first[keep[first]], adj]), adj.size)
        return self._order

    def _lu_of(self, dh: float) -> _OrderedLU:
        f = self._factors(dh)
        if f.lu is None:
            try:
                f.lu = _OrderedLU(f.k, self.part, *self._ordering(f.k))
            except RuntimeError as exc:
                raise SolverError(f"array matrix is singular ({exc}): some node has no DC "
                                  "path to a driver or readout") from None
        return f.lu

    def _inner_solve(self, dh: float, b: np.ndarray, warm: bool = True,
                     out: np.ndarray | None = None) -> np.ndarray:
        """``K_oo(dh) x = b``: on this step length's own LU, or on the nearest planned one
        with iterative refinement (``C / dh`` is small beside the array's conductances);
        a step length whose refinement does not converge gets its own LU."""
        if self.mode == "cg":
            return self.cg.solve(dh, self._factors(dh).k_oo, b, warm=warm, out=out)
        f = self._cache[dh]
        own = self._own or [dh]
        if f.lu is not None or dh in own:
            return self._lu_of(dh).solve(b)
        lu = self._lu_of(self._nearest(dh))
        x = lu.solve(b)
        last = np.inf
        for _ in range(REFINE_ITER):
            r = b - f.k_oo @ x
            dx = lu.solve(r)
            x += dx
            step = np.abs(dx).max(initial=0.0)
            # converged when the correction is at float64's level of the solution
            if step <= REFINE_RTOL * np.abs(x).max(initial=0.0):
                return x
            if step > REFINE_RATE * last:   # converging too slowly: not worth it
                break
            last = step
        return self._lu_of(dh).solve(b)   # refinement too slow: this dh's own LU

    def _nearest(self, dh: float) -> float:
        """The planned step length nearest to ``dh`` (in ``log dh``)."""
        return min(self._own or [dh], key=lambda d: abs(np.log(d / dh)))

    def _held(self, dh: float, rhs: np.ndarray, v_fixed: np.ndarray) -> np.ndarray:
        """``rhs_inner / dh - K_of v_fixed`` ``(n_inner,)``: the part of a stage's right-hand
        side that does not depend on the senses (the readout iterates a stage's senses with
        the same ``rhs`` and ``v_fixed``: computed once per stage, kept by identity)."""
        key = (dh, id(rhs), id(v_fixed))
        if self._held_key is None or self._held_key[0] != key:
            p = self.part
            base = rhs[self._inner_at] / dh
            if v_fixed.size:   # K_of's few entries (C / dh touches none of them)
                if self._of_coo is None:
                    m = self.lap.tocsr()[p.inner][:, p.fixed].tocoo()
                    self._of_coo = (m.row, m.col, m.data)
                row, col, val = self._of_coo
                np.subtract.at(base, row, val * v_fixed[col])
            self._held_key = (key, rhs, v_fixed)   # (the arrays kept: their ids stay theirs)
            self._held_val = base
        return self._held_val

    def _os(self):
        """``K_os`` (inner x sense; ``C / dh`` touches no entry of it) as COO triplets: its
        product with the sense voltages touches its few entries only, not every inner row."""
        if self._os_coo is None:
            p = self.part
            m = self.lap.tocsr()[p.inner][:, p.sense].tocoo()
            self._os_coo = (m.row, m.col, m.data)
        return self._os_coo

    def solve(self, dh: float, rhs: np.ndarray, v_fixed: np.ndarray, v_sense: np.ndarray,
              warm: bool = True):
        """Node voltages ``(n_nodes,)`` of one stage with the given boundary voltages
        (``warm``: the iterative path may start from, and remember, its previous answer)."""
        p = self.part
        v = np.empty(p.n)   # (fixed, sense and inner nodes: every node, each set below)
        v[p.fixed] = v_fixed
        v[p.sense] = v_sense
        if p.inner.size:
            b = self._held(dh, rhs, v_fixed).copy()
            row, col, val = self._os()
            np.subtract.at(b, row, val * v_sense[col])
            view = v[self._inner_at] if isinstance(self._inner_at, slice) else None
            x = self._inner_solve(dh, b, warm, view)
            if x is not view:
                v[self._inner_at] = x
        return v

    def exact(self, dh: float) -> bool:
        """Whether :meth:`admittance` is exact at ``dh`` (the step length has its own LU)."""
        if self.mode == "cg":
            return False
        return self._factors(dh).lu is not None or dh in (self._own or [dh])

    def admittance(self, dh: float) -> np.ndarray:
        """``(cols, cols)`` S, the admittance the readout iterates with: exact where ``dh``
        has its own LU (the Schur complement of ``K(dh)`` onto the senses); elsewhere the
        nearest own step length's, with its diagonal moved by each column's share of the
        difference (one solve, all ends at 1 V). The stage is iterated until the array's
        own currents agree (:mod:`.nodal`), so the latter need only be close."""
        f = self._factors(dh)
        if f.y is None:
            if self.mode == "cg":   # each column's admittance to the rest: diag(Y 1)
                p = self.part
                v = self.solve(dh, np.zeros(p.n), np.zeros(p.fixed.size), np.ones(p.sense.size),
                               warm=False)
                f.y = np.diag((f.k_s @ v) @ self.ps)
            elif self.exact(dh):
                f.y = self.ps.T @ self._lu_of(dh).y @ self.ps
            else:
                near = self.admittance(self._nearest(dh))
                p = self.part
                v = self.solve(dh, np.zeros(p.n), np.zeros(p.fixed.size), np.ones(p.sense.size))
                y1 = (f.k_s @ v) @ self.ps
                f.y = near + np.diag(y1 - near.sum(axis=1))
        return f.y

    def injected(self, dh: float, rhs: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(J (cols,), I_drv (rows,))``: column currents into the readouts, driver currents."""
        f = self._factors(dh)
        k_s, k_d = f.k_s, f.k_d
        s, d = self.part.sense, self.part.driver
        inj_s = k_s @ v - rhs[s] / dh
        inj_d = k_d @ v - rhs[d] / dh
        if self._to_cols is None:   # (the one-hot maps as indices: no dense products)
            keep = np.flatnonzero(self.ir.driver_row < self.ir.rows)
            self._to_cols = (np.asarray(self.ir.sense_col), keep, self.ir.driver_row[keep])
        col, keep, row = self._to_cols
        return (np.bincount(col, weights=-inj_s, minlength=self.ir.cols),
                np.bincount(row, weights=inj_d[keep], minlength=self.ir.rows))
