"""The nodal engine on a linear IR: exact nodal analysis with scipy.sparse.

Every source in a crossbar IR is grounded, so each source fixes its node's
voltage. With ``L`` the nodal conductance (Laplacian) matrix of the resistors
(:mod:`.stamps`), split into unknown nodes ``u`` and fixed nodes ``f``:

    L_uu v_u = -L_uf v_f

``L_uu`` is symmetric positive definite; it is factorised once (sparse LU) and solved
for the whole batch, or solved by the line solver (:mod:`.lines`) where the IR is made
of lines and large. The current a source delivers into the network is ``(L v)[f]``.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse.linalg as spla

from ...circuit.ir import CircuitIR
from ...errors import SolverError
from ...results import SimulationResult
from ..cell_currents import deferred_cell_currents
from ..memory import BASE_BYTES, MemoryGuard
from .stamps import conductance_matrix, fixed_voltages, kcl_node_residual, singular_reason

#: Largest net current the answer may leave at a node, relative to the largest output or
#: driver current (:func:`~.stamps.kcl_node_residual`). A float64 solve inside the bounds
#: of ``spicebar/circuit/bounds.py`` leaves 1e-15 in the middle and up to about 3e-4 at
#: the G * r = 1e-12 corner (measured over 1x1..32x32, signed inputs, every drive and
#: sense; there the check sees its own rounding, eps V / r, while the outputs agree with
#: the line solver to 1e-14), about 4e-6 at G * r = 1e6; the G = 1e30 S case leaves more
#: than 1e10 (with negative column currents). 1e-2 sits between with margin both ways.
KCL_NODE_TOL = 1e-2
#: Output currents below this are judged against it instead (amperes): near float64's
#: smallest normal numbers (2e-308; a 5e-324 V input) relative precision is gone, and
#: no physical current is within 200 orders of magnitude of it.
CURRENT_FLOOR_A = 1e-250

SOLVERS = ("auto", "direct", "iterative")

#: ``auto`` switches to the line solver from this many cells (128x128) on: there the
#: line solver is already ~10x faster than the LU and both are exact.
AUTO_ITERATIVE_CELLS = 128 * 128
#: The same switch for an IR, counted in unknown node voltages (two per cell).
AUTO_ITERATIVE_UNKNOWNS = 2 * AUTO_ITERATIVE_CELLS

#: SuperLU's fill on these grid systems, measured: peak bytes above the interpreter's
#: ~ this * unknowns * log2(unknowns): 64x64 1.2 kB an unknown, 128x128 1.4 kB, 256x256
#: 1.5 kB, 512x512 2.4 kB, 1024x1024 1.9 kB (4.2 GB). A power law (4 * n**1.5) was 2x
#: low at 64x64 and 3x high at 1024x1024; this is within 1.3x at every size measured.
DIRECT_BYTES_COEFF = 110.0


def direct_memory_bytes(n_unknown: int, batch: int) -> int:
    """Estimated peak memory of the sparse LU solve, bytes."""
    n = max(n_unknown, 2)
    return int(BASE_BYTES["nodal"] + DIRECT_BYTES_COEFF * n * np.log2(n)
               + 8 * 6 * n_unknown * max(batch, 1))


def check_direct_memory(n_unknown: int, batch: int, memory: MemoryGuard | None = None,
                        what: str = "the direct (LU) solve",
                        advice: str = "use solver='iterative' or 'auto', or fewer vectors "
                                      "per call") -> None:
    """Raise :class:`ResourceError` with the estimate before an LU that would not fit."""
    MemoryGuard.resolve(memory).require(
        direct_memory_bytes(n_unknown, batch),
        f"{what} of {n_unknown} unknowns with {batch} input vector(s)", advice)



def solve_linear(ir: CircuitIR, inputs: np.ndarray, solver: str = "direct",
                 memory: MemoryGuard | None = None) -> SimulationResult:
    """Solve the linear IR for ``inputs`` of shape ``(batch, rows)`` volts.

    ``solver``: ``direct`` (sparse LU), ``iterative`` (the line solver of
    :mod:`spicebar.engines.nodal.lines`; falls back to direct with the reason in ``info``
    where the IR is not made of lines) or ``auto`` (iterative from
    :data:`AUTO_ITERATIVE_UNKNOWNS` unknowns on). The solver that runs checks its memory
    estimate against ``memory`` once, first.
    """
    if ir.nonlinear:
        raise SolverError("solve_linear takes linear IRs only; nonlinear cells go to "
                          "spicebar.engines.nodal.solve_nodal (Newton)")
    memory = MemoryGuard.resolve(memory)
    t0 = time.perf_counter()
    batch = inputs.shape[0]
    lap = conductance_matrix(ir)
    fixed, v_fixed = fixed_voltages(ir, inputs)
    is_fixed = np.zeros(ir.n_nodes, dtype=bool)
    is_fixed[fixed] = True
    unknown = np.flatnonzero(~is_fixed)

    # the memory of the solver that will run is checked before any (nodes, batch) array
    system, extra = plan_linear_solver(ir, unknown, batch, solver, memory)
    v = np.zeros((ir.n_nodes, batch))
    v[fixed] = v_fixed
    residual = 0.0
    if unknown.size:
        l_uu = lap[unknown][:, unknown].tocsc()
        rhs = -(lap[unknown][:, fixed] @ v_fixed)
        v_u = None
        if system is not None:
            from .lines import solve_lines
            v_u, info = solve_lines(system, rhs)
            extra = dict(info, solver=LINE_SOLVER_NAME)
    if unknown.size and v_u is None:
        try:
            lu = spla.splu(l_uu, permc_spec="MMD_AT_PLUS_A")
        except RuntimeError as exc:
            raise SolverError(f"nodal system is singular ({exc}): "
                              f"{singular_reason(l_uu)}") from None
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
    if unknown.size:
        scale = np.maximum(np.maximum(np.abs(currents).max(axis=1),
                                      np.abs(driver_currents).max(axis=1)), CURRENT_FLOOR_A)
        kcl = kcl_node_residual(ir, v, unknown, scale)
        if not kcl <= KCL_NODE_TOL:
            raise SolverError(f"the nodal answer fails KCL: a node is left with a net current "
                              f"of {kcl:.3g} of the largest output current (allowed "
                              f"{KCL_NODE_TOL:g}); the conductances and wire resistances are "
                              "too far apart for float64 (bounds: spicebar/circuit/bounds.py)")
        extra = dict(extra, kcl_output_rel=kcl)
    v_wl = v[ir.wl_node].transpose(2, 0, 1)
    v_bl = v[ir.bl_node].transpose(2, 0, 1)
    info = {"solver": "scipy splu (SuperLU, MMD_AT_PLUS_A)", "unknowns": int(unknown.size),
            "kcl_residual_rel": residual, **extra}
    return SimulationResult("nodal", inputs, currents, v_wl, v_bl, driver_currents,
                            time.perf_counter() - t0, info,
                            cell_currents=deferred_cell_currents(ir, v.T))


LINE_SOLVER_NAME = ("line-preconditioned conjugate gradients on the IR (Schur complement "
                    "over bit lines, Thomas line solves)")


def plan_linear_solver(ir: CircuitIR, unknown: np.ndarray, batch: int, solver: str,
                       memory: MemoryGuard) -> tuple[object | None, dict]:
    """Which solver takes an IR's ``L_uu x = rhs`` for ``batch`` vectors: the line
    system (:func:`~.lines.line_structure`) or ``None`` for the LU, with notes for
    ``info``. The chosen solver's memory estimate is checked here, before the caller
    allocates anything that grows with the batch.

    Args:
        unknown: sorted node indices not held by a source.
    """
    if solver not in SOLVERS:
        raise SolverError(f"unknown solver {solver!r}; allowed: {', '.join(SOLVERS)}")
    if solver == "direct" or (solver == "auto" and unknown.size < AUTO_ITERATIVE_UNKNOWNS):
        check_direct_memory(unknown.size, batch, memory)
        return None, {}
    # the line and grid solvers pull in numba: imported only where they run
    from .grid import grid_memory_bytes
    from .lines import line_structure
    system = line_structure(ir, unknown)
    if isinstance(system, str):
        check_direct_memory(unknown.size, batch, memory)
        return None, {"solver_fallback": f"direct LU: the line solver cannot take this IR "
                                         f"({system})"}
    memory.require(grid_memory_bytes(ir.rows, ir.cols, batch),
                   f"the line solver on {ir.rows}x{ir.cols} cells with {batch} input vector(s)",
                   "split the batch")
    return system, {}


def solve_iterative_ir(ir: CircuitIR, unknown: np.ndarray, rhs: np.ndarray,
                       solver: str, memory: MemoryGuard
                       ) -> tuple[np.ndarray | None, dict]:
    """The line solver on an IR's ``L_uu x = rhs`` (``rhs``: ``(n_unknown, batch)`` A), or
    ``(None, info)`` to use the LU (see :func:`plan_linear_solver`)."""
    system, extra = plan_linear_solver(ir, unknown, rhs.shape[1], solver, memory)
    if system is None:
        return None, extra
    from .lines import solve_lines
    x, info = solve_lines(system, rhs)
    info["solver"] = LINE_SOLVER_NAME
    return x, info
