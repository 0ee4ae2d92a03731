"""Stage solves of an array with wire capacitance without a direct factorisation.

One implicit stage of the readout transient solves ``K x = b`` on the array's inner nodes,
``K = L + C / (d h)`` (``C`` diagonal: every wire node's capacitance to ground). ``K`` is
symmetric positive definite and better conditioned than ``L``: the capacitance only adds
to the diagonal. Its sparse LU (:class:`.boundary.CapacitiveArray`'s default) is about
11 GB at 1024x1024; here the line solver (:mod:`spicebar.engines.nodal.lines`: conjugate
gradients on the bit-line Schur complement, preconditioned by the word lines'
tridiagonal blocks) solves ``K`` directly: ``C / dh`` joins the diagonal of both line
blocks, so each step length costs one refactorisation of the tridiagonal blocks (O(nodes))
instead of an LU. Each solve starts from the previous stage's solution (the node voltages
move little between stages), so it needs only the iterations that bring the correction to
the stated residual ``||b - K x||_2 <= STAGE_RTOL ||b||_2``.

:func:`choose_stage_solver` picks LU or this by the measured cost model
(:data:`LU_S_PER_UNKNOWN15`, :data:`CG_S_PER_UNKNOWN_ITER`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from ...errors import SolverError

# :mod:`spicebar.engines.nodal.lines` loads the compiled kernels (numba): imported where
# the line solver runs, so a run that takes the LU never loads them.

#: Relative residual of a stage solve (2-norm, as the line solver's DC solves): the
#: column currents then agree with the LU stage to ~1e-11 (tests: 1e-9).
STAGE_RTOL = 1e-13
#: Cost model (CPU seconds on the 2-core machine, integrator readout with the macro
#: op-amp, 2 fF wires; n inner unknowns, about 2 per cell). LU path: one sparse LU per
#: step length, ``LU_S_PER_UNKNOWN15 n^1.5`` (scipy's SuperLU: 0.13 s at 128x128, 0.9 s at
#: 256x256, 8.6 s at 512x512), and two solves a stage, ``LU_SOLVE_S n log2 n`` plus
#: ``SOLVE_OVERHEAD_S`` each. Line solver (a plain crossbar on its grid layout,
#: :mod:`.stage_grid`): about ``SOLVES_PER_STAGE["cg"]`` solves a stage (the readout
#: iterates against an approximate admittance), ``CG_S_PER_UNKNOWN n`` each plus
#: ``CG_OVERHEAD_S``. Measured with 4 windows at the default accuracy goal (load 1.5-2.5,
#: CPU of the whole run): 32x32 LU 2.3 s, line solver 1.8 s; 64x64 12.4 s against 3.8 s;
#: 128x128 150 s against 15 s (1128 points: every step length an LU); at 512x512 a
#: stage solve costs about 15 ms.
LU_S_PER_UNKNOWN15 = 3.0e-8
LU_SOLVE_S = 1.5e-8
SOLVE_OVERHEAD_S = 2.0e-4
CG_S_PER_UNKNOWN = 2.5e-8
CG_OVERHEAD_S = 3.0e-4
SOLVES_PER_STAGE = {"lu": 2.0, "cg": 2.2}
#: Peak bytes of the line-solver path per inner unknown (the array's matrix and its blocks,
#: the grid layout's buffers and the shifted line factors it keeps (up to
#: ``stage_grid.CACHE_BYTES``), the stage vectors), rounded up from the 1024x1024 run
#: (benchmarks/bench_readout.py, 4 windows: 3063 MiB for 2.1e6 inner unknowns).
CG_BYTES_PER_UNKNOWN = 1600
#: Solve a plain crossbar's stages on its grid layout (:mod:`.stage_grid`); False: on
#: the lines read from the IR's graph, as any array made of lines.
USE_GRID = True
#: Shifted line blocks kept at once (one per step length, O(nodes) each; least recent out).
CACHE_STEPS = 4


class Shifted:
    """Rows of ``K = L + C / dh`` as an operator: ``m @ v + d * v[at]`` (no matrix per dh).

    ``m``: sparse rows of ``L``; ``at``: for each row, the node (column) whose diagonal gets
    ``d`` (S, ``C / dh`` of that node; zero for rows without a diagonal in the block)."""

    def __init__(self, m: sp.csr_matrix, at: np.ndarray, d: np.ndarray):
        self.m, self.at, self.d = m, at, d
        #: the diagonal block (``at`` is every position in order): no gather of ``v``
        self.square = at.size == m.shape[1] and np.array_equal(at, np.arange(at.size))

    def __matmul__(self, v: np.ndarray) -> np.ndarray:
        out = self.m @ v
        out += self.d * (v if self.square else v[self.at])
        return out

    @property
    def shape(self):
        return self.m.shape


def _shift(fac, slot: np.ndarray, c_u: np.ndarray, dh: float):
    """The tridiagonal blocks of ``fac`` (a ``lines.Thomas``) with ``c_u / dh`` added on
    their diagonal."""
    from ..nodal.lines import Thomas
    diag = fac.diag.copy()
    ok = slot >= 0
    diag[ok] += c_u[slot[ok]] / dh
    return Thomas.factor(diag, fac.off)


class IterativeStages:
    """``K_oo(dh) x = b`` by the line solver, one shifted line system per step length."""

    def __init__(self, ir, inner: np.ndarray, c_inner: np.ndarray, lap=None):
        """``lap``: the conductance matrix on every node; with it, a plain crossbar is
        solved on its grid layout (:class:`.stage_grid.GridStages`), else (or where the
        array is not one) on the lines read from the IR's graph."""
        from .stage_grid import GridStages
        self.grid, self.grid_why = (None, "no matrix given") if lap is None or not USE_GRID \
            else GridStages.build(ir, inner, lap, c_inner)
        self.c_inner = c_inner
        self._systems: dict = {}
        self._last: np.ndarray | None = None
        self._iterations = 0
        self._solves = 0
        if self.grid is not None:
            return
        from ..nodal.lines import line_structure
        system = line_structure(ir, inner)
        if isinstance(system, str):
            raise SolverError(f"the array is not made of lines ({system}): its stages need "
                              "the LU; use a smaller array or tiles")
        self.base = system

    @property
    def iterations(self) -> int:
        """Conjugate-gradient iterations of every stage solve so far."""
        return self._iterations + (self.grid.iterations if self.grid is not None else 0)

    @property
    def solves(self) -> int:
        """Stage solves so far."""
        return self._solves + (self.grid.solves if self.grid is not None else 0)

    def system(self, dh: float):
        """The ``lines.LineSystem`` of ``K_oo(dh)`` (cached for the latest step lengths)."""
        if dh not in self._systems:
            if len(self._systems) >= CACHE_STEPS:
                self._systems.pop(next(iter(self._systems)))
            b = self.base
            self._systems[dh] = replace(b, w=_shift(b.w, b.w_slot, self.c_inner, dh),
                                        b=_shift(b.b, b.b_slot, self.c_inner, dh))
        else:  # most recently used last
            self._systems[dh] = self._systems.pop(dh)
        return self._systems[dh]

    def solve(self, dh: float, k_oo: Shifted, b: np.ndarray, warm: bool = True,
              out: np.ndarray | None = None) -> np.ndarray:
        """``x`` ``(n_inner,)`` with ``||b - K_oo x|| <= STAGE_RTOL ||b||``, started from the
        previous warm solve's answer (``warm=False``: from zero, and not remembered); the
        grid layout's answer is written to ``out`` where given (a view of the caller's)."""
        if self.grid is not None:
            return self.grid.solve(dh, b, STAGE_RTOL, warm, out)
        self._solves += 1
        nb = _norm(b)
        if nb == 0.0:
            return np.zeros_like(b)
        x0 = self._last if warm and self._last is not None else None
        r = b if x0 is None else b - k_oo @ x0
        nr = _norm(r)
        if nr <= STAGE_RTOL * nb:
            return x0.copy()
        rtol = min(0.5, STAGE_RTOL * nb / nr)
        from ..nodal.lines import solve_lines
        dx, info = solve_lines(self.system(dh), r[:, None], rtol=rtol)
        self._iterations += info["iterations"]
        x = dx[:, 0] if x0 is None else x0 + dx[:, 0]
        if warm:
            self._last = x
        return x.copy()


def _norm(x: np.ndarray) -> float:
    """2-norm without BLAS (whose threads spin on a loaded machine: 30 ms for 30k entries)."""
    return float(np.sqrt(np.square(x).sum()))


def stage_costs(n_inner: int, stages: int, step_lengths: int) -> dict:
    """Estimated CPU seconds of a run's stage solves by each method (the cost model above):
    ``stages`` implicit stages, ``step_lengths`` LUs on the LU path."""
    n = float(max(n_inner, 2))
    lu = (step_lengths * LU_S_PER_UNKNOWN15 * n ** 1.5
          + SOLVES_PER_STAGE["lu"] * stages * (LU_SOLVE_S * n * np.log2(n) + SOLVE_OVERHEAD_S))
    cg = SOLVES_PER_STAGE["cg"] * stages * (CG_S_PER_UNKNOWN * n + CG_OVERHEAD_S)
    return {"lu": lu, "cg": cg}


def choose_stage_solver(n_inner: int, stages: int, step_lengths: int, lu_fits: bool,
                        lines: bool, forced: str = "auto") -> tuple[str, str]:
    """``("lu" | "cg", why)``: the LU where it fits and costs less (or is forced), else the
    line solver; an array not made of lines always takes the LU."""
    if forced in ("lu", "cg"):
        return forced, "chosen by the caller"
    if not lines:
        return "lu", "the array is not made of lines (no line preconditioner)"
    if not lu_fits:
        return "cg", "the LU of L + C/(d h) does not fit the memory limit"
    cost = stage_costs(n_inner, stages, step_lengths)
    pick = "lu" if cost["lu"] <= cost["cg"] else "cg"
    return pick, (f"cost model: LU about {cost['lu']:.3g} s, conjugate gradients about "
                  f"{cost['cg']:.3g} s of stage solves")
