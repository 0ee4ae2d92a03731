"""The nodal engine: exact modified nodal analysis of the IR with scipy.sparse.

Every source in a crossbar IR is grounded, so each source fixes its node's
voltage. With ``L`` the nodal conductance (Laplacian) matrix of the resistors,
split into unknown nodes ``u`` and fixed nodes ``f``:

    L_uu v_u = -L_uf v_f

``L_uu`` is symmetric positive definite; it is factorised once and solved for
the whole batch. The current a source delivers into the network is ``(L v)[f]``.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import SolverError
from ..ir import CAPACITOR, NMOS, RESISTOR, SINH, VSOURCE, CircuitIR, ElementGroup
from ..results import SimulationResult


def _stamp_resistors(g: ElementGroup) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COO triplets (row, col, siemens) of a resistor table's conductance stamps."""
    p, n, y = g.node_p, g.node_n, 1.0 / g.value
    return (np.concatenate([p, n, p, n]), np.concatenate([p, n, n, p]),
            np.concatenate([y, y, -y, -y]))


def _fix_sources(g: ElementGroup) -> np.ndarray:
    """A grounded voltage source fixes the voltage of its + node (eliminated, not stamped)."""
    if np.any(g.node_n != 0):
        raise NotImplementedError("the nodal engine handles grounded voltage sources only")
    return g.node_p


def _open_at_dc(g: ElementGroup) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A capacitor carries no DC current: no stamp (transient charge: engines/readout_nodal)."""
    empty = np.zeros(0, dtype=np.int64)
    return empty, empty, np.zeros(0)


def _nonlinear_stamps():
    from .newton import stamp_nmos, stamp_sinh
    return {SINH: stamp_sinh, NMOS: stamp_nmos}


#: How the nodal engine takes each IR element kind (a test checks every kind is here).
#: Nonlinear kinds are stamped per Newton iteration (engines/newton.py).
STAMPED_KINDS = {RESISTOR: _stamp_resistors, VSOURCE: _fix_sources, CAPACITOR: _open_at_dc,
                 **_nonlinear_stamps()}


def conductance_matrix(ir: CircuitIR) -> sp.csr_matrix:
    """Nodal conductance matrix of every resistor, shape ``(n_nodes, n_nodes)``, siemens."""
    triplets = [STAMPED_KINDS[RESISTOR](g) for g in ir.resistors]
    if not triplets:  # e.g. nonlinear cells on ideal wires: no resistor at all
        return sp.csr_matrix((ir.n_nodes, ir.n_nodes))
    rows, cols, vals = (np.concatenate(t) for t in zip(*triplets))
    return sp.coo_matrix((vals, (rows, cols)), shape=(ir.n_nodes, ir.n_nodes)).tocsr()


def fixed_voltages(ir: CircuitIR, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nodes held by sources (ground first) and their voltages, shape ``(n_fixed, batch)``."""
    batch = inputs.shape[0]
    fix = STAMPED_KINDS[VSOURCE]
    gates = [] if ir.gates is None else [ir.gates]
    nodes = np.concatenate([[0], fix(ir.drivers), fix(ir.senses), *(fix(g) for g in gates)])
    values = np.concatenate([np.zeros((1, batch)), ir.driver_voltages(inputs).T,
                             np.repeat(ir.senses.value[:, None], batch, 1),
                             *(np.repeat(g.value[:, None], batch, 1) for g in gates)])
    return nodes, values


def solve_nodal(ir: CircuitIR, inputs: np.ndarray, solver: str = "direct",
                memory_limit_bytes: int | None = None) -> SimulationResult:
    """Solve the linear IR for ``inputs`` of shape ``(batch, rows)`` volts.

    An IR with nonlinear cells goes to the Newton engine (:mod:`.newton`).
    ``solver``: ``direct`` (sparse LU), ``iterative`` (the line solver of
    :mod:`spicebar.engines.lines`; falls back to direct with the reason in ``info``
    where the IR is not made of lines) or ``auto`` (iterative above
    :data:`spicebar.engines.solvers.AUTO_ITERATIVE_UNKNOWNS` unknowns). The solver
    that runs checks its memory estimate against ``memory_limit_bytes`` first.
    """
    if ir.nonlinear:  # an LU per Newton step, one input vector at a time
        from .newton import solve_newton
        from .solvers import check_direct_memory
        check_direct_memory(ir.n_nodes, inputs.shape[0], memory_limit_bytes)
        return solve_newton(ir, inputs)
    from ..cell_currents import deferred_cell_currents
    t0 = time.perf_counter()
    batch = inputs.shape[0]
    lap = conductance_matrix(ir)
    fixed, v_fixed = fixed_voltages(ir, inputs)
    is_fixed = np.zeros(ir.n_nodes, dtype=bool)
    is_fixed[fixed] = True
    unknown = np.flatnonzero(~is_fixed)

    v = np.zeros((ir.n_nodes, batch))
    v[fixed] = v_fixed
    residual = 0.0
    extra = {}
    if unknown.size:
        l_uu = lap[unknown][:, unknown].tocsc()
        rhs = -(lap[unknown][:, fixed] @ v_fixed)
        from .solvers import solve_iterative_ir
        v_u, extra = solve_iterative_ir(ir, unknown, rhs, solver, memory_limit_bytes)
    if unknown.size and v_u is None:
        try:
            lu = spla.splu(l_uu, permc_spec="MMD_AT_PLUS_A")
        except RuntimeError as exc:
            raise SolverError(f"nodal system is singular ({exc}): some node has no DC path "
                              "to a driver or readout") from None
        v_u = lu.solve(rhs)
    if unknown.size:
        if not np.all(np.isfinite(v_u)):
            raise SolverError("nodal solve produced non-finite voltages")
        v[unknown] = v_u
        # normwise backward error ||L v - b|| / (||L|| ||v|| + ||b||), infinity norms
        norm_l = float(np.abs(l_uu).sum(axis=1).max())
        scale = norm_l * float(np.abs(v_u).max()) + float(np.abs(rhs).max())
        residual = float(np.abs(l_uu @ v_u - rhs).max() / max(scale, np.finfo(float).tiny))

    injected = lap @ v  # (n_nodes, batch): current each node pushes into the resistors
    drv = injected[ir.drivers.node_p].T
    sen = -injected[ir.senses.node_p].T
    currents = np.zeros((batch, ir.cols))
    np.add.at(currents, (slice(None), ir.sense_col), sen)
    driver_currents = np.zeros((batch, ir.rows))
    np.add.at(driver_currents, (slice(None), ir.driver_row), drv)
    v_wl = v[ir.wl_node].transpose(2, 0, 1)
    v_bl = v[ir.bl_node].transpose(2, 0, 1)
    info = {"solver": "scipy splu (SuperLU, MMD_AT_PLUS_A)", "unknowns": int(unknown.size),
            "kcl_residual_rel": residual, **extra}
    return SimulationResult("nodal", inputs, currents, v_wl, v_bl, driver_currents,
                            time.perf_counter() - t0, info,
                            cell_currents=deferred_cell_currents(ir, v.T))
