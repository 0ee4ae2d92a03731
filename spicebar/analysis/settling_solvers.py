"""The two ways :mod:`.settling` solves ``(G + s C) x = f`` on the inner nodes of an array.

* ``direct``: a sparse LU (SuperLU, symmetric ordering) per matrix; ARPACK's shift-invert
  on the LU of ``G`` finds the slowest modes. Any topology; the LU grows fast (512x512:
  5e7 nonzeros, ~1 minute).
* ``lines``: the crossbar's line structure (:mod:`spicebar.engines.nodal.lines`:
  conjugate gradients on the word lines with the bit lines eliminated by tridiagonal
  solves), with the capacitance's ``C / (d h)`` added to every line's diagonal. No
  factorisation; a solve of ``G`` takes ~8 iterations and of ``G + C / (d h)`` ~3 at
  256x256. ARPACK's shift-invert takes ``G^-1`` from these solves. (LOBPCG with a loose
  line solve as preconditioner was tried: on the clustered modes of many similar columns
  it needed hundreds of iterations.)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import SolverError

#: Above this many inner nodes ``auto`` takes the line solver (where the array has lines).
#: Measured on 2 loaded cores, 256x256 (131 072 nodes): the LU path and the line path take
#: about the same time (80-90 s at load 15); the LU's memory grows faster (512x512: 5.2e7
#: nonzeros, ~1 GB), so the lines take over beyond 512x512.
LINES_FROM_NODES = 600_000
#: The step response's ``G + C / (d h)`` takes ~3 line iterations: from this many inner
#: nodes ``auto`` steps on the lines rather than factorising it (a second LU).
LINES_STEP_FROM_NODES = 100_000
#: Residual of every line solve (relative, 2-norm): the step response's currents then
#: carry ~1e-10 of full scale from it.
LINE_RTOL = 1e-11
#: ARPACK: relative accuracy of the returned eigenvalues (a time constant to 1e-8 is far
#: beyond any use; tighter costs restarts where the modes of many columns cluster), and
#: the Krylov basis size.
ARPACK_TOL = 1e-8
ARPACK_NCV = 30


def _layout(values: np.ndarray, slot: np.ndarray) -> np.ndarray:
    out = np.zeros(slot.shape)
    ok = slot >= 0
    out[ok] = values[slot[ok]]
    return out


class LineSolver:
    """Solves ``(G + diag(shift)) x = f`` on the array's lines (or says why not: ``reason``)."""

    def __init__(self, dyn):
        from ..engines.nodal.lines import line_structure
        system = line_structure(dyn.ir, dyn.part.inner)
        self.reason = system if isinstance(system, str) else None
        self.system = None if self.reason else system
        self._shifted = {}

    def _system(self, shift: np.ndarray | None, key):
        from ..engines.nodal.lines import LineSystem, Thomas
        if shift is None:
            return self.system
        if key not in self._shifted:
            s = self.system
            self._shifted = {key: LineSystem(
                s.w_slot, s.b_slot, Thomas.factor(s.w.diag + _layout(shift, s.w_slot), s.w.off),
                Thomas.factor(s.b.diag + _layout(shift, s.b_slot), s.b.off), s.cells,
                s.cells_t)}
        return self._shifted[key]

    def solve(self, f: np.ndarray, shift=None, key=None, rtol: float = LINE_RTOL) -> np.ndarray:
        from ..engines.nodal.lines import solve_lines
        one = f.ndim == 1
        x, _ = solve_lines(self._system(shift, key), f[:, None] if one else f, rtol=rtol)
        return x[:, 0] if one else x


def direct_lu(matrix):
    """SuperLU of a symmetric positive definite matrix (symmetric ordering)."""
    import scipy.sparse.linalg as spla
    from ..engines.transient.boundary import SPD_LU
    try:
        return spla.splu(matrix.tocsc(), **SPD_LU)
    except RuntimeError as exc:
        raise SolverError(f"the array's conductance matrix is singular ({exc}): some node has "
                          "no DC path to a driver or readout") from None


def arpack_modes(dyn, k: int, lines: LineSolver | None = None) -> np.ndarray:
    """The ``k`` smallest ``lambda`` of ``G x = lambda C x`` (1/s), by ARPACK shift-invert
    with ``G^-1`` from a sparse LU, or from the line solver to :data:`LINE_RTOL`."""
    import scipy.sparse.linalg as spla
    n = dyn.g.shape[0]
    if n <= k + 2:  # ARPACK needs k < n; a tiny system is solved whole
        import scipy.linalg as sla
        lam = sla.eigh(dyn.g.toarray(), np.diag(dyn.c), eigvals_only=True)
        return np.sort(lam[lam > 0])[:k]
    solve = dyn.g_lu().solve if lines is None else lines.solve
    op = spla.LinearOperator((n, n), matvec=solve, dtype=float)
    m = sp.diags(dyn.c).tocsc()
    mu = spla.eigsh(dyn.g, k=k, M=m, sigma=0.0, which="LM", OPinv=op, tol=ARPACK_TOL,
                    return_eigenvectors=False, ncv=min(n, max(2 * k + 1, ARPACK_NCV)))
    lam = np.sort(np.asarray(mu, dtype=float))
    return lam[lam > 0]
