"""The stress map of a write: the voltage on every cell, the selected and the worst marked."""

from __future__ import annotations

import numpy as np

from ..analysis.write import WriteResult
from .maps import _pyplot


def plot_write_stress(result: WriteResult, ax=None):
    """``|V|`` of every cell but the selected one (volts) as a map, so the disturb pattern
    fills the colour scale; the selected cell is circled, the worst disturbed cell crossed,
    the legend gives both and the title the margin. Returns the axes."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 5.2))
    stress = np.abs(result.stress).astype(float)
    stress[result.row, result.col] = np.nan  # drawn blank: its voltage is in the legend
    im = ax.imshow(stress, cmap="magma", aspect="auto", interpolation="nearest")
    what = "cell" if result.element_voltage is None else "memory element"
    ax.figure.colorbar(im, ax=ax, label=f"|{what} voltage| (V), selected cell excluded")
    ax.plot([result.col], [result.row], "o", mfc="none", mec="cyan", ms=12, mew=2,
            label=f"selected ({result.row}, {result.col}): {result.v_selected_volt:.4g} V")
    wi, wj = result.worst
    ax.plot([wj], [wi], "x", color="lime", ms=12, mew=2,
            label=f"worst disturbed ({wi}, {wj}): {result.worst_v:.4g} V")
    ax.set_xlabel("bit line (column) j")
    ax.set_ylabel("word line (row) i")
    margin = "" if result.margin_v is None else f", margin {result.margin_v:+.3g} V"
    ax.set_title(f"{result.engine}: {result.scheme} write at {result.v_write_volt:g} V (DC)"
                 f"{margin}", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8, ncol=1)
    ax.figure.tight_layout()
    return ax
