"""The node sets of the array's reduction onto its bit-line ends, and the maps between them.

:class:`Partition` splits the array's nodes into fixed (ground, drivers, gates), sense
(the readouts' virtual grounds) and inner nodes; :func:`sense_map` and :func:`driver_map`
take per-node quantities to columns and rows. Shared by the reduction without
capacitance (:mod:`.boundary`) and with it (:mod:`.capacitive`), and by the settling and
noise analyses.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ...circuit.ir import CircuitIR
from ..nodal.stamps import fixed_voltages

#: SuperLU on the array's symmetric, diagonally dominant matrices (Laplacians, their
#: Jacobians with sinh cells, ``L + C / dh``): keep the diagonal pivots (~2x faster), as
#: Newton does. MOSFET Jacobians are unsymmetric: partial pivoting there.
SPD_LU = dict(permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options=dict(SymmetricMode=True))


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


def solve_columns(solve, rhs: sp.csc_matrix) -> np.ndarray:
    """``solve`` applied to each column of ``rhs`` ``(n, m)``: ``(n, m)``. One right-hand
    side at a time: SuperLU is ~6x slower on a block."""
    x = np.zeros(rhs.shape)
    for k in range(rhs.shape[1] if rhs.shape[0] else 0):
        x[:, k] = solve(rhs[:, [k]].toarray()[:, 0])
    return x

