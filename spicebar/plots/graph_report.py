"""An imported model on crossbars: accuracy per row, and each layer's error budget.
Takes ``axes=None``, returns the two axes."""

from __future__ import annotations

import numpy as np

from .maps import _pyplot


def plot_layer_report(result: dict, axes=None):
    """Left: accuracy (percent) per row; right: per layer, each effect's rms error at the
    layer's output relative to its rms output (percent, log scale).

    Args:
        result: ``GraphResult.to_dict()`` (or ``accuracy.json`` of ``spicebar network --onnx``).
    """
    plt = _pyplot()
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    ax, bx = axes
    acc = result["accuracy"]
    names = list(acc)
    ax.barh(range(len(names)), [100 * acc[n] for n in names],
            color=["C2" if n.startswith("layer:") else "C0" for n in names])
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    low = min(100 * a for a in acc.values())
    ax.set_xlim(max(0.0, low - 5), 100)
    for i, n in enumerate(names):
        ax.text(100 * acc[n], i, f" {100 * acc[n]:.1f}", va="center", fontsize=7)
    ax.set_xlabel("accuracy (%)  (green: all effects on that layer only)")
    budgets = result.get("layer_budgets") or []
    if budgets:
        labels = [r["label"] for r in budgets[0]["rows"]]
        on = [i for i, lab in enumerate(labels) if any(b["rows"][i]["configured"] for b in budgets)]
        width = 0.8 / max(len(on), 1)
        for j, i in enumerate(on):
            vals = [100 * max(b["rows"][i]["rel_rms"], 1e-6) for b in budgets]
            bx.bar(np.arange(len(budgets)) + (j - (len(on) - 1) / 2) * width, vals, width,
                   label=labels[i], color=f"C{j}")
        bx.set_xticks(range(len(budgets)), [b["layer"] for b in budgets], fontsize=8)
        bx.set_yscale("log")
        bx.set_ylabel("rms error / rms output (%)")
        bx.legend(fontsize=7)
        bx.grid(alpha=0.3, axis="y")
    bx.set_title("error budget at each layer's output", fontsize=10)
    ax.set_title("accuracy per row", fontsize=10)
    return axes
