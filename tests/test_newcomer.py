"""A newcomer's first commands: test arrays, answers that read themselves, loud sweeps.

(Issue 16.) Each test runs the real command or function; numbers compare engines or
generators against each other with the tolerance named beside them.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import spicebar as sb
from spicebar.cli.main import main
from spicebar.circuit.random_arrays import RandomArraySpec, draw_random_array

from .tolerances import FLOAT_REL


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "spicebar.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def test_array_writes_npy_and_csv_from_one_generator(tmp_path):
    p = cli("array", "--rows", 6, "--cols", 5, "--batch", 3, "--g-min", 1e-6, "--g-max", 1e-5,
            "--dist", "uniform", "--v-max", 0.3, "--seed", 7, "-G", "G.npy", "-V", "V.csv",
            cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "6x5 uniform" in p.stdout and "G.npy" in p.stdout and "V.csv" in p.stdout
    g, v = draw_random_array(RandomArraySpec(rows=6, cols=5, g_min_s=1e-6, g_max_s=1e-5,
                                             g_dist="uniform", batch=3, v_max_volt=0.3, seed=7))
    np.testing.assert_array_equal(np.load(tmp_path / "G.npy"), g)
    # %.17g text round-trips a float64 exactly
    from spicebar.io import load_array
    np.testing.assert_array_equal(load_array(tmp_path / "V.csv", "V"), v)
    assert g.shape == (6, 5) and v.shape == (3, 6)
    assert np.all((1e-6 <= g) & (g <= 1e-5)) and np.all((0 <= v) & (v <= 0.3))


def test_array_defaults_are_the_demo_array_and_sweep_points_share_the_generator():
    from spicebar.cli.demo import demo_arrays
    from spicebar.sweeps.definition import build_point
    g, v = draw_random_array(RandomArraySpec())
    g_demo, v_demo = demo_arrays()
    np.testing.assert_array_equal(g, g_demo)        # same draws, same order
    np.testing.assert_array_equal(v[1:], v_demo[1:])  # the demo sets vector 0 to full scale
    spec, v_point = build_point({"size": 8, "seed": 3})  # g_on 1e-4, on_off 50, batch 4
    g8, v8 = draw_random_array(RandomArraySpec(rows=8, cols=8, seed=3))
    np.testing.assert_array_equal(spec.conductances, g8)
    np.testing.assert_array_equal(v_point, v8)


@pytest.mark.parametrize("args, flag", [
    (("--rows", 0), "--rows"), (("--g-min", 1e-3, "--g-max", 1e-4), "--g-min"),
    (("--v-max", -1), "--v-max"), (("--g-density", 2), "--g-density"), (("--seed", -1), "--seed"),
    (("-V", "V.txt"), "--inputs"), (("--dist", "normal"), "--dist")])
def test_array_refuses_bad_flags_before_writing(tmp_path, args, flag):
    p = cli("array", "-G", "G.npy", *args, cwd=tmp_path)
    assert p.returncode == 2 and flag in p.stderr and p.stderr.count("\n") == 1, p.stderr
    assert not list(tmp_path.iterdir())


def test_simulate_help_names_the_default_engine():
    p = cli("simulate", "--help")
    assert "(default nodal)" in " ".join(p.stdout.split())


def test_generate_without_inputs_says_its_drivers_are_at_zero(tmp_path, capsys):
    np.save(tmp_path / "G.npy", np.full((3, 3), 1e-5))
    np.save(tmp_path / "V.npy", np.full((1, 3), 0.1))
    assert main(["generate", "-G", str(tmp_path / "G.npy"), "-o", str(tmp_path / "a.cir")]) == 0
    assert "every word-line driver is at 0 V" in capsys.readouterr().err
    assert main(["generate", "-G", str(tmp_path / "G.npy"), "-V", str(tmp_path / "V.npy"),
                 "-o", str(tmp_path / "b.cir")]) == 0
    assert "0 V" not in capsys.readouterr().err


def test_a_selector_stated_far_above_the_inputs_is_warned_about(tmp_path, capsys):
    np.save(tmp_path / "G.npy", np.full((4, 4), 1e-5))
    np.save(tmp_path / "V.npy", np.full((1, 4), 0.2))
    base = ["compare", "-G", str(tmp_path / "G.npy"), "-V", str(tmp_path / "V.npy"),
            "--engines", "ideal,nodal", "--cell", "1s1r"]
    assert main(base) == 0
    err = capsys.readouterr().err
    assert "--sel-v-read 1 V" in err and "(--sel-v-read 0.2)" in err
    assert main(base + ["--sel-v-read", "0.2"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_compare_names_the_worst_column_output_and_cell(tmp_path, capsys):
    g, v = draw_random_array(RandomArraySpec(rows=12, cols=10, batch=3, seed=1))
    np.save(tmp_path / "G.npy", g)
    np.save(tmp_path / "V.npy", v)
    args = ["compare", "-G", str(tmp_path / "G.npy"), "-V", str(tmp_path / "V.npy"),
            "--r-wl", "2", "--r-bl", "2", "--engines", "ideal,nodal"]
    assert main(args + ["--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    p = d["pairs"][0]
    assert p["relative_to"] == "nodal"
    i = sb.simulate(sb.CrossbarSpec(g, r_wl=2, r_bl=2), v, "nodal").currents
    rel = np.abs(i - v @ g) / np.abs(i)
    assert (p["worst_vector"], p["worst_output"]) == np.unravel_index(rel.argmax(), rel.shape)
    assert p["worst_column"] == int(np.argmax(np.abs(((i - v @ g) / i).mean(axis=0))))
    assert p["worst_column"] == 9  # the column farthest from the drivers loses the most
    cell = d["worst_cell"]
    assert cell["engine"] == "nodal" and 0 < cell["voltage_loss_rel"] < 1
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"worst col 9 (" in out and f"max at vector {p['worst_vector']} col" in out
    assert f"worst cell: row {cell['row']}, column {cell['col']}" in out


@pytest.mark.ngspice
def test_compare_and_score_models_share_one_relative_error(ngspice_ready):
    from spicebar.analysis.scoring import score_models
    g, v = draw_random_array(RandomArraySpec(rows=16, cols=16, batch=2, seed=2))
    spec = sb.CrossbarSpec(g, r_wl=2.0, r_bl=2.0)
    res = sb.simulate_all(spec, v, ("ideal", "ngspice"))
    c = sb.compare(res, sb.full_scale_current(spec, v)).pair("ngspice", "ideal")
    s = score_models(["ideal"], spec, v, reference="ngspice")[0]
    # the same division of the same arrays: equal to float64 rounding
    assert c.max_rel == pytest.approx(s.max_rel, rel=FLOAT_REL)
    assert c.mean_rel == pytest.approx(s.mean_rel, rel=FLOAT_REL)
    assert c.relative_to == "ngspice"


def test_the_old_module_path_does_not_hide_the_read_margin_function():
    """Found by the README tests: `import spicebar.read_margin` (an old path, e.g. in the
    layer test) made `sb.read_margin` a module for the rest of the process."""
    import importlib
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = importlib.import_module("spicebar.read_margin")
    assert old is importlib.import_module("spicebar.analysis.read_margin")
    assert callable(sb.read_margin) and sb.read_margin is old.read_margin


def test_read_margin_shows_its_margin():
    m = sb.read_margin(4, 4)
    assert f"margin={m.margin!r}" in repr(m)
    assert m.margin == pytest.approx((m.i_lrs - m.i_hrs) / m.i_lrs, rel=FLOAT_REL)


LOUD_SWEEP = """
[sweep]
models = ["ideal", "nodal"]
reference = "ngspice"
timeout_s = 60
trust_netlist_cards = true   # the raw card below is the point of the test
[fixed]
batch = 1
[grid]
size = [4, 6]
r_wire = [1.0, 2.0]
cell = ["passive", {kind = "1s1r", nonlinearity = 10.0, v_read_volt = 0.2}]
[[points]]          # a broken model file: ngspice rejects the netlist
size = 4
netlist_cards = [".include {here}/broken.lib"]
"""


@pytest.fixture(scope="module")
def loud_sweep(tmp_path_factory, ngspice_ready):
    from spicebar.sweeps.definition import load_sweep
    from spicebar.sweeps.run import run_sweep
    root = tmp_path_factory.mktemp("loud")
    (root / "broken.lib").write_text(".model broken sw(this is not valid\nxq1 a b c nosuchsubckt\n")
    (root / "sweep.toml").write_text(LOUD_SWEEP)
    lines: list[str] = []
    run = run_sweep(load_sweep(root / "sweep.toml"), root / "out", workers=1, progress=False,
                    log=lines.append)
    return root / "out", run, lines


def test_a_failed_point_prints_its_reason(loud_sweep):
    out, run, lines = loud_sweep
    assert run.failed == 1
    failed = [ln for ln in lines if "failed (" in ln]
    assert len(failed) == 1
    from spicebar.sweeps.table import read_table, select
    t = select(read_table(out), status="failed")
    first_line = t["message"][0].strip().splitlines()[0]
    assert f"failed (ngspice error: {first_line})" in failed[0]


def test_plot_sweep_where_and_facet_never_pool(loud_sweep, tmp_path, capsys):
    out = str(loud_sweep[0])
    png = str(tmp_path / "s.png")
    assert main(["plot", "sweep", out, "-o", png]) == 2
    err = capsys.readouterr().err
    assert "varies cell" in err and "--facet cell" in err
    assert main(["plot", "sweep", out, "-o", png, "--where", "cell=passive"]) == 0
    assert main(["plot", "sweep", out, "-o", png, "--facet", "cell"]) == 0
    assert main(["plot", "sweep", out, "-o", png, "--where", "cell"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert main(["plot", "sweep", out, "-o", png, "--where", "cell=2t2r"]) == 2
    assert "cell one of passive, 1s1r(" in capsys.readouterr().err
