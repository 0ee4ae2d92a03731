"""The command line with cell kinds, operating modes and the sneak decomposition."""

import json

import numpy as np
import pytest

from spicebar.results import SimulationResult

from .test_cli import arrays, run_cli  # noqa: F401  (fixture)


def test_compare_reports_the_decomposition(ngspice_ready, arrays):  # noqa: F811
    d, g, v = arrays
    p = run_cli("compare", "-G", d / "G.npy", "-V", d / "V.npy", "--r-wl", 1, "--r-bl", 1,
                "--cell", "1s1r", "--nonlinearity", 100, "--floating-rows", "0,2", "--json",
                "--out", d / "out")
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    dec = rep["decomposition"]
    total = np.array(dec["total"])
    parts = sum(np.array(dec[t]) for t in ("ideal", "ir_drop", "device", "sneak", "residual"))
    np.testing.assert_allclose(parts, total, rtol=0, atol=1e-12 * np.abs(total).max())  # FLOAT_REL
    assert (d / "out" / "cell_maps.png").stat().st_size > 0
    r = SimulationResult.load(d / "out" / "result_nodal.npz")
    assert r.cell_currents.shape == (3, 6, 5)


def test_read_mode_prints_the_selected_column(ngspice_ready, arrays):  # noqa: F811
    d, g, v = arrays
    p = run_cli("compare", "-G", d / "G.npy", "--mode", "read", "--scheme", "v3", "--read-row", 2,
                "--read-col", 4, "--v-read", 0.3, "--r-wl", 1, "--r-bl", 1)
    assert p.returncode == 0, p.stderr
    assert "column current decomposition" in p.stdout and "sneak" in p.stdout


@pytest.mark.parametrize("args, fragment", [
    (("--cell", "1t1r"), "--vg-on: is missing"),
    (("--cell", "1t1r", "--vg-on", "1.8", "--r-gl", "-3"), "--r-gl"),
    (("--cell", "1t1r", "--vg-on", "1.8", "--mos-model", "sky130:nfet_99"), "--mos-model"),
    (("--cell", "1s1r", "--nonlinearity", 1), "nonlinearity"),
    (("--gated-off-rows", "1"), "1T1R"),
])
def test_bad_cell_flags_exit_2_with_one_line(arrays, args, fragment):  # noqa: F811
    d, g, v = arrays
    p = run_cli("simulate", "-G", d / "G.npy", "-V", d / "V.npy", "-o", d / "r.npz", *args)
    assert p.returncode == 2, p.stderr
    assert fragment in p.stderr and len(p.stderr.strip().splitlines()) == 1
