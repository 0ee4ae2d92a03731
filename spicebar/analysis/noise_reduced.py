"""The noise network of an array without capacitance, reduced once onto its columns.

Without capacitance the array's part of the small-signal network does not depend on
frequency, so it is eliminated once (exactly, not approximated): with the array's inner
nodes ``o`` and one virtual ground per column ``s`` (its sense nodes shorted together),
the array is the Norton equivalent ::

    Y v_s = i_N + i_readout,       Y = L_ss - L_so L_oo^-1 L_os          (cols, cols) S

whose short-circuit current of column ``c`` from a noise current injected into node ``p``
and out of ``n`` is ``a[c] = u_c[p] - u_c[n]``, with ``u_c = e_c - L_oo^-T L_so^T e_c`` the
adjoint node voltages of column ``c`` (for a symmetric ``L``: the node voltages with column
``c``'s virtual ground at 1 V and every other held node at 0 V). Each category of sources
folds into the covariance of the columns' short-circuit currents once::

    K_white = sum_e S_e a_e a_e^T,     K_flicker = sum_e kf_e a_e a_e^T      (cols, cols)

(a category's sources share their spectral shape; a category with both a white and a 1/f
part keeps both). For a linear resistive array at one temperature the thermal categories
add up to ``4 k T Y`` (Twiss' theorem); the residual of that identity is reported.

Per frequency only the readouts' ``3 cols`` unknowns are solved (virtual grounds, op-amp
internal nodes and outputs, ``Y`` coupling the virtual grounds), and column ``j``'s output
density from a category is ``h_j^H K(f) h_j`` with ``h_j`` the adjoint transfer from the
virtual grounds to its output. The op-amp internal nodes and outputs are eliminated per
column (block-diagonal), leaving one dense ``cols x cols`` solve a frequency; with the
same readout on every column, a convergent series in ``Y`` replaces it wherever the
array's admittance is small beside the readout's (:mod:`.noise_series`).

The reduction: ``L_oo^-1 L_os`` (``cols`` right-hand sides, one probe per column) for a
passive array by the grid's block elimination (:mod:`spicebar.engines.nodal.grid_sweep`:
direct, every probe at once, where its ``8 rows cols min(rows, cols)`` bytes fit), else
on the grid solver's compiled conjugate gradients (:mod:`spicebar.engines.nodal.grid`)
from :data:`GRID_PROBE_CELLS` on; the line solver on the IR
(:mod:`spicebar.engines.nodal.lines`) where the readout engine would probe too
(:func:`spicebar.engines.transient.probing.choose_probing`) and the grid does not take the
spec; else one sparse LU (dense LAPACK for a few hundred inner nodes), as
:func:`spicebar.engines.transient.boundary.schur` forms ``Y``. Nonlinear cells: the same on
the Newton Jacobian at the operating point (LU; transposed solves for an unsymmetric
Jacobian of access transistors).

Cost: the probes (block elimination: ``rows`` dense ``cols^3`` steps), the fold (``cols^2``
per source), then per frequency at most ``O(cols^3)`` dense work, against one sparse LU of
the whole network per frequency and ``cols`` solves on it in the full path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from ..circuit.ir import CAPACITOR, CircuitIR
from .noise_network import (K_BOLTZMANN, Sources, array_sources, check_operating_point,
                            readout_stamps, unknown_index)

#: Where the block elimination does not fit in memory, the columns' probes run on the grid
#: solver's conjugate gradients (a passive spec) from this many cells on; below, one
#: sparse LU. Measured (in-process, kernels loaded, load 1-2):
#: 64x64 LU 0.086 s / grid 0.036 s; 128x128 LU 1.22 s / grid 0.91 s; 256x256 LU 16.6 s
#: (2.0 s factorisation, 57 ms a solve) / grid 5.2 s. The first grid call of a process
#: also loads the compiled kernels (about 0.7 s), hence not below 128x128.
GRID_PROBE_CELLS = 128 * 128
#: Probes solved at once by the grid's block elimination (five arrays of rows x cols x chunk).
SWEEP_CHUNK_BYTES = 1 << 30
#: Columns solved at once on the sparse LU (one SuperLU call a block: n_inner x 64 values).
LU_RHS_BLOCK = 64
#: Sources folded into the covariance per block (rows of the transfer matrix gathered at
#: once): 4096 x 256 columns x 8 bytes = 8 MB.
SOURCE_BLOCK = 4096


def array_has_capacitance(ir: CircuitIR) -> bool:
    """Whether any capacitor of ``ir`` (wire or gate-line capacitance) is nonzero: the
    array then depends on frequency and is solved whole at every frequency."""
    return any(grp.kind == CAPACITOR and np.any(np.asarray(grp.value) != 0)
               for grp in ir.capacitors)


@dataclass(frozen=True, eq=False)
class Covariance:
    """One category of array sources folded onto the columns: the covariance of the columns'
    short-circuit currents, ``white + flicker / f`` A^2/Hz, ``(cols, cols)`` each, seen at
    unknowns ``vg`` ``(cols,)`` of the reduced network (column ``j``'s output density is
    ``h_j^H K h_j``, see :meth:`ReducedNetwork.spectra`)."""

    category: str
    vg: np.ndarray
    white: np.ndarray
    flicker: np.ndarray


@dataclass(frozen=True, eq=False)
class ReducedNetwork:
    """The readouts on the array's reduced admittance (same interface as
    :class:`.noise_network.Network`).

    Attributes:
        y: ``(cols, cols)`` S, the array's admittance at the virtual grounds.
        g, c: ``(3 cols, 3 cols)`` csr S and F, the readouts' own stamps; unknowns: the
            virtual grounds ``0..cols-1``, op-amp internal nodes, outputs.
        out, vg: ``(cols,)`` unknown index of each column's output / virtual ground.
        sources: :class:`Covariance` per array category, then the readouts' :class:`Sources`.
        info: the reduction's solver, its time (s), Twiss' residual.
    """

    y: np.ndarray
    g: sp.csr_matrix
    c: sp.csr_matrix
    out: np.ndarray
    vg: np.ndarray
    sources: tuple
    info: dict = field(default_factory=dict)

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(s.category for s in self.sources)

    def _readout(self, f: float):
        """Each readout at ``f`` on its (virtual ground, internal node, output): with ``M``
        per column ``[[a, b], [c, d]]`` (``d`` 2x2 on the internal node and the output),
        ``(sigma, b, d^-1, d^-1 c)``: ``sigma = a - b d^-1 c`` ``(cols,)`` the admittance the
        readout adds at its virtual ground."""
        m3 = self._blocks[0] + (2j * np.pi * f) * self._blocks[1]      # (cols, 3, 3)
        a, b, c, d = m3[:, 0, 0], m3[:, 0, 1:], m3[:, 1:, 0], m3[:, 1:, 1:]
        d_inv = np.linalg.inv(d)                                       # (cols, 2, 2)
        d_c = np.einsum("mab,mb->ma", d_inv, c)                        # d^-1 c, (cols, 2)
        return a - np.einsum("ma,ma->m", b, d_c), b, d_inv, d_c

    def _adjoint(self, f: float, columns: np.ndarray, x_vg: np.ndarray | None = None,
                 readout: tuple | None = None) -> np.ndarray:
        """``(3 cols + 1, k)``: transfer (V/A) from a current into each unknown to each
        column's output at ``f``; the last row is ground. Each readout couples its own
        virtual ground, internal node and output only, so with ``M^T x = e_out`` ::

            (Y + diag(sigma))^T x_vg = -diag((d^-1 c)_out) e,
            x_r[m] = d_m^-T (e_r[m] - b_m^T x_vg[m])

        one dense ``cols x cols`` solve a frequency (``x_vg`` given: that part is known,
        from :mod:`.noise_series`), the rest per column. ``readout``: :meth:`_readout` at
        ``f``, where the caller has it."""
        n, k = self.vg.size, columns.size
        sigma, b, d_inv, d_c = self._readout(f) if readout is None else readout
        if x_vg is None:
            rhs = np.zeros((n, k), complex)
            rhs[columns, np.arange(k)] = -d_c[columns, 1]
            x_vg = np.linalg.solve((self.y + np.diag(sigma)).T, rhs)
        t = -b[:, :, None] * x_vg[:, None, :]                          # (cols, 2, k)
        t[columns, 1, np.arange(k)] += 1.0
        x_r = np.einsum("mba,mbk->mak", d_inv, t)                      # d^-T t
        return np.vstack([x_vg, x_r[:, 0], x_r[:, 1], np.zeros((1, k))])

    def _identical_readouts(self) -> bool:
        g, c = self._blocks
        return bool(np.all(g == g[:1]) and np.all(c == c[:1]))

    @cached_property
    def _blocks(self) -> tuple[np.ndarray, np.ndarray]:
        """``(G, C)`` of each readout, ``(cols, 3, 3)`` on its (virtual ground, internal
        node, output); checked to hold every stamp (no readout couples two columns)."""
        n = self.vg.size
        own = np.stack([self.vg, self.vg + n, self.vg + 2 * n], axis=1)  # (cols, 3)
        out = []
        for mat in (self.g.tocsr(), self.c.tocsr()):
            rr = np.repeat(own, 3, axis=1).ravel()                      # (cols * 9,)
            cc = np.tile(own, (1, 3)).ravel()
            blk = np.asarray(mat[rr, cc]).reshape(n, 3, 3)
            if not np.isclose(np.abs(blk).sum(), np.abs(mat).sum(), rtol=1e-14, atol=0):
                raise ValueError("a readout stamp couples two columns")  # pragma: no cover
            out.append(blk)
        return tuple(out)

    def column_transfer(self, f: float, columns: np.ndarray) -> np.ndarray:
        """``(k,)`` complex V/A: a current into column ``j``'s virtual ground to its output."""
        return self._adjoint(f, columns)[self.vg[columns], np.arange(columns.size)]

    def spectra(self, freqs: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """Output noise densities, shape ``(len(columns), n_categories, len(freqs))`` V^2/Hz.
        With the same readout on every column, frequencies where the array's admittance is
        small beside the readout's take the series of :mod:`.noise_series` (exact to
        rounding); the others one dense solve each."""
        from .noise_series import (SERIES_RHO_MAX, ReadoutSources, SeriesTransfer, norm2_bound,
                                   terms_for)
        out = np.zeros((columns.size, len(self.sources), freqs.size))
        covs = [m for m, s in enumerate(self.sources) if isinstance(s, Covariance)]
        rest = [m for m in range(len(self.sources)) if m not in covs]
        series, n_terms = set(), 0
        readouts = [self._readout(float(f)) for f in freqs]
        if self._identical_readouts() and covs:
            y_norm = norm2_bound(self.y)
            for k, readout in enumerate(readouts):
                rho = y_norm / abs(readout[0][0])
                if rho <= SERIES_RHO_MAX:
                    series.add(k)
                    n_terms = max(n_terms, terms_for(rho))
        if series:
            flick = [m for m in covs if np.any(self.sources[m].flicker != 0)]
            st = SeriesTransfer(self.y, columns, n_terms,
                                [self.sources[m].white for m in covs]
                                + [self.sources[m].flicker for m in flick])
            white_mu, flicker_mu = st.moments[:len(covs)], st.moments[len(covs):]
            own = ReadoutSources(st, [self.sources[m] for m in rest], self.vg.size, columns)
            self.info["series"] = {"frequencies": len(series), "terms": n_terms,
                                   "readout sources": "series" if own.ok else "solved"}
        else:
            self.info["series"] = {"frequencies": 0, "terms": 0}
        direct = self._direct_densities(columns, covs) if len(series) < freqs.size else None

        def at(k: int) -> None:
            f = float(freqs[k])
            if k in series:
                sigma, b, d_inv, d_c = readouts[k]
                beta = -d_c[0, 1]
                for m, mu in zip(covs, white_mu):
                    out[:, m, k] = st.densities(mu, sigma[0], beta)
                for m, mu in zip(flick, flicker_mu):
                    out[:, m, k] += st.densities(mu, sigma[0], beta) / f
                if rest and own.ok:
                    out[:, rest, k] = own.densities(sigma[0], beta, b[0, :], d_inv[0], f)
                    return
                x = (self._adjoint(f, columns, st.vg_transfer(sigma[0], beta), readouts[k])
                     if rest else None)
            else:
                x = self._adjoint(f, columns, readout=readouts[k])
                if covs:
                    out[:, covs, k] = direct(x, f)
            for m in rest:
                out[:, m, k] = self.sources[m].output(x, f)
        from ..engines.nodal.threads import on_workers
        on_workers(at, range(freqs.size))      # the frequencies share nothing they write
        return out

    def _direct_densities(self, columns: np.ndarray, covs: list):
        """``(x, f) -> (k, len(covs))``: each covariance category's ``h^H K h`` from the
        adjoint ``x`` of :meth:`_adjoint` (every category's ``K`` stacked, real: one product
        a frequency, ``h^H K h = hr K hr + hi K hi``)."""
        if not covs:
            return None
        n = self.vg.size
        white = np.concatenate([self.sources[m].white for m in covs])
        flick = [i for i, m in enumerate(covs) if np.any(self.sources[m].flicker != 0)]
        flicker = np.concatenate([self.sources[covs[i]].flicker for i in flick]) if flick else None

        def densities(x: np.ndarray, f: float) -> np.ndarray:
            h = x[self.vg]
            hh = np.hstack([h.real, h.imag])                            # (cols, 2k)
            val = np.einsum("cq,mcq->mq", hh, (white @ hh).reshape(len(covs), n, -1))
            if flick:
                quad = (flicker @ hh).reshape(len(flick), n, -1)
                val[flick] += np.einsum("cq,mcq->mq", hh, quad) / f
            return (val[:, :columns.size] + val[:, columns.size:]).T
        return densities


def build_reduced_network(ir: CircuitIR, readout, temperature_k: float,
                          cell_currents: np.ndarray | None = None, flicker_kf: float = 0.0,
                          v_op: np.ndarray | None = None, memory=None,
                          spec=None) -> ReducedNetwork:
    """:func:`.noise_network.build_network` for an array without capacitance, reduced onto
    its columns (module docstring); same arguments, same categories in the same order.
    ``spec``: the spec ``ir`` was elaborated from (a passive one lets the reduction run on
    the grid solver's compiled kernels)."""
    from ..engines.memory import MemoryGuard
    from ..engines.transient.boundary import Partition
    from ..errors import SpecError
    check_operating_point(ir, v_op)
    if array_has_capacitance(ir):
        raise SpecError("network", "is 'reduced' for an array with capacitance (its network "
                        "depends on frequency)", "'auto' or 'full'")
    t0 = time.perf_counter()
    memory = MemoryGuard.resolve(memory)
    part = Partition(ir)
    idx = unknown_index(ir, part)
    cols = ir.cols
    if ir.nonlinear:
        from .noise_devices import small_signal_matrix
        matrix = small_signal_matrix(ir, v_op)
    else:
        from ..engines.nodal.stamps import conductance_matrix
        matrix = conductance_matrix(ir)
    # adjoint node voltages of every column on the unknowns, ground (-1) last:
    # (n_in + cols + 1, cols)
    u, y, solver = reduce_onto_columns(ir, matrix, part, memory, None if ir.nonlinear else spec)
    t_red = time.perf_counter() - t0
    vg, p1, out = np.arange(cols), cols + np.arange(cols), 2 * cols + np.arange(cols)
    from ..engines.nodal.threads import python_workers
    workers = python_workers()
    covs = [fold(src, u, vg, workers) for src in
            array_sources(ir, idx, temperature_k, cell_currents, flicker_kf, v_op)]
    del u
    (gr, gc, gv), (cr, cc, cv), readout_sources = readout_stamps(readout, vg, p1, out,
                                                                 temperature_k)
    cat = np.concatenate
    n = 3 * cols
    g = sp.coo_matrix((cat(gv), (cat(gr), cat(gc))), shape=(n, n)).tocsr()
    c = sp.coo_matrix((cat(cv) if cv else np.zeros(0), (cat(cr) if cr else np.zeros(0, int),
                       cat(cc) if cc else np.zeros(0, int))), shape=(n, n)).tocsr()
    info = {"solver": solver, "reduction_s": t_red,
            "fold_s": time.perf_counter() - t0 - t_red}
    if not ir.nonlinear:
        info["twiss_residual"] = twiss_residual(covs, y, temperature_k)
    return ReducedNetwork(y, g, c, out, vg, tuple(covs + readout_sources), info)


def fold(src: Sources, u: np.ndarray, vg: np.ndarray, workers: int = 1) -> Covariance:
    """``src``'s covariance of the columns' short-circuit currents: ``A^T diag(S) A`` with
    ``A = u[p] - u[n]`` ``(m, cols)``, as ``B^T B`` with ``B = sqrt(S) A`` gathered
    :data:`SOURCE_BLOCK` rows at a time by one compiled pass (the densities are >= 0;
    OpenBLAS's general product ran 6-8x faster than its symmetric rank-k update here);
    the blocks shared among ``workers`` threads, each with BLAS on one thread, their sums
    added."""
    cols = u.shape[1]
    parts = {"white": src.white, "flicker": src.flicker}
    live = [k for k, w in parts.items() if np.any(w != 0)]
    roots = {k: np.sqrt(parts[k]) for k in live}
    starts = list(range(0, src.p.size, SOURCE_BLOCK))

    def partial(mine: list) -> dict:
        out = {k: np.zeros((cols, cols)) for k in live}
        b_buf = np.empty((SOURCE_BLOCK, cols))
        for a0 in mine:
            sl = slice(a0, a0 + SOURCE_BLOCK)
            m = src.p[sl].size
            for k in live:    # sqrt(S) (u[p] - u[n]) in one compiled pass
                b = b_buf[:m]
                scaled_differences(u, src.p[sl], src.n[sl], roots[k][sl], b)
                out[k] += b.T @ b
        return out

    from ..engines.nodal.row_kernels import scaled_differences
    from ..engines.nodal.threads import on_workers
    sums = on_workers(partial, [starts[w::workers] for w in range(workers)], workers)
    out = {k: np.zeros((cols, cols)) for k in parts}
    for k in live:
        total = sum(p[k] for p in sums)
        out[k] = 0.5 * (total + total.T)
    return Covariance(src.category, vg, out["white"], out["flicker"])


def twiss_residual(covs: list, y: np.ndarray, temperature_k: float) -> float:
    """``max |sum_thermal K - 4 k T (Y + Y^T) / 2| / max |4 k T Y|``: every source of a linear
    array is a resistor's ``4 k T / R``, so their covariance is ``4 k T Y`` (Twiss)."""
    ref = 4.0 * K_BOLTZMANN * temperature_k * 0.5 * (y + y.T)
    total = sum(k.white for k in covs if k.category != "cells (1/f)")
    return float(np.abs(total - ref).max() / max(np.abs(ref).max(), np.finfo(float).tiny))


def reduce_onto_columns(ir: CircuitIR, matrix: sp.csr_matrix, part, memory, spec=None):
    """``(U (n_inner + cols + 1, cols), Y (cols, cols) S, solver)``: the adjoint node voltages
    of every column on the inner nodes (``-L_oo^-T L_so^T``), the columns (identity) and
    ground (0), and the Schur complement ``L_ss - L_so L_oo^-1 L_os`` of ``matrix``
    ``(n_nodes, n_nodes)`` onto the columns (their sense nodes merged). ``U`` is the one
    array of that size (its inner rows hold ``W = L_oo^-T L_so^T`` until negated).
    ``spec``: the passive spec ``ir`` was elaborated from, for the grid's compiled kernels."""
    from ..engines.nodal.linear import check_direct_memory
    from ..engines.transient.boundary import DENSE_SCHUR_MAX
    from ..engines.transient.partition import SPD_LU, sense_map
    from ..engines.transient.probing import choose_probing
    ps = sp.csr_matrix(sense_map(ir))
    s, o = part.sense, part.inner
    m = matrix.tocsr()
    l_ss = (ps.T @ m[s][:, s] @ ps).toarray()
    l_os = (m[o][:, s] @ ps).tocsc()
    l_so = (ps.T @ m[s][:, o]).tocsr()
    cols = ir.cols
    memory.require(8 * (o.size + cols + 1) * cols, f"the columns' adjoint voltages "
                   f"({o.size} inner nodes x {cols} columns)", "use a smaller array or tiles")
    u = np.zeros((o.size + cols + 1, cols))
    u[o.size:o.size + cols] = np.eye(cols)
    if o.size == 0:
        return u, l_ss, "no inner nodes"
    w = u[:o.size]
    solver = None
    probing = not ir.nonlinear and choose_probing(ir, o.size, memory)
    if not ir.nonlinear and spec is not None:
        solver = _grid_probes(spec, ir, m, part, memory, w,
                              probing or ir.rows * ir.cols >= GRID_PROBE_CELLS)
        if solver is not None:  # w holds the node voltages -W already
            return u, l_ss + (l_os.T @ w).T, solver
    if solver is None and probing:
        solver = _lines(ir, o, l_os, memory, w)
    if solver is None and o.size <= DENSE_SCHUR_MAX:
        l_oo = m[o][:, o].toarray()
        w[:] = np.linalg.solve(l_oo.T, l_so.T.toarray())
        solver = "dense LU of the array's inner nodes"
    elif solver is None:
        import scipy.sparse.linalg as spla
        check_direct_memory(o.size, cols, memory, what="the noise network's reduction (LU of "
                            "the array's inner nodes)", advice="use a smaller array or tiles")
        symmetric = not ir.nonlinear
        lu = spla.splu(m[o][:, o].tocsc(),
                       **(SPD_LU if symmetric else dict(permc_spec="MMD_AT_PLUS_A")))
        rhs = l_so.T.tocsc()
        for a in range(0, cols, LU_RHS_BLOCK):   # (SuperLU solves a block of columns at once)
            w[:, a:a + LU_RHS_BLOCK] = lu.solve(rhs[:, a:a + LU_RHS_BLOCK].toarray(),
                                                trans="N" if symmetric else "T")
        solver = "sparse LU of the array's inner nodes, one solve per column"
    y = l_ss - (l_os.T @ w).T
    np.negative(w, out=w)
    return u, y, solver


def _lines(ir: CircuitIR, o: np.ndarray, l_os: sp.csc_matrix, memory, w: np.ndarray):
    """``L_oo^-1 L_os`` by the line solver (a linear, symmetric array), in chunks of columns,
    into ``w`` ``(n_inner, cols)``; returns the solver's name, None where the array is not
    made of lines."""
    from ..engines.nodal.grid import chunk_vectors, grid_memory_bytes
    from ..engines.nodal.lines import line_structure, solve_lines
    system = line_structure(ir, o)
    if isinstance(system, str):
        return None
    cols = ir.cols
    chunk = chunk_vectors(ir.rows, ir.cols, cols)
    memory.require(grid_memory_bytes(ir.rows, ir.cols, chunk),
                   f"the line solver's probes of {ir.rows}x{ir.cols} cells",
                   "use a smaller array or tiles")
    for a in range(0, cols, chunk):
        w[:, a:a + chunk], _ = solve_lines(system, l_os[:, a:a + chunk].toarray())
    return "line solver (conjugate gradients over the lines), one probe per column"


def _grid_probes(spec, ir: CircuitIR, m: sp.csr_matrix, part, memory, w: np.ndarray,
                 allow_cg: bool = True):
    """The node voltages ``-L_oo^-1 L_os`` on the spec's grid: each column's bit line driven
    from its sense node at 1 V, by the block elimination (:mod:`.grid_sweep`) where it fits
    in memory, else (``allow_cg``) the grid solver's compiled conjugate gradients (the same
    as :func:`_lines` on the spec's own layout, about twice as fast a probe); the IR's
    series nodes (between a driver or sense resistance and its end segment) follow from
    their own KCL. Writes ``w`` ``(n_inner, cols)``; returns the solver's name, None where
    the grid does not take ``spec``."""
    import scipy.sparse.linalg as spla

    from ..engines.nodal.grid import _Grid, chunk_vectors, grid_memory_bytes, grid_reason
    from ..engines.nodal.grid_sweep import sweep_memory_bytes
    from ..engines.nodal.lines import DEFAULT_RTOL, schur_cg
    from ..engines.transient.partition import sense_map
    if grid_reason(spec) is not None:
        return None
    grid = _Grid(spec)
    if grid.ideal_w or grid.ideal_b:
        return None
    rows, cols = ir.rows, ir.cols
    o = part.inner
    pos = np.full(ir.n_nodes, -1)
    pos[o] = np.arange(o.size)
    on_grid = np.concatenate([pos[ir.wl_node].ravel(), pos[ir.bl_node].ravel()])
    if np.any(on_grid < 0):
        return None
    off_grid = np.ones(o.size, bool)
    off_grid[on_grid] = False
    rest = np.flatnonzero(off_grid)
    u = w  # filled with the node voltages (-W)
    chunk = min(cols, max(1, SWEEP_CHUNK_BYTES // (8 * 4 * rows * cols)))
    if sweep_memory_bytes(rows, cols, chunk) + u.nbytes <= memory.limit_bytes:  # (beside u)
        how = "grid solver (block elimination line by line, direct), all columns at once"
        _sweep_probes(grid, pos, ir, u, chunk)
    elif not allow_cg:
        return None
    else:
        how = "grid solver (conjugate gradients over the lines, compiled), one probe per column"
        chunk = chunk_vectors(rows, cols, cols)
        memory.require(grid_memory_bytes(rows, cols, chunk),
                       f"the grid solver's probes of {rows}x{cols} cells",
                       "use a smaller array or tiles")
        for a in range(0, cols, chunk):
            k = np.arange(a, min(a + chunk, cols))
            f_b = np.ascontiguousarray(_probe_currents(grid, k).transpose(2, 0, 1))
            x_w, x_b, _ = schur_cg(grid, np.zeros_like(f_b), f_b, DEFAULT_RTOL)
            u[on_grid, a:a + k.size] = np.concatenate(
                [x_w.reshape(k.size, -1), x_b.reshape(k.size, -1)], axis=1).T
    if rest.size:  # series nodes: L_rr u_r = -(L_rg u_g + L_rs e)
        m_o = m[o]
        l_rr = m_o[rest][:, o[rest]].tocsc()
        drive = m_o[rest][:, o] @ u + \
            (m_o[rest][:, part.sense] @ sp.csr_matrix(sense_map(ir))).toarray()
        u[rest] = -spla.splu(l_rr).solve(np.asarray(drive))
    return how


def _sweep_probes(grid, pos: np.ndarray, ir: CircuitIR, u: np.ndarray, chunk: int) -> None:
    """Every column's probe by :class:`.grid_sweep.GridSweep`, ``chunk`` columns a solve,
    written straight into ``u``'s word- and bit-line rows where the IR numbers them row
    by row (it does), else gathered there."""
    from ..engines.nodal.grid_sweep import GridSweep
    from ..engines.nodal.threads import python_workers
    rows, cols = ir.rows, ir.cols
    sweep = GridSweep(grid, python_workers())
    p_w, p_b = pos[ir.wl_node], pos[ir.bl_node]
    rc = rows * cols
    in_place = (np.array_equal(p_w.ravel(), np.arange(rc))
                and np.array_equal(p_b.ravel(), rc + np.arange(rc)))
    for a in range(0, cols, chunk):
        k = np.arange(a, min(a + chunk, cols))
        f_b = _probe_currents(grid, k)
        if in_place:   # (splitting u's row axis into (rows, cols) is always a view)
            sweep.solve(None, f_b, u[:rc, k[0]:k[-1] + 1].reshape(rows, cols, k.size),
                        u[rc:2 * rc, k[0]:k[-1] + 1].reshape(rows, cols, k.size),
                        rhs_rows=(0, rows - 1))
        else:
            x_w, x_b = sweep.solve(None, f_b, rhs_rows=(0, rows - 1))
            u[p_w.ravel(), k[0]:k[-1] + 1] = x_w.reshape(rc, k.size)
            u[p_b.ravel(), k[0]:k[-1] + 1] = x_b.reshape(rc, k.size)


def _probe_currents(grid, k: np.ndarray) -> np.ndarray:
    """``(rows, cols, len(k))`` A: the probes of columns ``k``, each column's sense node
    at 1 V driving its bit line's end segments (``g_bottom``, ``g_top``)."""
    rows, cols = grid.g.shape
    f_b = np.zeros((rows, cols, k.size))
    f_b[-1, k, np.arange(k.size)] += grid.g_bottom[k]
    f_b[0, k, np.arange(k.size)] += grid.g_top[k]
    return f_b
