"""A reusable ngspice process: many runs, one start-up.

A one-shot ngspice run pays for a Python interpreter, PySpice and libngspice to
start (about 0.3-0.5 s). A session keeps one worker process
(``ngspice_worker --serve``) and hands it job after job, so sweeps, tiles and tests
that run many small circuits pay that once. Isolation is kept: the worker is still
a child process; a job that passes its timeout gets the process killed (and the
next job starts a fresh one), and a crash is reported as such.

    with NgspiceSession() as session:
        for spec, v in cases:
            simulate(spec, v, "ngspice", session=session)

One session serves one caller at a time (a lock serialises jobs); use one session
per thread or process for parallel runs.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path

from ...errors import SimulationTimeout, SimulatorCrashed, SpicebarError
from .engine import crashed, kill_group, start_worker
from .worker import job_line

SESSION_DIR_PREFIX = "spicebar-session-"


class RunAborted(Exception):
    """A run ended because its session was aborted (its caller is stopping): not a
    simulation failure, so its run folder is removed rather than kept for the user."""


class SessionClosed(SpicebarError):
    """A closed :class:`NgspiceSession` was asked to run again."""


class NgspiceSession:
    """One ngspice worker process reused across runs; a context manager."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._done: int | None = None  # read end of the worker's job-done pipe
        self._lock = threading.Lock()
        self._aborted = False
        self._closed = False
        self._dir = Path(tempfile.mkdtemp(prefix=SESSION_DIR_PREFIX))
        self.runs = 0
        self.starts = 0
        self._finalizer = weakref.finalize(self, NgspiceSession._cleanup, [None], self._dir)

    @staticmethod
    def _cleanup(holder, folder: Path) -> None:
        if holder[0] is not None and holder[0].poll() is None:
            kill_group(holder[0])
        shutil.rmtree(folder, ignore_errors=True)

    def _ensure(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._close_pipe()
            self._done, done_w = os.pipe()  # the worker writes a line here after each job
            try:
                self._proc = start_worker(self._dir, "--serve", done_fd=done_w)
            finally:
                os.close(done_w)
            self._finalizer.detach()
            self._finalizer = weakref.finalize(self, NgspiceSession._cleanup, [self._proc],
                                               self._dir)
            self.starts += 1
        return self._proc

    def run(self, job_path: Path, status_path: Path, timeout_s: float, netlist: str) -> dict:
        """Hand one job to the worker and wait for its status file; returns the status."""
        with self._lock:
            if self._closed:
                raise SessionClosed("this NgspiceSession is closed (its worker and folder are "
                                    "gone); open a new one for more runs")
            if self._aborted:
                raise RunAborted("the ngspice session was aborted")
            status_path = Path(status_path)
            status_path.unlink(missing_ok=True)
            proc = self._ensure()
            try:
                proc.stdin.write(job_line(job_path))
                proc.stdin.flush()
            except BrokenPipeError:
                pass  # noticed below as a dead process
            try:
                self._wait(proc, status_path, timeout_s, netlist)
            except BaseException as exc:
                # an interrupted wait leaves the worker's state unknown: a fresh one next time
                if not isinstance(exc, (SimulationTimeout, SimulatorCrashed)):
                    kill_group(proc)
                self._proc = None
                if self._aborted:
                    raise RunAborted("the ngspice session was aborted") from None
                raise
            self.runs += 1
            return json.loads(status_path.read_text())

    def _wait(self, proc: subprocess.Popen, status_path: Path, timeout_s: float,
              netlist: str) -> None:
        """Until the worker's line says the job is done, its death, or the deadline."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._done], [], [], max(0.0, min(left, 1.0)))
            if ready and os.read(self._done, 64):
                if status_path.exists():
                    return
                kill_group(proc)  # a line without a status: nothing the worker says is sure
                raise crashed(proc.returncode, netlist, self._dir / "worker.log")
            if ready or proc.poll() is not None:  # end of pipe, or the process ended
                raise crashed(proc.wait(), netlist, self._dir / "worker.log")
            if left <= 0:
                kill_group(proc)
                raise SimulationTimeout(f"ngspice did not finish within {timeout_s:g} s and "
                                        "was killed", netlist)

    def _close_pipe(self) -> None:
        if self._done is not None:
            os.close(self._done)
            self._done = None

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran: the session takes no more runs."""
        return self._closed

    @property
    def folder(self) -> Path:
        """The session's folder (the worker's working folder and log)."""
        return self._dir

    @property
    def pid(self) -> int | None:
        return None if self._proc is None or self._proc.poll() is not None else self._proc.pid

    def abort(self) -> None:
        """Kill the worker now, from any thread, without waiting for a run: a run waiting
        on it ends at once with :class:`RunAborted` (its caller is stopping), and so does
        every later run."""
        self._aborted = True
        proc = self._proc
        if proc is not None and proc.poll() is None:
            kill_group(proc)

    def close(self) -> None:
        """End the worker (politely, then firmly) and remove the session folder."""
        with self._lock:
            self._closed = True
            proc, self._proc = self._proc, None
            if proc is not None and proc.poll() is None:
                try:
                    proc.stdin.close()
                    proc.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    kill_group(proc)
            self._close_pipe()
            self._finalizer()

    def __enter__(self) -> "NgspiceSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SessionPool:
    """One :class:`NgspiceSession` per thread that asks, all closed together.

    For thread pools that run many circuits (tiles of a layer): each thread pays for
    one ngspice start, not one per circuit. A context manager::

        with SessionPool() as pool:
            run_parallel(lambda job: simulate(..., session=pool.get()), jobs)
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._sessions: list[NgspiceSession] = []
        self._lock = threading.Lock()

    def get(self) -> NgspiceSession:
        """This thread's session (started on first use)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = NgspiceSession()
            with self._lock:
                self._sessions.append(session)
        return session

    def abort(self) -> None:
        """Kill every session's worker now (see :meth:`NgspiceSession.abort`); the runs on
        them end at once, and :meth:`close` then need not wait for them."""
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            session.abort()

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def __enter__(self) -> "SessionPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
