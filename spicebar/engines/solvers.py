"""Which linear solver the nodal engine uses, and whether it fits in memory.

``direct``: sparse LU of the elaborated IR (exact to float64 rounding, memory
and time grow faster than the cell count). ``iterative``: the line solver
(:mod:`spicebar.engines.lines` on the IR, :mod:`spicebar.engines.grid` straight
from the spec when the array is a plain grid), exact to the residual
:data:`spicebar.engines.lines.DEFAULT_RTOL`. ``auto``: iterative from
:data:`AUTO_ITERATIVE_CELLS` cells on, direct below.
"""

from __future__ import annotations

import numpy as np

from ..errors import SolverError
from ..ir import CircuitIR
from ..resources import BASE_BYTES, require_memory
from ..results import SimulationResult
from ..spec import CrossbarSpec
from .grid import grid_memory_bytes, grid_reason, solve_grid
from .lines import line_structure, solve_lines

SOLVERS = ("auto", "direct", "iterative")

#: ``auto`` switches to the line solver from this many cells (128x128) on: there the
#: line solver is already ~10x faster than the LU and both are exact.
AUTO_ITERATIVE_CELLS = 128 * 128
#: The same switch for an IR, counted in unknown node voltages (two per cell).
AUTO_ITERATIVE_UNKNOWNS = 2 * AUTO_ITERATIVE_CELLS

#: SuperLU's fill on these grid systems, measured: peak bytes ~ this * unknowns**1.5
#: (256x256: 0.2 GB, 512x512: 1.4 GB).
DIRECT_BYTES_COEFF = 4.0


def direct_memory_bytes(n_unknown: int, batch: int) -> int:
    """Estimated peak memory of the sparse LU solve, bytes."""
    return int(BASE_BYTES["nodal"] + DIRECT_BYTES_COEFF * n_unknown ** 1.5
               + 8 * 6 * n_unknown * max(batch, 1))


def check_direct_memory(n_unknown: int, batch: int, limit_bytes: int | None = None) -> None:
    """Raise :class:`ResourceError` with the estimate before an LU that would not fit."""
    require_memory(direct_memory_bytes(n_unknown, batch),
                   f"the direct (LU) solve of {n_unknown} unknowns with {batch} input vector(s)",
                   "use solver='iterative' or 'auto', or fewer vectors per call", limit_bytes)


def uses_grid_solver(spec: CrossbarSpec, solver: str, operation=None) -> bool:
    """Whether :func:`solve_nodal_spec` takes the grid line solver for ``spec``."""
    wanted = solver == "iterative" or (solver == "auto"
                                       and spec.conductances.size >= AUTO_ITERATIVE_CELLS)
    return wanted and grid_reason(spec, operation) is None


def solve_nodal_spec(spec: CrossbarSpec, inputs: np.ndarray, solver: str = "auto",
                     ir: CircuitIR | None = None, operation=None,
                     memory_limit_bytes: int | None = None) -> SimulationResult:
    """The nodal engine's entry for a spec: the grid line solver where it applies.

    ``inputs``: ``(batch, rows)`` volts, validated. Falls back to the IR-based
    solvers (elaborating ``spec`` unless ``ir`` is given) for other topologies;
    ``info["solver_choice"]`` says which solver ran and why. The solver that runs
    checks its own memory estimate against ``memory_limit_bytes`` first.
    """
    if uses_grid_solver(spec, solver, operation):
        result = solve_grid(spec, inputs, memory_limit_bytes=memory_limit_bytes)
        result.info["solver_choice"] = (f"{solver}: grid line solver"
                                        + (f" (>= {AUTO_ITERATIVE_CELLS} cells)"
                                           if solver == "auto" else ""))
        return result
    reason = grid_reason(spec, operation)
    big = spec.conductances.size >= AUTO_ITERATIVE_CELLS
    from ..elaboration import elaborate
    from .nodal import solve_nodal
    ir = ir if ir is not None else elaborate(spec, operation)
    result = solve_nodal(ir, inputs, solver=solver, memory_limit_bytes=memory_limit_bytes)
    result.info.setdefault("solver_choice", f"{solver}: "
                           + ("direct" if solver == "direct" or not big else "IR line solver")
                           + (f" (grid solver not applicable: {reason})" if reason else ""))
    return result


def solve_iterative_ir(ir: CircuitIR, unknown: np.ndarray, rhs: np.ndarray,
                       solver: str, memory_limit_bytes: int | None = None
                       ) -> tuple[np.ndarray | None, dict]:
    """The line solver on an IR's ``L_uu x = rhs``, or ``(None, info)`` to use the LU
    (whose memory is checked here, before it starts).

    Args:
        unknown: sorted node indices not held by a source.
        rhs: ``(n_unknown, batch)`` amperes.
    """
    if solver not in SOLVERS:
        raise SolverError(f"unknown solver {solver!r}; allowed: {', '.join(SOLVERS)}")
    batch = rhs.shape[1]
    if solver == "direct" or (solver == "auto" and unknown.size < AUTO_ITERATIVE_UNKNOWNS):
        check_direct_memory(unknown.size, batch, memory_limit_bytes)
        return None, {}
    system = line_structure(ir, unknown)
    if isinstance(system, str):
        check_direct_memory(unknown.size, batch, memory_limit_bytes)
        return None, {"solver_fallback": f"direct LU: the line solver cannot take this IR "
                                         f"({system})"}
    require_memory(grid_memory_bytes(ir.rows, ir.cols, batch),
                   f"the line solver on {ir.rows}x{ir.cols} cells with {batch} input vector(s)",
                   "split the batch", memory_limit_bytes)
    x, info = solve_lines(system, rhs)
    info["solver"] = ("line-preconditioned conjugate gradients on the IR "
                      "(Schur complement over bit lines, Thomas line solves)")
    return x, info
