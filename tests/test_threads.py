"""Thread count of the compiled kernels: SPICEBAR_THREADS, --threads, and a busy pool."""

import threading

import numpy as np
import pytest

from spicebar.engines.nodal import threads as th
from spicebar.errors import SpecError



def run_cli(*args, env=None):
    import os
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "spicebar.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch):
    monkeypatch.setitem(th._state, "threads", None)
    monkeypatch.setitem(th._state, "chosen", False)
    monkeypatch.delenv(th.ENV, raising=False)
    monkeypatch.setattr(th, "busy", lambda: False)  # each test sets the load it needs
    yield
    th._state["threads"] = None


@pytest.mark.parametrize("bad", ["0", "-1", "x", "1.5", str(th.max_threads() + 1)])
def test_bad_counts_are_named(monkeypatch, bad):
    with pytest.raises(SpecError, match="threads: is"):
        th.set_threads(bad)
    monkeypatch.setenv(th.ENV, bad)
    with pytest.raises(SpecError, match=f"{th.ENV}: is .* from 1 to {th.max_threads()}"):
        th.threads()


def test_env_and_setter(monkeypatch):
    assert th.threads() == th.max_threads()
    th._state["threads"] = None
    monkeypatch.setenv(th.ENV, "1")
    assert th.threads() == 1
    assert th.set_threads(th.max_threads()) == th.max_threads()
    assert th.threads() == th.max_threads()


def _sentinels():
    calls = []
    return calls, (lambda *a: calls.append("parallel")), (lambda *a: calls.append("serial"))


def test_one_thread_never_enters_the_pool():
    th.set_threads(1)
    calls, par, ser = _sentinels()
    th.run_parallel(par, ser, ())
    assert calls == ["serial"]


def test_a_busy_pool_sends_other_threads_to_the_serial_variant():
    """workqueue aborts the process if two threads enter it: the second runs serially."""
    calls, par, ser = _sentinels()
    with th._POOL:  # another thread is inside a parallel kernel
        worker = threading.Thread(target=th.run_parallel, args=(par, ser, ()))
        worker.start()
        worker.join()
    th.run_parallel(par, ser, ())
    assert calls == ["serial", "parallel" if th.max_threads() > 1 else "serial"]


def test_cli_threads_flag_and_env(tmp_path):
    np.save(tmp_path / "G.npy", np.full((4, 3), 1e-5))
    np.save(tmp_path / "V.npy", np.full((1, 4), 0.1))
    args = ("simulate", "-G", tmp_path / "G.npy", "-V", tmp_path / "V.npy", "--r-wl", 1,
            "--out", tmp_path / "r.npz")
    p = run_cli(*args, "--threads", 1)
    assert p.returncode == 0, p.stderr
    p = run_cli(*args, "--threads", 0)
    assert p.returncode == 2 and "threads: is '0'" in p.stderr
    p = run_cli(*args, env={th.ENV: "many"})
    assert p.returncode == 2 and f"{th.ENV}: is 'many'" in p.stderr


def test_a_busy_machine_runs_serially_unless_the_user_chose(monkeypatch):
    monkeypatch.setattr(th, "busy", lambda: True)
    calls, par, ser = _sentinels()
    th.run_parallel(par, ser, ())                 # left to choose: serial under load
    th.set_threads(th.max_threads())              # chosen: the load does not override it
    th.run_parallel(par, ser, ())
    assert calls == ["serial", "parallel" if th.max_threads() > 1 else "serial"]


def test_busy_means_a_load_of_at_least_the_cores(monkeypatch):
    import os
    monkeypatch.undo()  # the real busy()
    monkeypatch.setattr(os, "getloadavg", lambda: (float(os.cpu_count()), 0.0, 0.0))
    assert th.busy()
    monkeypatch.setattr(os, "getloadavg", lambda: (os.cpu_count() - 0.5, 0.0, 0.0))
    assert not th.busy()


def test_python_workers_share_work_in_order_with_blas_on_one_thread(monkeypatch):
    """on_workers keeps the items' order, runs on several threads where asked, with BLAS
    held to one thread meanwhile; python_workers is 1 on a busy machine unless chosen."""
    from threadpoolctl import threadpool_info
    seen = []

    def work(x):
        seen.append((threading.get_ident(),
                     [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]))
        return x * x
    assert th.on_workers(work, range(6), 2) == [0, 1, 4, 9, 16, 25]
    assert all(n == [1] * len(n) for _, n in seen)
    assert th.on_workers(work, [3], 2) == [9]            # one item: no pool
    monkeypatch.setattr(th, "busy", lambda: True)
    assert th.python_workers() == 1
    th.set_threads(th.max_threads())
    assert th.python_workers() == th.max_threads()
