"""The energy of every window of a readout transient, itemised (both engines).

Each engine hands over the power of every element at each of its time points
(``RawTransient.powers``, in the terms of :mod:`spicebar.netlist.power_vectors`; the nodal
engine integrated over the windows already, ``RawTransient.energies``): ngspice
its own instance power ``@x[p]`` (behavioural sources: its ``@x[i]`` times its node
voltages), the nodal engine the element laws at its node voltages. At every time point
Tellegen's theorem makes them sum to zero; each is integrated over every window by the
trapezoidal rule on the engine's own time points, so the window's balance closes too.

A window runs from the previous window's sampling instant (0 for the first) to its own
(the last also takes the tail to the stop time): its reset, its integration and its
settling. The readout's terms per column (:func:`nodal_powers` derives them the same way):

* ``c_int``: the integration capacitor, ``(vg - vout) * i_c``, ``i_c = J - g_rst (vg - vout)``;
* ``reset``: the reset switch ``g_rst (vg - vout)^2``; ``r_f``: a TIA's feedback resistor;
* ``opamp_block``: the op-amp as seen from its output pin, ``vout * J`` (its output sinks the
  column current ``J``); with a supply (:class:`~spicebar.circuit.readout.OpAmpSupply`) the
  rails deliver ``v_dd (i_q + max(i_out, 0)) + |v_ss| (i_q + max(-i_out, 0))``,
  ``i_out = -J``, and the op-amp absorbs that minus what its output delivers; without one
  the output's energy is reported as delivered from nowhere (``opamp_out``).
"""

from __future__ import annotations

import numpy as np

from ...circuit.ir import CAPACITOR, RESISTOR, SINH, VSOURCE
from ...circuit.iv_models import sinh_iv
from ..energy import EnergyBreakdown, aggregate, check_itemised, converter_energy, selected_cells


def window_bounds(schedule, t_end: float) -> np.ndarray:
    """``(n_w + 1,)`` s: 0, every sampling instant but the last, then ``t_end`` (the stop
    time of the netlist's ``.tran``, which both engines reach)."""
    return np.concatenate([[0.0], schedule.t_sample[:-1], [t_end]])


def integrate_windows(t: np.ndarray, p: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Trapezoidal integral of ``p`` ``(n_t, n)`` W between consecutive ``bounds`` on the
    time points ``t``: ``(len(bounds) - 1, n)`` J (a bound between time points: the
    integral's linear interpolation)."""
    if t.size < 2:
        return np.zeros((bounds.size - 1, p.shape[1]))
    steps = 0.5 * (p[1:] + p[:-1]) * np.diff(t)[:, None]
    cum = np.concatenate([np.zeros((1, p.shape[1])), np.cumsum(steps, axis=0)])
    b = np.clip(bounds, t[0], t[-1])
    k = np.clip(np.searchsorted(t, b, side="right") - 1, 0, t.size - 2)
    w = ((b - t[k]) / (t[k + 1] - t[k]))[:, None]  # every column at once (np.interp's rule)
    at = (1.0 - w) * cum[k] + w * cum[k + 1]
    return np.diff(at, axis=0)


def _array_nodes(ir, v_rows: np.ndarray, v_sense: np.ndarray, cache: dict | None = None
                 ) -> np.ndarray:
    """Node voltages ``(n_t, n_nodes)`` of a linear array without capacitance, with the
    drivers at ``v_rows`` ``(n_t, rows)`` and each sense node at ``v_sense`` ``(n_t, n_senses)``
    (``cache``: a dict that keeps the factorisation between calls)."""
    import scipy.sparse.linalg as spla

    from ..nodal.stamps import conductance_matrix
    cache = {} if cache is None else cache
    n_t = v_rows.shape[0]
    gates = [] if ir.gates is None else [ir.gates]
    fixed = np.concatenate([[0], ir.drivers.node_p, ir.senses.node_p, *(g.node_p for g in gates)])
    values = np.concatenate([np.zeros((n_t, 1)), v_rows[:, ir.driver_row], v_sense,
                             *(np.repeat(g.value[None], n_t, 0) for g in gates)], 1)
    is_fixed = np.zeros(ir.n_nodes, bool)
    is_fixed[fixed] = True
    unknown = np.flatnonzero(~is_fixed)
    v = np.zeros((n_t, ir.n_nodes))
    v[:, fixed] = values
    if unknown.size:
        if "lu" not in cache:
            lap = conductance_matrix(ir)
            cache["lu"] = spla.splu(lap[unknown][:, unknown].tocsc())
            cache["coupling"] = lap[unknown][:, fixed].tocsr()
        v[:, unknown] = cache["lu"].solve(-(cache["coupling"] @ values.T)).T
    return v


def _superposed_nodes(ir, schedule, t: np.ndarray, v_sense: np.ndarray, cache: dict
                      ) -> np.ndarray:
    """Node voltages ``(n_t, n_nodes)`` of a linear array without capacitance by
    superposition: the inputs are linear between the schedule's breakpoints, so their part
    is solved there once and interpolated; the sense nodes' part is ``v_sense @ B.T``, ``B``
    the array's response to each sense node at 1 V (one solve per sense node, once)."""
    if "at_bp" not in cache:
        from .timegrid import rows_at
        bp = schedule.breakpoints()
        n_s = len(ir.senses)
        cache["bp"] = bp
        cache["at_bp"] = _array_nodes(ir, rows_at(schedule, bp), np.zeros((bp.size, n_s)), cache)
        unit = _array_nodes(ir, np.zeros((n_s + 1, ir.rows)),
                            np.concatenate([np.zeros((1, n_s)), np.eye(n_s)]), cache)
        cache["b"] = unit[1:] - unit[0]  # (n_senses, n_nodes)
    bp, at_bp = cache["bp"], cache["at_bp"]
    k = np.clip(np.searchsorted(bp, t, side="right") - 1, 0, bp.size - 2)
    w = ((np.clip(t, bp[0], bp[-1]) - bp[k]) / (bp[k + 1] - bp[k]))[:, None]
    return (1.0 - w) * at_bp[k] + w * at_bp[k + 1] + v_sense @ cache["b"]


def _superposable(schedule) -> bool:
    """Every input corner is a breakpoint (the inputs are linear between breakpoints)."""
    bp = schedule.breakpoints()
    return bp.size >= 2 and all(np.isin(np.asarray(rt), bp).all() for rt in schedule.row_t)


def _group_powers(ir, v: np.ndarray, i_cap_node: np.ndarray | None) -> list[tuple[str, np.ndarray]]:
    """Per group of ``ir.groups``: ``(n_t, len(group))`` W absorbed. Capacitor currents per
    node ``i_cap_node`` ``(n_t, n_nodes)`` (C dv/dt), shared among a node's capacitors by
    their values; the readout's ammeters (senses) take no power; a driver delivers what
    KCL leaves at its node."""
    check_itemised(ir)
    c_node = np.zeros(ir.n_nodes)
    for g in ir.capacitors:
        np.add.at(c_node, g.node_p, g.value)
    net = np.zeros_like(v)
    cur = []
    for g in ir.groups:
        dv = v[:, g.node_p] - v[:, g.node_n]
        if g.kind == RESISTOR:
            i = dv / g.value
        elif g.kind == SINH:
            i = sinh_iv(dv, g.value, g.param)[0]
        elif g.kind == CAPACITOR:
            i = i_cap_node[:, g.node_p] * (g.value / c_node[g.node_p])
        else:
            i = None
        if i is not None:
            np.add.at(net.T, g.node_p, i.T)
            np.add.at(net.T, g.node_n, -i.T)
        cur.append(i)
    out = []
    for k, (g, i) in enumerate(zip(ir.groups, cur)):
        dv = v[:, g.node_p] - v[:, g.node_n]
        if g is ir.senses:
            p = np.zeros_like(dv)
        elif i is None:
            p = -dv * net[:, g.node_p]
        else:
            p = dv * i
        out.append((str(k), p))
    return out


#: The nodal engine integrates its powers over the windows in blocks of time points, each
#: block at most this many values (time points x elements and nodes): the powers of every
#: element at every time point at once took 7 GB for a 256x256 array at 1500 time points
#: (blocks of this size: 64 MB an array, about 1 GB at most in all).
POWER_BLOCK_VALUES = 8_000_000
#: An array without capacitance is solved by superposition (:func:`_superposed_nodes`) up to
#: this many sense nodes (its response matrix holds senses x nodes values: 270 MB at 256x256).
SUPERPOSE_MAX_SENSES = 512


def nodal_window_energies(ir, readout, schedule, t: np.ndarray, vout: np.ndarray,
                          vg: np.ndarray, i_col: np.ndarray, kept: list | None
                          ) -> list[tuple[str, np.ndarray]]:
    """``[(key, (n_windows, n) J absorbed), ...]``: :func:`nodal_powers` integrated over the
    windows of :func:`window_bounds` by the trapezoidal rule, block by block of time
    points (consecutive blocks share their end point, so the sum is the whole run's rule)."""
    from .timegrid import rows_at
    bounds = window_bounds(schedule, min(float(schedule.t_stop), float(t[-1])))
    width = 2 * ir.n_nodes + sum(len(g.names) for g in ir.groups) + 8 * ir.cols
    block = max(2, POWER_BLOCK_VALUES // max(width, 1))
    cache: dict = {}
    fast = kept is None and _superposable(schedule) and len(ir.senses) <= SUPERPOSE_MAX_SENSES
    out = None
    for i0 in range(0, max(t.size - 1, 1), block - 1):
        sl = slice(i0, min(i0 + block, t.size))
        tt = t[sl]
        powers = nodal_powers(ir, readout, schedule, tt, vout[:, sl], vg[:, sl], i_col[:, sl],
                              None if kept is None else kept[sl],
                              None if kept is not None or fast else rows_at(schedule, tt), cache)
        part = np.clip(bounds, tt[0], tt[-1])
        e = [(key, integrate_windows(tt, np.asarray(p, float), part)) for key, p in powers]
        out = e if out is None else [(k, a + x) for (k, a), (_, x) in zip(out, e)]
    return out


def nodal_powers(ir, readout, schedule, t: np.ndarray, vout: np.ndarray, vg: np.ndarray,
                 i_col: np.ndarray, kept: list | None, v_rows: np.ndarray,
                 cache: dict | None = None) -> list[tuple[str, np.ndarray]]:
    """The nodal engine's powers at its time points ``t`` (the terms of ngspice's, see the
    module docstring). ``kept``: the wired stepper's ``(v, C dv/dt)`` per time point, or
    None (an array without capacitance: solved here at each time point's inputs
    ``v_rows`` ``(n_t, rows)`` V and virtual grounds, or by superposition where ``v_rows``
    is None; ``cache`` keeps its factorisation)."""
    i_cap = None
    if kept is not None:
        v = np.stack([k[0] for k in kept])
        i_cap = np.stack([k[1] for k in kept])
    elif v_rows is None:  # (see nodal_window_energies)
        v = _superposed_nodes(ir, schedule, t, vg[ir.sense_col].T, cache)
    else:
        v = _array_nodes(ir, v_rows, vg[ir.sense_col].T, cache)
    out = _group_powers(ir, v, i_cap)
    J, q, vo = i_col.T, (vg - vout).T, vout.T  # (n_t, cols)
    if readout.kind == "integrator":
        g = np.interp(t, schedule.reset_t, schedule.reset_v)[:, None] / readout.r_reset_ohm
        out += [("c_int", q * (J - g * q)), ("reset", g * q * q)]
    else:
        out.append(("r_f", q * J))
    out.append(("opamp_block", vo * J))
    sup = readout.opamp.supply
    if sup is not None:
        i_out = -J
        src = sup.i_q_a + np.maximum(i_out, 0.0)
        sink = sup.i_q_a + np.maximum(-i_out, 0.0)
        out.append(("rail_draw", np.concatenate([sup.v_dd * src, -sup.v_ss * sink], 1)))
        out.append(("supply", np.stack([-sup.v_dd * src.sum(1), sup.v_ss * sink.sum(1)], 1)))
    out.append(("vref", np.zeros((t.size, 1))))
    return out


def transient_breakdown(ir, readout, schedule, raw, engine: str, batch: int, operation=None,
                        converters=None) -> EnergyBreakdown:
    """The :class:`~spicebar.engines.energy.EnergyBreakdown` of every window of a run."""
    bounds = window_bounds(schedule, min(float(schedule.t_stop), float(raw.time[-1])))
    n_w = bounds.size - 1
    energies = {}
    terms = raw.energies if raw.energies is not None else \
        [(key, integrate_windows(raw.time, np.asarray(p, float), bounds)) for key, p in raw.powers]
    for key, e in terms:
        energies[key] = np.concatenate([energies[key], e], 1) if key in energies else e
    groups = [energies[str(k)] for k in range(len(ir.groups))]
    sums = {k: x.sum(axis=1) for k, x in energies.items() if not k.isdigit()}
    delivered, absorbed = {"bias": -sums.get("vref", np.zeros(n_w))}, {}
    for key in ("c_int", "reset", "r_f"):
        if key in sums:
            absorbed[key] = sums[key]
    if readout.opamp.supply is not None:
        absorbed["opamp"] = sums["opamp_block"] + sums["rail_draw"]
        delivered["supplies"] = -sums["supply"]
    else:
        delivered["opamp_out"] = -sums["opamp_block"]
    d, a, columns = aggregate(ir, groups, np.ones(n_w), selected_cells(ir, operation), operation,
                              delivered, absorbed)
    stored = None
    if readout.kind == "integrator":
        q = np.stack([np.interp(bounds, raw.time, row) for row in raw.vg - raw.vout], 1)
        stored = 0.5 * readout.c_int_f * (q[1:] ** 2 - q[:-1] ** 2).sum(axis=1)
    meta = {"power_source": ("ngspice instance power @x[p] (behavioural sources: @x[i] times "
                             "the node voltages), trapezoidal over its time points")
            if engine == "ngspice" else "nodal: element laws at every time point, trapezoidal",
            "windows": "from the previous sampling instant to this window's",
            "time_points": int(raw.time.size)}
    conv = {}
    if converters is not None:
        conv = converter_energy(converters, np.full(n_w, len(ir.senses)),
                                np.full(n_w, np.unique(ir.driver_row).size))
        meta.update(adc_bits=converters.adc_bits, adc_fom_j_per_step=converters.adc_fom_j_per_step,
                    dac_j_per_conversion=converters.dac_j_per_conversion)
    return EnergyBreakdown(engine=engine, mode="transient", period_s=np.diff(bounds),
                           delivered=d, absorbed=a, columns=columns,
                           macs=ir.rows * ir.cols * batch / n_w, converters=conv,
                           stored_check=stored, meta=meta)
