"""The command line, run as a user would (a real process, real files)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from spicebar.results import SimulationResult


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "spicebar.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture
def arrays(tmp_path, rng):
    g = rng.uniform(1e-6, 1e-4, (6, 5))
    v = rng.uniform(0, 0.2, (3, 6))
    np.save(tmp_path / "G.npy", g)
    np.save(tmp_path / "V.npy", v)
    np.savetxt(tmp_path / "G.csv", g, delimiter=",")
    np.savetxt(tmp_path / "V.csv", v, delimiter=",")
    return tmp_path, g, v


@pytest.mark.parametrize("engine", ["ideal", "nodal", "ngspice"])
def test_simulate_writes_currents(ngspice_ready, arrays, engine):
    d, g, v = arrays
    out = d / f"{engine}.npz"
    p = run_cli("simulate", "--conductances", d / "G.npy", "--inputs", d / "V.npy",
                "--r-wl", 1, "--r-bl", 1, "--engine", engine, "--out", out)
    assert p.returncode == 0, p.stderr
    r = SimulationResult.load(out)
    assert r.engine == engine and r.currents.shape == (3, 5) and r.driver_currents.shape == (3, 6)
    with np.load(out) as data:  # per-cell maps only with --maps
        assert not {"v_wl", "v_bl", "cell_currents"} & set(data.files)
    p = run_cli("simulate", "-G", d / "G.npy", "-V", d / "V.npy", "--r-wl", 1, "--r-bl", 1,
                "--engine", engine, "--maps", "--out", out)
    assert p.returncode == 0, p.stderr
    r = SimulationResult.load(out)
    assert r.v_wl.shape == r.v_bl.shape == r.cell_currents.shape == (3, 6, 5)
    if engine == "ideal":
        np.testing.assert_allclose(r.currents, v @ g, rtol=1e-12)  # float reordering only


def test_csv_and_npy_give_the_same_result(arrays):
    d, g, v = arrays
    for suffix in ("npy", "csv"):
        p = run_cli("simulate", "-G", d / f"G.{suffix}", "-V", d / f"V.{suffix}", "--r-wl", 2,
                    "--engine", "nodal", "--out", d / f"r_{suffix}.npz")
        assert p.returncode == 0, p.stderr
    a, b = (SimulationResult.load(d / f"r_{s}.npz").currents for s in ("npy", "csv"))
    # savetxt writes 18 significant digits: the CSV round trip is exact to float64 rounding
    np.testing.assert_allclose(a, b, rtol=1e-14)


def test_single_vector_input(arrays):
    d, g, v = arrays
    np.save(d / "v1.npy", v[0])
    p = run_cli("simulate", "-G", d / "G.npy", "-V", d / "v1.npy", "--engine", "ideal",
                "--out", d / "r.npz")
    assert p.returncode == 0, p.stderr
    assert SimulationResult.load(d / "r.npz").currents.shape == (1, 5)


def test_generate_writes_a_netlist(arrays):
    d, g, v = arrays
    p = run_cli("generate", "-G", d / "G.npy", "-V", d / "V.npy", "--vector", 2, "--r-wl", 1,
                "--r-bl", 1, "-o", d / "x.cir")
    assert p.returncode == 0, p.stderr
    text = (d / "x.cir").read_text()
    assert f"vin_0 in_0 0 dc {float(v[2, 0])!r}" in text and text.rstrip().endswith(".end")
    assert text.count("rcell_") == 30


def test_compare_prints_table_and_json(ngspice_ready, arrays):
    d, g, v = arrays
    base = ("-G", d / "G.npy", "-V", d / "V.npy", "--r-wl", 1, "--r-bl", 1)
    p = run_cli("compare", *base)
    assert p.returncode == 0, p.stderr
    assert "IR-drop error" in p.stdout and "engine agreement" in p.stdout
    p = run_cli("compare", *base, "--json", "--out", d / "cmp")
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    agreement = [q for q in report["pairs"] if q["meaning"] == "engine agreement"][0]
    assert agreement["max_rel"] < 1e-9
    for f in ("comparison.json", "voltage_maps.png", "column_error.png", "result_ngspice.npz"):
        assert (d / "cmp" / f).stat().st_size > 0


@pytest.mark.parametrize("make_args, parameter", [
    (lambda d: ("simulate", "-G", d / "missing.npy", "-V", d / "V.npy", "--out", d / "o.npz"),
     "conductances"),
    (lambda d: ("simulate", "-G", d / "G.npy", "-V", d / "bad.npy", "--out", d / "o.npz"), "inputs"),
    (lambda d: ("simulate", "-G", d / "neg.npy", "-V", d / "V.npy", "--out", d / "o.npz"),
     "conductances"),
    (lambda d: ("simulate", "-G", d / "nan.csv", "-V", d / "V.npy", "--out", d / "o.npz"),
     "conductances"),
    (lambda d: ("simulate", "-G", d / "G.npy", "-V", d / "V7.npy", "--out", d / "o.npz"), "inputs"),
    (lambda d: ("simulate", "-G", d / "G.npy", "-V", d / "V.npy", "--r-wl", -1, "--out",
                d / "o.npz"), "--r-wl"),
    (lambda d: ("simulate", "-G", d / "G.npy", "-V", d / "V.npy", "--out", d / "o.txt"), "--out"),
    (lambda d: ("simulate", "-G", d / "empty.npy", "-V", d / "V.npy", "--out", d / "o.npz"),
     "conductances"),
    (lambda d: ("compare", "-G", d / "G.npy", "-V", d / "V.npy", "--engines", "nodal,spectre"),
     "--engines"),
    (lambda d: ("generate", "-G", d / "G.npy", "-V", d / "V.npy", "--vector", 9, "-o",
                d / "x.cir"), "--vector"),
])
def test_bad_input_exits_nonzero_with_one_line(arrays, make_args, parameter):
    d, g, v = arrays
    (d / "bad.npy").write_bytes(b"this is not numpy")
    np.save(d / "neg.npy", -g)
    np.save(d / "empty.npy", np.zeros((0, 5)))
    np.save(d / "V7.npy", np.ones((2, 7)))
    (d / "nan.csv").write_text("1e-4,nan\n1e-4,1e-4\n")
    p = run_cli(*make_args(d))
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spicebar: error: ")
    assert parameter in lines[0]
    assert "Traceback" not in p.stderr
    assert not (d / "o.npz").exists() and not (d / "x.cir").exists()
