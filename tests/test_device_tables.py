"""User devices without a simulator: device files, the line allow-list, the tables'
interpolation and error estimate, and the refusals (no silent stand-in)."""

import numpy as np
import pytest

from spicebar import CrossbarSpec
from spicebar.circuit.cells import TransistorCell
from spicebar.circuit.devices import DeviceCell, osdi_path
from spicebar.circuit.elaboration import elaborate
from spicebar.circuit.iv_models import MODELS_DIR
from spicebar.engines.nodal import solve_nodal
from spicebar.engines.nodal.tables import Table1D, Table2D
from spicebar.errors import SpecError
from spicebar.netlist.device_cards import subckt_lines
from spicebar.netlist.writer import format_netlist

from .tolerances import DERIVATIVE_REL

DEVICES = MODELS_DIR / "devices"
G = np.array([[1e-5, 2e-5], [3e-5, 4e-5]])


def sinh_table(n=201, r=1.0, g=(1e-5, 3e-5), v0=0.25):
    v = np.linspace(-r, r, n)
    g = np.asarray(g)
    return Table1D(v, g * v0 * np.sinh(v[:, None] / v0), np.arange(g.size)), g, v0


def test_table1d_error_estimate_bounds_the_true_error():
    t, g, v0 = sinh_table()
    x = np.linspace(-1, 1, 4001)[:, None]
    est, _ = t.evaluate(x, np.arange(g.size)[None, :])
    true = np.abs(est - g * v0 * np.sinh(x / v0)).max(axis=0)
    # the estimate (half-grid spline) is conservative: at least the full grid's true error
    assert np.all(true <= t.error_abs)
    assert t.describe()["interpolation_error_rel"] == t.error_rel() > 0


def test_table1d_derivative_is_the_interpolants_own():
    t, g, _ = sinh_table()
    x = np.linspace(-0.95, 0.95, 37)[:, None]
    which = np.zeros_like(x, dtype=int)
    h = 1e-6
    i, di = t.evaluate(x, which)
    fd = (t.evaluate(x + h, which)[0] - t.evaluate(x - h, which)[0]) / (2 * h)
    np.testing.assert_allclose(di, fd, rtol=DERIVATIVE_REL, atol=DERIVATIVE_REL * np.abs(di).max())


def test_table1d_continues_linearly_outside_its_grid():
    t, _, _ = sinh_table()
    which = np.zeros(3, int)
    i_edge, g_edge = t.evaluate(np.full(3, 1.0), which)
    i, di = t.evaluate(np.array([1.5, 2.0, 3.0]), which)
    np.testing.assert_allclose(i, i_edge + g_edge * np.array([0.5, 1.0, 2.0]), rtol=1e-12)
    np.testing.assert_allclose(di, g_edge, rtol=1e-12)
    assert t.outside(np.array([1.5])) and not t.outside(np.array([0.3]))


def test_table1d_small_signal_conductance_is_g():
    t, g, _ = sinh_table(n=2001)
    # the spline's slope at 0 V: relative error ~(h/v0)^4 with h = 1 mV
    np.testing.assert_allclose(t.small_signal_conductance(), g, rtol=1e-9)


def test_table2d_values_derivatives_and_error_estimate():
    vd = vs = np.linspace(-0.1, 1.0, 61)
    f_d = lambda d, s: 1e-4 * np.tanh(3 * (d - s)) * (1 + 0.2 * s)  # noqa: E731
    f_s = lambda d, s: -f_d(d, s) - 1e-12 * s  # noqa: E731
    dd, ss = np.meshgrid(vd, vs, indexing="ij")
    t = Table2D(vd, vs, f_d(dd, ss)[None], f_s(dd, ss)[None], np.zeros(5, int))
    x = np.array([0.0, 0.13, 0.5, 0.77, 0.99])
    y = np.array([0.0, 0.02, 0.4, 0.9, -0.05])
    i_d, dd_d, dd_s, i_s, ds_d, ds_s = t.evaluate(x, y)
    assert np.abs(i_d - f_d(x, y)).max() <= t.error_abs.max()
    np.testing.assert_allclose(i_s, f_s(x, y), atol=t.error_abs.max())
    h = 1e-6
    fd = (t.evaluate(x + h, y)[0] - t.evaluate(x - h, y)[0]) / (2 * h)
    np.testing.assert_allclose(dd_d, fd, rtol=DERIVATIVE_REL, atol=DERIVATIVE_REL * np.abs(fd).max())
    fd = (t.evaluate(x, y + h)[3] - t.evaluate(x, y - h)[3]) / (2 * h)
    np.testing.assert_allclose(ds_s, fd, rtol=DERIVATIVE_REL, atol=DERIVATIVE_REL * np.abs(fd).max())


def test_device_cell_reads_both_file_kinds():
    va = DeviceCell(DEVICES / "sinh_cell.va", params={"v0": 0.3})
    sp = DeviceCell(DEVICES / "sinh_cell.sp")
    assert va.is_va and not sp.is_va
    assert va.header.ports == sp.header.ports == ("p", "n")
    assert va.header.params == sp.header.params == {"g": 1e-5, "v0": 0.25}
    assert va.params == (("v0", 0.3),)
    rram = DeviceCell(DEVICES / "stanford_rram_read.va", cell_param="gap")
    assert rram.cell_param == "gap" and "i0" in rram.header.params


def test_device_netlists():
    spec = CrossbarSpec(G, r_wl=1.0, r_bl=1.0, cell=DeviceCell(DEVICES / "sinh_cell.va"))
    text = format_netlist(elaborate(spec))
    assert f"pre_osdi {osdi_path(DEVICES / 'sinh_cell.va')}" in text
    assert ".model ncell_m3 sinh_cell g=4e-05" in text
    assert "ncell_1_1 wl_1_1 bl_1_1 ncell_m3" in text
    spec = CrossbarSpec(G, r_wl=1.0, r_bl=1.0, cell=DeviceCell(DEVICES / "sinh_cell.sp", params={"v0": 0.5}))
    text = format_netlist(elaborate(spec))
    assert "xcell_0_1 wl_0_1 bl_0_1 sinh_cell g=2e-05 v0=0.5" in text
    assert ".subckt sinh_cell p n params: g=1e-5 v0=0.25" in text


@pytest.mark.parametrize("kwargs, parameter, words", [
    (dict(path="no/such/file.va"), "device", "no such file"),
    (dict(path=DEVICES / "README.md"), "device", "declares no device"),
    (dict(path=DEVICES / "sinh_cell.va", name="other"), "device_name", "sinh_cell"),
    (dict(path=DEVICES / "sinh_cell.va", cell_param="r"), "device_cell_param", "g, v0"),
    (dict(path=DEVICES / "sinh_cell.va", params={"x": 1}), "device_params", "no such parameter"),
    (dict(path=DEVICES / "sinh_cell.va", params={"v0": float("nan")}), "device_params[v0]", "finite"),
])
def test_device_cell_refuses_bad_input(kwargs, parameter, words):
    with pytest.raises(SpecError) as e:
        DeviceCell(**kwargs)
    assert e.value.parameter == parameter and words in str(e.value)


def test_device_cell_terminals_gate_voltages_and_a_name_among_several(tmp_path):
    f = tmp_path / "three.sp"
    f.write_text(".subckt a p n params: g=1\nr1 p n {1/g}\n.ends\n"
                 ".subckt b d g s params: g=1\nr1 d s {1/g}\n.ends\n"
                 ".subckt c d x s params: g=1\nr1 d s {1/g}\n.ends\n")
    with pytest.raises(SpecError, match="holds 3 devices"):
        DeviceCell(f)
    with pytest.raises(SpecError, match="3 terminals"):
        DeviceCell(f, name="c")  # three terminals, none of them a gate
    with pytest.raises(SpecError) as e:
        DeviceCell(f, name="b")
    assert e.value.parameter == "vg_on_volt" and "gate terminal" in str(e.value)
    with pytest.raises(SpecError) as e:
        DeviceCell(f, name="a", vg_on_volt=1.0)
    assert e.value.parameter == "vg_on_volt"
    with pytest.raises(SpecError) as e:
        DeviceCell(f, name="b", vg_on_volt=9.0)
    assert "-5..5" in str(e.value)
    assert DeviceCell(f, name="A").name == "a"
    assert DeviceCell(f, name="b", vg_on_volt=1.2).gated


@pytest.mark.parametrize("body, words", [
    (".subckt d p n params: g=1\nr1 p n {1/g}\n.ends\n.control\nshell touch /tmp/x\n.endc\n",
     "line 4: .control is not allowed"),
    (".include /etc/passwd\n.subckt d p n params: g=1\nr1 p n {1/g}\n.ends\n", "line 1"),
    ("r9 a 0 1k\n.subckt d p n params: g=1\nr1 p n {1/g}\n.ends\n", "outside a subcircuit"),
    (".subckt d p n params: g=1\na1 p n amod\n.ends\n", "is not an element line"),
    (".subckt d p n params: g=1\nr1 p n {1/g}\n", "has no .ends"),
    (".subckt d p n params: g=1\nr1 p n {1/g}\n.ends\n.temp 100\n", ".temp is not allowed"),
])
def test_subckt_files_pass_an_allow_list(tmp_path, body, words):
    f = tmp_path / "dev.sp"
    f.write_text(body)
    cell = DeviceCell(f)  # the header reads fine; the lines are judged before a netlist
    with pytest.raises(SpecError) as e:
        format_netlist(elaborate(CrossbarSpec(G, cell=cell)))
    assert e.value.parameter == "device" and words in str(e.value)


def test_subckt_lines_keep_what_is_allowed():
    lines = subckt_lines(str(DEVICES / "threshold_selector.sp"), "threshold_selector")
    assert lines[0].startswith("* cards parsed from threshold_selector.sp")
    assert lines[1].startswith(".subckt threshold_selector p n params:")
    assert lines[-1] == ".ends threshold_selector"
    assert not any(ln.startswith("*") for ln in lines[1:])


def test_nodal_refuses_devices_it_has_no_table_for():
    ir = elaborate(CrossbarSpec(G, cell=DeviceCell(DEVICES / "sinh_cell.sp")))
    with pytest.raises(SpecError, match="table measured in ngspice"):
        solve_nodal(ir, np.full((1, 2), 0.2))
    bsim4 = CrossbarSpec(G, cell=TransistorCell(vg_on_volt=1.8, model="bsim4"))
    with pytest.raises(SpecError, match="not level 1"):
        solve_nodal(elaborate(bsim4), np.full((1, 2), 0.2))
