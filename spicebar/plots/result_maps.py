"""Maps of any result file (``spicebar plot maps``): what the file holds, drawn over the array.

* a result with per-cell maps (``simulate --maps``, ``compare``'s results, a nodal readout
  saved with maps): the three voltage maps and the two cell maps of one input vector;
* a result without them (written without ``--maps``, an ngspice readout, which saves only
  its readout nodes): the column currents of every vector, and the title says why;
* an ``mvm`` result: the conductances programmed on each tile (up to four).

Each function returns the axes it drew; none calls show().
"""

from __future__ import annotations

import numpy as np

from .maps import _heatmap, _pyplot


def has_maps(result) -> bool:
    """Whether ``result`` holds per-cell node voltages (not NaN, not left out of its file)."""
    from ..results import MapsNotSaved
    try:
        v = np.asarray(result.v_wl)
    except MapsNotSaved:
        return False
    return v.ndim == 3 and not np.isnan(v).all()


def plot_result_maps(result, vector: int = 0):
    """The maps of ``result`` (see the module docstring). Returns the axes (an array)."""
    from ..hardware.mvm import MVMResult
    plt = _pyplot()
    if isinstance(result, MVMResult):
        return _conductances(plt, result)
    if has_maps(result):
        from .cells import plot_cell_maps
        from .maps import plot_voltage_maps
        fig, axes = plt.subplots(2, 3, figsize=(15, 8.4), constrained_layout=True)
        plot_voltage_maps(result, vector, axes[0])
        plot_cell_maps(result, vector, axes[1, :2])
        axes[1, 2].axis("off")
        axes[1, 2].text(0.0, 0.5, _summary(result, vector), fontsize=9, va="center",
                        family="monospace", transform=axes[1, 2].transAxes)
        return axes
    fig, ax = plt.subplots(figsize=(9, 4.5), constrained_layout=True)
    why = ("an ngspice readout saves only its readout nodes" if getattr(result, "time", None)
           is not None else "the file was written without --maps")
    _heatmap(ax, 1e6 * np.asarray(result.currents), f"column currents ({result.engine}); no "
             f"per-cell maps: {why}", "uA", "viridis")
    ax.set_ylabel("input vector")
    return np.array([ax])


def _summary(result, vector: int) -> str:
    i = np.asarray(result.currents)[vector]
    return (f"engine   {result.engine}\nvector   {vector} of {result.currents.shape[0]}\n"
            f"array    {result.inputs.shape[1]} x {i.size}\n"
            f"max |I|  {np.abs(i).max():.4g} A\nmax |V|  {np.abs(result.inputs[vector]).max():.4g} V")


def _conductances(plt, result):
    g = result.conductances
    if g is None:
        from ..errors import SpecError
        raise SpecError("result", "is an mvm result without its programmed conductances (written "
                        "by an older spicebar)", "an mvm result written by this version")
    n = min(4, g.shape[0])
    fig, axes = plt.subplots(1, n, figsize=(4.5 * n, 4.2), constrained_layout=True, squeeze=False)
    index = result.info.get("tile_index") or [[k, 0] for k in range(g.shape[0])]
    for k, ax in enumerate(axes[0]):
        _heatmap(ax, 1e6 * g[k], f"tile {tuple(index[k])}: programmed conductance", "uS", "viridis")
    return axes[0]
