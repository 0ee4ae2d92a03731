"""The Newton system's structure, fixed once: where every device stamps, and the Jacobian's pattern.

A nonlinear readout solves the array at every time point (a Newton solve and a Schur
complement), and a Newton iteration on a small array costs mostly the construction of
sparse matrices, not arithmetic. Here the structure is computed once per system:

* :class:`DeviceStamps`: every nonlinear device group's terminal nodes and Jacobian
  positions (from the stamp functions of :mod:`.stamps`, called once), and per evaluation
  only the values, one vectorised call per group (a level-1 card's parameters resolved once).
* :class:`JacobianPattern`: the union of the resistor and device entries as one CSC
  pattern on the unknowns (sorted column-major), with each triplet's index into its data
  vector; an evaluation fills the data with ``np.bincount`` (duplicates summed), and
  :meth:`JacobianPattern.block` gives any sub-block's data by one precomputed gather.

The values are the same sums the COO construction formed (to the order of summation).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ...circuit.ir import DEVICE, NMOS, SINH, CircuitIR
from ...circuit.iv_models import level1_params, mos1_ids, sinh_iv
from .stamps import device_table, mos_is_level1, stamp_device, stamp_nmos, stamp_sinh
from .tables import Level1StandIn, Table2D


def _level1(g):
    """A level-1 group's parameters as :func:`.stamps.stamp_nmos` picks them (None: a table)."""
    if isinstance(g.table, Table2D):
        return None
    if isinstance(g.table, Level1StandIn):
        return level1_params(g.table.card, g.temperature_k)
    if mos_is_level1(g):
        return level1_params(str(g.model), g.temperature_k)
    return None  # stamp_nmos refuses it (called once in DeviceStamps)


class DeviceStamps:
    """Every nonlinear device of an IR, its node positions fixed.

    Attributes:
        inj_nodes: ``(k,)`` node of each current :meth:`evaluate` returns.
        rows, cols: ``(m,)`` node indices of each Jacobian value it returns.
    """

    def __init__(self, ir: CircuitIR):
        self.sinh = [g for g in ir.devices if g.kind == SINH]
        self.nmos = [g for g in ir.devices if g.kind == NMOS]
        self.tabled = [g for g in ir.devices if g.kind == DEVICE]
        for g in self.tabled:
            device_table(g)  # refuse a user device without its table before any work
        inj, rows, cols = [], [], []
        for g in self.sinh:
            _, r, c, _ = stamp_sinh(g, np.zeros(g.node_p.size))
            inj += [g.node_p, g.node_n]; rows.append(r); cols.append(c)
        self.params = []
        for g in self.nmos:
            z = np.zeros(g.node_p.size)
            _, _, r, c, _ = stamp_nmos(g, z, z, z)  # refuses what Newton cannot follow
            self.params.append(_level1(g))
            inj += [g.node_p, g.node_n]; rows.append(r); cols.append(c)
        for g in self.tabled:
            z = np.zeros(g.node_p.size)
            _, _, r, c, _ = stamp_device(g, z, z)
            inj += [g.node_p, g.node_n]; rows.append(r); cols.append(c)
        empty = np.zeros(0, dtype=np.int64)
        self.inj_nodes = np.concatenate(inj) if inj else empty
        self.rows = np.concatenate(rows) if rows else empty
        self.cols = np.concatenate(cols) if cols else empty

    def evaluate(self, v: np.ndarray, v_lim: list[np.ndarray] | None, jacobian: bool = True):
        """``(currents (k,) A into inj_nodes, Jacobian values (m,) S or None)`` at node
        voltages ``v`` ``(n_nodes,)``; sinh devices linearised at ``v_lim`` (their companion
        model, as :mod:`.newton`), None: at ``v``."""
        cur, vals = [], []
        for k, g in enumerate(self.sinh):
            vdev = v[g.node_p] - v[g.node_n]
            vl = vdev if v_lim is None else v_lim[k]
            i, gd = sinh_iv(vl, g.value, g.param)
            i_lin = i + gd * (vdev - vl) if v_lim is not None else i
            cur += [i_lin, -i_lin]
            vals += [gd, gd, -gd, -gd]
        for g, p in zip(self.nmos, self.params):
            vd, vs = v[g.node_p], v[g.node_n]
            if p is None:
                i_d, i_s, _, _, y = stamp_nmos(g, vd, v[g.node_g], vs)
                cur += [i_d, i_s]
                vals.append(y)
                continue
            i, dd, dg, ds = mos1_ids(vd, v[g.node_g], vs, 0.0, g.value, g.param, p)
            cur += [i, -i]
            vals += [dd, dg, ds, -dd, -dg, -ds]
        for g in self.tabled:
            i_p, i_n, _, _, y = stamp_device(g, v[g.node_p], v[g.node_n])
            cur += [i_p, i_n]
            vals.append(y)
        c = np.concatenate(cur) if cur else np.zeros(0)
        if not jacobian:
            return c, None
        return c, (np.concatenate(vals) if vals else np.zeros(0))


class JacobianPattern:
    """A fixed CSC pattern on ``m`` unknowns from triplet positions (``-1``: a held node,
    dropped); the first ``n_fixed`` triplets carry constant values (the resistors)."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray, m: int,
                 fixed_vals: np.ndarray):
        keep = (rows >= 0) & (cols >= 0)
        key = cols[keep].astype(np.int64) * m + rows[keep]
        uniq, inv = np.unique(key, return_inverse=True)
        self.m, self.nnz = m, uniq.size
        self.indices = (uniq % m).astype(np.int32)
        self.col_of = (uniq // m).astype(np.int64)
        self.indptr = np.zeros(m + 1, np.int32)
        np.cumsum(np.bincount(self.col_of, minlength=m), out=self.indptr[1:])
        self.pos = np.full(rows.size, self.nnz, np.int64)  # dropped entries: a spare slot
        self.pos[keep] = np.ravel(inv)
        nf = fixed_vals.size
        self._fixed_pos, self._dev_pos = self.pos[:nf], self.pos[nf:]
        self.base = np.bincount(self._fixed_pos, fixed_vals, minlength=self.nnz + 1)
        self._flat = self.indices.astype(np.int64) * m + self.col_of  # row-major dense index

    def data(self, dev_vals: np.ndarray) -> np.ndarray:
        """``(nnz,)`` the pattern's values with the devices' ``dev_vals`` added."""
        if dev_vals.size == 0:
            return self.base[:self.nnz].copy()
        return (self.base + np.bincount(self._dev_pos, dev_vals, minlength=self.nnz + 1))[:self.nnz]

    def csc(self, data: np.ndarray) -> sp.csc_matrix:
        """The ``(m, m)`` matrix of ``data`` (the pattern's own index arrays, not copied)."""
        return sp.csc_matrix((data, self.indices, self.indptr), shape=(self.m, self.m))

    def dense(self, data: np.ndarray) -> np.ndarray:
        """The ``(m, m)`` matrix of ``data`` as a dense array."""
        out = np.zeros(self.m * self.m)
        out[self._flat] = data
        return out.reshape(self.m, self.m)

    def block(self, r: np.ndarray, c: np.ndarray) -> "Block":
        """The sub-block on unknowns ``r`` (rows) and ``c`` (columns), in that order."""
        return Block(self, r, c)


class Block:
    """A sub-block of a :class:`JacobianPattern` on unknowns ``r`` (rows) and ``c`` (columns),
    in the order given (CSC of the block sorted once): its entries' positions gathered once."""

    def __init__(self, pat: JacobianPattern, r: np.ndarray, c: np.ndarray):
        rmap = np.full(pat.m, -1)
        rmap[r] = np.arange(r.size)
        cmap = np.full(pat.m, -1)
        cmap[c] = np.arange(c.size)
        br, bc = rmap[pat.indices], cmap[pat.col_of]
        kept = np.flatnonzero((br >= 0) & (bc >= 0))
        self.sel = kept[np.lexsort((br[kept], bc[kept]))]  # column-major, rows ascending
        self.shape = (r.size, c.size)
        self.rows, self.cols = br[self.sel], bc[self.sel]
        self.indices = self.rows.astype(np.int32)
        self.indptr = np.zeros(c.size + 1, np.int32)
        np.cumsum(np.bincount(self.cols, minlength=c.size), out=self.indptr[1:])

    def dense(self, data: np.ndarray) -> np.ndarray:
        out = np.zeros(self.shape)
        out[self.rows, self.cols] = data[self.sel]
        return out

    def csc(self, data: np.ndarray) -> sp.csc_matrix:
        return sp.csc_matrix((data[self.sel], self.indices, self.indptr), shape=self.shape)
