"""Plots. Each function takes ``ax=None`` (or ``axes``) and returns what it drew on; none calls show()."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..analysis.comparison import Comparison
from ..results import SimulationResult


def _pyplot():
    import matplotlib
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        try:
            matplotlib.use("Agg")
        except Exception:  # an interactive session already chose a backend
            pass
    import matplotlib.pyplot as plt
    return plt


def _heatmap(ax, data, title, label, cmap):
    im = ax.imshow(data, cmap=cmap, aspect="auto", interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("bit line (column) j")
    ax.set_ylabel("word line (row) i")
    ax.figure.colorbar(im, ax=ax, label=label)
    return ax


def plot_voltage_maps(result: SimulationResult, vector: int = 0, axes=None):
    """Three maps over the array for one input vector, millivolts.

    Word-line drop ``V_in[i] - V_wl[i, j]``, bit-line rise ``V_bl[i, j]`` and the
    voltage the cell loses ``V_in[i] - (V_wl - V_bl)[i, j]``. Returns the 3 axes.

    Raises:
        SpecError: ``result`` holds no cell-node voltages (an ngspice transient saves
            only its readout nodes; use a DC result or the nodal engine's transient).
    """
    if np.isnan(result.v_wl[vector]).all():
        from ..errors import SpecError
        raise SpecError("result", f"from {result.engine} holds no cell-node voltages (a "
                        "transient run through ngspice saves only its readout nodes)",
                        "a DC result, or simulate_readout(..., 'nodal')")
    plt = _pyplot()
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(15, 4.2), constrained_layout=True)
    v_in = result.inputs[vector][:, None]
    wl = 1e3 * (v_in - result.v_wl[vector])
    bl = 1e3 * result.v_bl[vector]
    lost = 1e3 * (v_in - (result.v_wl[vector] - result.v_bl[vector]))
    _heatmap(axes[0], wl, f"word-line IR drop ({result.engine}, vector {vector})", "mV", "viridis")
    _heatmap(axes[1], bl, f"bit-line voltage ({result.engine}, vector {vector})", "mV", "magma")
    _heatmap(axes[2], lost, "voltage lost across each cell", "mV", "inferno")
    return axes


def plot_column_error(comparison: Comparison, axes=None):
    """Per-column error: the exact engines' deviation from the ideal ``V @ G`` (%: IR drop,
    sneak paths, access devices), and the exact engines' agreement.

    Returns the 2 axes.
    """
    plt = _pyplot()
    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True, constrained_layout=True)
    markers = {"nodal": ("o", 6), "ngspice": ("x", 7)}
    for p in comparison.pairs:
        cols = np.arange(len(p.column_rel_signed))
        if p.reference == "ideal":
            m, s = markers.get(p.engine, (".", 5))
            axes[0].plot(cols, 100 * np.asarray(p.column_rel_signed, float), m, ms=s,
                         mfc="none" if m == "o" else None, label=f"{p.engine} vs ideal")
        else:
            rel = np.asarray(p.column_rel_max, float)
            axes[1].semilogy(cols, np.maximum(rel, 1e-17), "s", ms=4,
                             label=f"|{p.engine} - {p.reference}| / |{p.reference}|")
    axes[0].axhline(0, color="0.6", lw=0.8)
    axes[0].set_ylabel("(I - V@G) / I  [%]\nmean over vectors (I: exact)")
    axes[0].set_title("column current error of the ideal model (IR drop, sneak paths, access devices)", fontsize=10)
    axes[0].legend(fontsize=8)
    axes[1].set_xlabel("bit line (column) j")
    axes[1].set_title("agreement of the exact engines", fontsize=10)
    if not any(p.reference != "ideal" for p in comparison.pairs):  # say so, never a blank
        axes[1].text(0.5, 0.5, "not compared: only one exact engine ran\n(run nodal and "
                     "ngspice, e.g. --engines ideal,nodal,ngspice)", ha="center",
                     va="center", transform=axes[1].transAxes, fontsize=10, color="0.3")
        axes[1].set_yticks([])
        return axes
    axes[1].axhline(1e-9, color="C3", ls="--", lw=1, label="1e-9 agreement target")
    axes[1].set_ylabel("relative difference\n(max over vectors)")
    axes[1].legend(fontsize=8)
    return axes


def save_figure(axes, path: str | Path) -> Path:
    """Save the figure that holds ``axes`` as PNG and close it."""
    plt = _pyplot()
    ax0 = np.ravel(axes)[0]
    from ..io import atomic_output
    path = Path(path)
    try:
        with atomic_output(path) as f:
            ax0.figure.savefig(f, dpi=110, format="png")
    finally:
        plt.close(ax0.figure)
    return path
