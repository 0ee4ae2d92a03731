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

:class:`CapacitiveArray` (:mod:`.capacitive`) is the same reduction for an array with wire
capacitance at one implicit integration stage: ``K = L + C / (d h)`` replaces ``L`` (one LU
per step size, or the line solver, :mod:`.stage_cg`), and ``J0`` comes from one solve per
stage. The node sets and maps live in :mod:`.partition`; this module re-exports them, and
:class:`CapacitiveArray`, under their former names.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ...circuit.ir import CircuitIR
from ...errors import SolverError
from ..memory import MemoryGuard
from ..nodal.linear import check_direct_memory
from ..nodal.stamps import conductance_matrix, fixed_voltages, singular_reason
from .capacitive import CapacitiveArray
from .partition import SPD_LU, Partition, driver_map, sense_map, solve_columns
from .probing import SenseProbe, choose_probing
from .nonlinear_points import PointSolver

__all__ = ["SPD_LU", "AlgebraicArray", "CapacitiveArray", "Partition", "driver_map",
           "exact_column_currents", "full_jacobian", "schur", "sense_map"]


#: Up to this many inner nodes the Schur complement is formed with dense LAPACK (the same
#: elimination; for small arrays SuperLU's set-up and scipy.sparse's slicing cost more than
#: the arithmetic, and a nonlinear readout forms one per time point).
DENSE_SCHUR_MAX = 300


def schur(matrix: sp.csr_matrix, part: Partition, memory=None, symmetric: bool = True):
    """``(Y, Z)``: sense-to-sense and driver-from-sense blocks of the Schur complement
    of ``matrix`` (S, injected currents per volt at the sense nodes) onto the sense nodes."""
    s, o, d = part.sense, part.inner, part.driver
    if 0 < o.size <= DENSE_SCHUR_MAX:
        return _dense_schur(matrix, s, o, d)
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
        x = solve_columns(lu.solve, m[o][:, s].tocsc())
        y -= m[s][:, o] @ x
        z -= m[d][:, o] @ x
    return y, z


def _dense_schur(matrix, s: np.ndarray, o: np.ndarray, d: np.ndarray):
    """:func:`schur` for a small inner node set, with dense LU (partial pivoting)."""
    m = matrix.toarray()
    try:
        x = np.linalg.solve(m[np.ix_(o, o)], m[np.ix_(o, s)])
    except np.linalg.LinAlgError as exc:
        mo = sp.csr_matrix(m[np.ix_(o, o)])
        raise SolverError(f"array matrix is singular ({exc}): {singular_reason(mo)}") from None
    y = m[np.ix_(s, s)] - m[np.ix_(s, o)] @ x
    z = m[np.ix_(d, s)] - m[np.ix_(d, o)] @ x
    return y, z


def full_jacobian(ir: CircuitIR, v: np.ndarray, lap: sp.csr_matrix, system=None) -> sp.csr_matrix:
    """Conductance matrix of the array linearised at node voltages ``v`` ``(n_nodes,)``, on
    every node, exactly as Newton (:mod:`spicebar.engines.nodal.newton`) stamps every
    device kind (its system with only ground held; ``system``: that system, built once by
    the caller for many ``v``)."""
    from ..nodal.newton import _System
    if system is None:
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

        from ..nodal.linear import solve_linear
        from ..nodal.newton import _System
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
        red = PointSolver(ir, lap, part, system, fixed, memory)
        v = np.zeros(ir.n_nodes)
        self.j0, self.i0 = np.zeros((n, ir.cols)), np.zeros((n, ir.rows))
        self.y, self.z = np.zeros((n, ir.cols, ir.cols)), np.zeros((n, ir.rows, ir.cols))
        s_rows = 1 + len(ir.drivers) + np.arange(len(ir.senses))  # fixed_voltages' order
        lu = None
        for k in range(n):
            if offsets is not None:
                v_fixed[s_rows, k] = v0 + offsets[k][ir.sense_col]
            v[fixed] = v_fixed[:, k]
            v, inj, data, lu = red.solve(v, v_fixed[:, k], k, lu)
            self.j0[k] = -inj[ir.senses.node_p] @ ps
            self.i0[k] = inj[ir.drivers.node_p] @ pd
            y, z = red.schur(data, lu)
            self.y[k], self.z[k] = ps.T @ y @ ps, pd.T @ z @ ps
            if offsets is not None:
                self.j0[k] += self.y[k] @ offsets[k]
                self.i0[k] -= self.z[k] @ offsets[k]
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
