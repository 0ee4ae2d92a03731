"""The energy of a read, drawn: stacked bars per component and a per-column map."""

from __future__ import annotations

import numpy as np

from ..engines.energy import LABELS, EnergyBreakdown
from .maps import _pyplot

#: Unit prefixes for the energy axis.
_SCALES = ((1e-15, "fJ"), (1e-12, "pJ"), (1e-9, "nJ"), (1e-6, "uJ"), (1e-3, "mJ"), (1.0, "J"))


def _scale(x: float) -> tuple[float, str]:
    for s, unit in reversed(_SCALES):
        if x >= s:
            return s, unit
    return _SCALES[0]


def plot_energy(energy: EnergyBreakdown, axes=None, max_bars: int = 32):
    """Two panels; returns the 2 axes.

    Panel 1: one stacked bar per period (input vector or window; the first ``max_bars``)
    of where the energy went (each absorbed component; stored energy given back in that
    period, e.g. a capacitor discharged by its reset, stacks below zero, cross-hatched),
    the converters' estimate stacked on top (hatched), and a black tick at what the sources
    delivered (the bars' circuit part above zero, less the part below, reaches it when the
    balance closes). Panel 2: per-column map: each column's
    dissipation (cells and bit-line wire) in every period, as an image (periods x columns).
    """
    plt = _pyplot()
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(13, 4.5), constrained_layout=True,
                               gridspec_kw={"width_ratios": [1.3, 1]})
    n = min(energy.n, max_bars)
    x = np.arange(n)
    top = float(np.max(energy.total_with_converters[:n], initial=0.0))
    s, unit = _scale(top if top > 0 else 1e-15)
    ax = axes[0]
    bottom, below = np.zeros(n), np.zeros(n)  # released stored energy stacks below 0
    cmap = plt.get_cmap("tab20")
    for k, (key, e) in enumerate(energy.absorbed.items()):
        y = e[:n] / s
        pos, neg = np.maximum(y, 0.0), np.minimum(y, 0.0)
        ax.bar(x, pos, bottom=bottom, color=cmap(k % 20), label=LABELS.get(key, key))
        if np.any(neg < 0):
            ax.bar(x, neg, bottom=below, color=cmap(k % 20), hatch="xx", edgecolor="white")
        bottom, below = bottom + pos, below + neg
    for key, e in energy.converters.items():
        ax.bar(x, e[:n] / s, bottom=bottom, color="white", edgecolor="grey",
               hatch="//" if key == "adc" else "..",
               label=f"{key.upper()} (estimate)")
        bottom = bottom + e[:n] / s
    ax.scatter(x, energy.total_delivered[:n] / s, marker="_", s=300, color="black", zorder=3,
               label="delivered by the sources")
    what = "input vector" if energy.mode == "dc" else "window"
    ax.set_xlabel(what)
    ax.set_ylabel(f"energy ({unit})")
    ax.set_title(f"{energy.engine}: {energy.fj_per_mac(False):.3g} fJ/MAC circuit, "
                 f"{energy.fj_per_mac(True):.3g} with converters")
    ax.axhline(0.0, color="black", lw=0.6)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_xticks(x if n <= 16 else x[:: max(1, n // 8)])
    ax = axes[1]
    cs, cunit = _scale(float(np.abs(energy.columns).max(initial=0.0)) or 1e-15)
    im = ax.imshow(energy.columns[:n] / cs, aspect="auto", interpolation="nearest", cmap="magma")
    ax.figure.colorbar(im, ax=ax, label=f"cells + bit-line wire ({cunit})")
    ax.set_xlabel("column")
    ax.set_ylabel(what)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title("dissipation per column")
    return axes
