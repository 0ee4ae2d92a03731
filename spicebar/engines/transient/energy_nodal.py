"""The nodal engine's energy of every window, without the power of every element at every
time point kept or formed (the terms and signs of :mod:`.energy`).

Every element's energy over a window is the trapezoidal rule on the engine's time points,
``E_w = sum_t tau[w, t] p(t)`` (:func:`window_weights`: the weights of
:func:`.energy.integrate_windows`), taken two ways:

* **array without capacitance** (:func:`algebraic_energies`): its node voltages are a
  linear function of the voltages its sources hold, ``u(t)`` ``(n_t, n_fixed)``: the inputs
  (linear between breakpoints: the inputs at the breakpoints and their hat functions) and
  the virtual grounds (the op-amps' small, smooth errors: their SVD to :data:`RANK_REL`).
  ``u`` has few independent directions over a run (a 256x256 readout of two windows: 12
  breakpoints and 8 directions of the virtual grounds, of its 512 sources), so ``u = phi @
  psi``, the array is solved once per direction (row of ``psi``), and a resistor's
  energy is the quadratic form ``G d^T W_w d``: ``d`` its voltage per direction, ``W_w =
  phi^T diag(tau_w) phi`` the window's Gram matrix. A source's energy is the bilinear
  ``-a^T W_w c`` of its voltage ``a`` and the current its node sends into the elements
  ``c`` (KCL). The sums over time points become ``K x K`` matrices; no ``(time x
  elements)`` array is formed. Each direction is an exact solution of the array, so
  Tellegen's balance holds for every window to rounding.
* **array with wire capacitance** (:class:`WiredEnergy`): the stepper hands over its node
  voltages and capacitor currents at every time point (``append``); they are buffered in
  blocks of :data:`POWER_BLOCK_VALUES` values, turned into element powers and multiplied
  into the window weights there, so nothing of the run is kept beyond one block.

The readout's terms (per column, :func:`readout_energies`) are integrated the same way.
"""

from __future__ import annotations

import time

import numpy as np

from ...circuit.ir import CAPACITOR, RESISTOR, SINH, VSOURCE
from ...circuit.iv_models import sinh_iv
from ..energy import check_itemised
from .energy import window_bounds

#: Directions of the source voltages ``u(t)`` kept: singular values above this fraction of
#: the largest (the virtual grounds; the inputs too where they are not linear between the
#: schedule's breakpoints, else their breakpoints are the directions, exactly). A dropped
#: direction moves an element's energy by about twice its share of ``u``: 1e-12 of the
#: window's energy at most, far below the engines' 1e-4 and the balance's 1e-9 (the
#: balance does not depend on it: each kept direction is an exact solution of the array).
RANK_REL = 1e-12
#: The energy of a window keeps the eigen-directions of its Gram matrix ``W_w`` down to
#: this fraction of the largest (a direction's energy is its eigenvalue times ``|d|^2``).
GRAM_REL = 1e-15
#: Blocks of work hold at most this many float values (elements x directions, or time
#: points x nodes): 64 MB an array.
POWER_BLOCK_VALUES = 8_000_000
#: Arrays with at least this many unknown nodes are solved by the line solver
#: (:mod:`spicebar.engines.nodal.lines`, conjugate gradients to a 1e-13 residual) where
#: their structure allows; smaller ones (and other structures) by a sparse LU. Measured at
#: 256x256 (131 072 unknowns, load 4): LU 4.7 s and 0.38 s a direction; lines 3.9 s for 20.
LINES_MIN_UNKNOWNS = 20_000


def window_weights(t: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """``(len(bounds) - 1, n_t)``: ``tau @ p`` is :func:`.energy.integrate_windows` of ``p``
    (trapezoidal on ``t``; a bound between time points takes the cumulative integral's
    linear interpolation)."""
    n_t, n_w = t.size, bounds.size - 1
    if n_t < 2:
        return np.zeros((n_w, n_t))
    half = 0.5 * np.diff(t)
    b = np.clip(bounds, t[0], t[-1])
    k = np.clip(np.searchsorted(t, b, side="right") - 1, 0, n_t - 2)
    w = (b - t[k]) / (t[k + 1] - t[k])
    at = np.zeros((b.size, n_t))  # the cumulative integral at each bound, as weights on p
    for i, (kk, ww) in enumerate(zip(k, w)):
        at[i, :kk] += half[:kk]
        at[i, 1:kk + 1] += half[:kk]
        at[i, kk] += ww * half[kk]
        at[i, kk + 1] += ww * half[kk]
    return np.diff(at, axis=0)


def reduced_basis(u: np.ndarray, rel: float = RANK_REL) -> tuple[np.ndarray, np.ndarray]:
    """``(phi (n_t, r), psi (r, m))`` with ``u ~= phi @ psi`` for ``u`` ``(n_t, m)``:
    ``psi`` the right singular vectors above ``rel`` of the largest singular value."""
    n_t, m = u.shape
    if not n_t or not m or not np.any(u):
        return np.zeros((n_t, 0)), np.zeros((0, m))
    r = np.linalg.qr(u, mode="r") if n_t > m else u  # (the same right singular vectors)
    _, s, vt = np.linalg.svd(r, full_matrices=False)
    psi = vt[: int((s > rel * s[0]).sum())]
    return u @ psi.T, psi


def source_incidence(ir):
    """``(nodes, slot, touch)``: the nodes sources hold ``(n_src,)``, each node's index among
    them (-1 elsewhere) ``(n_nodes,)``, and per group of ``ir.groups`` a sparse ``(len(group),
    n_src)`` matrix, +1 where an element's ``p`` end is at a source node, -1 its ``n`` end:
    ``i @ touch`` is the current each source node sends into that group's elements."""
    import scipy.sparse as sp
    is_src = np.zeros(ir.n_nodes, bool)
    for g in ir.groups:
        if g.kind == VSOURCE:
            is_src[g.node_p] = True
    nodes = np.flatnonzero(is_src)
    slot = np.full(ir.n_nodes, -1)
    slot[nodes] = np.arange(nodes.size)
    touch = []
    for g in ir.groups:
        rows, cols, vals = [], [], []
        for ends, sign in ((g.node_p, 1.0), (g.node_n, -1.0)):
            at = np.flatnonzero(slot[ends] >= 0)
            rows.append(at)
            cols.append(slot[ends[at]])
            vals.append(np.full(at.size, sign))
        touch.append(sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows),
                                    np.concatenate(cols))), shape=(len(g.names), nodes.size)))
    return nodes, slot, touch


def _fixed_nodes(ir) -> np.ndarray:
    """The nodes sources hold, in :func:`spicebar.engines.nodal.stamps.fixed_voltages`'
    order: ground, drivers, senses, gates."""
    gates = [] if ir.gates is None else [ir.gates.node_p]
    return np.concatenate([[0], ir.drivers.node_p, ir.senses.node_p, *gates]).astype(np.int64)


def _solve_directions(ir, fixed: np.ndarray, held: np.ndarray) -> np.ndarray:
    """Node voltages ``(K, n_nodes)`` of the array without capacitance with its fixed nodes
    at each row of ``held`` ``(K, n_fixed)`` V (one solve per row)."""
    import scipy.sparse.linalg as spla

    from ..nodal.lines import line_structure, solve_lines
    from ..nodal.stamps import conductance_matrix
    x = np.zeros((held.shape[0], ir.n_nodes))
    x[:, fixed] = held
    is_fixed = np.zeros(ir.n_nodes, bool)
    is_fixed[fixed] = True
    unknown = np.flatnonzero(~is_fixed)
    if not unknown.size or not held.shape[0]:
        return x
    lap = conductance_matrix(ir).tocsr()
    rhs = -(lap[unknown][:, fixed] @ held.T)  # (n_unknown, K)
    system = line_structure(ir, unknown) if unknown.size >= LINES_MIN_UNKNOWNS else "small"
    if isinstance(system, str):
        x[:, unknown] = np.atleast_2d(spla.splu(lap[unknown][:, unknown].tocsc()).solve(rhs).T)
    else:
        x[:, unknown] = solve_lines(system, rhs)[0].T
    return x


def _gram_factors(phi: np.ndarray, tau: np.ndarray) -> list[np.ndarray]:
    """Per window ``M_w`` ``(k_w, K)`` with ``M_w^T M_w = phi^T diag(tau_w) phi`` (its
    eigen-directions above :data:`GRAM_REL`; ``tau >= 0`` on ordered windows)."""
    out = []
    for tw in tau:
        gram = phi.T @ (tw[:, None] * phi)
        lam, q = np.linalg.eigh(0.5 * (gram + gram.T))
        top = lam.max(initial=0.0)
        keep = lam > GRAM_REL * top if top > 0 else np.zeros(lam.size, bool)
        out.append(np.sqrt(lam[keep])[:, None] * q[:, keep].T)
    return out


def _input_basis(ir, schedule, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(phi (n_t, r), psi (r, n_drivers + n_gates))``: the drivers' and gates' voltages
    ``phi @ psi``. Inputs linear between the schedule's breakpoints (every corner of every
    row one of them): ``psi`` the inputs at the breakpoints, ``phi`` their hat functions
    (exact, no factorisation); otherwise :func:`reduced_basis` of the inputs at ``t``."""
    from .timegrid import rows_at
    n_t = t.size
    gates = np.zeros(0) if ir.gates is None else np.asarray(ir.gates.value, float)
    bp = schedule.breakpoints()
    if bp.size < 2 or not all(np.isin(np.asarray(rt), bp).all() for rt in schedule.row_t):
        u = np.concatenate([rows_at(schedule, t)[:, ir.driver_row],
                            np.repeat(gates[None], n_t, 0)], 1)
        return reduced_basis(u)
    k = np.clip(np.searchsorted(bp, t, side="right") - 1, 0, bp.size - 2)
    w = (np.clip(t, bp[0], bp[-1]) - bp[k]) / (bp[k + 1] - bp[k])
    phi = np.zeros((n_t, bp.size))
    phi[np.arange(n_t), k] = 1.0 - w
    phi[np.arange(n_t), k + 1] += w
    psi = np.concatenate([rows_at(schedule, bp)[:, ir.driver_row],
                          np.zeros((bp.size, gates.size))], 1)
    if gates.size:  # held: one more direction, on at every time point
        phi = np.concatenate([phi, np.ones((n_t, 1))], 1)
        psi = np.concatenate([psi, np.concatenate([np.zeros(len(ir.drivers)), gates])[None]])
    return phi, psi


def algebraic_energies(ir, schedule, t: np.ndarray, vg: np.ndarray, tau: np.ndarray
                       ) -> list[tuple[str, np.ndarray]]:
    """``[(str(k), (n_w, len(group)) J absorbed), ...]`` per group of ``ir.groups`` of an
    array without capacitance over the windows of ``tau`` (:func:`window_weights`), with
    the drivers at the schedule's inputs and each sense node at its column's ``vg``
    ``(cols, n_t)`` V (see the module docstring)."""
    check_itemised(ir)
    n_w, n_t = tau.shape
    fixed = _fixed_nodes(ir)
    n_d, n_s = len(ir.drivers), len(ir.senses)
    phi_in, psi_in = _input_basis(ir, schedule, t)
    phi_s, psi_s = reduced_basis(vg[ir.sense_col].T)
    held = np.zeros((psi_in.shape[0] + psi_s.shape[0], fixed.size))
    held[: psi_in.shape[0], 1: 1 + n_d] = psi_in[:, :n_d]
    held[: psi_in.shape[0], 1 + n_d + n_s:] = psi_in[:, n_d:]
    held[psi_in.shape[0]:, 1 + n_d: 1 + n_d + n_s] = psi_s
    x = _solve_directions(ir, fixed, held)  # (K, n_nodes)
    phi = np.concatenate([phi_in, phi_s], 1)  # (n_t, K)
    factors = _gram_factors(phi, tau)
    grams = [m.T @ m for m in factors]
    k_dir = x.shape[0]
    src_nodes, slot, touch = source_incidence(ir)
    net = np.zeros((k_dir, src_nodes.size))  # current each source node sends into the elements
    out: list = [None] * len(ir.groups)
    for idx, g in enumerate(ir.groups):
        if g.kind == VSOURCE:
            continue
        if g.kind != RESISTOR:
            raise ValueError(f"{g.kind} elements in an array without capacitance (energy)")
        gs = 1.0 / g.value
        e = np.zeros((n_w, len(g.names)))
        step = max(1, POWER_BLOCK_VALUES // max(k_dir, 1))
        for a in range(0, len(g.names), step):
            sl = slice(a, a + step)
            d = x[:, g.node_p[sl]] - x[:, g.node_n[sl]]  # (K, chunk) V per direction
            for w, m in enumerate(factors):
                e[w, sl] = gs[sl] * np.square(m @ d).sum(axis=0)
            net += (touch[idx][sl].T @ (gs[sl] * d).T).T
        out[idx] = (str(idx), e)
    for idx, g in enumerate(ir.groups):
        if g.kind != VSOURCE:
            continue
        if g is ir.senses:  # the readout's ammeters take no power (see .energy)
            out[idx] = (str(idx), np.zeros((n_w, len(g.names))))
            continue
        a = x[:, g.node_p] - x[:, g.node_n]  # (K, n) its voltage per direction
        c = net[:, slot[g.node_p]]           # (K, n) the current it delivers
        out[idx] = (str(idx), -np.stack([np.einsum("ke,kl,le->e", a, gr, c) for gr in grams]))
    return out


class WiredEnergy:
    """Window energies of every element of an array with capacitance, accumulated from the
    stepper's ``(v (n_nodes,) V, C dv/dt per node (n_nodes,) A)`` at each time point of the
    grid (``append``, in order); :meth:`result` gives them as :func:`algebraic_energies`."""

    def __init__(self, ir, tau: np.ndarray):
        check_itemised(ir)
        self.ir, self.tau = ir, tau
        self.c_node = np.zeros(ir.n_nodes)
        for g in ir.capacitors:
            np.add.at(self.c_node, g.node_p, g.value)
        self.src_nodes, self.slot, self.touch = source_incidence(ir)
        self.touch_rows = [np.unique(t.tocoo().row) for t in self.touch]
        width = 2 * ir.n_nodes  # (the compiled pass forms no per-element arrays)
        self.block = max(2, POWER_BLOCK_VALUES // max(width, 1))
        self.buf_v = np.empty((self.block, ir.n_nodes))  # a time point a row
        self.buf_f = np.empty((self.block, ir.n_nodes))
        self.fill = self.count = 0
        self.seconds = 0.0  # spent in the blocks (energy_s)
        self.energies = [np.zeros((tau.shape[0], len(g.names))) for g in ir.groups]

    def append(self, item) -> None:
        self.buf_v[self.fill], self.buf_f[self.fill] = item
        self.fill += 1
        if self.fill == self.block:
            self._flush()

    def _flush(self) -> None:
        n_b = self.fill
        if not n_b:
            return
        t0 = time.perf_counter()
        ir = self.ir
        # node-major (n_nodes, b): a node's values over the block lie together
        v = np.ascontiguousarray(self.buf_v[:n_b].T)
        f = np.ascontiguousarray(self.buf_f[:n_b].T)
        tau_t = np.ascontiguousarray(self.tau[:, self.count: self.count + n_b].T)  # (b, n_w)
        self.count += n_b
        self.fill = 0
        net = np.zeros((self.src_nodes.size, n_b))  # current each source node sends out
        for k, (g, touch) in enumerate(zip(ir.groups, self.touch)):
            if g.kind == VSOURCE:
                continue
            if g.kind == SINH:  # (not in a linear nodal run; kept for completeness)
                dv = v[g.node_p] - v[g.node_n]
                i = sinh_iv(dv.T, g.value, g.param)[0].T
                self.energies[k] += ((dv * i) @ tau_t).T
                net += touch.T @ i
                continue
            else:
                resistor = g.kind == RESISTOR
                coef = 1.0 / g.value if resistor else g.value / self.c_node[g.node_p]
                window_sums(v, f, g.node_p, g.node_n, coef, resistor, tau_t, self.energies[k])
                el = self.touch_rows[k]
                if not el.size:
                    continue
                i = (v[g.node_p[el]] - v[g.node_n[el]] if resistor
                     else f[g.node_p[el]]) * coef[el][:, None]
                net += touch[el].T @ i
        for k, g in enumerate(ir.groups):
            if g.kind != VSOURCE or g is ir.senses:
                continue
            p = -(v[g.node_p] - v[g.node_n]) * net[self.slot[g.node_p]]
            self.energies[k] += (p @ tau_t).T
        self.seconds += time.perf_counter() - t0

    def result(self) -> list[tuple[str, np.ndarray]]:
        self._flush()
        return [(str(k), e) for k, e in enumerate(self.energies)]


def _window_sums_py(v, f, node_p, node_n, coef, resistor, tau_t, out):
    """``out[w, e] += sum_t tau_t[t, w] dv_e(t) x_e(t)``, ``dv = v[p] - v[n]``, ``x = coef dv``
    (a resistor, ``coef`` its conductance) or ``coef f[p]`` (a capacitor's share of its
    node's ``C dv/dt``); ``v``, ``f`` ``(n_nodes, b)``, ``tau_t`` ``(b, n_w)``, ``out``
    ``(n_w, n_e)``. One pass over the block (compiled by numba where it is installed);
    node-major, so an element reads two contiguous rows (3x faster than time-major)."""
    n_b, n_w = tau_t.shape
    for e in range(node_p.size):
        a, b = node_p[e], node_n[e]
        for t in range(n_b):
            dv = v[a, t] - v[b, t]
            x = coef[e] * (dv if resistor else f[a, t])
            for w in range(n_w):
                out[w, e] += tau_t[t, w] * dv * x


def _window_sums_np(v, f, node_p, node_n, coef, resistor, tau_t, out):
    """:func:`_window_sums_py` in numpy (where numba is missing)."""
    dv = v[node_p] - v[node_n]
    out += ((dv * coef[:, None] * (dv if resistor else f[node_p])) @ tau_t).T


_KERNEL: list = []


def window_sums(*args) -> None:
    """:func:`_window_sums_py`, compiled on first use (numba is imported only by a run
    that asks for the energy of an array with capacitance)."""
    if not _KERNEL:
        try:
            from numba import njit
            _KERNEL.append(njit(cache=True, nogil=True)(_window_sums_py))
        except ImportError:  # pragma: no cover - numba is a dependency
            _KERNEL.append(_window_sums_np)
    _KERNEL[0](*args)


def wired_energy(ir, schedule, t_grid: np.ndarray) -> WiredEnergy:
    """The accumulator of a run of the wired stepper on ``t_grid``."""
    bounds = window_bounds(schedule, min(float(schedule.t_stop), float(t_grid[-1])))
    return WiredEnergy(ir, window_weights(t_grid, bounds))


def readout_energies(readout, schedule, t: np.ndarray, vout: np.ndarray, vg: np.ndarray,
                     i_col: np.ndarray, tau: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The readout's terms (:mod:`.energy`'s docstring) per column, integrated with ``tau``:
    ``[(key, (n_w, n) J absorbed), ...]``; ``vout``, ``vg``, ``i_col`` ``(cols, n_t)``."""
    J, q, vo = i_col.T, (vg - vout).T, vout.T  # (n_t, cols)
    out = []
    if readout.kind == "integrator":
        g = np.interp(t, schedule.reset_t, schedule.reset_v)[:, None] / readout.r_reset_ohm
        out += [("c_int", q * (J - g * q)), ("reset", g * q * q)]
    else:
        out.append(("r_f", q * J))
    out.append(("opamp_block", vo * J))
    sup = readout.opamp.supply
    if sup is not None:
        src = sup.i_q_a + np.maximum(-J, 0.0)   # i_out = -J
        sink = sup.i_q_a + np.maximum(J, 0.0)
        out.append(("rail_draw", np.concatenate([sup.v_dd * src, -sup.v_ss * sink], 1)))
        out.append(("supply", np.stack([-sup.v_dd * src.sum(1), sup.v_ss * sink.sum(1)], 1)))
    out.append(("vref", np.zeros((t.size, 1))))
    return [(k, tau @ p) for k, p in out]


def nodal_window_energies(ir, readout, schedule, t: np.ndarray, vout: np.ndarray,
                          vg: np.ndarray, i_col: np.ndarray, kept: WiredEnergy | None,
                          info: dict | None = None) -> list[tuple[str, np.ndarray]]:
    """``[(key, (n_windows, n) J absorbed), ...]`` of a nodal run: every group of
    ``ir.groups`` (``kept``: the wired stepper's accumulator, else the array without
    capacitance solved here) and the readout's terms, over the windows of
    :func:`.energy.window_bounds`. ``info`` gets ``energy_s``: the seconds spent on the
    energy (here and in the accumulator's blocks during the run)."""
    t0 = time.perf_counter()
    before = kept.seconds if kept is not None else 0.0
    bounds = window_bounds(schedule, min(float(schedule.t_stop), float(t[-1])))
    tau = window_weights(t, bounds)
    groups = kept.result() if kept is not None else algebraic_energies(ir, schedule, t, vg, tau)
    out = groups + readout_energies(readout, schedule, t, vout, vg, i_col, tau)
    if info is not None:
        info["energy_s"] = before + time.perf_counter() - t0
    return out
