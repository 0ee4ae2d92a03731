"""Simulator faults are contained: each raises a specific error with the netlist path
and ngspice's own words, and leaves no process and no unmarked run folder behind."""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from spicebar import (ConvergenceError, CrossbarSpec, NetlistRejected, SimulationTimeout,
                      SimulatorCrashed, SimulatorSetupError, simulate)
from spicebar import SimulationError
from spicebar.engines.ngspice.engine import FAILED_MARKER, run_netlist
from spicebar.engines.ngspice.worker import classify

from .processes import kill_workers_during, leaked_run_dirs, worker_pids

pytestmark = pytest.mark.ngspice
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def own_tmp(tmp_path, monkeypatch):
    """Run folders that spicebar makes for itself go to tmp_path, to be inspected."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def assert_clean(folder: Path):
    assert worker_pids() == []
    assert leaked_run_dirs(folder) == []


def big_job(rng, n=96, batch=60):
    return CrossbarSpec(rng.uniform(1e-6, 1e-4, (n, n)), r_wl=1.0, r_bl=1.0), \
        rng.uniform(0, 0.2, (batch, n))


def test_killed_mid_run(ngspice_ready, rng, own_tmp):
    spec, v = big_job(rng)
    caught = kill_workers_during(lambda: simulate(spec, v, "ngspice", timeout_s=120))
    error = caught.get("error")
    assert isinstance(error, SimulatorCrashed), repr(error)
    assert "signal 9" in str(error) and error.netlist_path.endswith("crossbar.cir")
    assert (Path(error.netlist_path).parent / FAILED_MARKER).exists()
    assert_clean(own_tmp)


def test_hang_past_timeout_is_killed(ngspice_ready, rng, own_tmp):
    spec, v = big_job(rng)
    t0 = time.monotonic()
    with pytest.raises(SimulationTimeout) as err:
        simulate(spec, v, "ngspice", timeout_s=0.5)
    assert time.monotonic() - t0 < 20  # killed, not waited for
    assert Path(err.value.netlist_path).exists()
    assert_clean(own_tmp)


def test_non_convergence(ngspice_ready, tmp_path):
    netlist = tmp_path / "no_dc_solution.cir"
    netlist.write_text("* a current sink that nothing can feed: no DC solution\n.options klu\n"
                       "r1 a 0 1e12\nb1 a 0 i = 1e-3 + 1e-3*v(a)*v(a)\n.op\n.end\n")
    with pytest.raises(ConvergenceError) as err:
        run_netlist(netlist, ["a"], tmp_path, timeout_s=60)
    assert err.value.netlist_path == str(netlist)
    words = "\n".join(err.value.ngspice_messages)
    assert re.search(r"gmin stepping failed|timestep too small", words, re.I)
    assert worker_pids() == []


def test_netlist_rejected(ngspice_ready, tmp_path):
    netlist = tmp_path / "typo.cir"
    netlist.write_text("* typo\nvin a 0 dc 1\nr1 a 0 1kk\nq1 a b c nosuchmodel\n.op\n.end\n")
    with pytest.raises(NetlistRejected) as err:
        run_netlist(netlist, ["a"], tmp_path, timeout_s=60)
    assert str(netlist) in str(err.value) and err.value.ngspice_messages
    assert worker_pids() == []


def test_missing_library(ngspice_ready, rng, own_tmp, monkeypatch):
    monkeypatch.setenv("NGSPICE_LIBRARY_PATH", str(own_tmp / "nowhere" / "libngspice.so.0"))
    with pytest.raises(SimulatorSetupError, match="cannot load the ngspice shared library"):
        simulate(CrossbarSpec([[1e-4]]), [0.1], "ngspice", timeout_s=60)
    assert_clean(own_tmp)


@pytest.fixture(scope="session")
def non_klu_library():
    """Debian 12's own libngspice (39, built without KLU), unpacked beside the tests."""
    cache = REPO / ".cache" / "ngspice-without-klu"
    found = sorted(cache.glob("**/libngspice.so.0"))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        try:
            policy = subprocess.run(["apt-cache", "policy", "libngspice0"], capture_output=True,
                                    text=True, timeout=60).stdout
            version = re.search(r"^\s+(?:\*\*\* )?(39\.\S+)", policy, re.M).group(1)
            subprocess.run(["apt-get", "download", f"libngspice0={version}"], cwd=cache,
                           check=True, capture_output=True, timeout=300)
            deb = next(cache.glob("libngspice0_*.deb"))
            subprocess.run(["dpkg-deb", "-x", str(deb), str(cache / "root")], check=True,
                           timeout=120)
        except (OSError, subprocess.SubprocessError, AttributeError, StopIteration) as exc:
            pytest.fail(f"this test needs Debian 12's libngspice0 39 (no KLU) from apt "
                        f"(`apt-get download libngspice0=39.3+ds-1`): {exc!r}", pytrace=False)
        found = sorted(cache.glob("**/libngspice.so.0"))
    return found[0]


def test_library_without_klu_is_refused(ngspice_ready, non_klu_library, own_tmp, monkeypatch):
    monkeypatch.setenv("NGSPICE_LIBRARY_PATH", str(non_klu_library))
    with pytest.raises(SimulatorSetupError, match="without KLU") as err:
        simulate(CrossbarSpec([[1e-4]]), [0.1], "ngspice", timeout_s=60)
    assert "bookworm-backports" in str(err.value)
    assert_clean(own_tmp)


def test_success_leaves_nothing(ngspice_ready, rng, own_tmp):
    simulate(CrossbarSpec(rng.uniform(1e-6, 1e-4, (4, 4)), r_wl=1.0), np.ones(4), "ngspice")
    assert list(own_tmp.iterdir()) == []
    assert worker_pids() == []


def test_singular_circuit_fails_clearly(ngspice_ready, tmp_path):
    loop = tmp_path / "loop.cir"
    loop.write_text("* two sources in parallel\nv1 a 0 dc 1\nv2 a 0 dc 2\nr1 a 0 1k\n.op\n.end\n")
    with pytest.raises(SimulationError) as err:
        run_netlist(loop, ["a"], tmp_path, timeout_s=60)
    assert "loop.cir" in str(err.value)


@pytest.mark.parametrize("line, kind", [
    ("stdout Using KLU as Direct Linear Solver", "info"),
    ("stderr Note: No compatibility mode selected!", "info"),
    ("stdout Doing analysis at TEMP = 27.000000 and TNOM = 27.000000", "info"),
    ("stderr Warning: vin_0: no DC value, transient time 0 value used", "warning"),
    ("stderr Error: circuit not parsed.", "error"),
    ("stderr singular matrix:  check node a", "error"),
    ("stderr Error on line 3 or its substitute:", "error"),
    ("stderr run simulation(s) aborted", "error"),
])
def test_message_classification(line, kind):
    assert classify(line) == kind


#: What ngspice 46 printed on a 896x896 array (KLU refused its first LU allocation), in order.
KLU_LIMIT_RUN = ["stdout Using KLU as Direct Linear Solver",
                 "stderr Warning: singular matrix:  check node 0", "stderr ",
                 "stderr Note: Starting dynamic gmin stepping",
                 *["stderr Warning: singular matrix:  check node 0"] * 5,
                 "stderr Warning: Dynamic gmin stepping failed",
                 "stderr Warning: source stepping failed",
                 "stderr Error: Transient op failed, timestep too small",
                 "stdout doAnalyses: OP:  Timestep too small; cause unrecorded."]


def test_the_cause_starts_with_the_singular_matrix_warning_and_explains_node_0():
    """ngspice's first sign of trouble is a "singular matrix" warning; gmin and source
    stepping fail after it. The cause quotes it once, before the errors, and a "node 0"
    (KLU named no column) says what it means."""
    from spicebar.engines.ngspice.messages import KLU_NO_COLUMN_NOTE, explained, first_errors
    cause = first_errors(KLU_LIMIT_RUN)
    assert cause == ["Warning: singular matrix:  check node 0",
                     "Error: Transient op failed, timestep too small",
                     "doAnalyses: OP:  Timestep too small; cause unrecorded."]
    assert explained("no operating point", cause).endswith(KLU_NO_COLUMN_NOTE)
    named = ["Warning: singular matrix:  check node wl_0_0"]  # a real singular node
    assert explained("no operating point", named) == "no operating point"


def test_a_flood_of_lines_keeps_the_cause_and_a_small_status(ngspice_ready, tmp_path):
    """A failing run that prints thousands of lines: the error quotes ngspice's first error
    lines (the cause), not the tail, and the status file keeps the head and tail only."""
    from spicebar.engines.ngspice.worker import MESSAGES_HEAD, MESSAGES_TAIL
    netlist = tmp_path / "flood.cir"
    netlist.write_text("* a current sink that nothing can feed, after a flood of lines\n"
                       ".options klu\nr1 a 0 1e12\nb1 a 0 i = 1e-3 + 1e-3*v(a)*v(a)\n"
                       ".control\nrepeat 5000\necho filler line of a long dump\nend\n.endc\n"
                       ".op\n.end\n")
    with pytest.raises(ConvergenceError) as err:
        run_netlist(netlist, ["a"], tmp_path, timeout_s=60)
    assert err.value.cause and classify(err.value.cause[0]) == "error"
    assert "filler" not in "\n".join(err.value.cause)
    assert "ngspice's first errors:" in str(err.value)
    assert len(err.value.ngspice_messages) <= MESSAGES_HEAD + MESSAGES_TAIL + 1
    assert any("ngspice lines left out" in m for m in err.value.ngspice_messages)
    assert (tmp_path / "status.json").stat().st_size < 100_000
