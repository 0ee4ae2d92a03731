"""Each figure a user reads: labels, legend entries and colour limits (issue 16's plot defects).

Every test builds the figure from a real run, opens it (saves a PNG) and reads back what a
reader sees: axis labels, legend texts, the colour bar's label and limits.
"""

from __future__ import annotations

import numpy as np
import pytest

import spicebar as sb
from spicebar.plots.maps import save_figure

#: A colour limit is a number the plot computed from the data it shows; reading it back
#: through matplotlib returns the same float64, up to the norm's own rounding.
LIMIT_REL = 1e-9


def _legend(ax) -> list[str]:
    leg = ax.get_legend()
    return [t.get_text() for t in leg.get_texts()] if leg else []


def _colorbar(ax):
    """The colour bar drawn for the (first) image of ``ax``."""
    im = ax.get_images()[0]
    assert im.colorbar is not None, "the map has no colour bar"
    return im, im.colorbar


@pytest.mark.ngspice
def test_transient_legend_names_rails_samples_and_saturated_windows(ngspice_ready, tmp_path):
    from spicebar.circuit.encoding import EncodingSpec
    from spicebar.circuit.readout import IntegratorSpec, OpAmpSpec
    from spicebar.engines.transient.run import simulate_readout
    from spicebar.plots.transient import plot_transient
    op = OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, v_lo=-1.0, v_hi=1.0)
    # column 0 wants -3 V and stops at the -1 V rail; column 1 stays inside (-0.3 V)
    g = np.array([[1e-4, 1e-5], [5e-5, 5e-6]])
    spec = sb.CrossbarSpec(g, readout=IntegratorSpec(c_int_f=1e-12, t_int_s=100e-9, opamp=op,
                                                     t_settle_s=2e-9))
    r = simulate_readout(spec, [0.2, 0.2], EncodingSpec("amplitude", bits=8), "ngspice")
    assert r.saturated[0].tolist() == [True, False]
    ax = plot_transient(r)
    labels = _legend(ax)
    assert "op-amp rails (-1, 1 V)" in labels
    saturated = [label for label in labels if label.startswith("saturated window (reached a rail")]
    assert saturated == ["saturated window (reached a rail; 1 of 2 in all columns)"]
    assert {"column 0", "column 1", "sampled value", "sample", "reset closed"} <= set(labels)
    assert ax.get_xlabel() == "time [ns]" and "v_out [V]" in ax.get_ylabel()
    assert save_figure(ax, tmp_path / "t.png").stat().st_size > 1000


def test_transpose_map_defines_its_quantity_and_runs_its_colours_forward(tmp_path):
    from spicebar.plots.mvm import plot_transpose_geometry
    spec = sb.CrossbarSpec(np.full((6, 5), 5e-5), r_wl=1.0, r_bl=2.0)
    axes = plot_transpose_geometry(spec)
    im, cbar = _colorbar(axes[0])
    label = cbar.ax.get_ylabel()
    assert "M" not in label.replace("_", " ").split(), "an undefined M in the colour bar"
    assert "G_eff[i, j] = dI_j / dV_i" in label
    assert im.get_cmap().name == "viridis"  # not reversed: the largest loss is darkest
    vmin, vmax = im.get_clim()
    data = np.asarray(im.get_array(), float)
    assert vmin == pytest.approx(data.min(), rel=LIMIT_REL)  # the whole range, no clipping
    assert vmax == pytest.approx(max(data.max(), 0.0), rel=LIMIT_REL, abs=1e-12)
    assert vmin < 0  # wires only lose weight in a passive array
    assert save_figure(axes, tmp_path / "tg.png").stat().st_size > 1000


def test_cell_current_map_spans_three_decades_below_its_largest_current(tmp_path):
    from spicebar.circuit.operation import VmmOperation
    from spicebar.plots.cells import CURRENT_MAP_DECADES, plot_cell_maps
    rng = np.random.default_rng(3)
    g = np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), (16, 16)))
    v = rng.uniform(0.0, 0.3, (1, 16))
    op = VmmOperation(floating_rows=(10, 11, 12))  # sneak currents far below the driven ones
    r = sb.simulate(sb.CrossbarSpec(g, r_wl=2.0, r_bl=2.0), v, "nodal", operation=op)
    axes = plot_cell_maps(r)
    im, cbar = _colorbar(axes[0])
    vmin, vmax = im.norm.vmin, im.norm.vmax
    top = np.abs(r.cell_currents[0]).max()
    assert vmax == pytest.approx(top, rel=LIMIT_REL)
    assert vmax / vmin == pytest.approx(10 ** CURRENT_MAP_DECADES, rel=LIMIT_REL)
    assert cbar.extend == "min" and "floor colour" in cbar.ax.get_ylabel()
    # the driven cells spread over several colours, not one
    driven = np.abs(r.cell_currents[0][:10])
    assert np.ptp(np.log10(np.maximum(driven, vmin))) > 1.0
    assert save_figure(axes, tmp_path / "cm.png").stat().st_size > 1000


def test_decomposition_keeps_the_worst_columns_in_view_at_256_columns(tmp_path):
    from spicebar.analysis.sneak import decompose
    from spicebar.plots.cells import plot_decomposition
    rng = np.random.default_rng(0)
    g = np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), (16, 256)))
    spec = sb.CrossbarSpec(g, r_wl=2.0, r_bl=2.0)
    d = decompose(spec, sb.simulate(spec, rng.uniform(0, 0.3, (1, 16)), "nodal"))
    ax = plot_decomposition(d)
    lo, hi = ax.get_ylim()
    err = 100 * d.error[0] / np.abs(d.ideal[0]).max()
    assert lo < err.min() and err.max() < hi
    x0, x1 = ax.get_xlim()
    assert x0 < 0 and x1 > 255
    # the legend sits above the axes, so it hides no column
    fig = ax.figure
    fig.canvas.draw()
    leg = ax.get_legend().get_window_extent()
    assert leg.y0 >= ax.get_window_extent().y1 - 1
    assert set(_legend(ax)) == {"ir-drop", "device", "sneak", "total - ideal"}
    assert save_figure(ax, tmp_path / "d.png").stat().st_size > 1000


def _sweep_table(cells=("passive",)):
    """A tidy table as `spicebar sweep` writes it: sizes x r_wire x cells, two seeds."""
    rows = []
    for cell in cells:
        for size in (8, 16):
            for r in (1.0, 2.0):
                for seed in (0, 1):
                    for model, err in (("ideal", 1e-3 * r * size ** 2), ("nodal", 1e-14)):
                        rows.append(dict(size=size, r_wire=r, cell=cell, seed=seed, model=model,
                                         max_rel=err * (1 + 0.1 * seed)))
    t = {k: np.array([row[k] for row in rows]) for k in rows[0]}
    n = len(rows)
    t.update(status=np.array(["ok"] * n), model_status=np.array(["ok"] * n),
             reference=np.array(["ngspice"] * n), cells=t["size"].astype(float) ** 2,
             size=t["size"].astype(float), seed=t["seed"].astype(float))
    return t


def test_sweep_plot_says_the_wire_unit_and_refuses_to_pool(tmp_path):
    from spicebar.errors import SpecError
    from spicebar.plots.sweep import plot_sweep
    axes = plot_sweep(_sweep_table())
    assert axes[1].get_ylabel() == "r_wire [ohm]"
    assert "ideal, r_wire=1 ohm" in _legend(axes[0])
    table = _sweep_table(("passive", "1s1r"))
    with pytest.raises(SpecError, match="varies cell .* --where cell=VALUE or --facet cell"):
        plot_sweep(table)
    axes = plot_sweep(table, where={"cell": "1s1r"})
    assert axes[0].get_title().startswith("cell = 1s1r\nmax relative error")
    grid = plot_sweep(table, facet="cell")
    assert grid.shape == (2, 2)
    assert grid[0, 0].get_title().startswith("cell = passive")
    assert grid[1, 1].get_title().startswith("cell = 1s1r")
    with pytest.raises(SpecError, match="r_wire=3 matches no row"):
        plot_sweep(table, where={"cell": "passive", "r_wire": "3"})
    assert save_figure(grid, tmp_path / "s.png").stat().st_size > 1000
