"""Hardening III: what a user reads of a failure is ngspice's words and one-line reasons,
never a Python traceback; the worker protocol survives any path; the memory guard speaks
before anything that grows with the batch is allocated.

Each test here failed on the code before these fixes (see the comments)."""

from __future__ import annotations

import io
import tracemalloc
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest

from spicebar import CrossbarSpec, simulate
from spicebar.engines.ngspice.engine import run_netlist
from spicebar.engines.ngspice.messages import without_tracebacks
from spicebar.engines.ngspice.worker import job_line, read_job

from .processes import kill_workers_during, worker_pids
from .tolerances import ENGINE_AGREEMENT_REL

pytestmark = pytest.mark.ngspice


def test_a_clean_run_leaves_no_traceback_in_the_worker_log(ngspice_ready, rng, tmp_path):
    """ngspice's status callback must return an int: it returned None, and cffi logged a
    TypeError with a traceback for every status line (1 at 8x8, 27 at 128x128)."""
    spec = CrossbarSpec(rng.uniform(1e-6, 1e-4, (128, 128)), r_wl=1.0, r_bl=1.0)
    simulate(spec, rng.uniform(0, 0.2, 128), "ngspice", workdir=tmp_path, timeout_s=300)
    log = (tmp_path / "worker.log").read_text()
    assert "Traceback" not in log and "TypeError" not in log, log[-2000:]


def test_a_crashed_mvm_tile_prints_one_error_and_no_traceback(ngspice_ready, rng, tmp_path):
    from spicebar.cli.main import main
    np.save(tmp_path / "W.npy", rng.uniform(-1, 1, (128, 256)))
    np.save(tmp_path / "X.npy", rng.uniform(-1, 1, (40, 256)))
    argv = ["mvm", "--weights", str(tmp_path / "W.npy"), "--inputs", str(tmp_path / "X.npy"),
            "--array", "128x128", "--r-wl", "1", "--r-bl", "1", "--engines", "nodal,ngspice",
            "--no-budget", "--out", str(tmp_path / "y.npz")]
    err = io.StringIO()

    def run():
        with redirect_stderr(err), redirect_stdout(io.StringIO()):
            return main(argv)
    caught = kill_workers_during(run, settle_s=1.5)
    assert caught.get("result") == 1, (caught, err.getvalue()[-2000:])
    text = err.getvalue()
    assert "Traceback" not in text and text.count("spicebar: error:") == 1, text[-3000:]
    assert "crossbar.cir" in text  # the netlist is named
    assert not (tmp_path / "y.npz").exists()
    assert worker_pids() == []


def test_the_job_line_survives_any_path(ngspice_ready, tmp_path):
    """A run folder whose name holds a newline split the job path in two (the worker read
    half a path and crashed with a traceback)."""
    folder = tmp_path / "a\nb c"
    folder.mkdir()
    netlist = folder / "divider.cir"
    netlist.write_text("* divider\nv1 a 0 dc 1\nr1 a b 1k\nr2 b 0 1k\n.op\n.end\n")
    values, _ = run_netlist(netlist, ["b"], folder, timeout_s=60)
    # one operating point of a linear divider: exact to ngspice's own tolerances
    assert abs(values[0, 0] - 0.5) <= ENGINE_AGREEMENT_REL
    assert read_job(job_line(folder / "job.json").decode())["netlist"] == str(netlist)


def test_worker_log_tails_lose_their_tracebacks():
    lines = ["ngspice-46 banner", "Exception ignored from cffi callback <f>:",
             "Traceback (most recent call last):", '  File "w.py", line 1, in run',
             "    rc = call()", "    ^^^^^^", "TypeError: an integer is required",
             "doAnalyses: OP: Timestep too small"]
    assert without_tracebacks(lines) == ["ngspice-46 banner",
                                         "(worker) TypeError: an integer is required",
                                         "doAnalyses: OP: Timestep too small"]


def test_the_memory_guard_speaks_before_the_batch_arrays(tmp_path):
    """``solver="direct"`` with many vectors allocated its ``(nodes, batch)`` arrays (4.6 GB
    at 2048x2048) before checking its estimate. Here: 64x64 with 20,000 vectors under a
    50 MB limit; the arrays would be 8,320 nodes x 20,000 x 8 bytes = 1.3 GB each."""
    from spicebar.engines.memory import ResourceError
    spec = CrossbarSpec(np.full((64, 64), 1e-5), r_wl=1.0, r_bl=1.0)
    v = np.full((20_000, 64), 0.1)
    tracemalloc.start()
    try:
        with pytest.raises(ResourceError) as err:
            simulate(spec, v, "nodal", solver="direct", memory_limit_bytes=50_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "20000 input vector" in str(err.value)
    # the inputs themselves are 10 MB; the IR and its matrix a few MB more
    assert peak < 100e6, f"{peak / 1e6:.0f} MB allocated before the refusal"


def test_a_job_the_worker_cannot_read_is_one_line_not_a_traceback(ngspice_ready, tmp_path):
    from spicebar import SimulatorCrashed
    from spicebar.engines.ngspice.session import NgspiceSession
    with NgspiceSession() as session:
        with pytest.raises(SimulatorCrashed) as err:
            session.run(tmp_path / "no-such-job.json", tmp_path / "status.json", 60, "x.cir")
    text = str(err.value)
    assert "stopped on an error of its own" in text and "cannot read the job" in text, text
    assert "Traceback" not in text
