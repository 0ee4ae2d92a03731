"""The itemised energy of DC reads: ngspice's own instance power against the nodal element
laws, Tellegen's balance, and analytic limits (ideal wires, a series chain)."""

import subprocess
import sys

import numpy as np
import pytest

import spicebar as sb
from spicebar.analysis.energy_run import energy_of, simulate_with_energy
from tests.tolerances import ANALYTIC_REL, ENERGY_BALANCE_REL, ENERGY_ENGINES_DC_REL

T_READ = 50e-9  # s


def _engines_agree(a, b, what):
    """Every component of two breakdowns within ENERGY_ENGINES_DC_REL of itself."""
    scale = np.abs(a.total_delivered)
    assert set(a.absorbed) == set(b.absorbed) and set(a.delivered) == set(b.delivered), what
    for part in ("absorbed", "delivered"):
        for k, x in getattr(a, part).items():
            y = getattr(b, part)[k]
            assert np.all(np.abs(x - y) <= ENERGY_ENGINES_DC_REL * np.abs(x)), (what, k, x, y)
    assert np.all(np.abs(a.columns - b.columns) <= ENERGY_ENGINES_DC_REL * scale[:, None])


@pytest.mark.parametrize("case", ["plain_grid", "passive", "1s1r_floating"])
def test_engines_agree_and_balance_closes(ngspice_ready, rng, case):
    """plain_grid: the nodal energy read off the maps without the IR (analysis.energy_run.
    grid_energy); the others through every element of the IR."""
    g = rng.uniform(1e-6, 1e-4, (8, 6))
    kw = dict(r_wl=2.0, r_bl=3.0, r_driver=20.0, r_sense=10.0)
    if case == "plain_grid":
        kw = dict(r_wl=2.0, r_bl=3.0)
    op = None
    if case == "1s1r_floating":
        kw["cell"] = sb.SelectorCell(nonlinearity=100.0, v_read_volt=0.5, i_read_a=1e-4)
        op = sb.VmmOperation(floating_rows=(2, 5))
    spec = sb.CrossbarSpec(g, **kw)
    v = rng.uniform(0.05, 0.5, (3, 8))
    _, nodal = simulate_with_energy(spec, v, "nodal", read_time_s=T_READ, operation=op)
    _, spice = simulate_with_energy(spec, v, "ngspice", read_time_s=T_READ, operation=op)
    for e in (nodal, spice):
        assert np.abs(e.balance_residual).max() <= ENERGY_BALANCE_REL, (e.engine, e.balance_residual)
        for k in ("memory", "wl_wire", "bl_wire") + (("driver_r", "sense_r") if "r_driver" in kw else ()):
            assert np.all(e.absorbed[k] > 0), (e.engine, k)
    if case == "1s1r_floating":  # the floating rows' cells carry sneak current, the selectors too
        assert np.all(nodal.absorbed["sneak"] > 0) and np.all(nodal.absorbed["access"] > 0)
    _engines_agree(nodal, spice, case)


def test_ideal_wires_give_sum_g_v_squared_t(ngspice_ready, rng):
    """No wire, no driver or sense resistance: every cell sees its input, E = sum G V^2 T
    (MNSIM's model is then exact), and the wires cost nothing."""
    g = rng.uniform(1e-6, 1e-4, (5, 7))
    v = rng.uniform(-0.3, 0.3, (4, 5))
    exact = np.einsum("bi,ij->b", v ** 2, g) * T_READ
    for engine in ("nodal", "ngspice"):
        _, e = simulate_with_energy(sb.CrossbarSpec(g), v, engine, read_time_s=T_READ)
        assert np.allclose(e.total_delivered, exact, rtol=ANALYTIC_REL, atol=0), engine
        assert np.allclose(e.absorbed["memory"], exact, rtol=ANALYTIC_REL, atol=0), engine
        assert set(e.absorbed) == {"memory"}, engine
        scores = {s.model: s for s in sb.score_energy_models(sb.CrossbarSpec(g), v, e)}
        assert scores["mnsim"].max_rel <= ANALYTIC_REL


def test_series_chain_closed_form(ngspice_ready):
    """A 1x1 array is a series chain: driver R_d, one word-line segment, the cell, one
    bit-line segment, R_s; each dissipates I^2 R T with I = V / sum R."""
    r = {"driver_r": 50.0, "wl_wire": 7.0, "memory": 1e4, "bl_wire": 3.0, "sense_r": 20.0}
    spec = sb.CrossbarSpec(np.array([[1.0 / r["memory"]]]), r_wl=r["wl_wire"],
                           r_bl=r["bl_wire"], r_driver=r["driver_r"], r_sense=r["sense_r"])
    volts = 0.4
    i = volts / sum(r.values())
    for engine in ("nodal", "ngspice"):
        _, e = simulate_with_energy(spec, [volts], engine, read_time_s=T_READ)
        for k, ohm in r.items():
            assert e.absorbed[k][0] == pytest.approx(i * i * ohm * T_READ, rel=ANALYTIC_REL), (engine, k)
        assert e.delivered["drivers"][0] == pytest.approx(volts * i * T_READ, rel=ANALYTIC_REL)
        # the same array with ideal wires: R_d, cell, R_s in series
        i0 = volts / (r["driver_r"] + r["memory"] + r["sense_r"])
        assert e.ideal_wires[0] == pytest.approx(volts * i0 * T_READ, rel=ANALYTIC_REL)


def test_result_file_keeps_energy_and_old_keys(tmp_path, rng):
    g = rng.uniform(1e-6, 1e-4, (4, 4))
    result, e = simulate_with_energy(sb.CrossbarSpec(g, r_wl=1.0, r_bl=1.0), rng.uniform(0, .2, (2, 4)))
    path = result.save(tmp_path / "r.npz", maps=False)
    with np.load(path) as data:
        assert {"inputs", "currents", "driver_currents", "engine", "info"} <= set(data.files)
    back = energy_of(sb.SimulationResult.load(path))
    assert back.absorbed.keys() == e.absorbed.keys()
    for k in e.absorbed:
        assert np.array_equal(back.absorbed[k], e.absorbed[k])
    assert back.fj_per_mac() == e.fj_per_mac() and back.meta["read_time_s"] == e.meta["read_time_s"]
    assert energy_of(sb.simulate(sb.CrossbarSpec(g), np.ones(4) * 0.1)) is None  # not asked: none


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "spicebar.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def test_cli_energy_prints_stores_and_plots(tmp_path, rng):
    np.save(tmp_path / "G.npy", rng.uniform(1e-6, 1e-4, (6, 5)))
    np.save(tmp_path / "V.npy", rng.uniform(0, 0.2, (3, 6)))
    p = _cli("simulate", "-G", "G.npy", "--inputs", "V.npy", "--r-wl", 2, "--r-bl", 2,
             "--energy-plot", "e.png", "--read-time", 2e-8, "-o", "r.npz", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "word-line wires" in p.stdout and "TOPS/W" in p.stdout and "mnsim" in p.stdout
    e = energy_of(sb.SimulationResult.load(tmp_path / "r.npz"))
    assert e.meta["read_time_s"] == 2e-8 and e.n == 3
    assert (tmp_path / "e.png").stat().st_size > 10_000
    for bad, flag in ((("--engine", "ideal", "--energy"), "--engine"),
                      (("--read-time", "-1", "--energy"), "--read-time"),
                      (("--read-time", "1e-9"), "--read-time"),
                      (("--energy-plot", "e.pdf"), "--energy-plot")):
        p = _cli("simulate", "-G", "G.npy", "--inputs", "V.npy", *bad, "-o", "bad.npz", cwd=tmp_path)
        assert p.returncode == 2 and f"spicebar: error: {flag}" in p.stderr, (bad, p.stderr)
        assert not (tmp_path / "bad.npz").exists()


def test_user_energy_model_and_unsupported_cells(rng):
    g = rng.uniform(1e-6, 1e-4, (4, 4))
    spec = sb.CrossbarSpec(g, r_wl=1.0, r_bl=1.0)
    v = rng.uniform(0, 0.2, (2, 4))
    e = sb.energy_breakdown(spec, v)
    twice = sb.score_energy_models(spec, v, e, [("double", lambda G, V, s, t: 2 * e.total_delivered)])
    assert twice[0].mean_signed_rel == pytest.approx(1.0, rel=1e-12)
    with pytest.raises(sb.SpecError, match="1T1R"):
        sb.energy_breakdown(sb.CrossbarSpec(g, cell=sb.TransistorCell()), v)


def test_cli_readout_energy_stores_windows(tmp_path, rng):
    """--energy with --readout: each window itemised (the macro op-amp on its rails by
    default) and kept by TransientResult.load; a bad --supply exits 2 before any output."""
    np.save(tmp_path / "G.npy", rng.uniform(1e-6, 1e-5, (4, 3)))
    np.save(tmp_path / "V.npy", rng.uniform(0, 0.2, (2, 4)))
    base = ("simulate", "-G", "G.npy", "--inputs", "V.npy", "--readout", "integrator",
            "--opamp", "macro", "--engine", "nodal", "--t-int", 2e-8)
    p = _cli(*base, "--energy", "-o", "r.npz", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "op-amp supplies" in p.stdout and "reset switch" in p.stdout
    e = energy_of(sb.TransientResult.load(tmp_path / "r.npz"))
    assert e.mode == "transient" and e.n == 2 and e.delivered["supplies"].min() > 0
    p = _cli(*base, "--energy", "--supply", "0.5,-0.5", "-o", "bad.npz", cwd=tmp_path)
    assert p.returncode == 2 and "spicebar: error: --supply" in p.stderr, p.stderr
    assert not (tmp_path / "bad.npz").exists()
