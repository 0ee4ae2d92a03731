"""Results you can open: spicebar.load, export (CSV with units), plot maps, compare A B,
the public API, and one vocabulary of flags."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

import spicebar
from spicebar.cli.main import build_parser, main
from spicebar.cli.parser import every_parser
from spicebar.engines.transient.result import TransientResult
from spicebar.results import SimulationResult

from .tolerances import FLOAT_REL


@pytest.fixture
def arrays(rng, tmp_path):
    np.save(tmp_path / "G.npy", rng.uniform(1e-5, 1e-4, (4, 3)))
    np.save(tmp_path / "V.npy", rng.uniform(0.0, 0.2, (2, 4)))
    return ["-G", str(tmp_path / "G.npy"), "-V", str(tmp_path / "V.npy"), "--r-wire", "1"]


def read_csv(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], np.array(rows[1:], dtype=float)


def test_load_export_and_maps_of_a_dc_result(arrays, tmp_path):
    out = tmp_path / "r.npz"
    assert main(["simulate", *arrays, "--maps", "--format", "csv", "-o", str(out)]) == 0
    r = spicebar.load(out)
    assert type(r) is SimulationResult and r.v_wl.shape == (2, 4, 3)
    header, data = read_csv(tmp_path / "r_csv" / "currents.csv")
    assert header == ["vector", "i_col_0 [A]", "i_col_1 [A]", "i_col_2 [A]"]
    np.testing.assert_allclose(data[:, 1:], r.currents, rtol=FLOAT_REL)  # repr(): exact
    header, data = read_csv(tmp_path / "r_csv" / "maps.csv")
    assert header == ["vector", "row", "col", "v_wl [V]", "v_bl [V]", "cell_current [A]"]
    assert data.shape == (2 * 4 * 3, 6)
    np.testing.assert_allclose(data[:, 3].reshape(2, 4, 3), r.v_wl, rtol=FLOAT_REL)
    assert main(["plot", "maps", str(out), "-o", str(tmp_path / "m.png"), "--vector", "1"]) == 0
    assert (tmp_path / "m.png").stat().st_size > 10_000
    # a result without maps still draws (its column currents), and says why
    assert main(["simulate", *arrays, "-o", str(tmp_path / "nomaps.npz")]) == 0
    assert main(["plot", "maps", str(tmp_path / "nomaps.npz"), "-o",
                 str(tmp_path / "n.png")]) == 0


def test_readout_results_load_whole_export_and_compare(arrays, tmp_path, capsys):
    flags = [*arrays, "--readout", "integrator", "--adc-bits", "6", "--bits", "3"]
    assert main(["simulate", *flags, "--engine", "nodal", "-o", str(tmp_path / "a.npz")]) == 0
    assert main(["simulate", *flags, "--engine", "nodal", "--steps-per-window", "200",
                 "-o", str(tmp_path / "b.npz")]) == 0
    a = spicebar.load(tmp_path / "a.npz")
    assert type(a) is TransientResult and a.samples.shape[1] == 3
    with pytest.warns(UserWarning, match="spicebar.load"):
        SimulationResult.load(tmp_path / "a.npz")  # never silently drops the transient
    assert main(["export", str(tmp_path / "a.npz"), "--out-dir", str(tmp_path / "x")]) == 0
    header, data = read_csv(tmp_path / "x" / "samples.csv")
    assert header[0] == "window" and header[1] == "sample_0 [V]"
    np.testing.assert_allclose(data[:, 1:], a.samples, rtol=FLOAT_REL)
    header, codes = read_csv(tmp_path / "x" / "codes.csv")
    np.testing.assert_array_equal(codes[:, 1:], a.codes)
    assert read_csv(tmp_path / "x" / "waveforms.csv")[0][0] == "time [s]"
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["engines"] == ["nodal", "nodal"] and d["sample_deviation_fs"] < 1e-3
    assert main(["plot", "transient", str(tmp_path / "a.npz"), "-o", str(tmp_path / "t.png")]) == 0
    capsys.readouterr()
    assert main(["show", str(tmp_path / "a.npz")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("TransientResult (nodal)") and "samples" in out


def test_the_public_api_is_listed_and_importable():
    names = dir(spicebar)
    for name in ("CrossbarSpec", "simulate", "simulate_readout", "TransientResult",
                 "IntegratorSpec", "EncodingSpec", "ADCSpec", "load", "export_csv", "write_job",
                 "ideal_conductances", "error_budget"):
        assert name in names and getattr(spicebar, name) is not None


def test_every_option_has_help_and_every_command_takes_no_progress():
    import argparse
    for p in every_parser(build_parser()):
        for a in p._actions:
            if isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            assert a.help, f"{p.prog} {a.option_strings or a.dest} has no help"
        if p.prog != "spicebar" and not any(isinstance(a, argparse._SubParsersAction)
                                            for a in p._actions):
            assert any("--no-progress" in a.option_strings for a in p._actions), p.prog


@pytest.mark.parametrize("argv, hint", [
    (["simulat"], "did you mean simulate"),
    (["compare", "-G", "x.npy", "--outdir", "d"], "did you mean --out-dir"),
    (["plot", "mapz"], "did you mean maps"),
])
def test_a_typo_gets_a_did_you_mean(argv, hint, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("spicebar: error:") and hint in err and err.count("\n") == 1


def test_out_is_a_file_and_out_dir_a_folder(arrays, tmp_path, capsys):
    # the old folder form still works, with a deprecation note
    assert main(["compare", *arrays, "--engines", "ideal,nodal", "--out",
                 str(tmp_path / "old")]) == 0
    assert (tmp_path / "old" / "comparison.json").is_file()
    assert "deprecated" in capsys.readouterr().err
    # a file given where a folder is meant, and a folder where a file is meant: refused
    assert main(["compare", *arrays, "--out", str(tmp_path / "c.json")]) == 2
    assert "--out-dir" in capsys.readouterr().err
    (tmp_path / "adir").mkdir()
    assert main(["simulate", *arrays, "-o", str(tmp_path / "adir")]) == 2


def test_no_progress_bars_when_stderr_is_not_a_terminal(arrays, tmp_path):
    """A log gets no carriage-return updates (stderr is a pipe here)."""
    run = subprocess.run([sys.executable, "-m", "spicebar.cli", "simulate", *arrays,
                          "--readout", "integrator", "--engine", "nodal",
                          "-o", str(tmp_path / "r.npz")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "\r" not in run.stderr


def test_mvm_writes_the_conductances_it_programmed(rng, tmp_path):
    w = rng.normal(0, 0.3, (4, 6))
    np.save(tmp_path / "W.npy", w)
    np.save(tmp_path / "X.npy", rng.uniform(0, 1, (2, 6)))
    base = ["mvm", "-W", str(tmp_path / "W.npy"), "-X", str(tmp_path / "X.npy"),
            "--array", "8x8", "--engines", "nodal", "--no-budget", "--r-wire", "2",
            "--w-max", repr(float(1.2 * np.abs(w).max()))]  # headroom for the compensation
    assert main([*base, "-o", str(tmp_path / "plain.npz")]) == 0
    assert main([*base, "--compensate", "first_order", "-o", str(tmp_path / "comp.npz")]) == 0
    plain, comp = spicebar.load(tmp_path / "plain.npz"), spicebar.load(tmp_path / "comp.npz")
    assert type(plain).__name__ == "MVMResult" and plain.conductances.shape[1:] == (8, 8)
    g_max = 1e-4  # the mvm default window top, S
    assert 0 < plain.conductances.max() <= g_max * (1 + FLOAT_REL)
    assert np.abs(comp.conductances - plain.conductances).max() > 0  # compensated: moved
    assert main(["export", str(tmp_path / "comp.npz"), "--out-dir", str(tmp_path / "e")]) == 0
    header, data = read_csv(tmp_path / "e" / "conductances.csv")
    assert header == ["tile", "row", "col", "g [S]"]
    np.testing.assert_allclose(data[:, 3], comp.conductances.ravel(), rtol=FLOAT_REL)
    assert main(["plot", "maps", str(tmp_path / "comp.npz"), "-o", str(tmp_path / "g.png")]) == 0
