"""Plots of the MVM pipeline. Each takes ``ax=None`` / ``axes=None``, returns what it drew on."""

from __future__ import annotations

import numpy as np

from .maps import _pyplot
from ..circuit.spec import CrossbarSpec


def plot_transpose_geometry(spec: CrossbarSpec, axes=None):
    """Forward against backward (transpose) reads of one array with wire resistance.

    Panel 1: per-cell effective conductance error ``(G_eff - G) / G`` in percent, with
    ``G_eff[i, j] = dI_j / dV_i`` the weight the readout sees through the wires, from unit
    inputs (by reciprocity the same matrix serves both directions); 0 is the brightest
    colour, the largest loss the darkest. Panel 2: forward outputs (bit lines) against the column index
    for all word lines at 1 V. Panel 3: backward outputs (word lines) against the row
    index for all bit lines at 1 V. Returns the 3 axes.
    """
    from ..engines.simulation import simulate
    from ..hardware.transpose import transpose_spec
    plt = _pyplot()
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(15, 4.3), constrained_layout=True)
    g = spec.conductances
    bwd = transpose_spec(spec)
    m = simulate(spec, np.eye(spec.rows), "nodal").currents
    err = 100 * (m - g) / g
    im = axes[0].imshow(err, cmap="viridis", aspect="auto", interpolation="nearest",
                        vmin=float(err.min()), vmax=max(float(err.max()), 0.0))
    axes[0].figure.colorbar(im, ax=axes[0],
                            label="effective weight error (G_eff - G) / G  [%]\n"
                                  "G_eff[i, j] = dI_j / dV_i through the wires")
    axes[0].set_title("cell weight seen through the wires\n(same in both directions: reciprocity)",
                      fontsize=10)
    axes[0].plot([0], [spec.rows - 1], "r*", ms=12, clip_on=False)
    axes[0].annotate("nearest every driver\nand readout", (0, spec.rows - 1), (0.25, 0.12),
                     textcoords="axes fraction", color="k", fontsize=8,
                     bbox=dict(boxstyle="round", fc="w", alpha=0.85),
                     arrowprops=dict(arrowstyle="->", color="r"))
    axes[0].set_xlabel("bit line j (bit-line ends at the bottom)")
    axes[0].set_ylabel("word line i (word-line ends at the left)")
    fwd_i = simulate(spec, np.ones(spec.rows), "nodal").currents[0]
    bwd_i = simulate(bwd, np.ones(spec.cols), "nodal").currents[0]
    axes[1].plot(np.arange(spec.cols), 100 * (fwd_i / g.sum(0) - 1), "o-", ms=3, color="C0")
    axes[1].set_title("forward: drive word lines (left), read bit lines (bottom)", fontsize=10)
    axes[1].set_xlabel("output = bit line j (distance from the word-line drivers)")
    axes[1].set_ylabel("(I - V@G) / V@G  [%]")
    axes[2].plot(np.arange(spec.rows), 100 * (bwd_i / g.sum(1) - 1), "s-", ms=3, color="C1")
    axes[2].set_title("backward: drive bit lines (bottom), read word lines (left)", fontsize=10)
    axes[2].set_xlabel("output = word line i (0 = top: farthest from bit-line drivers)")
    axes[2].set_ylabel("(I - V@G.T) / V@G.T  [%]")
    lo = min(axes[1].get_ylim()[0], axes[2].get_ylim()[0])
    for ax in axes[1:]:
        ax.set_ylim(lo, 0.05 * abs(lo))
        ax.axhline(0, color="0.6", lw=0.8)
    return axes


def plot_outputs(result, ax=None):
    """Each engine's ``y`` (and the quantised ideal) against the exact ``W x``."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.2, 5), constrained_layout=True)
    ref = result.y_ideal.ravel()
    ax.plot(ref, result.y_ideal_quantised.ravel(), ".", ms=4, label="ideal, quantised", color="0.5")
    for k, (eng, y) in enumerate(result.y.items()):
        ax.plot(ref, y.ravel(), "o" if eng == "nodal" else "x", ms=4, mfc="none",
                label=f"{eng}, every effect", color=f"C{k}")
    lim = np.abs(ref).max() * 1.1
    ax.plot([-lim, lim], [-lim, lim], "k-", lw=0.7)
    ax.set_xlabel("exact W x")
    ax.set_ylabel("hardware y")
    ax.set_title("what the crossbar layer returns", fontsize=10)
    ax.legend(fontsize=8)
    return ax


def plot_budget(rows, ax=None):
    """Horizontal bars: RMS error relative to RMS(W x), percent, per effect and all together."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.8), constrained_layout=True)
    labels = [r.label for r in rows]
    vals = [100 * r.rel_rms if r.configured else 0.0 for r in rows]
    colors = ["C3" if r.label.startswith("all") else "C0" for r in rows]
    y = np.arange(len(rows))[::-1]
    ax.barh(y, vals, color=colors)
    for yy, r, val in zip(y, rows, vals):
        ax.text(val, yy, f" {val:.2f}%" if r.configured else " off", va="center", fontsize=8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("rms error / rms(W x)  [%]")
    ax.set_title("error budget: each effect alone, then all together", fontsize=10)
    ax.set_xlim(0, max(vals + [1e-9]) * 1.25)
    return ax
