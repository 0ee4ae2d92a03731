"""``spicebar mvm`` run as a user would (a real process, real files)."""

import json
import subprocess
import sys

import numpy as np
import pytest


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "spicebar.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture
def layer(tmp_path, rng):
    w = rng.normal(size=(6, 20))
    x = rng.normal(size=(3, 20))
    np.save(tmp_path / "W.npy", w)
    np.save(tmp_path / "X.npy", x)
    return tmp_path, w, x


@pytest.mark.ngspice
def test_mvm_writes_every_y_and_prints_the_budget(ngspice_ready, layer):
    d, w, x = layer
    out = d / "Y.npz"
    p = run_cli("mvm", "-W", d / "W.npy", "-X", d / "X.npy", "--array", "16x8", "--levels", 16,
                "--r-wl", 1, "--r-bl", 1, "--adc-bits", 10, "--out", out)
    assert p.returncode == 0, p.stderr
    assert "all together" in p.stdout and "IR drop" in p.stdout
    with np.load(out) as f:
        for key in ("y_ideal", "y_ideal_quantised", "y_nodal", "y_spice"):
            assert f[key].shape == (3, 6), key
        np.testing.assert_allclose(f["y_ideal"], x @ w.T, rtol=1e-12)  # float reordering only
        budget = json.loads(str(f["budget"]))
        info = json.loads(str(f["info"]))
    assert len(budget) == 8 and info["tiles"] == 2 * 2


def test_mvm_backward_gives_w_transpose_y(layer):
    d, w, _ = layer
    y = np.random.default_rng(3).normal(size=(2, 6))
    np.save(d / "Y_in.npy", y)
    p = run_cli("mvm", "-W", d / "W.npy", "-X", d / "Y_in.npy", "--array", "8x8", "--direction",
                "backward", "--engines", "nodal", "--no-budget", "--out", d / "xb.npz")
    assert p.returncode == 0, p.stderr
    with np.load(d / "xb.npz") as f:
        assert f["y_nodal"].shape == (2, 20)
        # no wires, no effects: exact up to float rounding of the mapping (about 1e-14 here)
        np.testing.assert_allclose(f["y_nodal"], y @ w, rtol=0, atol=1e-11)


@pytest.mark.parametrize("args, word", [
    (("--array", "8x1"), "array_cols"), (("--levels", "1"), "mapping.levels"),
    (("--on-off", "0.5"), "mapping.on_off"), (("--engines", "hspice"), "--engines"),
    (("--array", "eight"), "--array"), (("--t-read", "0.1"), "devices.t_read_s"),
])
def test_mvm_bad_input_exits_2_with_one_line(layer, args, word):
    d, _, _ = layer
    p = run_cli("mvm", "-W", d / "W.npy", "-X", d / "X.npy", "--out", d / "y.npz", *args)
    assert p.returncode == 2
    assert word in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_mvm_shape_mismatch_and_missing_flags(layer):
    d, _, _ = layer
    np.save(d / "X7.npy", np.ones((2, 7)))  # W has 20 inputs
    p = run_cli("mvm", "-W", d / "W.npy", "-X", d / "X7.npy", "--out", d / "y.npz")
    assert p.returncode == 2 and "inputs" in p.stderr
    p = run_cli("mvm", "-W", d / "W.npy", "--out", d / "y.npz")
    assert p.returncode == 2 and "--inputs" in p.stderr
