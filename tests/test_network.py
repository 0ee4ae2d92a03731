"""``spicebar network``: the .npz format, refusals, exact limits, compensation, the CLI and demo."""

import json
import subprocess
import sys

import numpy as np
import pytest

from spicebar.errors import SpecError
from spicebar.hardware.mapping import MappingSpec
from spicebar.hardware.mvm import MVMSpec
from spicebar.hardware.network import (DenseLayer, Network, accuracy, load_network,
                                       save_network)
from spicebar.hardware.network_eval import NetworkSpec, evaluate_network, layer_specs

from .tolerances import LINE_SOLVER_REL, mvm_rounding


def _net(rng, sizes=(24, 12, 3)):
    layers = []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        act = "relu" if k < len(sizes) - 2 else "identity"
        layers.append(DenseLayer(rng.normal(0, 1 / np.sqrt(n_in), (n_out, n_in)),
                                 rng.normal(0, 0.1, n_out), act, f"layer {k}"))
    return Network(tuple(layers))


def _data(rng, net, n=40):
    x = rng.uniform(0, 1, (n, net.n_inputs))
    return x, np.argmax(net.forward(x), axis=1)  # labels the float network gets right


def test_format_round_trip(tmp_path, rng):
    net = _net(rng)
    x, y = _data(rng, net)
    path = save_network(tmp_path / "net.npz", net, x, y)
    back, xb, yb = load_network(path)
    assert [lay.activation for lay in back.layers] == ["relu", "identity"]
    for a, b in zip(net.layers, back.layers):
        np.testing.assert_array_equal(a.weights, b.weights)
        np.testing.assert_array_equal(a.bias, b.bias)
    np.testing.assert_array_equal(xb, x)
    np.testing.assert_array_equal(yb, y)
    assert accuracy(back.forward(xb), yb) == 1.0
    # the data may come from a second file
    np.savez(tmp_path / "data.npz", X=x[:5], y=y[:5])
    assert load_network(path, tmp_path / "data.npz")[1].shape == (5, 24)


@pytest.mark.parametrize("arrays,match", [
    ({"W0": np.ones((2, 3)), "b0": np.ones(2)}, "no activation0"),
    ({"W0": np.ones((2, 3)), "b0": np.ones(3), "activation0": np.array("relu")}, "b"),
    ({"W0": np.ones((2, 3)), "b0": np.ones(2), "activation0": np.array("softplus")}, "activation"),
    ({"W0": np.ones((2, 3)), "b0": np.ones(2), "activation0": np.array("relu"),
      "W1": np.ones((2, 4)), "b1": np.ones(2), "activation1": np.array("identity")}, "W1.*takes 4"),
    ({"W0": np.ones((2, 3)), "b0": np.ones(2), "activation0": np.array("relu"),
      "W2": np.ones((2, 2))}, "gap"),
    ({"b0": np.ones(2)}, "no W0"),
    ({"W0": np.ones((2, 3)), "b0": np.ones(2), "activation0": np.array("relu"),
      "X": np.ones((4, 3)), "y": np.array([0, 1, 2, 0])}, "labels"),
    ({"W0": np.ones((2, 3)), "b0": np.ones(2), "activation0": np.array("relu"),
      "X": np.ones((4, 5)), "y": np.zeros(4, int)}, "features"),
])
def test_bad_network_files_are_refused(tmp_path, arrays, match):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(SpecError, match=match):
        load_network(tmp_path / "bad.npz")


def test_pickles_and_missing_files_are_refused(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(SpecError, match="--network"):
        load_network(tmp_path / "obj.npy")
    with pytest.raises(SpecError, match="does not exist"):
        load_network(tmp_path / "missing.npz")


def test_spec_refusals():
    with pytest.raises(SpecError, match="headroom"):
        NetworkSpec(headroom=0.5)
    with pytest.raises(SpecError, match="spot_samples"):
        NetworkSpec(spot_samples=-1)
    with pytest.raises(SpecError, match="compensate"):
        NetworkSpec(compensate="magic")


def test_ideal_hardware_reproduces_the_float_network(rng):
    """No effect configured, ideal wires: every hardware row gives the float logits."""
    net = _net(rng)
    x, y = _data(rng, net)
    spec = NetworkSpec(MVMSpec(array_rows=16, array_cols=8), compensate="none")
    r = evaluate_network(net, x, y, spec, progress=False)
    assert set(r.accuracy) == {"float", "ideal_quantised", "nodal"}
    for specs_k, layer in zip(layer_specs(net, x, spec), net.layers):
        assert specs_k.mapping.w_max == np.abs(layer.weights).max()
    # mapping round trip: the float64 rounding of a mapped sum over <= 24 terms per layer
    tol = mvm_rounding(24.0 * 4, 4.0, 50.0, 24)
    for name in ("ideal_quantised", "nodal"):
        np.testing.assert_allclose(r.logits[name], r.logits["float"], rtol=0, atol=tol)
        assert r.accuracy[name] == 1.0


@pytest.mark.ngspice
def test_wires_compensation_and_spot_check(rng, ngspice_ready):
    """32x32 tiles at 3 ohm: compensated logits are much closer to the quantised ideal
    than uncompensated ones, and ngspice agrees with nodal on the spot-checked samples."""
    net = _net(rng, (48, 16, 4))
    x, y = _data(rng, net, 30)
    hw = MVMSpec(MappingSpec(levels=1024), array_rows=32, array_cols=32, r_wl=3.0, r_bl=3.0)
    spec = NetworkSpec(hw, headroom=2.0, compensate="exact", spot_samples=3)
    r = evaluate_network(net, x, y, spec, progress=False)
    assert set(r.accuracy) >= {"float", "ideal_quantised", "alone:wires", "nodal", "nodal_compensated"}
    assert all(0.0 <= a <= 1.0 for a in r.accuracy.values())

    def err(name):
        return np.sqrt(np.mean((r.logits[name] - r.logits["ideal_quantised"]) ** 2))
    assert err("nodal_compensated") < 0.2 * err("nodal")
    for name in ("nodal", "nodal_compensated"):
        s = r.spot[name]
        # no ADC: the two exact engines agree to 1e-9 relative on every tile; through two
        # layers and the digital sums that stays far below 1e-6 of the largest logit
        assert s["max_rel_logit_diff"] < 1e-6
        assert s["argmax_agreement"] == 1.0
    assert r.info["compensation"] and all(c["method"] == "exact" for c in r.info["compensation"])


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "spicebar.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.mark.ngspice
def test_cli_writes_accuracy_json(tmp_path, rng, ngspice_ready):
    net = _net(rng)
    x, y = _data(rng, net, 20)
    save_network(tmp_path / "net.npz", net, x, y)
    p = run_cli("network", "--network", tmp_path / "net.npz", "--array", "16x16", "--levels", 32,
                "--r-wl", 1, "--r-bl", 1, "--adc-bits", 8, "--headroom", 2, "--spot", 2,
                "--out", tmp_path / "out")
    assert p.returncode == 0, p.stderr
    assert "nodal_compensated" in p.stdout and "ngspice spot check" in p.stdout
    d = json.loads((tmp_path / "out" / "accuracy.json").read_text())
    for key in ("float", "ideal_quantised", "nodal", "nodal_compensated"):
        assert 0.0 <= d[key] <= 1.0
    assert d["spot_check"]["samples"] == 2


def test_cli_refuses_bad_input_before_running(tmp_path):
    p = run_cli("network", "--out", tmp_path / "o")
    assert p.returncode == 2 and "--network" in p.stderr
    np.savez(tmp_path / "net.npz", W0=np.ones((2, 3)), b0=np.ones(2), activation0=np.array("relu"))
    p = run_cli("network", "--network", tmp_path / "net.npz", "--out", tmp_path / "o")
    assert p.returncode == 2 and "--data" in p.stderr
    assert not (tmp_path / "o" / "accuracy.json").exists()


def test_demo_small_grid(tmp_path):
    """The digits demo on one small grid point: trains, evaluates, writes all three files."""
    from spicebar.cli.network_demo import run_network_demo
    rec = run_network_demo(tmp_path, arrays=(64,), r_ohms=(1.0,), point=(64, 1.0), spot=0,
                           echo=lambda *a: None)
    d = json.loads((tmp_path / "accuracy.json").read_text())
    assert d["float"] > 0.9  # a 256-64-10 MLP on digits: ~97 % test accuracy
    for key in ("float", "ideal_quantised", "nodal", "nodal_compensated"):
        assert 0.0 <= d[key] <= 1.0
    assert d["grid"] == rec["grid"] and (tmp_path / "accuracy_grid.png").stat().st_size > 0
    net, x, y = load_network(tmp_path / "network.npz")
    assert net.n_inputs == 256 and net.n_classes == 10 and len(y) == d["info"]["samples"]


def test_sample_batches_on_a_dask_cluster(tmp_path, rng):
    """`--scheduler ADDR` (a LocalCluster) gives the in-process accuracy, and batches on an
    executor give the in-process logits.

    No ADC: batches of 7 samples take the direct solve where the whole set takes the
    transfer matrix; both are exact to the line solver's tolerance."""
    import distributed

    from spicebar.cli.main import main
    from spicebar.hardware.network_eval import run_batched
    from concurrent.futures import ThreadPoolExecutor
    net = _net(rng, (40, 12, 3))
    x, y = _data(rng, net, 30)
    save_network(tmp_path / "net.npz", net, x, y)
    common = ["network", "--network", str(tmp_path / "net.npz"), "--array", "32x32",
              "--r-wl", "2", "--r-bl", "2", "--levels", "256", "--headroom", "2"]
    assert main(common + ["--out", str(tmp_path / "local")]) == 0
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        assert main(common + ["--scheduler", cluster.scheduler_address, "--batch-size", "7",
                              "--out", str(tmp_path / "dask")]) == 0
    a = json.loads((tmp_path / "local" / "accuracy.json").read_text())
    b = json.loads((tmp_path / "dask" / "accuracy.json").read_text())
    for key in ("float", "ideal_quantised", "nodal", "nodal_compensated"):
        assert a[key] == b[key]
    # the logits themselves, batched on an executor against one in-process run
    spec = NetworkSpec(MVMSpec(MappingSpec(levels=256), array_rows=32, array_cols=32,
                               r_wl=2.0, r_bl=2.0), headroom=2.0)
    specs = layer_specs(net, x, spec)
    from spicebar.hardware.network_eval import run_layers
    caches = [{} for _ in net.layers]
    whole = run_layers(net, x, specs, ("quantisation", "wires"), "nodal", caches, "exact")
    with ThreadPoolExecutor(2) as ex:
        batched = run_batched(net, x, specs, ("quantisation", "wires"), "nodal", caches, "exact",
                              ex, 7)
    np.testing.assert_allclose(batched, whole, rtol=0, atol=LINE_SOLVER_REL * np.abs(whole).max())
