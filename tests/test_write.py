"""Writes: the stress on every cell against hand-computed small arrays, nodal against ngspice,
the 64x64 V/3 write in both engines, the CLI and its bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spicebar.analysis.write import HALF_COL, HALF_ROW, SELECTED, UNSELECTED, write_cell
from spicebar.circuit.spec import CrossbarSpec
from tests.tolerances import ANALYTIC_REL, ENGINE_AGREEMENT_REL

V_W = 2.0


@pytest.mark.parametrize("engine", ["nodal", "ngspice"])
@pytest.mark.parametrize("scheme, half, unsel", [("v2", V_W / 2, 0.0), ("v3", V_W / 3, -V_W / 3)])
def test_ideal_wires_by_hand(engine, scheme, half, unsel):
    """Ideal wires: every cell sees exactly its two line voltages."""
    r = write_cell(CrossbarSpec(np.full((3, 3), 1e-5)), 1, 1, V_W, scheme=scheme, engine=engine)
    want = np.where(r.role == SELECTED, V_W, np.where(r.role == UNSELECTED, unsel, half))
    assert np.abs(r.cell_voltage - want).max() <= ANALYTIC_REL * V_W
    assert r.i_selected_a == pytest.approx(V_W * 1e-5, rel=ANALYTIC_REL)
    assert abs(r.worst_v) == pytest.approx(max(half, abs(unsel)), rel=ANALYTIC_REL)


@pytest.mark.parametrize("engine", ["nodal", "ngspice"])
def test_floating_lines_by_hand(engine):
    """2x2, ideal wires, unselected lines open: the only path besides the selected cell is the
    three other cells in series (0,1) -> (1,1) -> (1,0), V_w / 3 each (equal conductances)."""
    r = write_cell(CrossbarSpec(np.full((2, 2), 1e-5)), 0, 0, V_W, scheme="floating", engine=engine)
    want = np.array([[V_W, V_W / 3], [V_W / 3, -V_W / 3]])
    assert np.abs(r.cell_voltage - want).max() <= ANALYTIC_REL * V_W
    assert r.role.tolist() == [[SELECTED, HALF_ROW], [HALF_COL, UNSELECTED]]


@pytest.mark.parametrize("engine", ["nodal", "ngspice"])
def test_ir_drop_by_hand(engine):
    """1x2, V/2, word-line segments r, ideal bit lines. KCL by hand, nodes a = wl_0_0, b = wl_0_1:
    (V - a)/r = g a + (a - b)/r  and  (a - b)/r = g (b - V/2)."""
    g, r_w = 1e-3, 50.0
    m = np.array([[2 / r_w + g, -1 / r_w], [-1 / r_w, 1 / r_w + g]])
    a, b = np.linalg.solve(m, [V_W / r_w, g * V_W / 2])
    res = write_cell(CrossbarSpec(np.full((1, 2), g), r_wl=r_w), 0, 0, V_W, scheme="v2",
                     v_switch_volt=1.5, v_disturb_volt=1.2, engine=engine)
    assert res.v_selected_volt == pytest.approx(a, rel=ANALYTIC_REL)
    assert res.cell_voltage[0, 1] == pytest.approx(b - V_W / 2, rel=ANALYTIC_REL)
    assert res.ir_drop_v == pytest.approx(V_W - a, rel=1e-9)
    assert res.write_slack_v == pytest.approx(a - 1.5, rel=1e-9)
    assert res.disturb_slack_v == pytest.approx(1.2 - abs(b - V_W / 2), rel=1e-9)
    assert res.margin_v == min(res.write_slack_v, res.disturb_slack_v)


def test_done_v3_write_on_64x64_reports_worst_disturbed_cell_in_both_engines():
    rng = np.random.default_rng(5)
    spec = CrossbarSpec(rng.uniform(2e-6, 5e-5, (64, 64)), r_wl=2.0, r_bl=2.0)
    a, b = (write_cell(spec, 0, 63, V_W, scheme="v3", v_switch_volt=1.8, v_disturb_volt=1.0,
                       engine=e) for e in ("nodal", "ngspice"))
    assert a.worst == b.worst
    assert np.abs(a.cell_voltage - b.cell_voltage).max() <= ENGINE_AGREEMENT_REL * V_W
    assert a.v_selected_volt < V_W  # the wires took their share
    assert abs(a.worst_v) == pytest.approx(np.abs(np.where(a.role == SELECTED, 0, a.cell_voltage)).max())
    s = b.summary()
    assert s["worst_cell"] == list(a.worst) and s["margin_v"] == pytest.approx(a.margin_v, abs=1e-9)


def test_cli_write(tmp_path, capsys):
    from spicebar.cli.main import main
    png, js = tmp_path / "s.png", tmp_path / "w.json"
    assert main(["write", "--rows", "8", "--cols", "8", "--r-wl", "1", "--r-bl", "1",
                 "--v-write", "2", "--scheme", "v3", "--v-disturb", "1", "--engine", "both",
                 "--plot", str(png), "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "worst disturbed cell" in out and "nodal vs ngspice" in out
    data = json.loads(js.read_text())
    assert [r["engine"] for r in data["results"]] == ["nodal", "ngspice"]
    assert data["nodal_vs_ngspice_max_abs_v"] <= ENGINE_AGREEMENT_REL * V_W
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv, flag", [
    (["--rows", "4", "--cols", "4", "--v-write", "-1"], "--v-write"),
    (["--rows", "4", "--cols", "4", "--v-write", "2", "--row", "9"], "--row"),
    (["--rows", "4", "--v-write", "2"], "--cols"),
    (["--rows", "4", "--cols", "4", "--v-write", "2", "--v-disturb", "0"], "--v-disturb")])
def test_cli_write_bad_input(tmp_path, capsys, argv, flag):
    from spicebar.cli.main import main
    rc = main(["write", *argv, "--json", str(tmp_path / "w.json")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith(f"spicebar: error: {flag}") and err.count("\n") == 1
    assert not (tmp_path / "w.json").exists()
