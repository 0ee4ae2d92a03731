"""Network accuracy on crossbars: against wire resistance, per tile size, with and without
IR-drop compensation. Takes ``ax=None``, returns the axes."""

from __future__ import annotations

from .maps import _pyplot


def plot_accuracy_grid(grid: list[dict], reference: dict | None = None, ax=None):
    """Accuracy (percent) against wire resistance per segment, one colour per tile size.

    Args:
        grid: rows with ``array`` (tile rows = cols), ``r_ohm``, ``nodal`` and optionally
            ``nodal_compensated`` (accuracies in [0, 1]).
        reference: horizontal lines, e.g. ``{"float": 0.97, "ideal_quantised": 0.96}``.
    Solid lines: uncompensated; dashed: compensated; a cross marks a point whose
    compensation was refused (``compensation_refused`` in the row: targets outside the window).
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.8), constrained_layout=True)
    sizes = sorted({g["array"] for g in grid})
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for n, c in zip(sizes, colours * 4):
        rows = sorted((g for g in grid if g["array"] == n), key=lambda g: g["r_ohm"])
        r = [g["r_ohm"] for g in rows]
        ax.plot(r, [100 * g["nodal"] for g in rows], "o-", color=c, label=f"{n}x{n} tiles")
        comp = [g for g in rows if "nodal_compensated" in g]
        if comp:
            ax.plot([g["r_ohm"] for g in comp], [100 * g["nodal_compensated"] for g in comp],
                    "s--", color=c, label=f"{n}x{n} compensated")
        for g in rows:
            if "compensation_refused" in g:
                ax.plot(g["r_ohm"], 100 * g["nodal"], "x", color=c, ms=10)
                ax.annotate("compensation\nrefused", (g["r_ohm"], 100 * g["nodal"]), fontsize=7,
                            xytext=(-62, 4), textcoords="offset points", color=c)
    for (name, value), style in zip((reference or {}).items(), (":", "-.", "--")):
        ax.axhline(100 * value, color="k", ls=style, lw=1, label=name.replace("_", " "))
    ax.set_xlabel("wire resistance per segment (ohm, word and bit lines)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("network accuracy through tiled crossbars (nodal engine)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    return ax
