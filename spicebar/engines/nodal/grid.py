"""The nodal engine's fast path for large arrays: the line solver on the spec's grid.

Same circuit as :func:`spicebar.circuit.elaboration.elaborate` builds (see
:mod:`spicebar.circuit.spec`), but laid out directly as ``rows`` word lines of ``cols``
nodes and ``cols`` bit lines of ``rows`` nodes, so a 1024x1024 array needs no
element tables, node names or sparse matrices. Driver and sense resistances are
in series with the end segments (the same currents; the extra end node is not
an output). Tests check it against the elaborated IR's direct solve for every
topology option, so the two descriptions cannot drift apart unnoticed.

Handled: positive segment resistances (scalar or per segment), ``r_driver``,
``r_sense``, every ``drive``/``sense`` choice, and fully ideal word or bit lines
(scalar 0 with no driver/sense resistance: those nodes are held by the sources).
Anything else (an ideal segment inside a resistive line, an ideal line behind a
driver resistance) is left to the IR-based solvers: :func:`grid_reason` says why.
"""

from __future__ import annotations

import time

import numpy as np

from ...errors import SolverError
from ...results import Deferred, SimulationResult
from ...circuit.spec import CrossbarSpec
from ._kernels import (HAVE_NUMBA, along_cols, along_rows, cell_currents, cg_step, kcl_bit,
                       kcl_word, schur_finish, thomas_factors, xpby)
from ..memory import BASE_BYTES, MemoryGuard
from .grid_topology import grid_topology, ideal_line
from .lines import DEFAULT_RTOL, schur_cg
from .threads import threads

#: Float64 arrays of the word/bit-line layouts that conjugate gradients keeps alive
#: at once (x, r, z, p, q, right-hand side, temporaries, outputs), per input vector.
#: Measured peak (``tests/test_memory_estimates.py``): about 8 plus the 2 voltage maps.
ARRAYS_PER_VECTOR = 9
#: Float64 arrays of the array's size that do not depend on the batch (line factors,
#: diagonals, conductances).
FIXED_ARRAYS = 16

#: Working memory of the vectors solved together, bytes: a batch is solved in chunks
#: of this size (at least one vector), so 100 vectors on a 1024x1024 array need about
#: the memory of two, not of 100. Larger chunks do not pay: at 1024x1024 a batch
#: costs the same CPU per vector as one vector alone (memory-bandwidth bound).
CHUNK_BYTES = 256 * 2**20

#: The solved voltage maps are kept (``v_wl``, ``v_bl`` of the result) up to this
#: size, bytes; beyond it a result re-solves its inputs, chunk by chunk, when a map
#: is first read (callers that read the currents only never pay for the maps).
KEEP_MAPS_BYTES = 512 * 2**20


def chunk_vectors(rows: int, cols: int, n: int) -> int:
    """How many of ``n`` input vectors :func:`solve_grid` solves together."""
    return int(max(1, min(n, CHUNK_BYTES // (8 * rows * cols * ARRAYS_PER_VECTOR))))


def _keeps_maps(rows: int, cols: int, n: int) -> bool:
    return n <= chunk_vectors(rows, cols, n) or 16 * rows * cols * n <= KEEP_MAPS_BYTES


def grid_memory_bytes(rows: int, cols: int, batch: int) -> int:
    """Estimated peak memory of :func:`solve_grid`, bytes: the conjugate-gradient
    arrays of one chunk of vectors (:func:`chunk_vectors`), the line factors, and the
    voltage maps where they are kept (:data:`KEEP_MAPS_BYTES`). Maps built later, on
    first read, are not counted: they are the caller's ``8 * batch * rows * cols``
    bytes each."""
    n = min(batch, rows)  # wider batches are solved on the unit basis, then combined
    maps = 2 * n if _keeps_maps(rows, cols, n) else 0
    return BASE_BYTES["nodal"] + 8 * rows * cols * (
        ARRAYS_PER_VECTOR * chunk_vectors(rows, cols, n) + maps + FIXED_ARRAYS)


def grid_reason(spec: CrossbarSpec, operation=None) -> str | None:
    """None if :func:`solve_grid` handles ``spec`` (under ``operation``), else why not."""
    from ...circuit.cells import PassiveCell
    if not isinstance(getattr(spec, "cell", PassiveCell()), PassiveCell):
        return f"cells are {spec.cell.describe()}, not passive linear"
    if operation is not None:
        return "an operation mode other than the plain VMM"
    from ...circuit.temperature import at_temperature
    spec = at_temperature(spec)  # wires from a geometry: their ohms
    for r, r_end, what in ((spec.r_wl, spec.r_driver, "word"), (spec.r_bl, spec.r_sense, "bit")):
        if ideal_line(r, r_end):
            continue
        if np.any(np.asarray(r) == 0):
            return (f"an ideal (0 ohm) {what}-line segment in a resistive line or behind a "
                    f"{'driver' if what == 'word' else 'sense'} resistance")
    return None


class _Grid:
    """Word- and bit-line voltages both laid out ``(batch, rows, cols)``; ``C`` is ``G *``.

    Built from :func:`.grid_topology.grid_topology`, the one place that reads the
    circuit's topology from the spec rather than the IR."""

    def __init__(self, spec: CrossbarSpec, g: np.ndarray | None = None):
        """``g``: ``(rows, cols)`` siemens joining each word-line node to its bit-line node,
        instead of the spec's conductances (Newton's linearised cells, see
        :mod:`.newton_lines`)."""
        topo = grid_topology(spec)
        g = topo.g if g is None else g
        rows, cols = g.shape
        self.g = g
        self.ideal_w, self.ideal_b = topo.ideal_w, topo.ideal_b
        self.g_left, self.g_right = topo.g_left, topo.g_right
        self.g_top, self.g_bottom = topo.g_top, topo.g_bottom
        if not self.ideal_w:
            seg = topo.wl_seg                                   # (rows, cols-1)
            diag = g.copy()
            diag[:, :-1] += seg
            diag[:, 1:] += seg
            diag[:, 0] += self.g_left
            diag[:, -1] += self.g_right
            self.diag_w = diag
            self.off_w = np.zeros((rows, cols))
            self.off_w[:, :-1] = -seg                           # off_w[i, k] joins k, k+1
            off = np.zeros((cols, rows))
            off[:-1] = -seg.T
            self.fac_w = [np.ascontiguousarray(f.T) for f in thomas_factors(diag.T, off)]
        if not self.ideal_b:
            seg = topo.bl_seg                                   # (rows-1, cols)
            diag = g.copy()
            diag[:-1] += seg
            diag[1:] += seg
            diag[0] += self.g_top
            diag[-1] += self.g_bottom
            off = np.zeros((rows, cols))
            off[:-1] = -seg                                     # off[i, k] joins rows i, i+1
            self.diag_b, self.off_b = diag, off
            self.fac_b = list(thomas_factors(diag, off))
            # A_b^-1 (G x) in one pass: fold the cell conductances into the first factor.
            self.fac_bg = [self.fac_b[0] * g, *self.fac_b[1:]]

    def _buffer(self, key: str, like: np.ndarray) -> np.ndarray:
        """A reused work array: fresh 100 MB arrays cost more in page faults than the sweep."""
        pool = self.__dict__.setdefault("_pool", {})
        buf = pool.get(key)
        if buf is None or buf.shape != like.shape:
            buf = pool[key] = np.empty_like(like)
        return buf

    def solve_w_dot(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``z = A_w^-1 r`` (in a reused buffer until the next call) and ``r . z`` per vector."""
        out, dots = self._buffer("w", r), np.empty(r.shape[:2])
        along_cols(*self.fac_w, r, out, dots)
        return out, dots.sum(axis=1)

    def solve_w(self, r: np.ndarray) -> np.ndarray:
        return self.solve_w_dot(r)[0]

    def solve_b(self, r: np.ndarray) -> np.ndarray:
        """``A_b^-1 r``: the bit lines driven by currents ``r`` ``(batch, rows, cols)``."""
        out = np.empty_like(r)
        along_rows(*self.fac_b, r, out)
        return out

    def c(self, x_b: np.ndarray) -> np.ndarray:
        """``C x_b``: the cell currents into the word-line nodes from bit-line voltages."""
        return self.g * x_b

    ct = c  # C is diagonal in this layout: the cell of (i, j) joins the same (i, j) nodes

    def solve_b_cells(self, x_w: np.ndarray) -> np.ndarray:
        """``A_b^-1 C^T x_w``: bit-line voltages driven by the cells from ``x_w``."""
        out = np.empty_like(x_w)
        along_rows(*self.fac_bg, x_w, out)
        return out

    def schur_dot(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``q = S p = A_w p - C A_b^-1 C^T p`` in two compiled passes (in a reused buffer),
        and ``p . q`` per vector."""
        tmp, out, dots = self._buffer("b", p), self._buffer("q", p), np.empty(p.shape[:2])
        along_rows(*self.fac_bg, p, tmp)
        schur_finish(self.diag_w, self.off_w, self.g, p, tmp, out, dots)
        return out, dots.sum(axis=1)

    @staticmethod
    def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.einsum("bij,bij->b", a, b)

    @staticmethod
    def cg_step(x, r, p, q, alpha) -> np.ndarray:
        """``x += alpha p; r -= alpha q`` in place; returns ``|r|^2`` per vector."""
        rr = np.empty(x.shape[0])
        cg_step(x, r, p, q, np.ascontiguousarray(alpha, dtype=float), rr)
        return rr

    @staticmethod
    def xpby(p, z, beta) -> None:
        """``p = z + beta p`` in place."""
        xpby(p, z, np.ascontiguousarray(beta, dtype=float))

    def drive(self, volts: np.ndarray) -> np.ndarray:
        """Source currents into the word-line nodes, ``(batch, rows, cols)``, for ``(batch, rows)`` V."""
        f = np.zeros((volts.shape[0], *self.g.shape))
        f[:, :, 0] += self.g_left * volts
        f[:, :, -1] += self.g_right * volts
        return f



def _solve_layouts(grid: _Grid, volts: np.ndarray, rtol: float, max_iter: int | None):
    shape = (volts.shape[0], *grid.g.shape)
    none = {"iterations": 0, "cg_residual_rel": 0.0}
    if grid.ideal_w:
        x_w = np.ascontiguousarray(np.broadcast_to(volts[:, :, None], shape))
        if grid.ideal_b:
            return x_w, np.zeros(shape), none
        return x_w, grid.solve_b_cells(x_w), none
    f_w = grid.drive(volts)
    if grid.ideal_b:
        return grid.solve_w(f_w).copy(), np.zeros(shape), none
    x_w, x_b, info = schur_cg(grid, f_w, None, rtol, max_iter)  # sources drive word lines
    grid.__dict__.pop("_pool", None)
    return x_w, x_b, info


def _kcl_residual(grid: _Grid, volts, x_w, x_b) -> float:
    """Largest KCL mismatch over the unknown nodes, relative to the largest source current.

    One compiled pass per layout, no temporaries of the array's size.
    """
    worst, scale = 0.0, np.finfo(float).tiny
    per_line = np.empty(x_w.shape[:2])
    if not grid.ideal_w:
        kcl_word(grid.diag_w, grid.off_w, grid.g, grid.g_left, grid.g_right,
                 np.ascontiguousarray(volts, dtype=float), x_w, x_b, per_line)
        worst = per_line.max(initial=0.0)
        scale = max(scale, np.abs(np.concatenate([grid.g_left * volts, grid.g_right * volts]))
                    .max(initial=0.0))
    if not grid.ideal_b:
        inflow = np.empty_like(per_line)
        kcl_bit(grid.diag_b, grid.off_b, grid.g, x_w, x_b, per_line, inflow)
        worst = max(worst, per_line.max(initial=0.0))
        if grid.ideal_w:
            scale = max(scale, inflow.max(initial=0.0))
    return float(worst / scale)


def solve_grid(spec: CrossbarSpec, inputs: np.ndarray, rtol: float = DEFAULT_RTOL,
               max_iter: int | None = None, memory: MemoryGuard | None = None
               ) -> SimulationResult:
    """Exact DC solve of ``spec`` for ``inputs`` ``(batch, rows)`` volts by the line solver.

    Batches wider than ``rows`` are solved once per word line (unit inputs) and
    combined, which is exact by linearity. ``info`` holds the iterations, the CG
    residual (the stop criterion, ``rtol``) and the KCL residual of the answer.

    Raises:
        SolverError: ``spec`` is not a plain grid (see :func:`grid_reason`) or conjugate
            gradients did not converge.
        ResourceError: the solve would not fit in ``memory`` (a
            :class:`~spicebar.engines.memory.MemoryGuard`; default 80 % of the memory
            available now).
    """
    t0 = time.perf_counter()
    reason = grid_reason(spec)
    if reason:
        raise SolverError(f"the grid line solver cannot take this array: {reason}")
    rows, cols = spec.shape
    batch = inputs.shape[0]
    threads()  # a bad SPICEBAR_THREADS is named before any work
    MemoryGuard.resolve(memory).require(
        grid_memory_bytes(rows, cols, batch),
        f"the line solver on {rows}x{cols} cells with {batch} input vector(s)", "split the batch")
    grid = _Grid(spec)
    basis = batch > rows
    volts = np.eye(rows) if basis else inputs
    n = volts.shape[0]
    chunk = chunk_vectors(rows, cols, n)
    keep = _keeps_maps(rows, cols, n)
    maps = None
    parts = []
    for s in range(0, n, chunk):
        *part, (x_w, x_b) = _solve_chunk(grid, volts[s:s + chunk], rtol, max_iter)
        parts.append(part)
        if keep and chunk == n:
            maps = x_w, x_b
        elif keep:  # filled chunk by chunk: no second copy of the maps at the end
            if maps is None:
                maps = np.empty((n, rows, cols)), np.empty((n, rows, cols))
            maps[0][s:s + chunk], maps[1][s:s + chunk] = x_w, x_b
        del x_w, x_b
    currents = np.concatenate([p[0] for p in parts])
    driver_currents = np.concatenate([p[1] for p in parts])
    if basis:  # row i of each answer is the response to 1 V on word line i alone
        currents, driver_currents = inputs @ currents, inputs @ driver_currents
    if keep:
        if basis:
            v_wl = Deferred(_combine_basis, maps[0])
            v_bl = Deferred(_bit_line_voltages, grid)
        else:
            v_wl, v_bl = maps
    else:
        v_wl = Deferred(_resolved_map, grid, rtol, max_iter, "v_wl")
        v_bl = Deferred(_resolved_map, grid, rtol, max_iter, "v_bl")
    info = {"iterations": max(p[2]["iterations"] for p in parts),
            "cg_residual_rel": max(p[2]["cg_residual_rel"] for p in parts),
            "solver": "line-preconditioned conjugate gradients on the grid "
                      "(Schur complement over bit lines, Thomas line solves)",
            "rtol": rtol, "kcl_residual_rel": max(p[2]["kcl_residual_rel"] for p in parts),
            "unknowns": int((not grid.ideal_w) + (not grid.ideal_b)) * rows * cols,
            "basis_solves": bool(basis), "chunk_vectors": chunk, "chunks": len(parts),
            "compiled_kernels": HAVE_NUMBA}
    return SimulationResult("nodal", inputs, currents, v_wl, v_bl, driver_currents,
                            time.perf_counter() - t0, info,
                            cell_currents=Deferred(_linear_cell_currents, grid.g))


def _solve_chunk(grid: _Grid, volts: np.ndarray, rtol: float, max_iter: int | None) -> tuple:
    """Solve the vectors ``volts`` ``(n, rows)`` V together: their output and driver
    currents, the solver's info (with the KCL residual) and the maps ``(x_w, x_b)``."""
    x_w, x_b, info = _solve_layouts(grid, volts, rtol, max_iter)
    info["kcl_residual_rel"] = _kcl_residual(grid, volts, x_w, x_b)
    return (_output_currents(grid, x_w, x_b), _driver_currents(grid, volts, x_w, x_b), info,
            (x_w, x_b))


def _output_currents(grid: _Grid, x_w, x_b) -> np.ndarray:
    """Current into each column's readout, ``(batch, cols)`` A."""
    if grid.ideal_b:  # every cell current of a column reaches its readout
        return np.einsum("brk,rk->bk", x_w, grid.g)
    return x_b[:, -1, :] * grid.g_bottom + x_b[:, 0, :] * grid.g_top


# The per-cell maps of a result, built when first read (see results.Deferred).

def _combine_basis(result: SimulationResult, x_w: np.ndarray) -> np.ndarray:
    """Word-line voltages ``(batch, rows, cols)`` from the unit-input answers ``x_w``."""
    batch, (rows, _, cols) = result.batch, x_w.shape
    return (result.inputs @ x_w.reshape(rows, -1)).reshape(batch, rows, cols)


def _resolved_map(result: SimulationResult, grid: _Grid, rtol: float, max_iter: int | None,
                  name: str) -> np.ndarray:
    """``v_wl`` or ``v_bl`` ``(batch, rows, cols)`` V, by solving the inputs again, chunk
    by chunk (the maps were too large to keep); the other map is kept as well."""
    v = result.inputs
    shape = (v.shape[0], *grid.g.shape)
    maps = {"v_wl": np.empty(shape), "v_bl": np.empty(shape)}
    chunk = chunk_vectors(*grid.g.shape, v.shape[0])
    for s in range(0, v.shape[0], chunk):
        maps["v_wl"][s:s + chunk], maps["v_bl"][s:s + chunk], _ = _solve_layouts(
            grid, v[s:s + chunk], rtol, max_iter)
    other = "v_bl" if name == "v_wl" else "v_wl"
    result.keep_built(other, maps[other])
    return maps[name]


def _bit_line_voltages(result: SimulationResult, grid: _Grid) -> np.ndarray:
    """Bit-line voltages ``(batch, rows, cols)``: one exact line solve from the word lines."""
    if grid.ideal_b:
        return np.zeros_like(result.v_wl)
    return grid.solve_b_cells(result.v_wl)


def _linear_cell_currents(result: SimulationResult, g: np.ndarray) -> np.ndarray:
    """``(v_wl - v_bl) G`` ``(batch, rows, cols)`` A, into each bit-line node, in one pass."""
    out = np.empty_like(result.v_wl)
    cell_currents(result.v_wl, result.v_bl, g, out)
    return out


def _driver_currents(grid: _Grid, inputs, v_wl, v_bl) -> np.ndarray:
    """Current each word line's drivers deliver, ``(batch, rows)`` A.

    Through a resistive end: ``g (V - v_end)``. Over ideal word lines the driver
    carries every cell current of its row: ``sum_j G[i, j] (V_i - v_bl[i, j])``.
    """
    if grid.ideal_w:
        return np.einsum("brk,rk->br", inputs[:, :, None] - v_bl, grid.g)
    return (grid.g_left * (inputs - v_wl[:, :, 0]) + grid.g_right * (inputs - v_wl[:, :, -1]))
