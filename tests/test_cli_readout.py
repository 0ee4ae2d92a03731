"""CLI of the time-domain readout: simulate --readout, plot transient, bad input."""

import subprocess
import sys

import numpy as np
import pytest

from spicebar.engines.transient.run import TransientResult


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "spicebar.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def arrays(tmp_path, rng):
    np.save(tmp_path / "G.npy", rng.uniform(1e-6, 1e-5, (6, 3)))
    np.save(tmp_path / "V.npy", rng.uniform(0, 0.2, (2, 6)))
    return tmp_path


@pytest.mark.ngspice
def test_simulate_integrator_writes_traces_and_plot(ngspice_ready, arrays):
    d = arrays
    p = run_cli("simulate", "-G", d / "G.npy", "-V", d / "V.npy", "--r-wl", 1, "--readout",
                "integrator", "--encoding", "bit_serial", "--bits", 3, "--adc-bits", 8,
                "--opamp", "macro", "--t-settle", 2e-9, "--engine", "ngspice", "--out", d / "r.npz")
    assert p.returncode == 0, p.stderr
    assert "max error / full scale" in p.stdout
    with np.load(d / "r.npz") as data:
        assert data["vout"].shape == (3, data["time"].size)
        assert {"currents", "driver_currents", "inputs", "engine", "info"} <= set(data.files)
        assert "v_wl" not in data.files  # per-cell maps only with --maps
    r = TransientResult.load(d / "r.npz")
    assert r.samples.shape == (2 * 3, 3) and r.codes.min() >= 0
    p = run_cli("plot", "transient", d / "r.npz", "-o", d / "w.png", "--columns", "0,2")
    assert p.returncode == 0, p.stderr
    assert (d / "w.png").stat().st_size > 10_000


@pytest.mark.ngspice
def test_saturation_is_reported_on_stderr(ngspice_ready, arrays):
    d = arrays
    p = run_cli("simulate", "-G", d / "G.npy", "-V", d / "V.npy", "--readout", "integrator",
                "--c-int", 1e-14, "--opamp", "macro", "--engine", "ngspice", "--out", d / "s.npz")
    assert p.returncode == 0, p.stderr
    assert "readout error" in p.stderr and "rail" in p.stderr


@pytest.mark.parametrize("extra, parameter", [
    (("--readout", "integrator", "--engine", "ideal"), "--engine"),
    (("--readout", "integrator", "--c-int", -1), "--c-int"),
    (("--readout", "tia", "--encoding", "pulse_width"), "encoding"),
    (("--readout", "integrator", "--rails", "1"), "--rails"),
    (("--readout", "integrator", "--bits", 0), "--bits"),
])
def test_bad_readout_flags_exit_2(arrays, extra, parameter):
    d = arrays
    p = run_cli("simulate", "-G", d / "G.npy", "-V", d / "V.npy", *extra, "--out", d / "o.npz")
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and parameter in lines[0]
    assert not (d / "o.npz").exists()


def test_plot_refuses_a_dc_result(arrays):
    d = arrays
    assert run_cli("simulate", "-G", d / "G.npy", "-V", d / "V.npy", "--engine", "ideal",
                   "--out", d / "dc.npz").returncode == 0
    p = run_cli("plot", "transient", d / "dc.npz", "-o", d / "x.png")
    assert p.returncode == 2 and "time" in p.stderr
