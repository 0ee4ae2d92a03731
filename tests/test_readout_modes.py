"""Readout saturation forecast, the reset as a part, operating modes and ngspice's progress."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

from spicebar import CrossbarSpec
from spicebar.circuit.cells import TransistorCell
from spicebar.circuit.converters import ADCSpec
from spicebar.circuit.encoding import EncodingSpec, build_schedule
from spicebar.circuit.operation import ReadOperation, VmmOperation
from spicebar.circuit.readout import IntegratorSpec, OpAmpSpec
from spicebar.netlist.readout import TranSettings
from spicebar.engines.ngspice.engine import _timeout_message
from spicebar.engines.transient.run import (compare_readouts, default_timeout_s, error_budget,
                                            simulate_readout)
from spicebar.engines.transient.saturation import forecast_swing, reset_leftover
from spicebar.errors import ReadoutWarning, SimulationTimeout, SpecError

from .tolerances import FLOAT_REL, READOUT_AGREEMENT_FS

MACRO = OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, v_lo=-1.0, v_hi=1.0)
G_COL = np.array([[1e-4], [5e-5]])  # 150 uS: 3 V of ideal swing at 0.2 V over 100 ns into 1 pF


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "spicebar.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_forecast_names_the_saturating_windows_and_what_fits():
    ro = IntegratorSpec(c_int_f=1e-12, t_int_s=100e-9, opamp=MACRO)
    enc = EncodingSpec("amplitude", bits=8, v_read=0.2)
    sched = build_schedule(enc, np.array([[0.2, 0.2], [0.02, 0.02]]), 100e-9, 2e-9, 0.0)
    fc = forecast_swing(ro, sched, G_COL)
    # the ideal swing is the charge over c_int: area (V s) @ G / C, exactly
    np.testing.assert_allclose(fc.swing[:, 0], sched.area @ G_COL[:, 0] / 1e-12, rtol=FLOAT_REL)
    assert fc.hits[:, 0].tolist() == [True, False]
    headroom = 1.0 - 5 * MACRO.v_smooth
    # the capacitor that fits is swing / headroom; the window that fits is T * headroom / swing
    assert fc.fit["c_int_f"] == pytest.approx(1e-12 * fc.swing.max() / headroom, rel=FLOAT_REL)
    assert fc.fit["t_int_s"] == pytest.approx(100e-9 * headroom / fc.swing.max(), rel=FLOAT_REL)


def test_saturating_run_warns_and_strict_refuses():
    spec = CrossbarSpec(G_COL, readout=IntegratorSpec(c_int_f=1e-12, opamp=MACRO))
    enc = EncodingSpec("amplitude", bits=8, v_read=0.2)
    with pytest.warns(ReadoutWarning, match="will reach an op-amp rail.*c_int_f"):
        r = simulate_readout(spec, [0.2, 0.2], enc, "nodal")
    assert r.info["forecast_saturated_windows"] == 1 and r.saturated.all()
    # exactly clipped: the macromodel's soft clamp holds the output at the rail
    assert -1.0 - 1e-6 < r.vout.min() < -1.0 + 5 * MACRO.v_smooth
    budget = error_budget(r, spec)
    assert budget["readout saturation"] > 0.5 and budget["array"] == 0.0
    from spicebar.plots.transient import plot_transient
    labels = [t.get_text() for t in plot_transient(r).get_legend().get_texts()]
    assert "op-amp rails (-1, 1 V)" in labels
    assert "saturated window (reached a rail; 1 of 1 in all columns)" in labels
    with pytest.raises(SpecError) as err:
        simulate_readout(spec, [0.2, 0.2], enc, "nodal", strict=True)
    assert err.value.parameter == "readout.c_int_f"
    # the suggested capacitor does fit: no warning, no saturated window
    fit = err.value.args[0]
    c_fit = 1.01 * forecast_swing(spec.readout, build_schedule(enc, np.array([[0.2, 0.2]]), 100e-9,
                                                               2e-9, 0.0), G_COL).fit["c_int_f"]
    ok = CrossbarSpec(G_COL, readout=IntegratorSpec(c_int_f=c_fit, opamp=MACRO))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReadoutWarning)
        r = simulate_readout(ok, [0.2, 0.2], enc, "nodal", strict=True)
    assert not r.saturated.any(), fit


@pytest.mark.ngspice
def test_a_slow_reset_is_modelled_in_both_engines_and_warned(ngspice_ready, rng):
    # r C = 2 ns against a 2 ns reset: exp(-21/20) = 35 % of a window survives into the next
    g = rng.uniform(1e-6, 1e-5, (8, 4))
    c_int = 0.2 * g.sum(0).max() * 20e-9 / 0.6  # 0.6 V of swing at full input
    ro = IntegratorSpec(c_int_f=c_int, t_int_s=20e-9, r_reset_ohm=2e-9 / c_int, opamp=MACRO,
                        adc=ADCSpec(8, 0.0, 0.8))
    spec = CrossbarSpec(g, r_wl=1.0, r_bl=1.0, readout=ro)
    enc = EncodingSpec("amplitude", bits=4, v_read=0.2)
    v = np.vstack([np.full(8, 0.2), np.full(8, 0.02)])  # a small vector after a large one
    assert reset_leftover(ro, enc.t_edge_s) == pytest.approx(np.exp(-2.1e-9 / 2e-9), rel=FLOAT_REL)
    with pytest.warns(ReadoutWarning, match="reset leaves"):
        a = simulate_readout(spec, v, enc, "nodal")
    # ngspice's default maximum step (t_int / 100) follows this slow decay to only ~1.3e-4 of
    # full scale (measured; 8.5e-6 at t_int / 1000): the reference runs at t_int / 1000
    with pytest.warns(ReadoutWarning, match="reset leaves"):
        b = simulate_readout(spec, v, enc, "ngspice", settings=TranSettings(1000))
    assert compare_readouts(a, b, spec)["sample_deviation_fs"] < READOUT_AGREEMENT_FS
    # the leftover is real: the second vector reads high by much more than an LSB
    err = a.readout_currents[1] - a.ideal_currents[1]
    assert np.all(err > 0.1 * np.abs(a.ideal_currents[1]))
    fast = simulate_readout(CrossbarSpec(g, r_wl=1.0, r_bl=1.0, readout=IntegratorSpec(
        c_int_f=c_int, t_int_s=20e-9, r_reset_ohm=1e-11 / c_int, opamp=MACRO)), v, enc, "nodal")
    # with r C = 10 ps nothing is left; what remains is the 1 GHz loop's lag at the sample
    # (no settling time): ~0.5 %, against the slow reset's > 10 %
    assert np.all(np.abs(fast.readout_currents[1] - fast.currents[1]) < 0.01 * np.abs(fast.currents[1]))


@pytest.mark.ngspice
@pytest.mark.parametrize("operation, cell", [
    (VmmOperation(floating_rows=(0, 3)), None),
    (VmmOperation(gated_off_rows=(1, 2)), TransistorCell(vg_on_volt=1.8))], ids=["floating", "gated"])
def test_floating_and_gated_rows_are_honoured_in_transients(ngspice_ready, rng, operation, cell):
    g = rng.uniform(1e-6, 1e-5, (6, 4))
    kw = {} if cell is None else {"cell": cell}
    ro = IntegratorSpec(c_int_f=0.2 * g.sum(0).max() * 20e-9 / 0.6, t_int_s=20e-9, opamp=MACRO)
    spec = CrossbarSpec(g, r_wl=1.0, r_bl=1.0, readout=ro, **kw)
    enc = EncodingSpec("amplitude", bits=4, v_read=0.2)
    v = rng.uniform(0.05, 0.2, (1, 6))
    a = simulate_readout(spec, v, enc, "nodal", operation=operation)
    b = simulate_readout(spec, v, enc, "ngspice", operation=operation)
    plain = simulate_readout(spec, v, enc, "nodal")
    assert compare_readouts(a, b, spec)["sample_deviation_fs"] < READOUT_AGREEMENT_FS
    # the rows that do not compute are gone from the result and from its ideal reference
    off = list(operation.floating_rows) + list(operation.gated_off_rows)
    assert np.all(a.equivalent_inputs[:, off] == 0)
    assert np.all(a.currents < plain.currents)
    np.testing.assert_allclose(a.ideal_currents, a.equivalent_inputs @ g, rtol=FLOAT_REL)


def test_read_mode_with_a_readout_is_refused(tmp_path, rng):
    spec = CrossbarSpec(rng.uniform(1e-6, 1e-5, (3, 3)), readout=IntegratorSpec())
    with pytest.raises(SpecError) as err:
        simulate_readout(spec, np.zeros(3), EncodingSpec(), "nodal", operation=ReadOperation(1, 1))
    assert err.value.parameter == "operation"
    np.save(tmp_path / "G.npy", rng.uniform(1e-6, 1e-5, (3, 3)))
    p = run_cli("simulate", "-G", tmp_path / "G.npy", "--mode", "read", "--readout", "integrator",
                "--engine", "nodal", "--out", tmp_path / "o.npz")
    assert p.returncode == 2, p.stderr
    assert "--readout" in p.stderr and "internal error" not in p.stderr


def test_cli_warns_on_saturation_and_strict_exits_2(tmp_path, rng):
    np.save(tmp_path / "G.npy", rng.uniform(1e-5, 1e-4, (4, 2)))
    np.save(tmp_path / "V.npy", np.full((1, 4), 0.2))
    base = ["simulate", "-G", tmp_path / "G.npy", "-V", tmp_path / "V.npy", "--readout",
            "integrator", "--opamp", "macro", "--engine", "nodal", "--r-reset", 50, "--t-reset", 3e-9]
    p = run_cli(*base, "--out", tmp_path / "a.npz")
    assert p.returncode == 0, p.stderr
    assert "spicebar: warning:" in p.stderr and "c_int_f" in p.stderr
    assert "readout saturation" in p.stdout
    p = run_cli(*base, "--strict", "--out", tmp_path / "b.npz")
    assert p.returncode == 2 and "readout.c_int_f" in p.stderr
    assert not (tmp_path / "b.npz").exists()


def test_default_timeout_grows_with_the_circuit(rng):
    small = CrossbarSpec(rng.uniform(1e-6, 1e-5, (8, 8)), readout=IntegratorSpec())
    big = CrossbarSpec(np.full((256, 256), 1e-6), readout=IntegratorSpec(c_bl_f=1e-15))
    assert default_timeout_s(small, 1) == 600.0
    assert default_timeout_s(big, 4) == pytest.approx(0.1 * 256 * 256 * 4 * 2)


def test_timeout_message_says_how_far_ngspice_got(tmp_path):
    (tmp_path / "progress.txt").write_text("37.5")
    job = {"progress": str(tmp_path / "progress.txt"), "t_stop": 2e-7}
    msg = _timeout_message(job, 60.0)
    assert "37.5 %" in msg and "7.5e-08 s of 2e-07 s" in msg and "--timeout" in msg


@pytest.mark.ngspice
def test_ngspice_reports_progress_and_a_timeout_says_where(ngspice_ready, rng):
    g = rng.uniform(1e-6, 1e-5, (24, 24))
    spec = CrossbarSpec(g, r_wl=1.0, r_bl=1.0, readout=IntegratorSpec(
        c_int_f=0.2 * g.sum(0).max() * 100e-9 / 0.6, opamp=MACRO, c_wl_f=1e-15, c_bl_f=1e-15))
    with pytest.raises(SimulationTimeout, match=r"after simulating [\d.]+ % of the transient"):
        simulate_readout(spec, rng.uniform(0, 0.2, (6, 24)), EncodingSpec("bit_serial", bits=4),
                         "ngspice", timeout_s=2.5)


def test_steps_per_window_sets_both_engines_largest_step(ngspice_ready, tmp_path):
    """``--steps-per-window N``: ngspice's ``.tran`` maximum step is ``t_int / N`` and the
    nodal grid's scales with it (exact: the same float division)."""
    import re

    from spicebar.engines.transient.nodal import NODAL_STEP_SCALE
    from spicebar.engines.transient.result import TransientResult
    np.save(tmp_path / "G.npy", G_COL)
    np.save(tmp_path / "V.npy", np.full((1, 2), 0.05))
    t_int = 20e-9
    base = ["simulate", "-G", tmp_path / "G.npy", "-V", tmp_path / "V.npy", "--readout",
            "integrator", "--t-int", t_int, "--steps-per-window", 40]
    p = run_cli(*base, "--engine", "ngspice", "--workdir", tmp_path / "run",
                "--out", tmp_path / "ng.npz")
    assert p.returncode == 0, p.stderr
    tran = [ln for ln in (tmp_path / "run").glob("*.cir").__next__().read_text().splitlines()
            if re.match(r"\s*\.?tran\b", ln)]
    assert tran and float(tran[0].split()[4]) == t_int / 40, tran  # .tran TSTEP TSTOP TSTART TMAX
    p = run_cli(*base, "--engine", "nodal", "--out", tmp_path / "nodal.npz")
    assert p.returncode == 0, p.stderr
    info = TransientResult.load(tmp_path / "nodal.npz").info
    assert info["max_step_s"] == t_int / 40 * NODAL_STEP_SCALE
