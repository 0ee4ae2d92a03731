"""Plots of a sweep table (see :mod:`spicebar.sweeps.table`). Each takes ``ax=None``
and returns the axes; none calls show(). Only rows whose point and model
succeeded are drawn; points that differ only in seed are summarised by their
median, with a bar from the smallest to the largest value.
"""

from __future__ import annotations

import numpy as np

from .maps import _pyplot
from ..analysis.scoring import STATS

METRIC_LABELS = {"max_rel": "max relative error", "mean_rel": "mean relative error",
                 "rms_rel": "RMS relative error", "max_lsb": "max error, output LSBs",
                 "rms_lsb": "RMS error, output LSBs", "max_abs_a": "max |error|, A",
                 "max_code_err": "max code error", "mean_signed_rel": "mean signed relative error"}
_NOT_GROUPING = {"index", "key", "status", "seed", "rows", "cols", "cells", "size", "model",
                 "reference", "model_status", "model_s", "reference_s", "full_scale_a", "lsb_a",
                 "reason", "message", "netlist", "note", "model_error", *STATS}


def _ok(table: dict) -> dict:
    mask = (table["status"] == "ok") & (table["model_status"] == "ok")
    return {k: a[mask] for k, a in table.items()}


def swept_parameters(table: dict) -> list[str]:
    """Parameter columns with more than one value (seed excluded), in table order."""
    out = []
    for k, a in table.items():
        if k in _NOT_GROUPING:
            continue
        if len(np.unique(a)) > 1:
            out.append(k)
    return out


def _fmt(v) -> str:
    try:
        return f"{float(v):g}"
    except (TypeError, ValueError):
        return str(v)


def plot_error_vs_size(table: dict, metric: str = "max_rel", models=None, by: str | None = "auto",
                       ax=None):
    """Error against array size ``N = sqrt(rows * cols)``, log-log, one line per model
    (colour) and value of ``by`` (marker and line style; ``auto``: the first swept
    parameter that is not the size or the seed; None: no split)."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5), constrained_layout=True)
    t = _ok(table)
    models = list(dict.fromkeys(t["model"])) if models is None else list(models)
    if by == "auto":
        params = swept_parameters(t)
        by = params[0] if params else None
    by_values = list(dict.fromkeys(t[by])) if by else [None]
    styles = ["-", "--", ":", "-."]
    markers = ["o", "s", "^", "D", "v", "P"]
    n = np.sqrt(t["cells"].astype(float))
    for mi, m in enumerate(models):
        for bi, bv in enumerate(by_values):
            sel = (t["model"] == m) & ((t[by] == bv) if by else True)
            xs = np.unique(n[sel])
            if xs.size == 0:
                continue
            vals = [t[metric][sel & (n == x)].astype(float) for x in xs]
            med = np.array([np.median(v) for v in vals])
            lo = med - np.array([v.min() for v in vals])
            hi = np.array([v.max() for v in vals]) - med
            good = med > 0
            if not np.any(good):
                continue
            label = m if by is None else f"{m}, {by}={_fmt(bv)}"
            ax.errorbar(xs[good], med[good], yerr=[lo[good], hi[good]], color=f"C{mi}",
                        ls=styles[bi % len(styles)], marker=markers[bi % len(markers)], ms=5,
                        capsize=2, label=label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    if n.size:
        ticks = np.unique(n)
        ax.set_xticks(ticks, [f"{x:g}" for x in ticks])
        ax.minorticks_off() if ticks.size > 1 else None
        ax.set_yscale("log")
    ax.set_xlabel("array size N (sqrt of rows x cols)")
    ax.set_ylabel(METRIC_LABELS.get(metric, metric))
    refs = sorted(set(t["reference"].tolist())) if len(t["reference"]) else []
    ax.set_title(f"{METRIC_LABELS.get(metric, metric)} against {' / '.join(refs)}", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2 if len(models) * len(by_values) > 6 else 1)
    return ax


def plot_heatmap(table: dict, x: str, y: str, metric: str = "max_rel", model: str = "ideal",
                 ax=None):
    """``metric`` of ``model`` over two parameters (median over everything else), log colour."""
    from matplotlib.colors import LogNorm
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 5), constrained_layout=True)
    t = _ok(table)
    sel = t["model"] == model
    xs = np.unique(t[x][sel])
    ys = np.unique(t[y][sel])
    grid = np.full((ys.size, xs.size), np.nan)
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            vals = t[metric][sel & (t[x] == xv) & (t[y] == yv)].astype(float)
            if vals.size:
                grid[i, j] = np.median(vals)
    pos = grid[np.isfinite(grid) & (grid > 0)]
    norm = LogNorm(pos.min(), pos.max()) if pos.size and pos.min() < pos.max() else None
    im = ax.imshow(np.where(grid > 0, grid, np.nan), origin="lower", aspect="auto",
                   cmap="viridis", norm=norm)
    for i in range(ys.size):
        for j in range(xs.size):
            if np.isfinite(grid[i, j]):
                light = norm is not None and norm(grid[i, j]) > 0.6
                ax.text(j, i, f"{grid[i, j]:.2g}", ha="center", va="center", fontsize=8,
                        color="k" if light else "w")
    ax.set_xticks(range(xs.size), [_fmt(v) for v in xs])
    ax.set_yticks(range(ys.size), [_fmt(v) for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{model}: {METRIC_LABELS.get(metric, metric)} (median)", fontsize=10)
    ax.figure.colorbar(im, ax=ax, label=METRIC_LABELS.get(metric, metric))
    return ax


def heatmap_axes(table: dict) -> tuple[str, str] | None:
    """Two parameters for a heatmap: the size (if swept) and the next swept parameter."""
    t = _ok(table)
    params = [k for k in ("size", "rows", "cols") if k in t and len(np.unique(t[k])) > 1][:1]
    params += swept_parameters(t)
    params = list(dict.fromkeys(params))
    return (params[0], params[1]) if len(params) >= 2 else None


def plot_sweep(table: dict, metric: str = "max_rel", model: str = "ideal", models=None,
               axes=None):
    """The sweep at a glance: error against size per model, and a heatmap of ``model``
    over two swept parameters when there are two. Returns the axes."""
    plt = _pyplot()
    pair = heatmap_axes(table)
    if axes is None:
        n = 2 if pair else 1
        _, axes = plt.subplots(1, n, figsize=(7 * n, 5), constrained_layout=True)
        axes = np.atleast_1d(axes)
    plot_error_vs_size(table, metric, models=models, ax=axes[0])
    if pair and len(axes) > 1:
        plot_heatmap(table, pair[0], pair[1], metric, model, ax=axes[1])
    return axes
