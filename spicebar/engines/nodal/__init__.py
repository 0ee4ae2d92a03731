"""The nodal engine: the exact DC solution of the circuit ngspice sees, in-process.

:mod:`.stamps` (each element kind's conductance stamp, the Laplacian), :mod:`.linear`
(sparse LU or IR line solver), :mod:`.newton` (nonlinear cells), :mod:`.grid` (the
line solver straight from the spec, for large plain grids; the topology facts it
re-derives from the spec are in :mod:`.grid_topology`), :mod:`.lines` and
:mod:`._kernels` (Thomas line solves, conjugate gradients, compiled with numba), and
:mod:`.solvers` (which of them runs, and the one memory check).

May import: ``spicebar.circuit``, ``spicebar.engines.memory`` and
``spicebar.engines.cell_currents``, the base. Used by ``engines.simulation`` and the
transient engines.
"""

from ..._lazy import lazy_exports

__getattr__ = lazy_exports(__name__, {
    "solve_nodal": "solvers", "solve_nodal_spec": "solvers", "uses_grid_solver": "solvers",
    "solve_linear": "linear", "solve_newton": "newton", "solve_grid": "grid",
    "conductance_matrix": "stamps", "fixed_voltages": "stamps", "STAMPED_KINDS": "stamps",
})
