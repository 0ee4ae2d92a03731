"""User devices in both engines, against each other, the built-in cells and closed forms;
BSIM4 1T1R followed by its measured table; the table cache; the compiler's messages."""

import json

import numpy as np
import pytest

from spicebar import CrossbarSpec, simulate, simulate_all
from spicebar.circuit.cells import NonlinearCell, TransistorCell
from spicebar.circuit.devices import DeviceCell, osdi_path
from spicebar.circuit.elaboration import elaborate
from spicebar.circuit.iv_models import MODELS_DIR
from spicebar.circuit.operation import ReadOperation, VmmOperation
from spicebar.cli.main import main
from spicebar.engines import characterise as ch
from spicebar.engines.ngspice import openvaf
from spicebar.errors import SimulatorSetupError, SpecError

from .conftest import random_conductances
from .tolerances import (BSIM4_TABLE_REL, BSIM4_VS_LEVEL1_REL, DEVICE_TABLE_REL,
                         DEVICE_VS_BUILTIN_REL, GATED_TABLE_REL)

pytestmark = pytest.mark.ngspice
DEVICES = MODELS_DIR / "devices"


def rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def test_sinh_device_16x16_from_the_cli_in_both_engines_and_both_forms(ngspice_ready, rng,
                                                                        tmp_path, capsys):
    """The issue's done-when: Verilog-A and .subckt sinh devices, nodal and ngspice, agree
    with each other to 1e-5 and with the built-in nonlinear cell to 1e-6."""
    np.save(tmp_path / "G.npy", random_conductances(rng, 16, 16))
    np.save(tmp_path / "V.npy", rng.uniform(-0.2, 0.5, (2, 16)))
    common = ["-G", str(tmp_path / "G.npy"), "-V", str(tmp_path / "V.npy"), "--r-wl", "2",
              "--r-bl", "2"]
    out = {}
    for engine in ("nodal", "ngspice"):
        for form in ("va", "sp"):
            path = tmp_path / f"{form}_{engine}.npz"
            assert main(["simulate", *common, "--cell", "device", "--device",
                         str(DEVICES / f"sinh_cell.{form}"), "--engine", engine, "-o", str(path)]) == 0
            out[form, engine] = np.load(path)["currents"]
        path = tmp_path / f"builtin_{engine}.npz"
        assert main(["simulate", *common, "--cell", "nonlinear", "--v0", "0.25", "--engine", engine,
                     "-o", str(path)]) == 0
        out["builtin", engine] = np.load(path)["currents"]
    for key, currents in out.items():
        assert rel(currents, out["va", "ngspice"]) < DEVICE_TABLE_REL, key
        assert rel(currents, out["builtin", "nodal"]) < DEVICE_VS_BUILTIN_REL, key


def test_device_tables_report_their_error_and_the_cell_currents_follow(ngspice_ready, rng):
    g = random_conductances(rng, 6, 5)
    v = rng.uniform(0.0, 0.6, (2, 6))
    spec = CrossbarSpec(g, r_wl=1.0, r_bl=1.0, cell=DeviceCell(DEVICES / "sinh_cell.sp",
                                                                params={"v0": 0.2}))
    res = simulate_all(spec, v, ("ideal", "nodal", "ngspice"))
    builtin = simulate(CrossbarSpec(g, r_wl=1.0, r_bl=1.0, cell=NonlinearCell(0.2)), v, "nodal")
    table = res["nodal"].info["device_tables"]["xcell"]
    assert table["tables"] == g.size and table["points"] == ch.POINTS_1D
    assert table["range_v"] == [-0.75, 0.75]  # span 0.6 V, rounded up on the ladder
    # the reported (half-grid) error bounds what the table really misses of the closed form
    assert 0 < table["interpolation_error_rel"] < DEVICE_VS_BUILTIN_REL
    scale = np.abs(builtin.cell_currents).max()
    for engine in ("nodal", "ngspice"):
        np.testing.assert_allclose(res[engine].cell_currents, builtin.cell_currents, rtol=0,
                                   atol=DEVICE_VS_BUILTIN_REL * scale)
    assert "device_tables" in res["ngspice"].info
    # ideal: V @ G_ss with the measured small-signal conductance (= G for this device)
    assert "measured" in res["ideal"].info["model"]
    np.testing.assert_allclose(res["ideal"].currents, v @ g, rtol=DEVICE_VS_BUILTIN_REL)


def test_a_gap_device_takes_the_gap_array(ngspice_ready, rng):
    """Stanford-PKU read law: G holds gaps (m); the ideal reference uses the measured
    small-signal conductance (i0 / v0) exp(-gap / g0)."""
    gap = rng.uniform(0.3e-9, 1.5e-9, (4, 4))
    v = rng.uniform(0.0, 0.3, (1, 4))
    spec = CrossbarSpec(gap, r_wl=1.0, r_bl=1.0,
                        cell=DeviceCell(DEVICES / "stanford_rram_read.va", cell_param="gap"))
    res = simulate_all(spec, v, ("ideal", "nodal", "ngspice"))
    assert rel(res["nodal"].currents, res["ngspice"].currents) < DEVICE_TABLE_REL
    g_ss = 1e-3 / 0.25 * np.exp(-gap / 0.25e-9)
    np.testing.assert_allclose(res["ideal"].currents, v @ g_ss, rtol=DEVICE_VS_BUILTIN_REL)


def test_threshold_selector_subckt_runs_in_both_engines(ngspice_ready, rng):
    g = random_conductances(rng, 5, 5)
    v = rng.uniform(0.0, 1.0, (2, 5))
    spec = CrossbarSpec(g, r_wl=2.0, r_bl=2.0, cell=DeviceCell(DEVICES / "threshold_selector.sp"))
    res = simulate_all(spec, v, ("nodal", "ngspice"))
    assert rel(res["nodal"].currents, res["ngspice"].currents) < DEVICE_TABLE_REL


def test_tables_are_cached_by_content(ngspice_ready, rng, monkeypatch, tmp_path):
    monkeypatch.setenv("SPICEBAR_CACHE_DIR", str(tmp_path / "cache"))
    g = random_conductances(rng, 3, 3)
    v = rng.uniform(0.0, 0.4, (1, 3))
    ir = elaborate(CrossbarSpec(g, r_wl=1.0, r_bl=1.0, cell=DeviceCell(DEVICES / "sinh_cell.sp")))
    first = ch.characterise(ir, v)
    files = sorted((tmp_path / "cache" / "tables").iterdir())
    assert len(files) == 1

    def no_run(*args, **kwargs):
        raise AssertionError("a cached table was measured again")
    monkeypatch.setattr(ch, "_run_sweep", no_run)
    again = ch.characterise(ir, v)
    assert "cached" in again.devices[0].table.source
    np.testing.assert_array_equal(again.devices[0].table.current, first.devices[0].table.current)
    # other parameters: another table, another measurement
    other = elaborate(CrossbarSpec(g * 2, r_wl=1.0, r_bl=1.0,
                                   cell=DeviceCell(DEVICES / "sinh_cell.sp")))
    with pytest.raises(AssertionError, match="measured again"):
        ch.characterise(other, v)


def test_bsim4_1t1r_followed_by_its_table(ngspice_ready, rng):
    """16x16 BSIM4 1T1R, a gated-off row (two gate voltages: two tables), nodal vs ngspice
    to 1e-4 (it was 1.4e-2 with the level-1 stand-in)."""
    g = random_conductances(rng, 16, 16)
    v = rng.uniform(0.0, 1.0, (2, 16))
    spec = CrossbarSpec(g, r_wl=2.0, r_bl=2.0, cell=TransistorCell(vg_on_volt=1.8, model="bsim4"))
    res = simulate_all(spec, v, ("nodal", "ngspice"), operation=VmmOperation(gated_off_rows=(3,)))
    assert rel(res["nodal"].currents, res["ngspice"].currents) < BSIM4_TABLE_REL
    info = res["nodal"].info
    assert "table measured in ngspice" in info["mos_model"]
    assert info["device_tables"]["macc"]["tables"] == 2
    assert "outside_grid" not in info


def test_bsim4_stand_in_only_when_allowed(ngspice_ready, rng, monkeypatch, tmp_path):
    """Where the card cannot be measured (here: no usable ngspice library), the nodal
    engine refuses, unless the caller allows the level-1 stand-in, which it names."""
    g = random_conductances(rng, 4, 4)
    v = rng.uniform(0.0, 0.3, (1, 4))
    spec = CrossbarSpec(g, r_wl=2.0, r_bl=2.0, cell=TransistorCell(vg_on_volt=1.8, model="bsim4"))
    exact = simulate(spec, v, "ngspice")
    monkeypatch.setenv("NGSPICE_LIBRARY_PATH", "/nonexistent/libngspice.so.0")
    monkeypatch.setenv("SPICEBAR_CACHE_DIR", str(tmp_path))  # no table measured before
    with pytest.raises(SimulatorSetupError):
        simulate(spec, v, "nodal")
    with pytest.warns(ch.ApproximationWarning, match="REPLACED by the level-1 card"):
        approx = simulate(spec, v, "nodal", allow_approximate_cells=True)
    assert approx.info["mos_model"].startswith("APPROXIMATE")
    assert 0 < rel(approx.currents, exact.currents) < BSIM4_VS_LEVEL1_REL


def test_verilog_a_errors_in_the_compilers_words(ngspice_ready, tmp_path, monkeypatch):
    bad = tmp_path / "bad.va"
    bad.write_text('`include "disciplines.vams"\nmodule bad(p, n);\n inout p, n;\n'
                   ' electrical p, n;\n parameter real g = 1;\n'
                   ' analog begin\n  I(p, n) <+ g * V(p, n) * undefined_thing;\n end\nendmodule\n')
    cell = DeviceCell(bad)
    spec = CrossbarSpec([[1e-5]], cell=cell)
    with pytest.raises(SpecError) as e:
        simulate(spec, [0.1], "ngspice")
    assert "does not compile" in str(e.value) and "undefined_thing" in str(e.value)
    monkeypatch.setenv("SPICEBAR_OPENVAF", str(tmp_path / "no-compiler"))
    good = tmp_path / "good.va"
    good.write_text((DEVICES / "sinh_cell.va").read_text() + "\n// a changed file\n")
    with pytest.raises(SimulatorSetupError, match=r"pip install 'spicebar\[va\]'"):
        simulate(CrossbarSpec([[1e-5]], cell=DeviceCell(good)), [0.1], "ngspice")


def test_osdi_libraries_are_cached_by_content(ngspice_ready, tmp_path):
    va = tmp_path / "dev.va"
    va.write_text((DEVICES / "sinh_cell.va").read_text())
    lib = openvaf.compile_va(va)
    assert lib == osdi_path(va) and lib.is_file()
    stamp = lib.stat().st_mtime_ns
    assert openvaf.compile_va(va).stat().st_mtime_ns == stamp  # not compiled again
    va.write_text(va.read_text() + "\n// changed\n")
    assert osdi_path(va) != lib


def test_cli_refuses_device_flags_without_a_device_cell(capsys, tmp_path):
    np.save(tmp_path / "G.npy", np.full((2, 2), 1e-5))
    assert main(["generate", "-G", str(tmp_path / "G.npy"), "-o", str(tmp_path / "x.cir"),
                 "--device-param", "v0=1"]) == 2
    assert "--device-param" in capsys.readouterr().err


def test_doctor_reports_the_compiler_and_osdi(ngspice_ready, capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "openvaf" in out and "osdi: yes" in out


def test_compare_json_on_a_device_array(ngspice_ready, rng, tmp_path, capsys):
    np.save(tmp_path / "G.npy", random_conductances(rng, 4, 4))
    np.save(tmp_path / "V.npy", rng.uniform(0, 0.3, (1, 4)))
    assert main(["compare", "-G", str(tmp_path / "G.npy"), "-V", str(tmp_path / "V.npy"),
                 "--r-wl", "1", "--r-bl", "1", "--cell", "device", "--device",
                 str(DEVICES / "sinh_cell.va"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert "decomposition" in d


LINEAR = ".subckt lin p n params: g=1e-5\nr1 p n {1/g}\n.ends lin\n"


def test_two_linear_devices_in_series_are_the_passive_array_of_their_series_conductance(
        ngspice_ready, rng, tmp_path):
    """Analytic limit of the 1S1R of two user devices: linear selector g_s in series with
    linear memory devices G is the passive array of 1 / (1/g_s + 1/G), in both engines
    (the same linear system: ENGINE-level agreement up to the table's interpolation, which
    is exact for a straight line up to rounding)."""
    f = tmp_path / "lin.sp"
    f.write_text(LINEAR)
    g = random_conductances(rng, 5, 4)
    v = rng.uniform(-0.3, 0.5, (2, 5))
    g_s = 2e-4
    cell = DeviceCell(f, selector=DeviceCell(f, params={"g": g_s}))
    res = simulate_all(CrossbarSpec(g, r_wl=1.0, r_bl=1.0, cell=cell), v, ("ideal", "nodal", "ngspice"))
    passive = simulate(CrossbarSpec(1 / (1 / g_s + 1 / g), r_wl=1.0, r_bl=1.0), v, "nodal")
    for engine in ("nodal", "ngspice"):
        assert rel(res[engine].currents, passive.currents) < DEVICE_VS_BUILTIN_REL, engine
    np.testing.assert_allclose(res["ideal"].currents, v @ (1 / (1 / g_s + 1 / g)),
                               rtol=DEVICE_VS_BUILTIN_REL)
    assert set(res["nodal"].info["device_tables"]) == {"xsel", "xcell"}


def test_1s1r_of_a_threshold_selector_and_a_gap_rram(ngspice_ready, rng):
    """The documented 1S1R of two user devices, from the CLI's flags' Python twin."""
    sel = DeviceCell(DEVICES / "threshold_selector.sp", params={"g": 1e-3, "vth": 0.4})
    cell = DeviceCell(DEVICES / "stanford_rram_read.va", cell_param="gap", selector=sel)
    gap = rng.uniform(0.3e-9, 1.5e-9, (6, 6))
    v = rng.uniform(0.0, 1.2, (2, 6))
    res = simulate_all(CrossbarSpec(gap, r_wl=2.0, r_bl=2.0, cell=cell), v, ("nodal", "ngspice"))
    assert rel(res["nodal"].currents, res["ngspice"].currents) < DEVICE_TABLE_REL
    scale = np.abs(res["ngspice"].cell_currents).max()
    np.testing.assert_allclose(res["nodal"].cell_currents, res["ngspice"].cell_currents, rtol=0,
                               atol=DEVICE_TABLE_REL * scale)


def test_cell_parameter_is_refused_in_params_of_the_cell_but_not_of_a_selector():
    with pytest.raises(SpecError, match="the cell parameter"):
        CrossbarSpec([[1e-5]], cell=DeviceCell(DEVICES / "sinh_cell.sp", params={"g": 1e-5}))
    sel = DeviceCell(DEVICES / "sinh_cell.sp", params={"g": 1e-4})
    assert sel.fixed_value() == 1e-4
    CrossbarSpec([[1e-5]], cell=DeviceCell(DEVICES / "sinh_cell.va", selector=sel))


@pytest.mark.parametrize("op", [None, ReadOperation(row=1, col=3, v_read_volt=0.3, scheme="v3")])
def test_a_gated_user_device_is_the_built_in_1t1r(ngspice_ready, rng, tmp_path, op):
    """A user device with a gate terminal on the row's gate line, followed by its 2-D
    tables, against the built-in level-1 1T1R whose equations spicebar has exactly."""
    f = DEVICES / "gated_1t1r.sp"
    g = random_conductances(rng, 6, 6)
    v = None if op is not None else rng.uniform(0.0, 0.6, (2, 6))
    spec = CrossbarSpec(g, r_wl=2.0, r_bl=2.0, cell=DeviceCell(f, vg_on_volt=1.8))
    res = simulate_all(spec, v, ("nodal", "ngspice"), operation=op)
    builtin = simulate(CrossbarSpec(g, r_wl=2.0, r_bl=2.0, cell=TransistorCell(vg_on_volt=1.8)),
                       v, "nodal", operation=op)
    assert rel(res["ngspice"].currents, builtin.currents) < DEVICE_VS_BUILTIN_REL
    assert rel(res["nodal"].currents, builtin.currents) < GATED_TABLE_REL
    assert rel(res["nodal"].currents, res["ngspice"].currents) < GATED_TABLE_REL
    assert res["nodal"].info["device_tables"]["xcell"]["points"] == [ch.POINTS_2D] * 2
