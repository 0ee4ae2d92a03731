"""Hardening II (issue 13): ngspice reads no init file from the user's folders, a run
folder's outputs are bound to their job, and a worker killed in a reused folder never
passes off the previous run's numbers. Real ngspice throughout."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from spicebar import CrossbarSpec, SimulatorCrashed, simulate
from spicebar.engines.ngspice.engine import read_status

from .processes import kill_workers_during, worker_pids
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
    v_big = rng.uniform(0, 0.2, (60, 96))
    caught = kill_workers_during(lambda: simulate(big, v_big, "ngspice", workdir=work, timeout_s=120),
                                 settle_s=0.5)
    assert "result" not in caught, "a killed run returned numbers"
    assert isinstance(caught.get("error"), SimulatorCrashed), repr(caught)
    assert worker_pids() == []


# ---- outputs: atomic, under the name given, never over an input ---------------------------

REPO = Path(__file__).resolve().parent.parent


def _arrays(d: Path, n: int = 3):
    np.save(d / "G.npy", np.full((n, n), 1e-4))
    np.save(d / "V.npy", np.full((2, n), 0.1))


def _cli(args, env_extra=None, preexec=None, timeout=120, cwd=None):
    import subprocess
    import sys
    env = dict(os.environ, PYTHONPATH=str(REPO), **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "spicebar.cli", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout, preexec_fn=preexec,
                          cwd=cwd)


def test_disk_full_keeps_the_earlier_result(tmp_path):
    """A write that fails (here: a file-size limit, as a full disk would) leaves the good
    earlier r.npz as it was, and no temporary file."""
    import resource
    _arrays(tmp_path, 16)
    out = tmp_path / "r.npz"
    first = _cli(["simulate", "-G", tmp_path / "G.npy", "-V", tmp_path / "V.npy", "-o", out])
    assert first.returncode == 0, first.stderr
    good = out.read_bytes()

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))

    second = _cli(["simulate", "-G", tmp_path / "G.npy", "-V", tmp_path / "V.npy", "--r-wl", "1",
                   "-o", out], preexec=limit)
    assert second.returncode == 1, second.stderr
    assert second.stderr.count("\n") == 1 and "nothing was replaced" in second.stderr
    assert out.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["G.npy", "V.npy", "r.npz"]


def test_the_suffix_given_is_the_file_written(tmp_path):
    from spicebar.cli.main import main
    _arrays(tmp_path)
    assert main(["simulate", "-G", str(tmp_path / "G.npy"), "-V", str(tmp_path / "V.npy"),
                 "-o", str(tmp_path / "r.NPZ")]) == 0
    assert (tmp_path / "r.NPZ").is_file() and not (tmp_path / "r.NPZ.npz").exists()
    with np.load(tmp_path / "r.NPZ") as data:
        assert data["currents"].shape == (2, 3)


# ---- residuals that overflow cannot fool -------------------------------------------------

def test_the_answer_check_sees_what_overflow_hides():
    """G = 1e30 S (past the bounds, forced into a spec): the LU's backward error is tiny,
    the answer wrong; the output-relative KCL check refuses it."""
    from spicebar import SolverError
    spec = CrossbarSpec(np.full((4, 4), 1e-4), r_wl=1.0, r_bl=1.0)
    object.__setattr__(spec, "conductances", np.full((4, 4), 1e30))  # past the spec's bounds
    with pytest.raises(SolverError, match="fails KCL"):
        simulate(spec, np.full(4, 0.1), "nodal", solver="direct")


@pytest.mark.parametrize("g, r", [(1e-5, 1.0), (1e-7, 2e-5), (2e-12, 1.0), (1e2, 1e4), (1e-3, 5e8)])
def test_the_answer_check_passes_sound_answers(rng, g, r):
    """Inside the bounds (the G * r corners 1e-12 and 1e6 included, signed inputs, both
    ends read) the check passes, and the answer is sound: the line solver agrees."""
    from spicebar.engines.nodal.linear import KCL_NODE_TOL
    cells = g * rng.uniform(0.2, 1.0, (7, 7))
    cells[3, 3] = g  # the largest, so G * r sits at the corner
    spec = CrossbarSpec(cells, r_wl=r, r_bl=r, sense="both")
    v = rng.uniform(-0.5, 0.5, (3, 7))
    res = simulate(spec, v, "nodal", solver="direct")
    assert res.info["kcl_output_rel"] <= KCL_NODE_TOL
    ref = simulate(spec, v, "nodal", solver="iterative")
    scale = np.abs(ref.currents).max()
    # two exact solvers of one system; at the G * r = 1e6 corner the LU keeps ~1e-9
    # (measured 4e-10), the agreement target (tolerances.ENGINE_AGREEMENT_REL)
    assert np.abs(res.currents - ref.currents).max() <= 10 * ENGINE_AGREEMENT_REL * scale


# ---- a locked --out, sweeps that fail whole ------------------------------------------------

def test_a_second_sweep_on_one_out_is_refused(tmp_path):
    from spicebar.cli.main import main
    from spicebar.sweeps.run import out_lock

    from .test_bad_inputs import run_main
    (tmp_path / "s.toml").write_text("[sweep]\nmodels = ['ideal']\nreference = 'nodal'\n"
                                     "[fixed]\nsize = 2\n")
    out = tmp_path / "out"
    with out_lock(out):  # another sweep holds it
        code, _, err = run_main(["sweep", str(tmp_path / "s.toml"), "--out", str(out),
                                 "--no-progress"])
    assert code == 2 and "--out" in err and "in use by another sweep" in err, err
    assert not (out / "points").exists()
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(out), "--no-progress",
                 "--workers", "1"]) == 0  # free again


def test_a_sweep_whose_every_point_failed_exits_1_with_the_reason(ngspice_ready, tmp_path):
    (tmp_path / "s.toml").write_text(
        "[sweep]\nmodels = ['ideal']\nreference = 'ngspice'\ntrust_netlist_cards = true\n"
        "[fixed]\nsize = 2\nnetlist_cards = ['.include {here}/nowhere.lib']\n"
        "[grid]\nseed = [0, 1]\n")
    res = _cli(["sweep", tmp_path / "s.toml", "--out", tmp_path / "out", "--workers", "1",
                "--no-progress"], timeout=300)
    assert res.returncode == 1, res.stderr
    assert "every point of the sweep failed" in res.stderr and "point 0" in res.stderr


# ---- no orphans ----------------------------------------------------------------------------

SLOW_SWEEP = ("[sweep]\nmodels = ['ideal']\nreference = 'ngspice'\ntimeout_s = 120\n"
              "[fixed]\nsize = 64\nbatch = 40\n[grid]\nseed = [0, 1, 2, 3, 4, 5, 6, 7]\n")


def _start(args, tmp_path):
    import subprocess
    import sys
    private = tmp_path / "tmp"
    private.mkdir(exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(REPO), TMPDIR=str(private))
    proc = subprocess.Popen([sys.executable, "-m", "spicebar.cli", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, private


def _wait_for_ngspice(proc, timeout=90) -> list[int]:
    from .processes import cmdline, descendants
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        below = descendants(proc.pid)
        if any("spicebar.engines.ngspice.worker" in cmdline(p) for p in below):
            time.sleep(0.3)  # let it get into its run
            return descendants(proc.pid)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"no ngspice worker appeared (rc {proc.poll()})")


def _all_gone(pids, timeout=20) -> list[int]:
    from .processes import alive
    deadline = time.monotonic() + timeout
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(pids)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_sweep_leaves_no_process_and_no_session_folder(ngspice_ready, tmp_path, sig):
    (tmp_path / "s.toml").write_text(SLOW_SWEEP)
    proc, private = _start(["sweep", tmp_path / "s.toml", "--out", tmp_path / "out",
                            "--workers", "2", "--no-progress"], tmp_path)
    try:
        below = _wait_for_ngspice(proc)
        assert len(below) >= 2  # pool workers and their ngspice workers
        os.kill(proc.pid, sig)  # the spicebar process only, not its group
        rc = proc.wait(60)
        assert _all_gone(below) == [], "orphans left running"
    finally:
        if proc.poll() is None:
            proc.kill()
    if sig == signal.SIGTERM:
        assert rc == 143 and "terminated" in proc.stderr.read()
    deadline = time.monotonic() + 10
    while list(private.glob("spicebar-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = {str(p.relative_to(private)): p.stat().st_mtime - time.time()
            for p in private.glob("spicebar-*/**/*")}  # what was left, and how long ago
    assert list(private.glob("spicebar-*")) == [], left


def test_sigterm_during_simulate_cleans_its_run_folder(ngspice_ready, tmp_path):
    rng = np.random.default_rng(1)
    np.save(tmp_path / "G.npy", rng.uniform(1e-6, 1e-4, (96, 96)))
    np.save(tmp_path / "V.npy", rng.uniform(0, 0.2, (60, 96)))
    proc, private = _start(["simulate", "-G", tmp_path / "G.npy", "-V", tmp_path / "V.npy",
                            "--r-wl", "1", "--r-bl", "1", "--engine", "ngspice",
                            "-o", tmp_path / "r.npz"], tmp_path)
    try:
        below = _wait_for_ngspice(proc)
        os.kill(proc.pid, signal.SIGTERM)
        rc = proc.wait(60)
        assert _all_gone(below) == []
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == 143
    assert list(private.iterdir()) == [] and not (tmp_path / "r.npz").exists()


# ---- the memory guard reads control-group limits --------------------------------------------

def _fake_cgroup(root: Path, version: int, limit: str, usage: int, inactive: int) -> Path:
    proc = root / "proc_cgroup"
    if version == 2:
        group = root / "cg" / "box"
        group.mkdir(parents=True)
        (root / "cg" / "cgroup.controllers").write_text("memory\n")
        (group / "memory.max").write_text(limit + "\n")
        (group / "memory.current").write_text(f"{usage}\n")
        (group / "memory.stat").write_text(f"anon 1\ninactive_file {inactive}\n")
        proc.write_text("0::/box\n")
    else:
        group = root / "cg" / "memory" / "box"
        group.mkdir(parents=True)
        (group / "memory.limit_in_bytes").write_text(limit + "\n")
        (group / "memory.usage_in_bytes").write_text(f"{usage}\n")
        (group / "memory.stat").write_text(f"cache 5\ntotal_inactive_file {inactive}\n")
        proc.write_text("4:memory:/box\n0::/\n")
    return proc


@pytest.mark.parametrize("version", [1, 2])
def test_memory_guard_reads_the_cgroup_limit(tmp_path, monkeypatch, version):
    from spicebar.engines import memory
    from spicebar.engines.memory import ResourceError
    proc = _fake_cgroup(tmp_path, version, str(1 << 30), 300 << 20, 100 << 20)
    monkeypatch.setattr(memory, "CGROUP_ROOT", str(tmp_path / "cg"))
    monkeypatch.setattr(memory, "PROC_CGROUP", str(proc))
    assert memory.cgroup_available_bytes() == (1 << 30) - (300 << 20) + (100 << 20)
    assert memory.available_bytes() <= (1 << 30)
    # a sparse LU of a 1024x1024 array (~5 GB) in a 1 GB container: refused, with the
    # reason (the line solver now takes 100 vectors at this size in chunks, ~0.35 GB)
    spec = CrossbarSpec(np.full((1024, 1024), 1e-5), r_wl=1.0, r_bl=1.0)
    with pytest.raises(ResourceError, match="control group"):
        simulate(spec, np.zeros((100, 1024)), "nodal", solver="direct")


@pytest.mark.parametrize("version, limit", [(1, str((1 << 63) - 4096)), (2, "max")])
def test_an_unlimited_cgroup_is_no_limit(tmp_path, monkeypatch, version, limit):
    from spicebar.engines import memory
    proc = _fake_cgroup(tmp_path, version, limit, 300 << 20, 0)
    monkeypatch.setattr(memory, "CGROUP_ROOT", str(tmp_path / "cg"))
    monkeypatch.setattr(memory, "PROC_CGROUP", str(proc))
    assert memory.cgroup_available_bytes() is None


def test_a_library_that_is_not_ngspice_is_a_setup_error(ngspice_ready, tmp_path):
    import glob
    lib = sorted(glob.glob("/usr/lib/*/libz.so.1") + glob.glob("/lib/*/libz.so.1"))[0]
    _arrays(tmp_path)
    res = _cli(["simulate", "-G", tmp_path / "G.npy", "-V", tmp_path / "V.npy", "--engine",
                "ngspice", "-o", tmp_path / "r.npz"], env_extra={"NGSPICE_LIBRARY_PATH": lib})
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1
    assert "cannot load the ngspice shared library" in res.stderr and "crashed" not in res.stderr
    assert "Traceback" not in res.stderr


def test_the_bounds_reference_page_states_the_bounds_table():
    from spicebar.circuit.bounds import format_bounds_table
    assert format_bounds_table() in (REPO / "docs" / "reference" / "bounds.md").read_text()



def test_the_accounts_own_spiceinit_is_named_in_a_warning(tmp_path, monkeypatch):
    """ngspice reads the account's ~/.spiceinit (password-database home) and spicebar cannot
    stop it (ngSpice_nospiceinit crashes ngspice 46): the file is named, once."""
    import pwd
    import warnings

    from spicebar.engines.ngspice import engine
    from spicebar.errors import AccountInitWarning
    (tmp_path / ".spiceinit").write_text("* an account's own init file\n")
    fields = list(pwd.getpwuid(os.getuid()))
    fields[5] = str(tmp_path)  # pw_dir
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: pwd.struct_passwd(fields))
    monkeypatch.setattr(engine, "_WARNED_INIT", set())
    assert engine.account_spiceinit() == tmp_path / ".spiceinit"
    with pytest.warns(AccountInitWarning, match=r"\.spiceinit"):
        engine.warn_account_spiceinit()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        engine.warn_account_spiceinit()  # once per file and process
    (tmp_path / ".spiceinit").unlink()
    assert engine.account_spiceinit() is None


def test_kill_children_ends_only_the_marked_children_and_reaps_them():
    """The way-out clean-up of a sweep worker (``_close_sessions``) ends ngspice workers it
    lost track of: children are matched by their command line, killed and reaped."""
    import subprocess
    import sys

    from spicebar.engines.ngspice.lifeline import kill_children
    from .processes import alive
    marked = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)",
                               "marker-7f3a"], start_new_session=True)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        assert kill_children("marker-7f3a") == [marked.pid]
        assert alive([marked.pid]) == [] and alive([other.pid]) == [other.pid]
    finally:
        for p in (marked, other):
            p.kill()
            p.wait()


def test_sigterm_during_mvm_does_not_wait_for_the_running_tiles(ngspice_ready, tmp_path):
    """A layer's tiles run in ngspice workers on threads; SIGTERM kills those workers, so
    the command ends in seconds, not when the running tiles would have finished (each
    tile here is a 256x256 array with 40 input vectors: ~45 s of ngspice; before, SIGTERM
    waited for them: 41 s)."""
    rng = np.random.default_rng(2)
    np.save(tmp_path / "W.npy", rng.uniform(-1, 1, (256, 256)))  # two tiles: two threads
    np.save(tmp_path / "X.npy", rng.uniform(-1, 1, (40, 256)))
    proc, private = _start(["mvm", "--weights", tmp_path / "W.npy", "--inputs", tmp_path / "X.npy",
                            "--array", "256x256", "--r-wl", "1", "--r-bl", "1", "--engines",
                            "ngspice", "--no-budget", "--out", tmp_path / "y.npz"], tmp_path)
    try:
        below = _wait_for_ngspice(proc)
        time.sleep(1.0)  # the tile's job is with ngspice now
        t0 = time.monotonic()
        os.kill(proc.pid, signal.SIGTERM)
        rc = proc.wait(120)
        stopped_s = time.monotonic() - t0
        assert _all_gone(below) == []
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == 143
    assert stopped_s < 10, f"took {stopped_s:.1f} s to stop"  # measured 0.2 s
    assert list(private.glob("spicebar-*")) == [] and not (tmp_path / "y.npz").exists()
