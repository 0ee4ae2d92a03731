"""Writes of 1S1R and 1T1R arrays: the stress is what the access device leaves the element.

Checked against single cells solved by hand (a sinh selector or a Shichman-Hodges
transistor in series with the element, between the two line voltages the scheme sets),
in both engines, with ideal wires so the scheme's line voltages reach every cell.
"""

import json

import numpy as np
import pytest
from scipy.optimize import brentq

from spicebar import CrossbarSpec
from spicebar.analysis.write import HALF_COL, HALF_ROW, UNSELECTED, roles, write_cell
from spicebar.circuit.cells import SelectorCell, TransistorCell

from .test_cli import run_cli
from .test_three_line import GMIN_LEFT_OUT_REL, _ids
from .tolerances import CELL_AGREEMENT_REL

pytestmark = pytest.mark.ngspice

V_W = 1.0
G = 1e-4  # S: the element's 10 kohm
#: ngspice's gmin (1e-12 S from each junction to bulk) is the only path through a transistor
#: whose gate is off; at <= V_W it leaves under 1e-12 * V_W / G volts on the element. 1e-6 V
#: is a bound far above it and far below any on-cell's stress (~0.1-1 V).
GATED_OFF_ELEMENT_V = 1e-6


def _selector_cell_element_v(cell: SelectorCell, v: float) -> float:
    """Element voltage of one 1S1R cell with ``v`` across it: I_s sinh((v - I R)/V_s) = I."""
    if v == 0:
        return 0.0
    r = 1.0 / G
    i = brentq(lambda i: cell.i_s_amp * np.sinh((v - i * r) / cell.v_s_volt) - i,
               0.0, v / r, xtol=1e-20, rtol=1e-14) if v > 0 else \
        -brentq(lambda i: cell.i_s_amp * np.sinh((-v - i * r) / cell.v_s_volt) - i,
                0.0, -v / r, xtol=1e-20, rtol=1e-14)
    return i * r


@pytest.mark.parametrize("scheme, v_other", [("v2", (0.5, 0.5)), ("v3", (1 / 3, 2 / 3))])
def test_1s1r_write_stress_is_what_the_selector_leaves(ngspice_ready, scheme, v_other):
    # ideal wires: every cell sees its row voltage minus its column voltage as the scheme
    # sets them; each element's voltage is then that of a lone 1S1R cell, solved by hand
    cell = SelectorCell(nonlinearity=100.0, v_read_volt=V_W, i_read_a=1e-5)
    spec = CrossbarSpec(np.full((3, 3), G), cell=cell)
    v_row = np.array([V_W * v_other[0]] * 3)
    v_col = np.array([V_W * v_other[1]] * 3)
    v_row[1], v_col[2] = V_W, 0.0  # the selected cell (1, 2)
    want = np.array([[_selector_cell_element_v(cell, v_row[i] - v_col[j]) for j in range(3)]
                     for i in range(3)])
    for engine in ("nodal", "ngspice"):
        r = write_cell(spec, 1, 2, V_W, scheme=scheme, engine=engine, v_disturb_volt=0.05)
        assert np.abs(r.stress - want).max() <= CELL_AGREEMENT_REL * np.abs(want).max(), engine
        assert r.v_selected_volt == pytest.approx(want[1, 2], rel=CELL_AGREEMENT_REL)
        assert r.v_selected_cell_volt == pytest.approx(V_W, abs=1e-9)  # no wire: no IR drop
        # the selector takes most of V/2 or V/3: the half-selected element sees far less
        assert r.worst_of(HALF_ROW) < 0.1 * abs(v_row[1] - v_col[0])
        assert r.summary()["stress_on"] == "memory element"


def test_1t1r_write_turns_on_only_the_selected_row(ngspice_ready):
    # v2 on a 2x2 1T1R array: row 0 (selected) has its gate on, row 1 off. (0, 0) has V_W
    # across it, (0, 1) V_W/2 with its source at V_W/2, the gated-off row carries nothing
    spec = CrossbarSpec(np.full((2, 2), G), cell=TransistorCell(vg_on_volt=1.8))
    r_el = 1.0 / G

    def element_v(v_in, v_src):  # row - element - mid - transistor (source = column) - column
        mid = brentq(lambda m: (v_in - m) / r_el - _ids(1.8, m, v_src), v_src, v_in,
                     xtol=1e-16, rtol=1e-15)
        return v_in - mid
    sel, half = element_v(V_W, 0.0), element_v(V_W, V_W / 2)
    for engine in ("nodal", "ngspice"):
        r = write_cell(spec, 0, 0, V_W, scheme="v2", engine=engine)
        assert r.v_selected_volt == pytest.approx(sel, rel=GMIN_LEFT_OUT_REL), engine
        assert r.stress[0, 1] == pytest.approx(half, rel=GMIN_LEFT_OUT_REL), engine
        assert np.abs(r.stress[1]).max() < GATED_OFF_ELEMENT_V, engine
        assert r.cell_voltage[1, 0] == pytest.approx(V_W / 2, abs=1e-9)  # the line voltages
        assert r.worst == (0, 1)  # the half-selected cell on the selected (gated-on) row
    assert roles(2, 2, 0, 0)[1, 1] == UNSELECTED and roles(2, 2, 0, 0)[1, 0] == HALF_COL


def test_cli_write_takes_transistor_and_selector_cells(ngspice_ready, tmp_path):
    p = run_cli("write", "--rows", 3, "--cols", 3, "--g", G, "--v-write", V_W, "--scheme", "v3",
                "--cell", "1s1r", "--nonlinearity", 100, "--sel-v-read", V_W, "--sel-i-read", 1e-5,
                "--engine", "both", "--json", tmp_path / "w.json", "--plot", tmp_path / "w.png")
    assert p.returncode == 0, p.stderr
    out = json.loads((tmp_path / "w.json").read_text())
    cell = SelectorCell(nonlinearity=100.0, v_read_volt=V_W, i_read_a=1e-5)
    for res in out["results"]:
        assert res["stress_on"] == "memory element"
        assert res["worst_unselected_v"] == pytest.approx(
            _selector_cell_element_v(cell, V_W / 3), rel=CELL_AGREEMENT_REL)
    assert out["nodal_vs_ngspice_stress_max_abs_v"] < CELL_AGREEMENT_REL * V_W
    assert "memory element" in p.stdout and (tmp_path / "w.png").stat().st_size > 0
    p = run_cli("write", "--rows", 2, "--cols", 2, "--v-write", V_W, "--cell", "1t1r",
                "--vg-on", 9)
    assert p.returncode == 2 and "--vg-on" in p.stderr, p.stderr
