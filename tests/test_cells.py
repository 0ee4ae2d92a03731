"""Cell kinds without the simulator: validation, device equations, analytic 1x1 limits, Newton."""

import numpy as np
import pytest
from scipy.optimize import brentq

from spicebar import CrossbarSpec, SolverError, SpecError, simulate
from spicebar.circuit.cells import (NonlinearCell, PassiveCell, SelectorCell, TransistorCell,
                                    make_cell)
from spicebar.circuit.iv_models import Level1Params, level1_params, mos1_ids, sinh_iv
from spicebar.circuit.elaboration import elaborate
from spicebar.engines.nodal import newton
from spicebar.netlist.writer import format_netlist
from spicebar.circuit.operation import ReadOperation, VmmOperation

from .tolerances import ANALYTIC_REL, DERIVATIVE_REL, FLOAT_REL

G = np.full((3, 4), 1e-4)


@pytest.mark.parametrize("make, parameter, fragment", [
    (lambda: SelectorCell(nonlinearity=2.0), "nonlinearity", "> 2"),
    (lambda: SelectorCell(nonlinearity=-5), "nonlinearity", "> 2"),
    (lambda: SelectorCell(i_read_a=0.0), "i_read_a", ">= 1e-09"),
    (lambda: SelectorCell(v_read_volt=float("nan")), "v_read_volt", "finite"),
    (lambda: NonlinearCell(v0_volt=0.0), "v0_volt", ">= 0.01"),
    (lambda: TransistorCell(), "vg_on_volt", "missing"),
    (lambda: TransistorCell(vg_on_volt=0.3), "vg_on_volt", "threshold"),
    (lambda: TransistorCell(vg_on_volt=1.8, vg_off_volt=2.0), "vg_off_volt", "below vg_on_volt"),
    (lambda: TransistorCell(vg_on_volt=1.8, model="nope.lib"), "model", "no such card"),
    (lambda: TransistorCell(vg_on_volt=1.8, w_m=0), "w_m", ">= 1e-08"),
    (lambda: CrossbarSpec(G, cell="1s1r"), "cell", "SelectorCell"),
    (lambda: make_cell("4t4r"), "cell", "passive"),
    (lambda: elaborate(CrossbarSpec(G), VmmOperation(gated_off_rows=(1,))), "gated_off_rows", "1T1R"),
    (lambda: elaborate(CrossbarSpec(G), VmmOperation(floating_rows=(5,))), "floating_rows", "0..2"),
    (lambda: elaborate(CrossbarSpec(G), VmmOperation(floating_rows=(0, 1, 2))), "floating_rows", "driven"),
    (lambda: VmmOperation(floating_rows=(1.5,)), "floating_rows", "integer"),
    (lambda: ReadOperation(scheme="v4"), "scheme", "floating"),
    (lambda: elaborate(CrossbarSpec(G), ReadOperation(row=3)), "row", "0..2"),
    (lambda: simulate(CrossbarSpec(G), [0.1] * 3, operation=ReadOperation()), "inputs", "read"),
])
def test_bad_cell_and_operation_parameters(make, parameter, fragment):
    with pytest.raises(SpecError) as err:
        make()
    assert err.value.parameter == parameter
    assert fragment in str(err.value)


def test_non_physical_mos_card_is_refused(tmp_path):
    card = tmp_path / "bad.lib"
    card.write_text(".model bad nmos (level=1 vto=0.5 kp=-1e-4 phi=0.8)\n")
    with pytest.raises(SpecError, match="kp = -0.0001"):
        TransistorCell(vg_on_volt=1.8, model=card)


def test_selector_parameters_mean_what_they_say():
    s = SelectorCell(nonlinearity=500.0, v_read_volt=0.8, i_read_a=2e-5)
    i, _ = sinh_iv(np.array([0.8, 0.4]), s.i_s_amp, s.v_s_volt)
    assert i[0] == pytest.approx(2e-5, rel=FLOAT_REL)
    assert i[0] / i[1] == pytest.approx(500.0, rel=1e-10)  # acosh/sinh round trip


def test_new_kinds_elaborate_with_internal_and_gate_nodes():
    ir = elaborate(CrossbarSpec(G, r_wl=1, r_bl=1, cell=TransistorCell(vg_on_volt=1.8)),
                   VmmOperation(gated_off_rows=(2,), floating_rows=(1,)))
    names = ir.node_names
    assert names[ir.mid_node[1, 2]] == "mid_1_2" and ir.gates.names == ["vg_0", "vg_1", "vg_2"]
    assert ir.gates.value.tolist() == [1.8, 1.8, 0.0]
    assert ir.drivers.names == ["vin_0", "vin_2"]  # row 1 floats
    text = format_netlist(ir, np.array([0.1, 0.2, 0.3]))
    assert "macc_1_2 mid_1_2 gl_1 bl_1_2 0 nmos_l1 w=1e-06 l=1.8e-07" in text
    assert ".model nmos_l1 nmos" in text  # the card is copied in: the netlist stands alone
    ir = elaborate(CrossbarSpec(G, cell=SelectorCell()), ReadOperation(row=1, col=2, v_read_volt=0.9,
                                                                        scheme="v3"))
    assert ir.senses.value.tolist() == [0.6, 0.6, 0.0, 0.6]
    assert "bsel_0_0 in_0 mid_0_0 i=" in format_netlist(ir)


@pytest.mark.parametrize("vd, vs", [(0.3, 0.05), (0.05, 0.3), (1.5, 0.1), (0.1, 1.5), (0.2, 0.2001)])
@pytest.mark.parametrize("vg", [0.3, 1.2, 1.8])
def test_mos1_derivatives_match_finite_differences(vd, vs, vg):
    p = level1_params("models/nmos_level1.lib")
    w, l = np.array([1e-6]), np.array([0.18e-6])
    i, dd, dg, ds = mos1_ids(np.array([vd]), np.array([vg]), np.array([vs]), 0.0, w, l, p)
    h = 1e-6
    for k, d in enumerate((dd, dg, ds)):
        up = [vd, vg, vs]; dn = [vd, vg, vs]
        up[k] += h; dn[k] -= h
        fd = (mos1_ids(*map(np.atleast_1d, up[:1]), *map(np.atleast_1d, up[1:]), 0.0, w, l, p)[0]
              - mos1_ids(*map(np.atleast_1d, dn[:1]), *map(np.atleast_1d, dn[1:]), 0.0, w, l, p)[0]) / (2 * h)
        assert d[0] == pytest.approx(fd[0], rel=DERIVATIVE_REL, abs=1e-15)


def test_level1_is_symmetric_and_reads_the_card():
    p = level1_params("models/nmos_level1.lib")
    assert (p.vto, p.kp, p.gamma, p.phi, p.lam) == (0.5, 387e-6, 0.4, 0.8, 0.1)
    w, l = np.array([1e-6]), np.array([0.18e-6])
    a = mos1_ids(np.array([0.3]), np.array([1.8]), np.array([0.0]), 0.0, w, l, p)[0]
    b = mos1_ids(np.array([0.0]), np.array([1.8]), np.array([0.3]), -0.3 + 0.3, w, l, p)[0]
    # swapping drain and source with the bulk kept at the (new) source potential reverses the current
    q = Level1Params(**{**p.__dict__, "gamma": 0.0})
    c = mos1_ids(np.array([0.0]), np.array([1.8]), np.array([0.3]), 0.0, w, l, q)[0]
    d = mos1_ids(np.array([0.3]), np.array([1.8]), np.array([0.0]), 0.0, w, l, q)[0]
    assert a[0] > 0 and b[0] < 0 and c[0] == pytest.approx(-d[0], rel=FLOAT_REL)


def test_nonlinear_1x1_without_wires_is_the_device_law():
    g, v0 = 3e-5, 0.2
    r = simulate(CrossbarSpec([[g]], cell=NonlinearCell(v0_volt=v0)), [[0.5], [-0.3]], "nodal")
    np.testing.assert_allclose(r.currents[:, 0], g * v0 * np.sinh(np.array([0.5, -0.3]) / v0),
                               rtol=ANALYTIC_REL)


def test_selector_1x1_with_wires_matches_a_scalar_root():
    g, rw, v = 1e-4, 50.0, 0.9
    cell = SelectorCell(nonlinearity=300.0, v_read_volt=1.0, i_read_a=5e-5)
    # V = I*(2 rw + 1/g) + Vs * asinh(I / Is): one unknown, solved by bracketing.
    f = lambda i: i * (2 * rw + 1 / g) + cell.v_s_volt * np.arcsinh(i / cell.i_s_amp) - v
    i_ref = brentq(f, 0.0, v * g, xtol=1e-22, rtol=1e-15)
    r = simulate(CrossbarSpec([[g]], r_wl=rw, r_bl=rw, cell=cell), [v], "nodal")
    assert r.currents[0, 0] == pytest.approx(i_ref, rel=ANALYTIC_REL)
    assert r.cell_currents[0, 0, 0] == pytest.approx(i_ref, rel=ANALYTIC_REL)


def test_1t1r_1x1_matches_a_scalar_root():
    g, v = 1e-4, 0.3
    cell = TransistorCell(vg_on_volt=1.2)
    p = level1_params(str(cell.model_path))
    w, l = np.array([cell.w_m]), np.array([cell.l_m])
    ids = lambda vm: mos1_ids(np.array([vm]), np.array([1.2]), np.array([0.0]), 0.0, w, l, p)[0][0]
    vm = brentq(lambda x: (v - x) * g - ids(x) - 1e-12 * x, 0.0, v, xtol=1e-16, rtol=1e-15)
    r = simulate(CrossbarSpec([[g]], cell=cell), [v], "nodal")
    assert r.currents[0, 0] == pytest.approx(ids(vm), rel=ANALYTIC_REL)


def test_gated_off_1t1r_row_carries_only_gmin_leakage():
    spec = CrossbarSpec(np.full((2, 2), 1e-4), r_wl=1, r_bl=1, cell=TransistorCell(vg_on_volt=1.8))
    r = simulate(spec, [[0.2, 0.2]], "nodal", operation=VmmOperation(gated_off_rows=(0,)))
    # cut-off level-1 channel conducts nothing; only the bulk junctions' gmin (1e-12 S) remains
    assert np.abs(r.cell_currents[0, 0]).max() < 1e-12 * 0.2 * 2
    assert r.cell_currents[0, 1].min() > 1e-6


def test_newton_that_does_not_converge_says_so(monkeypatch):
    monkeypatch.setattr(newton, "MAX_ITER", 2)
    spec = CrossbarSpec(np.full((4, 4), 1e-4), r_wl=1, r_bl=1, cell=SelectorCell(nonlinearity=1e4))
    with pytest.raises(SolverError, match="did not converge for input vector 0 in 2 iterations"):
        simulate(spec, np.full(4, 1.5), "nodal")


def test_passive_cell_is_todays_default():
    spec = CrossbarSpec(G, r_wl=1, r_bl=1)
    assert isinstance(spec.cell, PassiveCell)
    ir = elaborate(spec)
    assert not ir.nonlinear and ir.devices == () and ir.gates is None and ir.mid_node is None
