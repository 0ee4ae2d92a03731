"""The bit-line admittance of a large linear array by probing, where its LU does not fit.

:func:`.boundary.schur` reduces the array to ``Y`` (cols x cols) and ``Z`` (rows x cols)
through a sparse LU of the inner nodes: about 11 GB at 1024x1024. Here the line solver
(:mod:`spicebar.engines.nodal.lines`) solves the array with the senses held at probe
voltages ``U`` (``(cols, r)``, the drivers at 0 V), which gives ``Y U`` and ``Z U``
exactly (to its 1e-13 residual), in chunks of bounded memory.

Probing every column (``U = I``) is exact but costs ``cols`` solves (1024x1024: ~0.5 s
each). The readout needs ``Y e(t)`` only along the virtual-ground errors ``e(t)`` it
produces, which span few directions, so :class:`SenseProbe` keeps an orthonormal basis
``U`` of them and gives the readout

    Y_eff = Y_a (I - U U^T) + (Y U) U^T,      Z_eff = (Z U) U^T,     Y_a = diag(Y 1)

(exact on ``span U``). After a run, the part ``R`` of every ``e`` outside ``span U``
bounds the column-current error by ``|| (Y - Y_a) R ||_inf <= b_y |R|_inf``, with
``b_y = 2 max_j (y_j - (Y 1)_j)`` and ``y_j >= Y_jj`` the conductance from column ``j``'s
bit line to every other node (Rayleigh: shorting the rest only raises ``Y_jj``; ``Y`` is
an M-matrix, so its off-diagonal row sum is ``Y_jj - (Y 1)_j``). The driver currents'
error is at most ``max_i |(Z 1)_i| |R|_inf`` (``Z <= 0``). Until both are below
:data:`PROBE_REL` of the largest current, the largest directions of ``R`` join ``U`` and
the readout runs again (:mod:`.nodal`).
"""

from __future__ import annotations

import numpy as np

from ...circuit.ir import CircuitIR
from ..memory import MemoryGuard
from ..nodal.linear import direct_memory_bytes

#: The probing path is taken from this many cells on, or wherever the LU does not fit
#: the memory limit. Measured (one window, integrator, macro op-amp, in-process CPU):
#: 64x64 LU 0.14 s / probing 0.40 s; 128x128 1.0 s / 1.0 s; 256x256 6.0 s / 1.4 s.
PROBE_CELLS = 256 * 256
#: The run stands when the bound on the column (and driver) current error from the
#: directions not probed is below this fraction of the largest column (driver) current:
#: 1e-3 of the agreement target (1e-4 of full scale).
PROBE_REL = 1e-7
#: New directions per round: the residual's left singular vectors down to this fraction
#: of its largest singular value, at most :data:`PROBE_NEW_MAX` of them.
PROBE_SV_REL = 1e-6
PROBE_NEW_MAX = 16
#: Rounds before the run is refused (each adds directions; ``cols`` of them make it exact).
PROBE_ROUNDS = 12


def choose_probing(ir: CircuitIR, n_inner: int, memory: MemoryGuard) -> bool:
    """Whether the reduction of a linear ``ir`` is probed rather than factorised."""
    fits = direct_memory_bytes(n_inner, len(ir.senses)) <= memory.limit_bytes
    return ir.rows * ir.cols >= PROBE_CELLS or not fits


class SenseProbe:
    """``Y U`` and ``Z U`` of a linear array for a growing orthonormal basis ``U``."""

    def __init__(self, ir: CircuitIR, lap, part, ps: np.ndarray, pd: np.ndarray,
                 memory: MemoryGuard, init: np.ndarray):
        """``init``: ``(cols, k)`` first directions (the ones vector is always added)."""
        from ..nodal.lines import line_structure
        self.ir, self.part, self.ps, self.pd, self.memory = ir, part, ps, pd, memory
        s, o, d = part.sense, part.inner, part.driver
        self.l_ss, self.l_ds = lap[s][:, s].tocsr(), lap[d][:, s].tocsr()
        self.l_os, self.l_so, self.l_do = lap[o][:, s].tocsr(), lap[s][:, o].tocsr(), lap[d][:, o].tocsr()
        self.system = line_structure(ir, o) if o.size else None
        if isinstance(self.system, str):
            raise ValueError(self.system)
        self.u = np.zeros((ir.cols, 0))
        self.yu = np.zeros((ir.cols, 0))
        self.zu = np.zeros((ir.rows, 0))
        self.extend(np.hstack([np.ones((ir.cols, 1)), init]))
        c = self.u[0, 0]                                     # U's first column: ones * c
        self.y1, self.z1 = self.yu[:, 0] / c, self.zu[:, 0] / c
        self.b_y = 2.0 * float(np.max(self.bit_line_bound(lap) - self.y1, initial=0.0))
        self.b_z = float(np.abs(self.z1).max(initial=0.0))

    def bit_line_bound(self, lap) -> np.ndarray:
        """``(cols,)`` S, each column's conductance from its bit line (and senses) to every
        other node: at least its ``Y_jj``."""
        col = np.full(self.ir.n_nodes, -1)
        col[self.ir.bl_node] = np.arange(self.ir.cols)[None, :]
        col[self.part.sense] = self.ir.sense_col
        m = lap.tocoo()
        out = (col[m.row] >= 0) & (col[m.row] != col[m.col])
        return np.bincount(col[m.row[out]], weights=-m.data[out], minlength=self.ir.cols)

    def apply(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(Y u (cols, k), Z u (rows, k))`` for probe voltages ``u`` ``(cols, k)`` V: the
        line solver with the senses at ``u``, the drivers at 0 V, in chunks."""
        from ..nodal.grid import chunk_vectors, grid_memory_bytes
        from ..nodal.lines import solve_lines
        ir = self.ir
        chunk = chunk_vectors(ir.rows, ir.cols, u.shape[1])
        self.memory.require(grid_memory_bytes(ir.rows, ir.cols, chunk),
                            f"the probes of the bit-line admittance on {ir.rows}x{ir.cols} cells",
                            "use a smaller array or tiles")
        v_s = self.ps @ u                                    # (n_senses, k) V
        yu, zu = self.l_ss @ v_s, self.l_ds @ v_s
        if self.system is not None:
            for a in range(0, u.shape[1], chunk):
                x, _ = solve_lines(self.system, -(self.l_os @ v_s[:, a:a + chunk]))
                yu[:, a:a + chunk] += self.l_so @ x
                zu[:, a:a + chunk] += self.l_do @ x
        return self.ps.T @ yu, self.pd.T @ zu

    def extend(self, new: np.ndarray) -> int:
        """Add the directions of ``new`` ``(cols, k)`` not yet in ``span U``; probe them.
        Returns how many were added."""
        new = new - self.u @ (self.u.T @ new)
        q, r = np.linalg.qr(new)
        keep = np.abs(np.diag(r)) > 1e-10 * max(np.abs(r).max(initial=0.0), np.finfo(float).tiny)
        q = q[:, keep]
        q -= self.u @ (self.u.T @ q)      # once more against U (Gram-Schmidt twice)
        q, _ = np.linalg.qr(q)
        if not q.shape[1]:
            return 0
        yq, zq = self.apply(q)
        self.u = np.hstack([self.u, q])
        self.yu, self.zu = np.hstack([self.yu, yq]), np.hstack([self.zu, zq])
        return q.shape[1]

    def effective(self) -> tuple[np.ndarray, np.ndarray]:
        """``(Y_eff (cols, cols), Z_eff (rows, cols))`` S for the current basis."""
        y_a = np.diag(self.y1)
        y = y_a + (self.yu - y_a @ self.u) @ self.u.T
        return y, self.zu @ self.u.T

    def check(self, e: np.ndarray, j_scale: float, i_scale: float) -> tuple[bool, float]:
        """Whether the errors ``e`` ``(n, cols)`` V a run produced are covered: extends
        ``U`` if not. Returns ``(covered, bound)``, the bound relative to the currents."""
        r = e.T - self.u @ (self.u.T @ e.T)                  # (cols, n)
        size = float(np.abs(r).max(initial=0.0))
        tiny = np.finfo(float).tiny
        bound = max(self.b_y * size / max(j_scale, tiny), self.b_z * size / max(i_scale, tiny))
        if bound <= PROBE_REL:
            return True, bound
        w, sv, _ = np.linalg.svd(r, full_matrices=False)
        take = sv >= PROBE_SV_REL * sv[0]
        self.extend(w[:, take][:, :PROBE_NEW_MAX])
        return False, bound
