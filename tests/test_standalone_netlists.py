"""Every kind of generated netlist runs as it is in the `ngspice` binary (a child process
with a timeout, never the shared library) and writes the answers spicebar computes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from spicebar.circuit.cells import NonlinearCell
from spicebar.circuit.converters import ADCSpec
from spicebar.circuit.devices import DeviceCell
from spicebar.circuit.encoding import EncodingSpec
from spicebar.circuit.readout import IntegratorSpec
from spicebar.circuit.spec import CrossbarSpec
from spicebar.cli.main import main
from spicebar.engines.simulation import simulate
from spicebar.engines.transient.jobs import read_job_answers, write_job
from spicebar.engines.transient.run import simulate_readout
from spicebar.results import SimulationResult

from .tolerances import CELL_AGREEMENT_REL, ENGINE_AGREEMENT_REL

pytestmark = pytest.mark.ngspice

DEVICES = Path(__file__).resolve().parent.parent / "models" / "devices"
#: A small netlist's run in the ngspice binary takes well under a second; the limit only
#: stops a hung child.
NGSPICE_TIMEOUT_S = 120
#: A standalone readout job and spicebar's run are the same ngspice transient (the same
#: circuit, options and breakpoints); the samples differ only by the interpolation at the
#: sampling instant (a breakpoint, hit within ngspice's time resolution) and the 16 digits
#: of the data file: 1e-9 of the output full scale.
SAME_TRANSIENT_FS = 1e-9


def run_ngspice_binary(netlist: Path) -> dict[str, np.ndarray]:
    """``ngspice -b NETLIST`` in the netlist's folder; the data file it wrote."""
    data = netlist.with_suffix(".dat")
    data.unlink(missing_ok=True)
    run = subprocess.run(["ngspice", "-b", netlist.name], cwd=netlist.parent, text=True,
                         capture_output=True, timeout=NGSPICE_TIMEOUT_S, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert data.is_file(), f"ngspice -b wrote no {data.name}:\n{run.stdout[-2000:]}"
    assert "external" not in netlist.read_text()
    return read_job_answers(netlist)


def columns(answers: dict, prefix: str, n: int) -> np.ndarray:
    return np.stack([answers[f"{prefix}_{j}"] for j in range(n)], axis=1)


def test_generate_writes_a_4_vector_dc_batch_that_ngspice_runs(ngspice_ready, rng, tmp_path):
    g = rng.uniform(1e-5, 1e-4, (5, 4))
    v = rng.uniform(-0.3, 0.3, (4, 5))
    np.save(tmp_path / "G.npy", g)
    np.save(tmp_path / "V.npy", v)
    out = tmp_path / "batch.cir"
    assert main(["generate", "-G", str(tmp_path / "G.npy"), "-V", str(tmp_path / "V.npy"),
                 "--r-wire", "1.5", "--drive", "both", "-o", str(out)]) == 0
    answers = run_ngspice_binary(out)
    assert list(answers) == (["vector"] + [f"i_col_{j}" for j in range(4)]
                             + [f"i_drv_{i}" for i in range(5)])
    np.testing.assert_array_equal(answers["vector"], np.arange(4))
    spec = CrossbarSpec(g, r_wl=1.5, r_bl=1.5, drive="both")
    ref = simulate(spec, v, "nodal")  # independent of ngspice
    fs = np.abs(ref.currents).max()
    np.testing.assert_allclose(columns(answers, "i_col", 4), ref.currents,
                               rtol=ENGINE_AGREEMENT_REL, atol=ENGINE_AGREEMENT_REL * fs)
    np.testing.assert_allclose(columns(answers, "i_drv", 5), ref.driver_currents,
                               rtol=ENGINE_AGREEMENT_REL,
                               atol=ENGINE_AGREEMENT_REL * np.abs(ref.driver_currents).max())


def test_a_nonlinear_batch_job_matches_the_engines(ngspice_ready, rng, tmp_path):
    """Sinh cells: the sweep continues each vector from the last; the answers are each
    vector's own operating point (Newton to its stopping rule)."""
    g = rng.uniform(1e-5, 1e-4, (4, 3))
    v = rng.uniform(-0.4, 0.4, (4, 4))
    spec = CrossbarSpec(g, r_wl=1.0, r_bl=2.0, cell=NonlinearCell(0.2))
    answers = run_ngspice_binary(write_job(tmp_path / "sinh.cir", spec, v))
    ref = simulate(spec, v, "nodal")
    np.testing.assert_allclose(columns(answers, "i_col", 3), ref.currents,
                               rtol=CELL_AGREEMENT_REL,
                               atol=CELL_AGREEMENT_REL * np.abs(ref.currents).max())


def test_generate_a_read_of_one_cell(ngspice_ready, rng, tmp_path):
    g = rng.uniform(1e-5, 1e-4, (4, 4))
    np.save(tmp_path / "G.npy", g)
    out = tmp_path / "read.cir"
    flags = ["-G", str(tmp_path / "G.npy"), "--r-wire", "2", "--cell", "1s1r", "--mode", "read",
             "--read-row", "1", "--read-col", "2", "--v-read", "1.0"]
    assert main(["generate", *flags, "-o", str(out)]) == 0
    answers = run_ngspice_binary(out)
    assert main(["simulate", *flags, "--engine", "nodal", "-o", str(tmp_path / "r.npz")]) == 0
    ref = SimulationResult.load(tmp_path / "r.npz")
    got = columns(answers, "i_col", 4)
    assert got.shape == (1, 4)
    np.testing.assert_allclose(got, ref.currents, rtol=CELL_AGREEMENT_REL,
                               atol=CELL_AGREEMENT_REL * np.abs(ref.currents).max())


def test_generate_an_integrator_readout(ngspice_ready, rng, tmp_path):
    g = rng.uniform(1e-5, 1e-4, (4, 3))
    v = rng.uniform(0.0, 0.2, (2, 4))
    out = tmp_path / "readout.cir"
    adc = ADCSpec(8, 0.0, 3.0)
    spec = CrossbarSpec(g, r_wl=1.0, r_bl=1.0,
                        readout=IntegratorSpec(c_int_f=1e-12, t_int_s=100e-9, adc=adc))
    enc = EncodingSpec("pulse_width", bits=3, v_read=0.2)
    write_job(out, spec, v, encoding=enc)
    answers = run_ngspice_binary(out)
    ref = simulate_readout(spec, v, enc, "ngspice")
    samples = columns(answers, "sample", 3)
    fs = np.abs(ref.samples).max()
    np.testing.assert_allclose(samples, ref.samples, rtol=0, atol=SAME_TRANSIENT_FS * fs)
    np.testing.assert_array_equal(columns(answers, "code", 3), ref.codes)
    np.testing.assert_array_equal(answers["window"], np.arange(ref.samples.shape[0]))


def test_the_netlist_kept_after_a_run_is_the_runnable_job(ngspice_ready, rng, tmp_path):
    g = rng.uniform(1e-5, 1e-4, (3, 3))
    v = rng.uniform(-0.2, 0.2, (3, 3))
    spec = CrossbarSpec(g, r_wl=1.0, r_bl=1.0)
    r = simulate(spec, v, "ngspice", workdir=tmp_path / "run")
    kept = Path(r.info["netlist"])
    assert kept.name == "crossbar.cir" and (kept.parent / "crossbar_shared.cir").is_file()
    answers = run_ngspice_binary(kept)
    np.testing.assert_allclose(columns(answers, "i_col", 3), r.currents, rtol=ENGINE_AGREEMENT_REL,
                               atol=ENGINE_AGREEMENT_REL * np.abs(r.currents).max())


def test_a_verilog_a_device_netlist_carries_its_library(ngspice_ready, rng, tmp_path):
    """The `.va` source and its `.osdi` sit beside the netlist, named relative to it:
    the folder runs moved anywhere."""
    gap = rng.uniform(0.3e-9, 1.5e-9, (3, 3))
    v = rng.uniform(0.05, 0.2, (2, 3))
    spec = CrossbarSpec(gap, r_wl=1.0, r_bl=1.0,
                        cell=DeviceCell(DEVICES / "stanford_rram_read.va", cell_param="gap"))
    write_job(tmp_path / "made" / "va.cir", spec, v)
    moved = tmp_path / "moved"
    shutil.copytree(tmp_path / "made", moved)
    shutil.rmtree(tmp_path / "made")
    text = (moved / "va.cir").read_text()
    assert "pre_osdi stanford_rram_read.osdi" in text
    assert (moved / "stanford_rram_read.va").is_file()
    answers = run_ngspice_binary(moved / "va.cir")
    ref = simulate(spec, v, "ngspice")
    np.testing.assert_allclose(columns(answers, "i_col", 3), ref.currents,
                               rtol=ENGINE_AGREEMENT_REL,
                               atol=ENGINE_AGREEMENT_REL * np.abs(ref.currents).max())
