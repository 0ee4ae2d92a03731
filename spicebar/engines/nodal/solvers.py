"""Which solver the nodal engine uses for a spec or an IR, and the one memory check.

``direct``: sparse LU of the elaborated IR (exact to float64 rounding, memory
and time grow faster than the cell count). ``iterative``: the line solver
(:mod:`spicebar.engines.nodal.lines` on the IR, :mod:`spicebar.engines.nodal.grid` straight
from the spec when the array is a plain grid), exact to the residual
:data:`spicebar.engines.nodal.lines.DEFAULT_RTOL`. ``auto``: iterative from
:data:`AUTO_ITERATIVE_CELLS` cells on, direct below. Nonlinear cells: Newton
(:mod:`.newton`), one input vector at a time, each step by an LU or (``auto`` from the same
size, ``iterative`` always) by the line solver for sinh and 1S1R cells on a plain grid
(:mod:`.newton_lines`).

Every path asks its :class:`~spicebar.engines.memory.MemoryGuard` exactly once, in the
solver that runs, before any work.
"""

from __future__ import annotations

import numpy as np

from ...circuit.ir import CircuitIR
from ...circuit.spec import CrossbarSpec
from ...results import SimulationResult
from ..memory import MemoryGuard
from .grid import grid_memory_bytes, grid_reason, solve_grid
from .linear import (AUTO_ITERATIVE_CELLS, AUTO_ITERATIVE_UNKNOWNS, DIRECT_BYTES_COEFF,  # noqa: F401
                     SOLVERS, check_direct_memory, direct_memory_bytes, solve_iterative_ir,
                     solve_linear)


def uses_grid_solver(spec: CrossbarSpec, solver: str, operation=None) -> bool:
    """Whether :func:`solve_nodal_spec` takes the grid line solver for ``spec``."""
    wanted = solver == "iterative" or (solver == "auto"
                                       and spec.conductances.size >= AUTO_ITERATIVE_CELLS)
    return wanted and grid_reason(spec, operation) is None


def solve_nodal(ir: CircuitIR, inputs: np.ndarray, solver: str = "direct",
                memory: MemoryGuard | None = None, spec: CrossbarSpec | None = None
                ) -> SimulationResult:
    """Solve the IR for ``inputs`` of shape ``(batch, rows)`` volts.

    A linear IR goes to :func:`spicebar.engines.nodal.linear.solve_linear` (``solver``:
    ``direct``, ``iterative`` or ``auto``), one with nonlinear cells to Newton
    (:func:`spicebar.engines.nodal.newton.solve_newton`). ``memory``: the guard the
    solver that runs checks once (default: 80 % of the memory available now).
    """
    memory = MemoryGuard.resolve(memory)
    if not ir.nonlinear:
        return solve_linear(ir, inputs, solver, memory)
    from .newton import solve_newton
    lines = solver == "iterative" or (solver == "auto"
                                      and ir.rows * ir.cols >= AUTO_ITERATIVE_CELLS)
    if spec is not None and lines:
        from .newton_lines import line_step
        if not isinstance(line_step(spec, ir, _unknowns(ir, inputs)), str):
            memory.require(newton_lines_memory_bytes(ir, inputs.shape[0]),
                           f"Newton on the line solver, {ir.rows}x{ir.cols} cells with "
                           f"{inputs.shape[0]} input vector(s)",
                           "use fewer vectors per call, a smaller array or tiles")
            return solve_newton(ir, inputs, spec, solver)
    check_direct_memory(ir.n_nodes, inputs.shape[0], memory, what="Newton's LU",
                        advice=("Newton solves one vector at a time; solver='auto' takes the "
                                "line solver for sinh and 1S1R cells on a plain grid; or use "
                                "a smaller array or tiles"))
    return solve_newton(ir, inputs, spec, solver if lines else "direct")


def _unknowns(ir: CircuitIR, inputs: np.ndarray) -> np.ndarray:
    from .stamps import fixed_voltages
    fixed, _ = fixed_voltages(ir, inputs[:1])
    is_fixed = np.zeros(ir.n_nodes, dtype=bool)
    is_fixed[fixed] = True
    return np.flatnonzero(~is_fixed)


def newton_lines_memory_bytes(ir: CircuitIR, batch: int) -> int:
    """Estimated peak of Newton on the line solver: the grid's one-vector arrays, and per
    node about 40 float64 words (the IR's tables, the Laplacian, Newton's vectors) plus the
    batch's answers. Measured: 269 MB whole-process for 1S1R 256x256 from the CLI (this
    estimate: 230 MB)."""
    return grid_memory_bytes(ir.rows, ir.cols, 1) + 8 * ir.n_nodes * (40 + batch)


def solve_nodal_spec(spec: CrossbarSpec, inputs: np.ndarray, solver: str = "auto",
                     ir: CircuitIR | None = None, operation=None,
                     memory: MemoryGuard | None = None) -> SimulationResult:
    """The nodal engine's entry for a spec: the grid line solver where it applies.

    ``inputs``: ``(batch, rows)`` volts, validated. Falls back to the IR-based
    solvers (elaborating ``spec`` unless ``ir`` is given) for other topologies;
    ``info["solver_choice"]`` says which solver ran and why. The solver that runs
    checks its own memory estimate against ``memory`` once, first.
    """
    memory = MemoryGuard.resolve(memory)
    if uses_grid_solver(spec, solver, operation):
        result = solve_grid(spec, inputs, memory=memory)
        result.info["solver_choice"] = (f"{solver}: grid line solver"
                                        + (f" (>= {AUTO_ITERATIVE_CELLS} cells)"
                                           if solver == "auto" else ""))
        return result
    reason = grid_reason(spec, operation)
    big = spec.conductances.size >= AUTO_ITERATIVE_CELLS
    from ...circuit.elaboration import elaborate
    ir = ir if ir is not None else elaborate(spec, operation)
    result = solve_nodal(ir, inputs, solver=solver, memory=memory,
                         spec=spec if operation is None else None)
    result.info.setdefault("solver_choice", f"{solver}: "
                           + ("direct" if solver == "direct" or not big else "IR line solver")
                           + (f" (grid solver not applicable: {reason})" if reason else ""))
    return result
