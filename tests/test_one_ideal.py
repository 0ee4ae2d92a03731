"""One notion of the ideal answer, ``V @ G_ss``, and reports that attribute correctly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from spicebar.analysis.comparison import REL_FLOOR_FS, compare, format_table, worst_cell
from spicebar.analysis.scoring import score_models
from spicebar.circuit.devices import DeviceCell
from spicebar.circuit.operation import ReadOperation, VmmOperation
from spicebar.circuit.spec import CrossbarSpec
from spicebar.cli.main import main
from spicebar.engines.simulation import full_scale_current, ideal_conductances, simulate

from .tolerances import DEVICE_VS_BUILTIN_REL, FLOAT_REL

DEVICES = Path(__file__).resolve().parent.parent / "models" / "devices"
#: How far V @ G_ss may be from the exact current of the gap array below: the read law is
#: nonlinear (about 5 % at 0.3 V, measured); a full scale from gaps read as siemens is 1e4 off.
GAP_IDEAL_BOUND = 0.2


def stanford_g_ss(gap: np.ndarray) -> np.ndarray:
    """The read law's small-signal conductance at 0 V, written out: (i0 / v0) exp(-gap / g0)."""
    return 1e-3 / 0.25 * np.exp(-gap / 0.25e-9)


@pytest.mark.ngspice
def test_a_gap_array_is_scored_and_scaled_by_its_small_signal_conductance(
        ngspice_ready, rng, tmp_path, capsys):
    gap = rng.uniform(0.3e-9, 1.5e-9, (4, 4))
    v = rng.uniform(0.05, 0.3, (2, 4))
    spec = CrossbarSpec(gap, r_wl=1.0, r_bl=1.0,
                        cell=DeviceCell(DEVICES / "stanford_rram_read.va", cell_param="gap"))
    g_ss = stanford_g_ss(gap)
    np.testing.assert_allclose(ideal_conductances(spec, v), g_ss, rtol=DEVICE_VS_BUILTIN_REL)
    fs = np.abs(v).max() * g_ss.sum(axis=0).max()
    assert full_scale_current(spec, v) == pytest.approx(fs, rel=DEVICE_VS_BUILTIN_REL)

    np.save(tmp_path / "gap.npy", gap)
    np.save(tmp_path / "V.npy", v)
    assert main(["compare", "-G", str(tmp_path / "gap.npy"), "-V", str(tmp_path / "V.npy"),
                 "--r-wire", "1", "--engines", "ideal,nodal", "--cell", "device", "--device",
                 str(DEVICES / "stanford_rram_read.va"), "--device-cell-param", "gap",
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["full_scale_a"] == pytest.approx(fs, rel=DEVICE_VS_BUILTIN_REL)
    dec = d["decomposition"]
    np.testing.assert_allclose(dec["ideal"], v @ g_ss, rtol=DEVICE_VS_BUILTIN_REL)
    # the read law's nonlinearity at up to 0.3 V puts the exact current some % from
    # V @ G_ss (5 % measured); gaps read as siemens gave 1.6e4 of full scale
    assert d["pairs"][0]["max_rel_fs"] < GAP_IDEAL_BOUND

    scores = {s.model: s for s in score_models(["ideal"], spec, v, reference="nodal")}
    nodal = simulate(spec, v, "nodal").currents
    assert scores["ideal"].max_abs_a == pytest.approx(np.abs(v @ g_ss - nodal).max(),
                                                      rel=DEVICE_VS_BUILTIN_REL)
    assert scores["ideal"].max_rel < GAP_IDEAL_BOUND


def test_built_in_cells_keep_their_conductances(rng):
    g = rng.uniform(1e-5, 1e-4, (3, 3))
    assert ideal_conductances(CrossbarSpec(g)) is not None
    np.testing.assert_array_equal(ideal_conductances(CrossbarSpec(g)), g)


def test_the_worst_cell_is_a_driven_cell_on_a_driven_line(rng):
    """Ideal wires: a floating row's cells and a half-selected cell sit at other voltages by
    design, not because the wires lose them anything."""
    g = rng.uniform(1e-5, 1e-4, (6, 6))
    spec = CrossbarSpec(g)  # ideal wires
    v = np.full((1, 6), 0.2)
    op = VmmOperation(floating_rows=(3, 4))
    r = simulate(spec, v, "nodal", operation=op)
    cell = worst_cell(r, op)
    assert cell is None or cell["row"] not in (3, 4)
    assert cell is None or abs(cell["voltage_loss_v"]) < 1e-9  # ideal wires lose nothing
    read = ReadOperation(row=1, col=2, v_read_volt=0.2, scheme="floating")
    r = simulate(spec, None, "nodal", operation=read)
    cell = worst_cell(r, read)
    assert cell is not None and (cell["row"], cell["col"]) == (1, 2)
    assert abs(cell["voltage_loss_v"]) < 1e-9


def test_tiny_exact_currents_switch_to_fractions_of_full_scale_and_the_table_says_so():
    from spicebar.results import SimulationResult

    def fake(engine, i):
        i = np.asarray(i, float)
        z = np.zeros((1, 1, i.shape[1]))
        return SimulationResult(engine, np.ones((1, 1)), i, z, z, np.zeros((1, 1)))
    fs = 1e-4
    tiny = 0.1 * REL_FLOOR_FS * fs
    c = compare({"ideal": fake("ideal", [[1e-4, tiny + 1e-8]]),
                 "nodal": fake("nodal", [[1e-4, tiny]])}, fs)
    p = c.pair("nodal", "ideal")
    assert p.n_floored == 1
    assert p.max_rel == pytest.approx(1e-8 / fs, rel=FLOAT_REL)  # not 1e-8 / tiny = 10
    assert "rel is |dI| / FS instead" in format_table(c)


def test_the_agreement_panel_says_when_ngspice_did_not_run(rng):
    from spicebar.plots.maps import _pyplot, plot_column_error
    spec = CrossbarSpec(rng.uniform(1e-5, 1e-4, (4, 4)), r_wl=1.0, r_bl=1.0)
    v = rng.uniform(0, 0.2, (1, 4))
    results = {e: simulate(spec, v, e) for e in ("ideal", "nodal")}
    c = compare(results, full_scale_current(spec, v))
    assert [(p.engine, p.reference) for p in c.pairs] == [("nodal", "ideal")]
    axes = plot_column_error(c)
    assert "not compared" in " ".join(t.get_text() for t in axes[1].texts)
    assert axes[1].get_lines() == []  # no empty log axis that reads as zero
    _pyplot().close(axes[0].figure)
