"""``spicebar settling`` and ``spicebar noise`` run as a user would (a real process, real
files): tables, result files and figures, and one-line errors naming the flag."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spicebar as sb

from .test_cli import run_cli


@pytest.fixture
def small(tmp_path, rng):
    g = rng.uniform(1e-6, 1e-4, (6, 5))
    v = rng.uniform(0.05, 0.2, 6)
    np.save(tmp_path / "G.npy", g)
    np.save(tmp_path / "V.npy", v)
    return tmp_path, g, v


def test_settling_command_writes_results_that_match_the_python_call(small):
    d, g, v = small
    p = run_cli("settling", "-G", d / "G.npy", "-V", d / "V.npy", "--r-wl", 20, "--r-bl", 20,
                "--c-wire", 5e-15, "--settle-bits", 6, "--out-dir", d / "s")
    assert p.returncode == 0, p.stderr
    assert "slowest time constant" in p.stdout and "loaded_line" in p.stdout
    for name in ("settling.npz", "settling.json", "settling.png", "charge_error.png"):
        assert (d / "s" / name).stat().st_size > 0
    summary = json.loads((d / "s" / "settling.json").read_text())
    spec = sb.CrossbarSpec(g, r_wl=20.0, r_bl=20.0,
                           readout=sb.IntegratorSpec(c_wl_f=5e-15, c_bl_f=5e-15))
    res = sb.settling(spec, v, 6)
    assert summary["tau_s"] == pytest.approx(res.tau_s, rel=1e-9)
    assert summary["t_settle_s"] == pytest.approx(res.t_settle_max_s, rel=1e-9)
    with np.load(d / "s" / "settling.npz") as z:
        assert z["currents"].shape == (5, z["t"].size)


def test_noise_command_writes_the_budget(small):
    d, g, v = small
    p = run_cli("noise", "-G", d / "G.npy", "-V", d / "V.npy", "--r-wl", 2, "--r-bl", 2,
                "--readout", "tia", "--opamp", "macro", "--en", 5e-9, "--in", 1e-13,
                "--columns", "0,3", "--out-dir", d / "n")
    assert p.returncode == 0, p.stderr
    assert "op-amp e_n" in p.stdout and "R_f" in p.stdout and "SNR dB" in p.stdout
    summary = json.loads((d / "n" / "noise.json").read_text())
    assert summary["columns"] == [0, 3]
    assert "op-amp current noise" in summary["categories"]
    for name in ("noise.npz", "noise_budget.png", "noise_spectrum.png"):
        assert (d / "n" / name).stat().st_size > 0


@pytest.mark.parametrize("args, flag", [
    (("settling", "--c-wire", 0), "--c-wire"),
    (("noise",), "--readout"),
    (("noise", "--readout", "integrator", "--en", -1), "--en"),
    (("noise", "--readout", "integrator", "--columns", "9"), "--columns"),
])
def test_bad_input_is_one_line_naming_the_flag(small, args, flag):
    d, _, _ = small
    p = run_cli(args[0], "-G", d / "G.npy", "-V", d / "V.npy", *args[1:], "--out-dir", d / "o")
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spicebar: error: ") and flag in lines[0]
    assert not (d / "o").exists()
