"""The small-signal network of an array and its readout, and the transfer of every noise
source to every column's output (the pure core of :mod:`.noise`).

Unknowns: the array's inner nodes, then per column its virtual ground ``vg_j`` (every
sense node of the column, shorted to it by the 0 V ammeter), the op-amp's internal node
``p1_j`` and its output ``out_j``. Held nodes (ground, word-line drivers, gate lines, the
op-amp's non-inverting input at ``v_ref``) are AC ground. The op-amp is the small-signal
circuit of ``models/opamp.lib``: a 1 S transconductance from ``(v_ref - vg)`` into ``p1``,
``a0`` ohm (and for ``macro`` ``1 / (2 pi gbw)`` farad) from ``p1`` to ground, a unity
buffer and ``r_out`` to ``out``; the rail clamp is inactive (its slope is
``exp(-distance / v_smooth)``, nil away from the rails). Its resistors ``a0`` and ``r_out``
make thermal noise (category "op-amp model resistors": what ngspice's ``.noise`` of the
same subcircuit has; negligible beside ``e_n`` of a real op-amp). Feedback: ``c_int`` (the reset
switch open: no conductance at all) or ``r_f``.

Noise sources are current sources between two unknowns (or ground) with a one-sided
spectral density ``S(f) = white + flicker / f`` (A^2/Hz). The output spectrum of column
``j`` is ``sum_k |x_j[p_k] - x_j[n_k]|^2 S_k(f)`` with ``Y(f)^T x_j = e_out_j`` (one
adjoint solve per column and frequency, on one sparse LU of ``Y = G + j 2 pi f C`` in its
real form).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..circuit.ir import CAPACITOR, CircuitIR
from ..errors import SpecError

#: Boltzmann constant, J/K (CODATA 2018, exact).
K_BOLTZMANN = 1.380649e-23
#: Elementary charge, C (exact).
Q_ELECTRON = 1.602176634e-19


#: Element-name prefixes of the memory element of a cell (its 1/f noise).
MEMORY_PREFIXES = ("rcell", "bcell", "xcell", "ncell")


def category_of(prefix: str) -> str:
    """Noise category of a resistor group prefix (element-name prefix of the IR)."""
    if prefix.startswith("rwl"):
        return "word-line wires"
    if prefix.startswith("rbl"):
        return "bit-line wires"
    if prefix.startswith("rdrv"):
        return "driver resistance"
    if prefix.startswith("rsense"):
        return "sense resistance"
    if prefix.startswith("rgl"):
        return "gate-line wires"
    return "cells (thermal)"


@dataclass(frozen=True, eq=False)
class Sources:
    """Noise current sources of one category: into ``p`` and out of ``n`` (unknown index,
    -1 for ground), one-sided density ``white + flicker / f`` A^2/Hz, shape ``(m,)`` each."""

    category: str
    p: np.ndarray
    n: np.ndarray
    white: np.ndarray
    flicker: np.ndarray

    def density(self, f: float) -> np.ndarray:
        return self.white + self.flicker / f

    def output(self, x: np.ndarray, f: float) -> np.ndarray:
        """``(k,)`` V^2/Hz at the outputs whose adjoint transfers are ``x`` ``(n + 1, k)``."""
        h = x[self.p] - x[self.n]            # (m, k) V per A
        return (np.abs(h) ** 2).T @ self.density(f)


@dataclass(frozen=True, eq=False)
class Network:
    """``Y(f) = g + j 2 pi f c`` over the unknowns, the outputs and the noise sources.

    Attributes:
        g, c: ``(n, n)`` csr, S and F.
        out: ``(cols,)`` unknown index of each column's op-amp output.
        vg: ``(cols,)`` unknown index of each column's virtual ground.
        sources: one :class:`Sources` per category, in report order.
    """

    g: sp.csr_matrix
    c: sp.csr_matrix
    out: np.ndarray
    vg: np.ndarray
    sources: tuple

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(s.category for s in self.sources)

    def _adjoint(self, f: float, columns: np.ndarray) -> np.ndarray:
        """``(n + 1, k)``: the transfer (V/A) from a current injected into each unknown to
        each column's output at frequency ``f`` (up to a common conjugation, which no
        magnitude sees); the last row (index -1) is ground.

        ``Y = G + j w C`` is solved in its real form ``[[G, -wC], [wC, G]]`` with each
        node's real and imaginary parts side by side: SuperLU factors that about 10x
        faster than the complex matrix of the same pattern (measured, 64x64 array). Its
        transpose is the real form of ``Y^H``, so ``M^T y = e`` gives ``conj(x)``."""
        import scipy.sparse.linalg as spla
        n = self.g.shape[0]
        wc = (2 * np.pi * f) * self.c
        m = sp.bmat([[self.g, -wc], [wc, self.g]]).tocsr()
        order = np.empty(2 * n, dtype=np.int64)
        order[0::2], order[1::2] = np.arange(n), np.arange(n) + n
        m = m[order][:, order].tocsc()
        e = np.zeros((2 * n, columns.size))
        e[2 * self.out[columns], np.arange(columns.size)] = 1.0
        y = spla.splu(m, permc_spec="MMD_AT_PLUS_A").solve(e, trans="T")
        return np.vstack([y[0::2] + 1j * y[1::2], np.zeros((1, columns.size))])

    def column_transfer(self, f: float, columns: np.ndarray) -> np.ndarray:
        """``(k,)`` complex V/A: a current into column ``j``'s virtual ground to its output."""
        return self._adjoint(f, columns)[self.vg[columns], np.arange(columns.size)]

    def spectra(self, freqs: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """Output noise densities, shape ``(len(columns), n_categories, len(freqs))`` V^2/Hz."""
        out = np.zeros((columns.size, len(self.sources), freqs.size))
        for k, f in enumerate(freqs):
            x = self._adjoint(float(f), columns)
            for m, src in enumerate(self.sources):
                out[:, m, k] = src.output(x, float(f))
        return out


def build_network(ir: CircuitIR, readout, temperature_k: float,
                  cell_currents: np.ndarray | None = None, flicker_kf: float = 0.0,
                  v_op: np.ndarray | None = None) -> Network:
    """The small-signal network of array ``ir`` with ``readout`` on every column.

    ``cell_currents``: ``(rows, cols)`` A, the cells' operating-point currents (for the
    1/f term ``S = kf I^2 / f``); needed only when ``flicker_kf > 0``.
    ``v_op``: ``(n_nodes,)`` V, the DC operating point of a nonlinear ``ir``
    (:func:`.noise_devices.operating_point`): the array is linearised there and each
    device gets its noise source (:mod:`.noise_devices`). A linear ``ir`` needs none.
    """
    from ..engines.transient.boundary import Partition
    check_operating_point(ir, v_op)
    part = Partition(ir)
    cols = ir.cols
    idx = unknown_index(ir, part)
    n_in = part.inner.size
    vg = n_in + np.arange(cols)
    p1 = n_in + cols + np.arange(cols)
    out = n_in + 2 * cols + np.arange(cols)
    n = n_in + 3 * cols
    gr, gc, gv, cr, cc, cv = [], [], [], [], [], []
    if ir.nonlinear:  # the Newton Jacobian at the operating point (resistors included)
        from .noise_devices import small_signal_matrix
        jac = small_signal_matrix(ir, v_op).tocoo()
        r, c = idx[jac.row], idx[jac.col]
        ok = (r >= 0) & (c >= 0)
        gr.append(r[ok]); gc.append(c[ok]); gv.append(jac.data[ok])
    else:
        for grp in ir.resistors:
            _two_terminal(gr, gc, gv, idx[grp.node_p], idx[grp.node_n], 1.0 / grp.value)
    for grp in ir.capacitors:
        if grp.kind != CAPACITOR:
            continue
        _two_terminal(cr, cc, cv, idx[grp.node_p], idx[grp.node_n], grp.value)
    rg, rc, readout_sources = readout_stamps(readout, vg, p1, out, temperature_k)
    for lists, extra in ((gr, gc, gv), rg), ((cr, cc, cv), rc):
        for dst, src in zip(lists, extra):
            dst += src
    cat_ = np.concatenate
    g = sp.coo_matrix((cat_(gv), (cat_(gr), cat_(gc))), shape=(n, n)).tocsr()
    c = sp.coo_matrix((cat_(cv) if cv else np.zeros(0), (cat_(cr) if cr else np.zeros(0, int),
                       cat_(cc) if cc else np.zeros(0, int))), shape=(n, n)).tocsr()
    sources = array_sources(ir, idx, temperature_k, cell_currents, flicker_kf, v_op)
    return Network(g, c, out, vg, tuple(sources + readout_sources))


def check_operating_point(ir: CircuitIR, v_op) -> None:
    if ir.nonlinear and v_op is None:
        raise SpecError("v_op", "is None for an array with nonlinear cells",
                        "its DC operating point, noise_devices.operating_point(ir, x, v_ref)")


def unknown_index(ir: CircuitIR, part) -> np.ndarray:
    """``(n_nodes,)``: each node's unknown (the partition's inner nodes first, then one
    virtual ground per column for its sense nodes); -1 for held nodes (AC ground)."""
    idx = np.full(ir.n_nodes, -1)
    idx[part.inner] = np.arange(part.inner.size)
    idx[ir.senses.node_p] = part.inner.size + ir.sense_col
    return idx


def _two_terminal(rows, cols_, vals, a, b, y):
    """Append the COO stamps of admittances ``y`` between unknowns ``a`` and ``b`` (-1: ground)."""
    for (r, c, s) in ((a, a, 1.0), (b, b, 1.0), (a, b, -1.0), (b, a, -1.0)):
        ok = (r >= 0) & (c >= 0)
        rows.append(r[ok]); cols_.append(c[ok]); vals.append(s * y[ok])


#: Report order of the array's source categories.
ARRAY_CATEGORIES = ("cells (thermal)", "cells (shot)", "access transistors", "word-line wires",
                    "bit-line wires", "gate-line wires", "driver resistance", "sense resistance")


def array_sources(ir: CircuitIR, idx: np.ndarray, temperature_k: float,
                  cell_currents: np.ndarray | None, flicker_kf: float,
                  v_op: np.ndarray | None) -> list:
    """The array's noise sources (:class:`Sources` on the unknowns ``idx[node]``), one per
    category present, in report order, then the cells' 1/f term if ``flicker_kf > 0``."""
    four_kt = 4.0 * K_BOLTZMANN * temperature_k
    by_cat: dict[str, list] = {}
    if ir.nonlinear:
        from .noise_devices import device_sources
        for cat, p_, n_, law, x in device_sources(ir, v_op):
            w = 2.0 * Q_ELECTRON * x if law == "shot" else four_kt * x
            by_cat.setdefault(cat, []).append((idx[p_], idx[n_], w))
    for grp in ir.resistors:
        a, b, y = idx[grp.node_p], idx[grp.node_n], 1.0 / grp.value
        if isinstance(grp.prefix, str):   # one prefix for the group: one category
            by_cat.setdefault(category_of(grp.prefix), []).append((a, b, four_kt * y))
            continue
        names, which = np.unique(np.asarray(grp.prefix), return_inverse=True)
        cats = np.array([category_of(str(p)) for p in names])[which]
        for cat in np.unique(cats):
            k = cats == cat
            by_cat.setdefault(str(cat), []).append((a[k], b[k], four_kt * y[k]))
    sources = []
    for cat in ARRAY_CATEGORIES:
        if cat in by_cat:
            a, b, w = (np.concatenate(x) for x in zip(*by_cat[cat]))
            sources.append(Sources(cat, a, b, w, np.zeros_like(w)))
    if flicker_kf > 0:
        if cell_currents is None:
            raise SpecError("flicker_kf", "needs the cells' operating point", "cell_currents")
        # the memory element: the linear one (passive, 1S1R, 1T1R), else the cell's device
        cell = next(grp for grp in (*ir.resistors, *ir.devices)
                    if isinstance(grp.prefix, str) and grp.prefix in MEMORY_PREFIXES)
        i = np.asarray(cell_currents)[cell.labels[:, 0], cell.labels[:, 1]]
        sources.append(Sources("cells (1/f)", idx[cell.node_p], idx[cell.node_n],
                               np.zeros(len(cell)), flicker_kf * i ** 2))
    return sources


def readout_stamps(readout, vg: np.ndarray, p1: np.ndarray, out: np.ndarray,
                   temperature_k: float) -> tuple[tuple, tuple, list]:
    """The readouts on unknowns ``vg``, ``p1``, ``out`` ``(cols,)`` each: COO triplets
    ``(rows, cols, values)`` (lists of arrays) of ``G`` (S) and ``C`` (F), and their noise
    sources in report order (see the module docstring)."""
    four_kt = 4.0 * K_BOLTZMANN * temperature_k
    op = readout.opamp
    cols = vg.size
    one = np.ones(cols)
    # op-amp: 1 S from (v_ref - vg) into p1 (KCL at p1: + vg), a0 ohm, pole capacitor
    gr, gc = [p1, p1, out, out], [vg, p1, out, p1]
    gv = [one, one / op.a0, one / op.r_out, -one / op.r_out]
    cr, cc, cv = [], [], []
    if op.kind == "macro":
        cr.append(p1); cc.append(p1); cv.append(one / (2 * np.pi * op.gbw_hz))
    if readout.kind == "integrator":
        _two_terminal(cr, cc, cv, vg, out, np.full(cols, readout.c_int_f))
    else:
        _two_terminal(gr, gc, gv, vg, out, np.full(cols, 1.0 / readout.r_f_ohm))
    sources = []
    if op.en_v_rthz > 0:  # v_ref + e_n at the non-inverting input: 1 S * e_n into p1
        sources.append(Sources("op-amp voltage noise", p1, np.full(cols, -1),
                               np.full(cols, op.en_v_rthz ** 2), np.zeros(cols)))
    if op.in_a_rthz > 0:
        sources.append(Sources("op-amp current noise", vg, np.full(cols, -1),
                               np.full(cols, op.in_a_rthz ** 2), np.zeros(cols)))
    # the macromodel's own resistors (a0 ohm at p1, r_out at the output), as ngspice has them
    sources.append(Sources("op-amp model resistors", np.concatenate([p1, out]),
                           np.full(2 * cols, -1), np.concatenate(
                               [np.full(cols, four_kt / op.a0), np.full(cols, four_kt / op.r_out)]),
                           np.zeros(2 * cols)))
    if readout.kind == "tia":
        sources.append(Sources("feedback resistor", vg, out,
                               np.full(cols, four_kt / readout.r_f_ohm), np.zeros(cols)))
    return (gr, gc, gv), (cr, cc, cv), sources
