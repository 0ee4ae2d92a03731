"""Plots of a sweep table (see :mod:`spicebar.sweeps.table`). Each takes ``ax=None``
and returns the axes; none calls show(). Only rows whose point and model
succeeded are drawn; points that differ only in seed are summarised by their
median, with a bar from the smallest to the largest value.

:func:`plot_sweep` never pools silently: a parameter that varies in the rows it draws
must be on an axis, a line style or a facet (one row of panels per value), or be fixed
with ``where``; otherwise it raises ``SpecError`` naming the parameter.
"""

from __future__ import annotations

import json

import numpy as np

from .maps import _pyplot
from ..analysis.scoring import STATS
from ..errors import SpecError

#: Units of the sweep parameters that have one (axis and legend labels say them).
PARAM_UNITS = {"r_wire": "ohm", "r_wl": "ohm", "r_bl": "ohm", "r_driver": "ohm",
               "r_sense": "ohm", "g_on": "S", "v_max": "V", "timeout_s": "s"}


def param_label(name: str) -> str:
    """``r_wire [ohm]``: a parameter's name with its unit, if it has one."""
    unit = PARAM_UNITS.get(name)
    return f"{name} [{unit}]" if unit else name

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


#: How a parameter a point does not set (an empty table cell) is shown and selected.
DEFAULT = "default"


def _fmt(v) -> str:
    if v is None or (isinstance(v, str) and v == ""):
        return DEFAULT
    try:
        x = float(v)
    except (TypeError, ValueError):
        pass
    else:
        return DEFAULT if np.isnan(x) else f"{x:g}"
    try:  # a table value such as a cell: {"kind": "1s1r", "nonlinearity": 10} -> 1s1r(nonlinearity=10)
        d = json.loads(str(v))
    except ValueError:
        return str(v)
    if isinstance(d, dict) and "kind" in d:
        rest = ", ".join(f"{k}={_fmt(x)}" for k, x in d.items() if k != "kind")
        return f"{d['kind']}({rest})" if rest else str(d["kind"])
    return str(v)


def _matches(column: np.ndarray, value: str) -> np.ndarray:
    """Rows of ``column`` equal to the text ``value`` (numbers compared as numbers; a
    table value such as ``{"kind": "1s1r", ...}`` also matches its kind, ``1s1r``;
    ``default`` matches the points that do not set the parameter)."""
    if column.dtype.kind == "f":
        if value == DEFAULT:
            return np.isnan(column)
        try:
            x = float(value)
        except ValueError:
            return np.zeros(column.shape, bool)
        return np.isclose(column, x, rtol=1e-12, atol=0.0)
    text = column.astype(str)
    out = (text == value) | ((text == "") & (value == DEFAULT))
    for k, t in enumerate(text):
        if not out[k] and t.startswith("{"):
            try:
                out[k] = json.loads(t).get("kind") == value
            except (ValueError, AttributeError):
                pass
    return out


def filter_table(table: dict, where: dict | None) -> dict:
    """Rows where every ``column == value`` (``where``: column -> text, as on the command line).

    Raises:
        SpecError: an unknown column, or a value no row has (the message lists the values).
    """
    t = table
    for key, value in (where or {}).items():
        if key not in t:
            raise SpecError("--where", f"names {key!r}, not a column of the table",
                            ", ".join(k for k in t if k not in _NOT_GROUPING or k == "size"))
        mask = _matches(t[key], str(value))
        if not mask.any():
            values = ", ".join(dict.fromkeys(_fmt(v) for v in t[key].tolist()))
            raise SpecError("--where", f"{key}={value} matches no row", f"{key} one of {values}")
        t = {k: a[mask] for k, a in t.items()}
    return t


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
            label = m if by is None else f"{m}, {by}={_fmt(bv)}{_unit(by)}"
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
    ax.set_xlabel(param_label(x))
    ax.set_ylabel(param_label(y))
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


def _unit(name: str) -> str:
    return f" {PARAM_UNITS[name]}" if name in PARAM_UNITS else ""


def _shown(table: dict) -> tuple[str | None, tuple[str, str] | None]:
    """What :func:`plot_sweep` puts on the page for ``table``: the line-style parameter of
    the size plot and the heatmap's two axes."""
    params = swept_parameters(_ok(table))
    return (params[0] if params else None), heatmap_axes(table)


def pooled_parameters(table: dict, facet: str | None = None) -> list[str]:
    """Parameters that vary in the drawn rows of ``table`` but that :func:`plot_sweep`
    would show nowhere (they would be pooled into one median)."""
    t = _ok(table)
    by, pair = _shown(t)
    shown = {by, facet, *(pair or ())}
    return [k for k in swept_parameters(t) if k not in shown]


def plot_sweep(table: dict, metric: str = "max_rel", model: str = "ideal", models=None,
               axes=None, *, where: dict | None = None, facet: str | None = None):
    """The sweep at a glance: error against size per model, and a heatmap of ``model``
    over two swept parameters when there are two. Returns the axes.

    ``where`` (column -> value text) keeps only the matching rows; ``facet`` draws one row
    of panels per value of that column.

    Raises:
        SpecError: a parameter varies and the plot would not show it (fix it with ``where``
            or give it as ``facet``), or ``where``/``facet`` name what the table lacks.
    """
    plt = _pyplot()
    t = filter_table(table, where)
    if facet is not None and facet not in t:
        raise SpecError("--facet", f"names {facet!r}, not a column of the table",
                        ", ".join(swept_parameters(_ok(t))) or "no parameter varies")
    values = list(dict.fromkeys(_ok(t)[facet].tolist())) if facet else [None]
    parts = [t if v is None else {k: a[t[facet] == v] for k, a in t.items()} for v in values]
    for part in parts:
        pooled = pooled_parameters(part, facet)
        if pooled:
            k = pooled[0]
            vals = ", ".join(dict.fromkeys(_fmt(v) for v in _ok(part)[k].tolist()))
            raise SpecError("--where/--facet", f"the sweep varies {k} ({vals}) and the plot does "
                            f"not show it: its values would be pooled into one median",
                            f"--where {k}=VALUE or --facet {k}")
    pairs = [heatmap_axes(part) for part in parts]
    n = 2 if any(pairs) else 1
    if axes is None:
        _, axes = plt.subplots(len(parts), n, figsize=(7 * n, 5 * len(parts)),
                               constrained_layout=True, squeeze=False)
    axes = np.asarray(axes, dtype=object).reshape(len(parts), -1)
    for row, (v, part, pair) in enumerate(zip(values, parts, pairs)):
        plot_error_vs_size(part, metric, models=models, ax=axes[row, 0])
        if pair and axes.shape[1] > 1:
            plot_heatmap(part, pair[0], pair[1], metric, model, ax=axes[row, 1])
        fixed = [f"{k} = {_fmt(x)}{_unit(k)}" for k, x in (where or {}).items()]
        if facet is not None:
            fixed.insert(0, f"{facet} = {_fmt(v)}{_unit(facet)}")
        if fixed:
            for ax in axes[row]:
                ax.set_title(f"{', '.join(fixed)}\n{ax.get_title()}", fontsize=10)
    return axes if facet is not None else axes[0]
