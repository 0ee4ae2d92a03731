"""The reusable ngspice process: same answers as one-shot runs, faults contained."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from spicebar import CrossbarSpec, NetlistRejected, SimulationTimeout, SimulatorCrashed, simulate
from spicebar.engines.ngspice.engine import run_netlist
from spicebar.engines.ngspice.session import NgspiceSession

from .processes import worker_pids
from .tolerances import ENGINE_AGREEMENT_REL

pytestmark = pytest.mark.ngspice


def case(rng, n):
    return CrossbarSpec(rng.uniform(1e-6, 1e-4, (n, n)), r_wl=1.0, r_bl=1.0), \
        rng.uniform(-0.2, 0.2, (3, n))


def test_one_process_many_runs_same_bits(ngspice_ready, rng):
    cases = [case(rng, n) for n in (3, 8, 5, 16, 3)]
    with NgspiceSession() as session:
        reused = [simulate(s, v, "ngspice", session=session) for s, v in cases]
        assert session.runs == 5 and session.starts == 1
    fresh = [simulate(s, v, "ngspice") for s, v in cases]
    for a, b in zip(reused, fresh):  # the same circuit in a reused process: identical numbers
        np.testing.assert_array_equal(a.currents, b.currents)
        np.testing.assert_array_equal(a.v_bl, b.v_bl)
    assert worker_pids() == []


def test_a_rejected_netlist_leaves_the_session_usable(ngspice_ready, rng, tmp_path):
    bad = tmp_path / "bad.cir"
    bad.write_text("* typo\nvin a 0 dc 1\nr1 a 0 1kk\nq1 a b c nosuchmodel\n.op\n.end\n")
    spec, v = case(rng, 4)
    with NgspiceSession() as session:
        with pytest.raises(NetlistRejected):
            run_netlist(bad, ["a"], tmp_path, timeout_s=30, session=session)
        good = simulate(spec, v, "ngspice", session=session)
        assert session.starts == 1
    np.testing.assert_array_equal(good.currents, simulate(spec, v, "ngspice").currents)


def test_timeout_kills_and_the_next_run_restarts(ngspice_ready, rng):
    big, v_big = CrossbarSpec(rng.uniform(1e-6, 1e-4, (96, 96)), r_wl=1, r_bl=1), \
        rng.uniform(0, 0.2, (60, 96))
    spec, v = case(rng, 4)
    with NgspiceSession() as session:
        with pytest.raises(SimulationTimeout):
            simulate(big, v_big, "ngspice", session=session, timeout_s=0.5)
        simulate(spec, v, "ngspice", session=session)
        assert session.starts == 2
    assert worker_pids() == []


def test_crash_is_reported_and_the_next_run_restarts(ngspice_ready, rng):
    big, v_big = CrossbarSpec(rng.uniform(1e-6, 1e-4, (96, 96)), r_wl=1, r_bl=1), \
        rng.uniform(0, 0.2, (60, 96))
    spec, v = case(rng, 4)
    with NgspiceSession() as session:
        simulate(spec, v, "ngspice", session=session)  # the worker is up
        killer = threading.Timer(0.5, lambda: os.kill(session.pid, signal.SIGKILL))
        killer.start()
        with pytest.raises(SimulatorCrashed, match="signal 9"):
            simulate(big, v_big, "ngspice", session=session, timeout_s=60)
        killer.join()
        simulate(spec, v, "ngspice", session=session)
        assert session.starts == 2


def test_close_leaves_nothing(ngspice_ready, rng):
    session = NgspiceSession()
    folder = session._dir
    simulate(*case(rng, 3), "ngspice", session=session)
    pid = session.pid
    session.close()
    time.sleep(0.1)
    assert not folder.exists() and pid not in worker_pids() and worker_pids() == []


def test_session_pool_gives_each_thread_one_process_and_closes_them_all(ngspice_ready, rng):
    from concurrent.futures import ThreadPoolExecutor

    from spicebar.engines.ngspice.session import SessionPool
    cases = [case(rng, 4) for _ in range(6)]
    with SessionPool() as pool:
        with ThreadPoolExecutor(2) as threads:
            list(threads.map(lambda c: simulate(*c, "ngspice", session=pool.get()), cases))
        sessions = list(pool._sessions)
        assert 1 <= len(sessions) <= 2 and all(s.starts == 1 for s in sessions)
        assert sum(s.runs for s in sessions) == 6
    assert all(s.pid is None for s in sessions)
    assert worker_pids() == []


@pytest.mark.timeout(120)
def test_an_interrupted_wait_gives_the_next_run_a_fresh_worker(ngspice_ready, rng):
    """Ctrl-C while ngspice runs: that worker is ended, not left to answer the next job."""
    class Stop(Exception):
        pass

    def stop(*_):
        raise Stop

    big, v_big = case(rng, 96)  # ~0.7 s in ngspice: the alarm lands while the caller waits
    with NgspiceSession() as session:
        simulate(*case(rng, 3), "ngspice", session=session)
        old = signal.signal(signal.SIGALRM, stop)
        wait = session._wait

        def wait_then_interrupt(*args):  # the alarm is set once the job was handed over,
            signal.setitimer(signal.ITIMER_REAL, 0.1)  # so a loaded machine cannot make it
            return wait(*args)                          # land before the wait begins
        session._wait = wait_then_interrupt
        try:
            with pytest.raises(Stop):
                simulate(big, v_big, "ngspice", session=session)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
            session._wait = wait
        small, v = case(rng, 4)
        again = simulate(small, v, "ngspice", session=session)
        assert session.starts == 2
        # two exact solves of one circuit: the engine-agreement bound
        np.testing.assert_allclose(again.currents, simulate(small, v, "nodal").currents,
                                   rtol=ENGINE_AGREEMENT_REL)
    assert worker_pids() == []
