"""The energy of every window of a readout transient, itemised (both engines).

ngspice hands over the power of every element at each of its time points
(``RawTransient.powers``, in the terms of :mod:`spicebar.netlist.power_vectors`): its own
instance power ``@x[p]`` (behavioural sources: its ``@x[i]`` times its node voltages). The
nodal engine hands over the same terms already integrated over the windows
(``RawTransient.energies``: the element laws at its node voltages, :mod:`.energy_nodal`).
At every time point Tellegen's theorem makes them sum to zero; each is integrated over every window by the
trapezoidal rule on the engine's own time points, so the window's balance closes too.

A window runs from the previous window's sampling instant (0 for the first) to its own
(the last also takes the tail to the stop time): its reset, its integration and its
settling. The readout's terms per column (:func:`.energy_nodal.readout_energies` derives
them the same way):

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

from ..energy import EnergyBreakdown, aggregate, converter_energy, selected_cells


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
