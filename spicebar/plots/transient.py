"""Plots of a time-domain readout. Functions take ``ax=None`` and return the axes; none calls show()."""

from __future__ import annotations

import numpy as np

from .maps import _pyplot


def pick_columns(result, n: int = 4) -> list[int]:
    """The ``n`` columns with the largest sampled signal (the most interesting traces)."""
    order = np.argsort(-np.abs(result.samples).max(axis=0))
    return sorted(order[:n].tolist())


def plot_transient(result, columns=None, ax=None):
    """Readout output ``v_out(t)`` of chosen columns, ns on the x axis.

    Shaded: reset switch closed. Dashed lines and dots: the sampling instants and samples.
    Rails are drawn for a macromodel op-amp; saturated samples are marked with an x; both
    are named in the legend (with the count of saturated samples over all columns).
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.5), constrained_layout=True)
    cols = pick_columns(result) if columns is None else [int(c) for c in columns]
    t_ns = 1e9 * result.time
    closed = np.interp(result.time, result.reset_t, result.reset_v) >= 0.5
    edges = np.flatnonzero(np.diff(np.concatenate([[0], closed.astype(int), [0]])))
    for k, (a, b) in enumerate(zip(edges[::2], edges[1::2])):
        ax.axvspan(t_ns[a], t_ns[min(b, t_ns.size - 1)], color="C1", alpha=0.3, lw=0,
                   label="reset closed" if k == 0 else None)
    v_ref = float(result.info.get("v_ref", 0.0))
    sat_label = (f"saturated window (reached a rail; {int(result.saturated.sum())} of "
                 f"{result.saturated.size} in all columns)")
    for k, j in enumerate(cols):
        line, = ax.plot(t_ns, result.vout[j], lw=1.3, label=f"column {j}")
        ax.plot(1e9 * result.t_sample, v_ref - result.samples[:, j], "o", ms=5,
                color=line.get_color(), label="sampled value" if k == 0 else None)
        sat = result.saturated[:, j]
        if sat.any():
            ax.plot(1e9 * result.t_sample[sat], v_ref - result.samples[sat, j], "x", ms=11,
                    mew=2, color="C3", label=sat_label)
            sat_label = None  # one legend entry for all saturated windows
    for k, ts in enumerate(result.t_sample):
        ax.axvline(1e9 * ts, color="k", ls="--", lw=0.7, label="sample" if k == 0 else None)
    rails = result.info.get("rails")
    if rails:
        for k, r in enumerate(rails):
            ax.axhline(r, color="C3", ls=":", lw=1,
                       label=f"op-amp rails ({', '.join(f'{x:g}' for x in rails)} V)"
                       if k == 0 else None)
    ax.set_xlabel("time [ns]")
    ax.set_ylabel("readout output v_out [V]")
    ax.set_title(f"{result.info.get('readout', 'readout')}; {result.info.get('encoding', '')} "
                 f"encoding ({result.engine})", fontsize=10)
    handles, labels = ax.get_legend_handles_labels()  # the columns first, then the markers
    order = sorted(range(len(labels)), key=lambda k: (not labels[k].startswith("column"), k))
    ax.legend([handles[k] for k in order], [labels[k] for k in order], fontsize=8, loc="best")
    return ax


def plot_end_values(result, ax=None):
    """Sampled readout vs ideal ``V_eq @ G`` per column and vector, as equivalent currents (uA).

    Dots: the analog readout; crosses: the ADC's values (when there is an ADC).
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5), constrained_layout=True)
    ideal = 1e6 * result.ideal_currents.ravel()
    ax.plot(ideal, 1e6 * result.readout_currents.ravel(), "o", ms=5, mfc="none",
            label="analog readout")
    if np.all(np.isfinite(result.digital_currents)):
        ax.plot(ideal, 1e6 * result.digital_currents.ravel(), "x", ms=5, label="after ADC")
    lo, hi = min(ideal.min(), 0.0), max(ideal.max(), 1e-30)
    ax.plot([lo, hi], [lo, hi], color="0.5", lw=0.8, label="ideal")
    ax.set_xlabel("ideal V_eq @ G [uA]")
    ax.set_ylabel("readout, equivalent current [uA]")
    ax.set_title(f"end-of-window values ({result.engine})", fontsize=10)
    ax.legend(fontsize=8)
    return ax


def plot_transient_summary(result, columns=None):
    """Waveforms and end values side by side; returns the two axes."""
    plt = _pyplot()
    fig = plt.figure(figsize=(15, 4.8), constrained_layout=True)
    grid = fig.add_gridspec(1, 3)
    ax0 = fig.add_subplot(grid[0, :2])
    ax1 = fig.add_subplot(grid[0, 2])
    return plot_transient(result, columns, ax0), plot_end_values(result, ax1)
