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
from ..ir import CAPACITOR, RESISTOR, VSOURCE, CircuitIR, ElementGroup
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


#: How the nodal engine takes each IR element kind (a test checks every kind is here).
STAMPED_KINDS = {RESISTOR: _stamp_resistors, VSOURCE: _fix_sources, CAPACITOR: _open_at_dc}


def conductance_matrix(ir: CircuitIR) -> sp.csr_matrix:
    """Nodal conductance matrix of every resistor, shape ``(n_nodes, n_nodes)``, siemens."""
    triplets = [STAMPED_KINDS[RESISTOR](g) for g in ir.resistors]
    rows, cols, vals = (np.concatenate(t) for t in zip(*triplets))
    return sp.coo_matrix((vals, (rows, cols)), shape=(ir.n_nodes, ir.n_nodes)).tocsr()


def fixed_voltages(ir: CircuitIR, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nodes held by sources (ground first) and their voltages, shape ``(n_fixed, batch)``."""
    batch = inputs.shape[0]
    fix = STAMPED_KINDS[VSOURCE]
    nodes = np.concatenate([[0], fix(ir.drivers), fix(ir.senses)])
    values = np.concatenate([np.zeros((1, batch)), ir.driver_voltages(inputs).T,
                             np.zeros((len(ir.senses), batch))])
    return nodes, values


def solve_nodal(ir: CircuitIR, inputs: np.ndarray) -> SimulationResult:
    """Solve the linear IR for ``inputs`` of shape ``(batch, rows)`` volts."""
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
    if unknown.size:
        l_uu = lap[unknown][:, unknown].tocsc()
        rhs = -(lap[unknown][:, fixed] @ v_fixed)
        try:
            lu = spla.splu(l_uu, permc_spec="MMD_AT_PLUS_A")
        except RuntimeError as exc:
            raise SolverError(f"nodal system is singular ({exc}): some node has no DC path "
                              "to a driver or readout") from None
        v_u = lu.solve(rhs)
        if not np.all(np.isfinite(v_u)):
            raise SolverError("nodal solve produced non-finite voltages")
        v[unknown] = v_u
        scale = max(float(np.abs(rhs).max()), np.finfo(float).tiny)
        residual = float(np.abs(l_uu @ v_u - rhs).max() / scale)

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
            "kcl_residual_rel": residual}
    return SimulationResult("nodal", inputs, currents, v_wl, v_bl, driver_currents,
                            time.perf_counter() - t0, info)
