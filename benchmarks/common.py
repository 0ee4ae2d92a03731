"""Pieces every benchmark shares: the standard passive case, growth exponents, the
ngspice engine's own share, and the log-log figure of time against cells."""

from __future__ import annotations

from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "out"

#: The standard case: 1 ohm word- and bit-line segments, conductances log-uniform in
#: [G_LO, G_HI] S, inputs uniform in [0, V_HI] V, the default topology.
R_WIRE, G_LO, G_HI, V_HI = 1.0, 1e-6, 1e-4, 0.2


def passive_case(n: int, batch: int, seed: int = 0, g_hi: float = G_HI):
    """``(G (n, n) S, V (batch, n) V)`` of the standard case."""
    rng = np.random.default_rng(seed)
    g = np.exp(rng.uniform(np.log(G_LO), np.log(g_hi), (n, n)))
    return g, rng.uniform(0, V_HI, (batch, n))


def growth_exponent(cells, times, last: int = 3) -> float:
    """Least-squares slope of log(time) on log(cells) over the ``last`` largest sizes."""
    c, t = np.asarray(cells, float), np.asarray(times, float)
    ok = np.isfinite(t) & (t > 0)
    if ok.sum() < 2:
        return float("nan")
    c, t = c[ok][-last:], t[ok][-last:]
    return float(np.polyfit(np.log(c), np.log(t), 1)[0])


def own_share(result, wall_s: float) -> float:
    """spicebar's share of an ngspice engine run, %: all of ``wall_s`` but ngspice's own
    netlist load and solve (elaboration, netlist text, files, read-back, waiting)."""
    t = result.info["timings"]
    return 100 * (1 - (t["load_s"] + t["run_s"]) / wall_s)


def loglog_figure(series: dict, title: str, path: Path, ylabel: str = "wall time, s") -> Path:
    """One line per ``label -> (cells, seconds)``; writes ``path`` (PNG) and returns it."""
    from spicebar.plots.maps import _pyplot, save_figure
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 5), constrained_layout=True)
    for label, (cells, seconds) in series.items():
        cells, seconds = np.asarray(cells, float), np.asarray(seconds, float)
        ok = np.isfinite(seconds)
        if ok.any():
            ax.loglog(cells[ok], seconds[ok], "o-", label=label)
    ax.set_xlabel("cells (rows x cols)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(ax, path)
    return path


def bar_figure(labels: list[str], series: dict[str, list[float]], ylabel: str, path: Path,
               title: str | None = None) -> Path:
    """Grouped bars: one group per label, one bar per series; writes ``path`` (PNG)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 3.8))
    x = np.arange(len(labels))
    w = 0.8 / max(len(series), 1)
    for k, (name, values) in enumerate(series.items()):
        ax.bar(x + (k - (len(series) - 1) / 2) * w, values, w, label=name)
    ax.set_xticks(x, labels)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def row_times_figure(table, title: str, xlabel: str, path: Path, target_s: float | None = None) -> Path:
    """Horizontal bars of the wall time of each timed row of ``table`` (``(label, seconds or
    None, ...)`` tuples, untimed rows left out), an optional dashed target line; writes
    ``path`` (PNG) and returns it."""
    from spicebar.plots.maps import _pyplot, save_figure
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4), constrained_layout=True)
    timed = [(row[0], row[1]) for row in table if row[1] is not None]
    ax.barh(range(len(timed)), [t for _, t in timed], color="C0")
    ax.set_yticks(range(len(timed)), [lab for lab, _ in timed], fontsize=8)
    if target_s is not None:
        ax.axvline(target_s, color="r", ls="--", lw=1, label=f"target {target_s:g} s")
        ax.legend(fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_figure(ax, path)
