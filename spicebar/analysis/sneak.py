"""Where a column's current comes from: intended paths, IR drop, device I-V, sneak paths.

For input vector ``b`` and bit line ``j`` let ``V*_i`` be the *intended* voltage of
row ``i`` (the input; 0 for rows that are floating, gated off, unselected in a read,
or at 0 V), ``I_ij`` the current cell ``(i, j)`` delivers into bit line ``j``
(:mod:`spicebar.engines.cell_currents`, from any exact engine's node voltages),
``U_ij = V_wl - V_bl`` the voltage across the whole cell and ``G_ij`` its programmed
conductance. The intended cells of column ``j`` are

    A_j = { i : V*_i != 0, column j is read, and I_ij has the sign of V*_i },

the intended-but-reverse-biased cells are ``B_j`` (``V*_i != 0`` but the current
flows backwards). Then, exactly,

    total_j  = ideal_j + ir_drop_j + device_j + sneak_j + residual_j

    ideal_j    = sum_{i: V*_i != 0}  G_ij V*_i                  (I = V @ G of the intended inputs)
    ir_drop_j  = sum_{i in A_j}      G_ij (U_ij - V*_i)          (voltage lost on the wires)
    device_j   = sum_{i in A_j}      (I_ij - G_ij U_ij)          (cell I-V: nonlinearity, selector,
                                                                  access transistor)
    sneak_j    = sum_{i not in A_j}  I_ij  -  sum_{i in B_j} G_ij V*_i
                                     (current of every unintended cell: floating, zero-input,
                                      gated-off, unselected rows and reverse-biased cells,
                                      minus the intended current those reversed cells lost)
    residual_j = total_j - sum_i I_ij                             (the solver's KCL residual)

``total`` is the engine's readout current. The identity holds term by term by
construction; ``residual`` shows how well the engine satisfied KCL (about 1e-12
relative for ngspice and nodal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..results import SimulationResult
from ..circuit.spec import CrossbarSpec

TERMS = ("ideal", "ir_drop", "device", "sneak", "residual")


@dataclass(frozen=True, eq=False)
class SneakDecomposition:
    """Column currents split into parts; every array has shape ``(batch, cols)``, amperes.

    ``total == ideal + ir_drop + device + sneak + residual``; ``intended`` is the
    ``(batch, rows, cols)`` mask ``A`` of the module docstring.
    """

    total: np.ndarray
    ideal: np.ndarray
    ir_drop: np.ndarray
    device: np.ndarray
    sneak: np.ndarray
    residual: np.ndarray
    intended: np.ndarray
    engine: str = ""

    @property
    def error(self) -> np.ndarray:
        """``total - ideal``: the error of the ideal model, ``(batch, cols)`` A."""
        return self.total - self.ideal

    def summary(self, columns=None) -> dict:
        """Max over vectors and the chosen columns of ``|term|``, amperes, per term."""
        cols = slice(None) if columns is None else columns
        out = {"total": float(np.abs(self.total[:, cols]).max())}
        for t in TERMS:
            out[t] = float(np.abs(getattr(self, t)[:, cols]).max())
        return out


def decompose(spec: CrossbarSpec, result: SimulationResult, operation=None,
              conductances: np.ndarray | None = None) -> SneakDecomposition:
    """Decompose ``result`` (an exact engine's, with ``cell_currents``) as in the module docstring.

    ``conductances``: the ideal array ``G_ss`` ``(rows, cols)`` S; default
    :func:`spicebar.engines.simulation.ideal_conductances` (a user device's measured
    small-signal conductance, never its state parameter)."""
    if result.cell_currents is None:
        raise ValueError(f"the {result.engine} result has no cell currents")
    v = result.inputs
    v_int = v if operation is None else operation.intended_inputs(v)  # (batch, rows)
    if conductances is None:
        from ..engines.simulation import ideal_conductances
        conductances = ideal_conductances(spec, v)
    g = np.asarray(conductances, float)  # (rows, cols) S
    cols_read = np.ones(spec.cols, bool)
    if operation is not None and operation.mode == "read":
        cols_read[:] = False
        cols_read[operation.col] = True
    vi = v_int[:, :, None]
    wanted = (vi != 0) & cols_read[None, None, :]
    i_cell = result.cell_currents
    forward = np.sign(i_cell) == np.sign(vi)
    a = wanted & forward
    b = wanted & ~forward
    u = result.v_wl - result.v_bl
    ideal = np.where(wanted, g * vi, 0.0).sum(axis=1)
    ir_drop = np.where(a, g * (u - vi), 0.0).sum(axis=1)
    device = np.where(a, i_cell - g * u, 0.0).sum(axis=1)
    sneak = np.where(a, 0.0, i_cell).sum(axis=1) - np.where(b, g * vi, 0.0).sum(axis=1)
    total = result.currents
    residual = total - (ideal + ir_drop + device + sneak)
    return SneakDecomposition(total, ideal, ir_drop, device, sneak, residual, a, result.engine)


def format_decomposition(d: SneakDecomposition, columns=None) -> str:
    """A short text table: the largest magnitude of each term, and its share of |total|."""
    s = d.summary(columns)
    lines = [f"column current decomposition ({d.engine}), max over vectors and columns:",
             f"{'term':<10} {'max|I| A':>11} {'/ max|total|':>13}"]
    for t in ("total", *TERMS):
        share = s[t] / s["total"] if s["total"] > 0 else float("nan")
        lines.append(f"{t:<10} {s[t]:>11.4e} {share:>13.3e}")
    return "\n".join(lines)
