"""Sweeps: expansion and validation, failures recorded, resume after a kill, Dask, CLI."""

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

from spicebar import SpecError
from spicebar.cli.main import main
from spicebar.sweeps.definition import build_point, load_sweep, parse_sweep, point_key
from spicebar.sweeps.run import POINTS_DIR, run_sweep
from spicebar.sweeps.table import read_table, select

from .tolerances import ENGINE_AGREEMENT_REL

REPO = Path(__file__).resolve().parents[1]

SWEEP = """
[sweep]
models = ["ideal", "first_order", "nodal", "tests.user_models:uniform_drop"]
reference = "ngspice"
ngspice_max_cells = 200
timeout_s = 60
trust_netlist_cards = true      # the broken-model point below uses raw netlist_cards
[fixed]
batch = 2
[grid]
size = [4, 8]
r_wire = [0.5, 2.0]
[[points]]          # a broken model file: ngspice rejects the netlist
size = 4
netlist_cards = [".include {here}/broken.lib"]
[[points]]          # runs past its (tiny) timeout: 2000 operating points, even in a warm worker
size = 12
batch = 2000
timeout_s = 0.05
[[points]]          # both ends driven: the first-order model does not apply
size = 6
drive = "both"
r_wire = 1.0
[[points]]          # 256 cells > ngspice_max_cells: scored against nodal
size = 16
r_wire = 1.0
"""


def write_sweep(folder: Path, text: str = SWEEP) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "broken.lib").write_text(".model broken sw(this is not valid\nxq1 a b c nosuchsubckt\n")
    path = folder / "sweep.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, ngspice_ready):
    root = tmp_path_factory.mktemp("sweep")
    sweep = load_sweep(write_sweep(root))
    run = run_sweep(sweep, root / "local", workers=2, progress=False, log=None)
    return sweep, run, root / "sweep.toml"


def test_expansion_order_and_generic_spec_fields(tmp_path):
    sweep = parse_sweep(tomllib.loads("""
        [fixed]
        batch = 1
        [grid]
        size = [4, 8]
        drive = ["left", "both"]
        r_sense = [0.0, 5.0]
        [[points]]
        rows = 3
        cols = 5
        """))
    assert len(sweep.points) == 9
    assert [p.params["size"] for p in sweep.points[:8]] == [4] * 4 + [8] * 4  # first key slowest
    assert sweep.swept[:3] == ("size", "drive", "r_sense")
    spec, v = build_point(sweep.points[3].params)
    assert (spec.shape, spec.drive, spec.r_sense, v.shape) == ((4, 4), "both", 5.0, (1, 4))
    assert build_point(sweep.points[8].params)[0].shape == (3, 5)


def test_cell_kind_is_a_sweep_axis():
    from spicebar.circuit.cells import PassiveCell, SelectorCell
    sweep = parse_sweep(tomllib.loads("""
        [grid]
        size = [4]
        cell = ["passive", "1s1r", {kind = "1s1r", nonlinearity = 50.0}]
        """))
    cells = [build_point(p.params)[0].cell for p in sweep.points]
    assert cells == [PassiveCell(), SelectorCell(), SelectorCell(nonlinearity=50.0)]


@pytest.mark.parametrize("text, parameter", [
    ("[grid]\ncell = ['memristor']", "cell"),
    ("[grid]\ncell = [{nonlinearity = 5.0}]", "cell"),
    ("[grid]\nsizes = [4]", "grid.sizes"),
    ("[grid]\nsize = [4, 0]", "size"),
    ("[fixed]\ng_dist = 'gaussian'", "g_dist"),
    ("[grid]\nr_wire = [1.0, -1.0]", "r_wl"),
    ("[sweep]\nreference = 'spectre'", "sweep.reference"),
    ("[sweep]\nmodels = ['oracle']", "model"),
    ("[grid]\nsize = []", "grid.size"),
])
def test_bad_sweep_files_name_the_parameter(text, parameter):
    with pytest.raises(SpecError) as err:
        parse_sweep(tomllib.loads(text))
    assert parameter in str(err.value)


def test_point_keys_address_content():
    base = parse_sweep(tomllib.loads("[grid]\nseed = [0, 1]\nsize = [4]")).options
    k0 = point_key({"size": 4, "seed": 0}, base, "46")
    assert k0 == point_key({"size": 4, "seed": 0}, base, "46")
    assert k0 != point_key({"size": 4, "seed": 1}, base, "46")        # other conductances
    assert k0 != point_key({"size": 4, "seed": 0, "v_max": 0.1}, base, "46")  # other inputs
    assert k0 != point_key({"size": 4, "seed": 0}, base, "45")        # other ngspice
    assert k0 != point_key({"size": 4, "seed": 0, "netlist_cards": [".temp 50"]}, base, "46")


@pytest.mark.ngspice
def test_failed_points_are_recorded_and_the_rest_complete(local_run):
    sweep, run, _ = local_run
    assert (run.ran, run.failed, run.lost) == (len(sweep.points), 2, 0)
    t = read_table(run.out_dir)
    assert len(t["model"]) == 4 * len(sweep.points)  # one row per point and model
    failed = select(t, status="failed")
    reasons = dict(zip(failed["index"].astype(int), failed["reason"]))
    assert reasons == {4: "ngspice error", 5: "timeout"}
    for netlist in failed["netlist"]:  # kept for the user, named in the table
        assert netlist.endswith("crossbar.cir") and Path(netlist).is_file()
    assert "broken.lib" in " ".join(select(t, index=4.0)["message"])
    # ngspice's cause (its first error) comes before the tail of what it printed
    assert "unknown subckt" in select(t, index=4.0)["message"][0].splitlines()[1]
    ok = select(t, status="ok")
    assert set(ok["index"].astype(int)) == {0, 1, 2, 3, 6, 7}
    nodal = select(ok, model="nodal", reference="ngspice")
    assert np.all(nodal["max_rel"] < ENGINE_AGREEMENT_REL)
    user = select(ok, model="tests.user_models:uniform_drop")  # imported by each worker
    assert set(user["model_status"]) == {"ok"} and len(user["model"]) == 6
    both = select(ok, index=6.0, model="first_order")
    assert both["model_status"][0] == "failed" and "not applicable" in both["model_error"][0]
    big = select(ok, index=7.0)
    assert set(big["reference"]) == {"nodal"} and "ngspice_max_cells" in big["note"][0]
    # The ideal model's error grows with size and with wire resistance.
    ideal = select(ok, model="ideal")
    err = {(s, r): e for s, r, e in zip(ideal["size"], ideal["r_wire"], ideal["max_rel"])}
    assert err[(4, 0.5)] < err[(8, 0.5)] and err[(4, 0.5)] < err[(4, 2.0)] < err[(8, 2.0)]
    scored = select(ok, model_status="ok", reference="ngspice")
    first, ideal = ({i: e for i, e in zip(m["index"], m["max_rel"])}
                    for m in (select(scored, model="first_order"), select(scored, model="ideal")))
    assert first and all(first[i] < ideal[i] for i in first)  # r G N^2 <= 0.013 here


@pytest.mark.ngspice
def test_dask_local_cluster_gives_identical_results(local_run, tmp_path):
    import distributed  # dev extra (and the 'dask' extra for users)
    sweep, run, path = local_run
    out = tmp_path / "dask"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        # Through the command line: `spicebar sweep FILE --scheduler ADDRESS`.
        assert main(["sweep", str(path), "--scheduler", cluster.scheduler_address,
                     "--out", str(out), "--no-progress"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["keys"] == list(run.keys)
    assert len(list((out / POINTS_DIR).glob("*.json"))) == len(sweep.points)
    a, b = read_table(run.out_dir), read_table(out)
    for col in ("status", "model", "reference", "reason", "model_status", "max_rel", "mean_rel",
                "rms_rel", "max_lsb", "rms_lsb", "max_code_err", "full_scale_a"):
        np.testing.assert_array_equal(a[col], b[col], err_msg=col)  # bit for bit


@pytest.mark.ngspice
def test_killed_sweep_resumes_with_only_the_missing_points(ngspice_ready, tmp_path):
    path = write_sweep(tmp_path, """
        [sweep]
        models = ["ideal"]
        [fixed]
        batch = 1
        [grid]
        size = [48, 64]
        seed = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
        """)
    # 32 points of ~10-30 ms each: long enough that the kill lands mid-sweep even on a
    # busy machine (8 points of 5 ms raced past a 50 ms poll under load).
    n = 32
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "spicebar.cli", "sweep", str(path), "--out", str(out),
           "--workers", "1", "--no-progress"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    points = out / POINTS_DIR
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(points.glob("*.json"))) < 3:
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep, its worker and any ngspice child
    proc.wait()
    before = {p.name: (p.stat().st_mtime_ns, p.read_text()) for p in points.glob("*.json")}
    assert 3 <= len(before) < n, "the sweep finished before it could be killed"
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{n} points, {len(before)} already done, {n - len(before)} to run" in rerun.stdout
    after = {p.name: (p.stat().st_mtime_ns, p.read_text()) for p in points.glob("*.json")}
    assert len(after) == n
    assert all(after[k] == v for k, v in before.items())  # finished points not rerun
    t = read_table(out)
    assert set(t["status"]) == {"ok"} and len(t["status"]) == n


@pytest.mark.ngspice
def test_cli_sweep_plot_and_errors(local_run, tmp_path, capsys):
    sweep, run, _ = local_run
    png = tmp_path / "sweep.png"
    # one point drives both ends: the plot names it instead of pooling it (issue 16)
    assert main(["plot", "sweep", str(run.out_dir), "-o", str(png)]) == 2
    assert "varies drive (default, both)" in capsys.readouterr().err
    assert main(["plot", "sweep", str(run.out_dir), "-o", str(png), "--where", "drive=default"]) == 0
    assert png.stat().st_size > 10_000
    assert main(["plot", "sweep", str(run.out_dir), "-o", str(png), "--facet", "drive"]) == 0
    assert main(["plot", "sweep", str(run.out_dir), "-o", str(png), "--metric", "nope"]) == 2
    assert main(["plot", "sweep", str(tmp_path), "-o", str(png)]) == 2
    assert main(["sweep", str(tmp_path / "missing.toml")]) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[grid]\nsize = [4, 'x']\n")
    assert main(["sweep", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--metric" in err and "missing.toml" in err and "size" in err
    manifest = json.loads((run.out_dir / "manifest.json").read_text())
    assert manifest["keys"] == list(run.keys)


def test_a_callers_executor_checks_the_models_before_any_point(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    path = write_sweep(tmp_path, """
        [sweep]
        models = ["ideal", "tests.user_models:raises"]
        reference = "nodal"
        [grid]
        size = [2, 4]
    """)
    with ThreadPoolExecutor(1) as pool, pytest.raises(SpecError) as err:
        run_sweep(load_sweep(path), tmp_path / "out", executor=pool, progress=False, log=None)
    assert "sweep.models" in str(err.value) and "failed on a 2x2 array" in str(err.value)
    assert not (tmp_path / "out" / POINTS_DIR).exists()  # refused before the first point
