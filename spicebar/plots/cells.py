"""Plots of cells and sneak paths: cell maps, column-current decomposition, read margin.

Each function takes ``ax=None`` (or ``axes``) and returns what it drew on; none calls show().
"""

from __future__ import annotations

import numpy as np

from .maps import _pyplot
from ..results import SimulationResult
from ..analysis.sneak import SneakDecomposition


def _signed_map(ax, data, title, label):
    lim = float(np.abs(data).max()) or 1.0
    im = ax.imshow(data, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("bit line (column) j")
    ax.set_ylabel("word line (row) i")
    ax.figure.colorbar(im, ax=ax, label=label)
    return ax


#: Decades of the log current map below its largest current. Three decades keep the
#: spread of the driven cells (an on/off window of 10-100 times a spread of inputs) in
#: distinct colours; smaller currents (sneak paths, 0 V rows) share the floor colour, and
#: the colour bar's arrow says so. A floor at 1e-9 of the maximum made the map one colour.
CURRENT_MAP_DECADES = 3.0


def plot_cell_maps(result: SimulationResult, vector: int = 0, axes=None, log: bool = True):
    """Cell currents and voltages across cells for one input vector. Returns the 2 axes.

    Left: ``|I_cell|`` on a log scale (``log=True``) over the :data:`CURRENT_MAP_DECADES`
    below the largest current (smaller ones at the floor colour), or the signed current
    in uA; sneak paths show as current in cells whose row is not driven. Right: the
    voltage across each whole cell ``V_wl - V_bl`` in mV (red forward, blue reverse-biased).
    """
    plt = _pyplot()
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 4.4), constrained_layout=True)
    if result.cell_currents is None:
        raise ValueError(f"the {result.engine} result has no cell currents")
    i = result.cell_currents[vector]
    if log:
        from matplotlib.colors import LogNorm
        mag = np.abs(i)
        top = max(float(mag.max()), np.finfo(float).tiny * 10 ** CURRENT_MAP_DECADES)
        floor = top * 10 ** -CURRENT_MAP_DECADES
        im = axes[0].imshow(np.maximum(mag, floor), norm=LogNorm(vmin=floor, vmax=top),
                            cmap="viridis", aspect="auto", interpolation="nearest")
        axes[0].set_title(f"|cell current| ({result.engine}, vector {vector})", fontsize=10)
        axes[0].set_xlabel("bit line (column) j")
        axes[0].set_ylabel("word line (row) i")
        axes[0].figure.colorbar(im, ax=axes[0], extend="min",
                                label=f"|I_cell| [A] (below {floor:.2g} A: floor colour)")
    else:
        _signed_map(axes[0], 1e6 * i, f"cell current ({result.engine}, vector {vector})", "uA")
    u = 1e3 * (result.v_wl[vector] - result.v_bl[vector])
    _signed_map(axes[1], u, "voltage across each cell V_wl - V_bl", "mV")
    return axes


def plot_decomposition(d: SneakDecomposition, vector: int = 0, ax=None):
    """Per column: the error terms ``ir_drop``, ``device``, ``sneak`` as a share of ``|ideal|``."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4), constrained_layout=True)
    cols = np.arange(d.total.shape[1])
    scale = np.abs(d.ideal[vector]).max() or np.abs(d.total[vector]).max() or 1.0
    bottom_pos = np.zeros(cols.size)
    bottom_neg = np.zeros(cols.size)
    for term, color in (("ir_drop", "C0"), ("device", "C2"), ("sneak", "C3")):
        val = 100 * getattr(d, term)[vector] / scale
        base = np.where(val >= 0, bottom_pos, bottom_neg)
        ax.bar(cols, val, bottom=base, color=color, label=term.replace("_", "-"), width=0.85)
        bottom_pos += np.where(val >= 0, val, 0)
        bottom_neg += np.where(val < 0, val, 0)
    err = 100 * d.error[vector] / scale
    ax.plot(cols, err, "k.", ms=5, label="total - ideal")
    ax.axhline(0, color="0.5", lw=0.8)
    # Every bar end and dot inside the axes, with room; the legend sits above the axes, so
    # it never hides the worst columns (at the far end of wide arrays).
    ends = np.concatenate([bottom_pos, bottom_neg, err, [0.0]])
    ends = ends[np.isfinite(ends)]
    lo, hi = float(ends.min()), float(ends.max())
    pad = 0.08 * max(hi - lo, 1e-12)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(-1, cols.size)
    ax.set_xlabel("bit line (column) j")
    ax.set_ylabel("% of the largest ideal column current")
    ax.set_title(f"column current error by cause ({d.engine}, vector {vector})", fontsize=10,
                 pad=24)
    ax.legend(fontsize=8, ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return ax


def plot_read_margin(margins, ax=None):
    """Read margin against array size for each cell kind (colour) and scheme (line style)."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5.6), constrained_layout=True)
    styles = {"floating": ("-", "o"), "v2": ("--", "s"), "v3": (":", "^")}
    cells = list(dict.fromkeys(m.cell for m in margins))
    for k, cell in enumerate(cells):
        for scheme, (ls, mk) in styles.items():
            pts = sorted((m.rows, m.margin) for m in margins if m.cell == cell and m.scheme == scheme)
            if pts:
                n, y = zip(*pts)
                ax.plot(n, y, ls=ls, marker=mk, color=f"C{k}", ms=5,
                        label=f"{cell}, {scheme.replace('v2', 'V/2').replace('v3', 'V/3')}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("array size n (n x n)")
    ax.set_ylabel("read margin (I_LRS - I_HRS) / I_LRS")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("worst-case read margin (far corner, all other cells LRS)", fontsize=10)
    ax.legend(fontsize=7, ncol=len(cells), loc="upper center", bbox_to_anchor=(0.5, -0.13))
    ax.grid(alpha=0.3)
    return ax
