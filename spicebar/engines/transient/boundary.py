"""The array as the readout sees it: currents and admittances at the bit-line ends.

Every sense source of the IR is a *boundary node* held by its column's virtual ground
``vg_j = v0 + e_j`` (``v0 = v_ref + v_os``, where the op-amp holds it; ``e_j`` is the
loop's error). Without capacitance the array is algebraic, so for an input vector ``V``
its column currents are exactly, to first order in ``e``::

    J(V, e) = J0(V) - Y(V) e          (cols,) A, into the readouts
    I_drv(V, e) = I0(V) + Z(V) e      (rows,) A, delivered by the word-line drivers

``J0``/``I0`` come from the existing nodal solvers with every sense at ``v0``; ``Y``
(cols x cols, S) and ``Z`` (rows x cols, S) are the Schur complement of the array's
(Jacobian) conductance matrix onto the sense nodes: one sparse LU of the inner nodes
and one solve per sense. For linear cells the relation is exact for any ``e``; for
nonlinear cells it is the linearisation at ``v0``, whose error is second order in
``e`` (checked after the run, see :mod:`.nodal`).

:class:`CapacitiveArray` is the same reduction for an array with wire capacitance at
one implicit integration stage: ``K = L + C / (d h)`` replaces ``L`` (one LU per step
size), and ``J0`` comes from one solve per stage.
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
from ..nodal.stamps import conductance_matrix, fixed_voltages, singular_reason
from .probing import SenseProbe, choose_probing
from .stage_cg import CG_BYTES_PER_UNKNOWN, IterativeStages, Shifted, choose_stage_solver


#: SuperLU on the array's symmetric, diagonally dominant matrices (Laplacians, their
#: Jacobians with sinh cells, ``L + C / dh``): keep the diagonal pivots (~2x faster), as
#: Newton does. MOSFET Jacobians are unsymmetric: partial pivoting there.
SPD_LU = dict(permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options=dict(SymmetricMode=True))


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


def sense_map(ir: CircuitIR) -> np.ndarray:
    """One-hot ``(n_senses, cols)``: which column's virtual ground each sense node sits on."""
    p = np.zeros((len(ir.senses), ir.cols))
    p[np.arange(len(ir.senses)), ir.sense_col] = 1.0
    return p


def driver_map(ir: CircuitIR) -> np.ndarray:
    """One-hot ``(n_drivers, rows)``: the input row each driver applies. Drivers of inputs
    beyond the array's rows (gate-line nodes held as inputs, :mod:`.gate_lines`) map to none."""
    p = np.zeros((len(ir.drivers), ir.rows))
    keep = np.flatnonzero(ir.driver_row < ir.rows)
    p[keep, ir.driver_row[keep]] = 1.0
    return p


class Partition:
    """Node sets of the reduction: fixed (ground, drivers, gates), sense, inner."""

    def __init__(self, ir: CircuitIR):
        n_in = max(ir.rows, int(ir.driver_row.max(initial=-1)) + 1)  # (gate-line inputs too)
        nodes, _ = fixed_voltages(ir, np.zeros((1, n_in)))
        self.sense = ir.senses.node_p
        self.driver = ir.drivers.node_p
        fixed = np.setdiff1d(nodes, self.sense)
        inner = np.ones(ir.n_nodes, bool)
        inner[fixed] = False
        inner[self.sense] = False
        self.fixed = fixed
        self.inner = np.flatnonzero(inner)
        self.n = ir.n_nodes

    def fixed_values(self, ir: CircuitIR, v_rows: np.ndarray) -> np.ndarray:
        """Voltages of the fixed nodes for input rows ``v_rows`` ``(n, rows)``: ``(n_fixed, n)``."""
        out = np.zeros((self.n, v_rows.shape[0]))
        out[self.driver] = ir.driver_voltages(v_rows).T
        if ir.gates is not None:
            out[ir.gates.node_p] = ir.gates.value[:, None]
        return out[self.fixed]


def _solve_columns(solve, rhs: sp.csc_matrix) -> np.ndarray:
    """``solve`` applied to each column of ``rhs`` ``(n, m)``: ``(n, m)``. One right-hand
    side at a time: SuperLU is ~6x slower on a block."""
    x = np.zeros(rhs.shape)
    for k in range(rhs.shape[1] if rhs.shape[0] else 0):
        x[:, k] = solve(rhs[:, [k]].toarray()[:, 0])
    return x


def schur(matrix: sp.csr_matrix, part: Partition, memory=None, symmetric: bool = True):
    """``(Y, Z)``: sense-to-sense and driver-from-sense blocks of the Schur complement
    of ``matrix`` (S, injected currents per volt at the sense nodes) onto the sense nodes."""
    s, o, d = part.sense, part.inner, part.driver
    m = matrix.tocsr()
    y = m[s][:, s].toarray()
    z = m[d][:, s].toarray()
    if o.size:
        check_direct_memory(o.size, s.size, memory, what="the bit-line admittance (LU of the "
                            "array's inner nodes)", advice="use a smaller array or tiles")
        try:
            lu = spla.splu(m[o][:, o].tocsc(),
                           **(SPD_LU if symmetric else dict(permc_spec="MMD_AT_PLUS_A")))
        except RuntimeError as exc:
            raise SolverError(f"array matrix is singular ({exc}): "
                              f"{singular_reason(m[o][:, o])}") from None
        x = _solve_columns(lu.solve, m[o][:, s].tocsc())
        y -= m[s][:, o] @ x
        z -= m[d][:, o] @ x
    return y, z


def full_jacobian(ir: CircuitIR, v: np.ndarray, lap: sp.csr_matrix) -> sp.csr_matrix:
    """Conductance matrix of the array linearised at node voltages ``v`` ``(n_nodes,)``, on
    every node, exactly as Newton (:mod:`spicebar.engines.nodal.newton`) stamps every
    device kind (its system with only ground held)."""
    from ..nodal.newton import _System
    system = _System(ir, lap, np.array([0]))
    _, jac = system.evaluate(v, None)
    u = system.unknown
    coo = jac.tocoo()
    return sp.csr_matrix((coo.data, (u[coo.row], u[coo.col])), shape=lap.shape)


class AlgebraicArray:
    """The array without capacitance, reduced at a set of input vectors.

    Attributes (``n`` input vectors):
        j0: ``(n, cols)`` A, column currents with every virtual ground at ``v0``.
        i0: ``(n, rows)`` A, driver currents there.
        y: ``(n_y, cols, cols)`` S and z: ``(n_y, rows, cols)`` S, with ``level[k]`` the
            index into them for vector ``k`` (one for a linear array).
    """

    def __init__(self, ir: CircuitIR, v_rows: np.ndarray, v0: float, memory=None,
                 offsets: np.ndarray | None = None):
        """``offsets``: ``(n, cols)`` V, linearise vector ``k`` at ``v0 + offsets[k]`` instead
        of ``v0`` (nonlinear cells); ``j0``/``i0`` are then extrapolated to ``e = 0`` along
        the tangent, so ``J = j0 - Y e`` holds near the offset."""
        from dataclasses import replace

        from ..nodal.newton import KCL_TOL_REL, _System, newton_solve  # noqa: F401
        from ..nodal.linear import solve_linear
        ps, pd = sense_map(ir), driver_map(ir)
        memory = MemoryGuard.resolve(memory)  # once: every vector's Schur complement checks it
        ir0 = replace(ir, senses=replace(ir.senses, value=np.full(len(ir.senses), float(v0))))
        lap = conductance_matrix(ir)
        part = Partition(ir)
        n = v_rows.shape[0]
        self.probe = None
        if not ir.nonlinear:
            dc = solve_linear(ir0, v_rows, solver="auto", memory=memory)
            self.j0, self.i0 = dc.currents, dc.driver_currents
            self.level = np.zeros(n, int)
            self.solver = dc.info.get("solver", "")
            memory = MemoryGuard.resolve(memory)
            if choose_probing(ir, part.inner.size, memory):
                try:
                    self.probe = SenseProbe(ir, lap, part, ps, pd, memory, self.j0.T)
                except ValueError:     # not made of lines: the LU (memory-checked) below
                    self.probe = None
            if self.probe is not None:
                self.refresh()
                self.solver += "; bit-line admittance probed with the line solver"
                return
            y, z = schur(lap, part, memory)
            self.y = (ps.T @ y @ ps)[None]
            self.z = (pd.T @ z @ ps)[None]
            return
        fixed, v_fixed = fixed_voltages(ir0, v_rows)
        system = _System(ir0, lap, fixed)
        v = np.zeros(ir.n_nodes)
        self.j0, self.i0 = np.zeros((n, ir.cols)), np.zeros((n, ir.rows))
        ys, zs = [], []
        s_rows = 1 + len(ir.drivers) + np.arange(len(ir.senses))  # fixed_voltages' order
        for k in range(n):
            if offsets is not None:
                v_fixed[s_rows, k] = v0 + offsets[k][ir.sense_col]
            v[fixed] = v_fixed[:, k]
            try:
                v, _ = newton_solve(system, v, k)
            except SolverError:  # a warm start can stagnate near 0 V: start cold once
                v = np.zeros(ir.n_nodes)
                v[fixed] = v_fixed[:, k]
                v, _ = newton_solve(system, v, k)
            inj, _ = system.evaluate(v, None)
            self.j0[k] = -inj[ir.senses.node_p] @ ps
            self.i0[k] = inj[ir.drivers.node_p] @ pd
            y, z = schur(full_jacobian(ir, v, lap), part, memory,
                         symmetric=all(g.kind == "sinh" for g in ir.devices))
            ys.append(ps.T @ y @ ps)
            zs.append(pd.T @ z @ ps)
            if offsets is not None:
                self.j0[k] += ys[-1] @ offsets[k]
                self.i0[k] -= zs[-1] @ offsets[k]
        self.y, self.z = np.stack(ys), np.stack(zs)
        self.level = np.arange(n)
        self.solver = "Newton-Raphson per input vector, Schur complement of its Jacobian"

    def refresh(self) -> None:
        """Take the probe's current ``Y_eff``, ``Z_eff`` (after it gained directions)."""
        y, z = self.probe.effective()
        self.y, self.z = y[None], z[None]

    @property
    def version(self) -> int:
        """Changes whenever ``y`` does (the readout caches its algebra by it)."""
        return 0 if self.probe is None else self.probe.u.shape[1]


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
            x = _solve_columns(self.solve, k[o][:, s].tocsc())
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
        self.ps, self.pd = sense_map(ir), driver_map(ir)
        self.memory = memory
        self._cache: dict[float, _Stage] = {}
        self._own: list[float] = []
        self._order = None
        self.stage_solver = stage_solver
        self.mode, self.mode_why = "lu", ""
        self.cg = None

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
                lines = IterativeStages(self.ir, p.inner, self.c[p.inner])
            except SolverError:
                if self.stage_solver == "cg":
                    raise
                self.mode, self.mode_why = choose_stage_solver(
                    p.inner.size, int(sum(uses.values())), n_lu, fits, False)
        if self.mode == "lu":
            check_direct_memory(p.inner.size, p.sense.size, self.memory, what="the stage LU "
                                "(the array's inner nodes with C/dh)",
                                advice="use a smaller array or tiles")
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

    def _inner_solve(self, dh: float, b: np.ndarray, warm: bool = True) -> np.ndarray:
        """``K_oo(dh) x = b``: on this step length's own LU, or on the nearest planned one
        with iterative refinement (``C / dh`` is small beside the array's conductances);
        a step length whose refinement does not converge gets its own LU."""
        if self.mode == "cg":
            return self.cg.solve(dh, self._factors(dh).k_oo, b, warm=warm)
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

    def solve(self, dh: float, rhs: np.ndarray, v_fixed: np.ndarray, v_sense: np.ndarray,
              warm: bool = True):
        """Node voltages ``(n_nodes,)`` of one stage with the given boundary voltages
        (``warm``: the iterative path may start from, and remember, its previous answer)."""
        f = self._factors(dh)
        k_of, k_os = f.k_of, f.k_os
        p = self.part
        v = np.zeros(p.n)
        v[p.fixed] = v_fixed
        v[p.sense] = v_sense
        if p.inner.size:
            v[p.inner] = self._inner_solve(dh, rhs[p.inner] / dh - k_of @ v_fixed - k_os @ v_sense,
                                           warm)
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
        return -inj_s @ self.ps, inj_d @ self.pd


def exact_column_currents(ir: CircuitIR, v_rows: np.ndarray, v_sense: np.ndarray,
                          memory=None) -> np.ndarray:
    """Column currents ``(cols,)`` A with the sense nodes held at ``v_sense`` ``(n_senses,)``
    V and the rows at ``v_rows`` ``(rows,)`` V: the senses become drivers of extra rows and
    the nodal solver (Newton for nonlinear cells) solves the array without linearising."""
    from dataclasses import replace

    from ...circuit.elaboration import _concat
    from ..nodal.newton import _System, newton_solve
    n_s = len(ir.senses)
    none = np.zeros(0, dtype=np.int64)
    n_in = np.size(v_rows)  # (the rows, and any gate-line inputs beyond them)
    aug = replace(ir, rows=n_in + n_s, drivers=_concat([ir.drivers, ir.senses]),
                  driver_row=np.concatenate([ir.driver_row, n_in + np.arange(n_s)]),
                  senses=ir.senses.subset(none), sense_col=none)
    fixed, v_fixed = fixed_voltages(aug, np.concatenate([v_rows, v_sense])[None])
    check_direct_memory(aug.n_nodes, 1, memory, what="Newton's LU")
    system = _System(aug, conductance_matrix(aug), fixed)
    v = np.zeros(aug.n_nodes)
    v[fixed] = v_fixed[:, 0]
    v, _ = newton_solve(system, v)
    inj, _ = system.evaluate(v, None)
    return -inj[ir.senses.node_p] @ sense_map(ir)
