"""Hardening II (issue 13): ngspice reads no init file from the user's folders, a run
folder's outputs are bound to their job, and a worker killed in a reused folder never
passes off the previous run's numbers. Real ngspice throughout."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from spicebar import CrossbarSpec, SimulatorCrashed, simulate
from spicebar.engines.ngspice.engine import read_status

from .processes import worker_pids
from .tolerances import ENGINE_AGREEMENT_REL

pytestmark = pytest.mark.ngspice

#: What a hostile init file would do: run a command, and change every result by ~100 %
#: (rshunt=100 puts 100 ohm from every node to ground).
HOSTILE_INIT = "shell touch {pwned}\noption rshunt=100\nset noaskquit\n"


def small_case(rng, n=4):
    return CrossbarSpec(rng.uniform(1e-6, 1e-4, (n, n)), r_wl=1.0, r_bl=1.0), \
        rng.uniform(0.0, 0.2, (2, n))


def _assert_untouched(result, spec, v, pwned: Path):
    nodal = simulate(spec, v, "nodal")
    scale = np.abs(nodal.currents).max()
    # both engines solve the same linear system; see tolerances.ENGINE_AGREEMENT_REL
    assert np.abs(result.currents - nodal.currents).max() <= ENGINE_AGREEMENT_REL * scale
    assert not pwned.exists()


def test_spiceinit_in_the_callers_folder_is_not_read(ngspice_ready, rng, tmp_path, monkeypatch):
    pwned = tmp_path / "pwned"
    (tmp_path / ".spiceinit").write_text(HOSTILE_INIT.format(pwned=pwned))
    monkeypatch.chdir(tmp_path)
    spec, v = small_case(rng)
    _assert_untouched(simulate(spec, v, "ngspice", timeout_s=60), spec, v, pwned)


def test_spiceinit_in_the_workdir_is_not_read(ngspice_ready, rng, tmp_path):
    pwned = tmp_path / "pwned"
    work = tmp_path / "work"
    work.mkdir()
    (work / ".spiceinit").write_text(HOSTILE_INIT.format(pwned=pwned))
    spec, v = small_case(rng)
    _assert_untouched(simulate(spec, v, "ngspice", workdir=work, timeout_s=60), spec, v, pwned)


def test_spinit_from_a_user_folder_is_not_read(ngspice_ready, rng, tmp_path, monkeypatch):
    pwned = tmp_path / "pwned"
    for sub in ("scripts", ""):
        (tmp_path / "lib" / sub).mkdir(parents=True, exist_ok=True)
        (tmp_path / "lib" / sub / "spinit").write_text(HOSTILE_INIT.format(pwned=pwned))
    monkeypatch.setenv("SPICE_LIB_DIR", str(tmp_path / "lib"))
    monkeypatch.setenv("SPICE_SCRIPTS", str(tmp_path / "lib" / "scripts"))
    spec, v = small_case(rng)
    _assert_untouched(simulate(spec, v, "ngspice", timeout_s=60), spec, v, pwned)


def test_a_stale_status_is_never_taken_for_this_job():
    job = {"netlist": "x.cir", "nonce": "a1", "result": "r.npy"}
    with pytest.raises(SimulatorCrashed, match="another run"):
        read_status(job, {"status": "ok", "nonce": "b2"})
    with pytest.raises(SimulatorCrashed, match="another run"):
        read_status(job, {"status": "ok"})  # a status file from before nonces


def test_killed_worker_in_a_reused_workdir_gives_no_old_numbers(ngspice_ready, rng, tmp_path):
    work = tmp_path / "work"
    spec, v = small_case(rng, 4)
    simulate(spec, v, "ngspice", workdir=work, timeout_s=60)  # leaves status.json, result.npy
    assert (work / "status.json").exists() and (work / "result.npy").exists()
    big = CrossbarSpec(rng.uniform(1e-6, 1e-4, (96, 96)), r_wl=1.0, r_bl=1.0)
    caught = {}

    def run():
        try:
            caught["result"] = simulate(big, rng.uniform(0, 0.2, (60, 96)), "ngspice",
                                        workdir=work, timeout_s=120)
        except Exception as exc:  # noqa: BLE001 - handed to the test thread
            caught["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 30
    while not worker_pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    for pid in worker_pids():
        os.kill(pid, signal.SIGKILL)
    thread.join(60)
    assert "result" not in caught, "a killed run returned numbers"
    assert isinstance(caught.get("error"), SimulatorCrashed), repr(caught)
    assert worker_pids() == []
