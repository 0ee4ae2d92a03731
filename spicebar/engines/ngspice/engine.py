"""The ngspice engine: the IR as a netlist, run by a child process through PySpice.

Each simulation runs in ``python -m spicebar.engines.ngspice.worker`` with a
timeout, so a hung or crashing ngspice cannot take the caller down. Files go to
a work directory; it is removed after success unless the caller chose it or
asked to keep it, and it is always kept (and named in the error) after a failure.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..._validate import plain_path
from ...errors import (ConvergenceError, NetlistRejected, SimulationError, SimulationTimeout,
                       SimulatorCrashed, SimulatorSetupError, SpecError, SpicebarError)
from ...circuit.ir import CircuitIR
from ...circuit.names import branch_name
from ...netlist.batch import format_batch_netlist
from ...netlist.writer import write_netlist
from ...results import SimulationResult
from .messages import without_tracebacks
from .worker import EXIT_SETUP_ERROR, EXIT_WORKER_ERROR, job_line
from .limits import DEFAULT_TIMEOUT_S  # noqa: F401 (re-exported)
from . import capacity

#: Temporary run folders are named so; a failed run's folder is kept with this marker file.
RUN_DIR_PREFIX = "spicebar-ngspice-"
FAILED_MARKER = "FAILED.txt"
#: Environment variables that would let ngspice read ``spinit`` from a folder of the
#: user's choosing; the worker starts without them (see ``worker._empty_folder``).
NGSPICE_INIT_VARIABLES = ("SPICE_LIB_DIR", "SPICE_SCRIPTS")


def account_spiceinit() -> Path | None:
    """The account's ``.spiceinit`` that ngspice reads at start-up, or None.

    ngspice falls back to ``.spiceinit`` in the home folder of the account (from the
    password database, not ``$HOME``) when its working folder has none. The worker keeps
    the working folder empty, but this file it cannot hide: ngspice 46's switch for it
    (``ngSpice_nospiceinit``) crashes when called before ``ngSpice_Init``. So its presence
    is said, once per process (:class:`~spicebar.errors.AccountInitWarning`)."""
    import pwd
    try:
        home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    except (KeyError, OSError):
        return None
    path = home / ".spiceinit"
    return path if path.is_file() else None


_WARNED_INIT: set[str] = set()


def warn_account_spiceinit() -> None:
    """Warn (once per file and process) that ngspice will read the account's init file."""
    path = account_spiceinit()
    if path is None or str(path) in _WARNED_INIT:
        return
    _WARNED_INIT.add(str(path))
    import warnings

    from ...errors import AccountInitWarning
    warnings.warn(f"ngspice reads {path} when it starts (its commands run with your rights and "
                  "its options, e.g. rshunt, change results); spicebar cannot stop that: rename "
                  "the file to be sure the results are ngspice's alone", AccountInitWarning,
                  stacklevel=3)


def check_workdir(workdir: str | Path) -> None:
    """SpecError (naming ``workdir``) for a run folder that is a file or whose path holds a
    control character (a newline would split the job path handed to the worker)."""
    plain_path("workdir", workdir)
    if Path(workdir).exists() and not Path(workdir).is_dir():
        raise SpecError("workdir", f"{str(workdir)!r} is a file", "a folder (it is created if "
                        "missing)")


@contextmanager
def run_folder(workdir: str | Path | None, keep_files: bool = False):
    """The folder of one run: the caller's (always kept), or a temporary one that is
    removed after success (unless ``keep_files``), kept and marked with
    :data:`FAILED_MARKER` after a spicebar error, and removed after anything else
    (an interrupt), so nothing is left behind unmarked."""
    own = workdir is None
    if not own:
        check_workdir(workdir)
    wd = Path(tempfile.mkdtemp(prefix=RUN_DIR_PREFIX)) if own else Path(workdir)
    wd.mkdir(parents=True, exist_ok=True)
    wd = wd.resolve()  # the worker runs inside it: every path it is given is absolute
    try:
        yield wd
    except SpicebarError as exc:
        if own:
            (wd / FAILED_MARKER).write_text(f"{type(exc).__name__}: {exc}\n")
        raise
    except BaseException:
        if own:
            shutil.rmtree(wd, ignore_errors=True)
        raise
    if own and not keep_files:
        shutil.rmtree(wd, ignore_errors=True)


def kill_group(proc: subprocess.Popen) -> None:
    """Kill a worker and everything it started (its own process group), and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def start_worker(workdir: Path, mode: str = "--stdin", done_fd: int | None = None
                 ) -> subprocess.Popen:
    """Start the child early: it loads PySpice and ngspice while the caller writes the
    netlist, then waits for job paths on its stdin: one (``--stdin``, see
    :func:`run_worker`) or many (``--serve``, see ``NgspiceSession``, which passes the
    write end of a pipe as ``done_fd``: the worker writes a line there after each job).
    Its output is appended to ``workdir/worker.log``; it runs in its own process group,
    with ``workdir`` (a run folder, not the caller's) as its working folder."""
    warn_account_spiceinit()
    env = {k: v for k, v in os.environ.items() if k not in NGSPICE_INIT_VARIABLES}
    env.setdefault("PYTHONUNBUFFERED", "1")
    args = [mode] if done_fd is None else [mode, str(done_fd)]
    with open(workdir / "worker.log", "ab") as log:
        # -P: the run folder (its working folder) is not put on sys.path
        safe_path = ["-P"] if sys.version_info >= (3, 11) else []
        return subprocess.Popen([sys.executable, *safe_path, "-m", "spicebar.engines.ngspice.worker",
                                 *args],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.PIPE,
                                start_new_session=True, env=env, cwd=workdir,
                                pass_fds=() if done_fd is None else (done_fd,))


def crashed(rc: int, netlist: str, log_path: Path) -> SimulatorCrashed:
    """The error for a worker that ended (code ``rc``) without a status, with its log's tail."""
    try:
        tail = without_tracebacks(log_path.read_text(errors="replace").splitlines())[-20:]
    except OSError:
        tail = []
    if rc == EXIT_WORKER_ERROR:  # the worker's own one-line reason is the log's last line
        return SimulatorCrashed("the ngspice worker stopped on an error of its own before "
                                "reporting", netlist, tail)
    how = f"signal {-rc}" if rc < 0 else f"exit code {rc}"
    return SimulatorCrashed(f"ngspice crashed ({how}) before reporting", netlist, tail)


def stop_worker(proc: subprocess.Popen | None) -> None:
    """End a started worker that will get no job."""
    if proc is not None and proc.poll() is None:
        kill_group(proc)


def read_progress(job: dict) -> float | None:
    """A transient job's progress, percent of its stop time, or None (not reported yet)."""
    path = job.get("progress")
    try:
        return float(Path(path).read_text()) if path else None
    except (OSError, ValueError):
        return None


def _timeout_message(job: dict, timeout_s: float) -> str:
    pct = read_progress(job)
    if pct is None:
        return f"ngspice did not finish within {timeout_s:g} s and was killed"
    t_stop = job.get("t_stop")
    where = f" (t = {pct / 100 * t_stop:.4g} s of {t_stop:.4g} s)" if t_stop else ""
    need = timeout_s * 100 / max(pct, 1.0) * 1.2
    return (f"ngspice did not finish within {timeout_s:g} s and was killed after simulating "
            f"{pct:.1f} % of the transient{where}; raise the limit (--timeout / timeout_s) to "
            f"about {need:.3g} s at this rate, or use --engine nodal")


def run_worker(job: dict, workdir: Path, timeout_s: float,
               proc: subprocess.Popen | None = None, session=None,
               on_progress=None, on_wait=None) -> tuple[np.ndarray, dict]:
    """Run one job in a child process (``proc`` from :func:`start_worker`, a new one, or
    a reused :class:`~spicebar.engines.ngspice.session.NgspiceSession`); return
    (values read, status) or raise. A transient job with a ``progress`` file reports
    its percent of simulated time there: ``on_progress(percent)`` is called with it
    while the job runs, and a timeout says how far it got. ``on_wait(elapsed_s)`` is called
    about twice a second while any job runs (an ``.op`` has no percent to report)."""
    job = dict(job, nonce=secrets.token_hex(8))
    for key in ("result", "status"):  # a previous run's outputs can never pass for this one's
        Path(job[key]).unlink(missing_ok=True)
        Path(f"{job[key]}.part").unlink(missing_ok=True)
    job_path = workdir / "job.json"
    job_path.write_text(json.dumps(job))
    if session is not None:
        stop_worker(proc)
        return read_status(job, session.run(job_path, Path(job["status"]), timeout_s,
                                            job["netlist"]))
    log_path = workdir / "worker.log"
    proc = proc or start_worker(workdir)
    try:
        try:
            proc.stdin.write(job_line(job_path))
            proc.stdin.close()
        except BrokenPipeError:
            pass  # the worker died early: its exit code and log tell why, below
        started = time.monotonic()
        deadline = started + timeout_s
        while True:
            try:
                rc = proc.wait(timeout=max(0.0, min(0.5, deadline - time.monotonic())))
                break
            except subprocess.TimeoutExpired:
                if on_wait is not None:
                    on_wait(time.monotonic() - started)
                if on_progress is not None:
                    pct = read_progress(job)
                    if pct is not None:
                        on_progress(pct)
                if time.monotonic() >= deadline:
                    raise
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise SimulationTimeout(_timeout_message(job, timeout_s), job["netlist"]) from None
    except BaseException:
        kill_group(proc)
        raise
    status_path = Path(job["status"])
    if not status_path.exists():
        raise crashed(rc, job["netlist"], log_path)
    return read_status(job, json.loads(status_path.read_text()))


def read_status(job: dict, status: dict) -> tuple[np.ndarray, dict]:
    """The values of a finished job, or the specific error its status reports.

    A status whose nonce is not the job's belongs to another run (a stale file in a
    reused folder): SimulatorCrashed, never that run's numbers."""
    if status.get("nonce") != job.get("nonce"):
        raise SimulatorCrashed("ngspice ended without reporting this job (the status file "
                               "found belongs to another run)", job["netlist"])
    if status["status"] != "ok":
        if status.get("code") == EXIT_SETUP_ERROR:
            raise SimulatorSetupError(status["summary"])
        error = {"rejected": NetlistRejected, "convergence": ConvergenceError}.get(
            status.get("kind"), SimulationError)
        raise error(status["summary"], job["netlist"], status["messages"], status.get("cause"))
    return np.load(job["result"]), status


def run_netlist(netlist_path: str | Path, read: list[str], workdir: str | Path,
                timeout_s: float = DEFAULT_TIMEOUT_S, driver_names: list[str] = (),
                driver_values: np.ndarray | None = None,
                proc: subprocess.Popen | None = None, session=None,
                analysis: str | None = None, on_wait=None,
                on_progress=None) -> tuple[np.ndarray, dict]:
    """Run an existing netlist's ``.op`` once per row of ``driver_values`` (or, with
    ``analysis="batch_tran"``, its batch transient once: see :mod:`spicebar.netlist.batch`;
    ``on_progress(percent)`` then hears how far it got, as :func:`run_worker` says).

    Args:
        read: vector names to read back after each run (node names, ``vname#branch``).
        driver_values: shape ``(batch, len(driver_names))`` volts; row 0 must match the
            netlist's own values; None runs the netlist once as written.
    Returns:
        values of shape ``(batch, len(read))`` and the worker's status dict.
    """
    wd = Path(workdir)
    if driver_values is None:
        driver_values = np.zeros((1, 0))
    values_path, read_path = wd / "inputs.npz", wd / "read.txt"
    np.savez(values_path, driver_values=np.asarray(driver_values, dtype=float))
    read_path.write_text("\n".join(read))  # one name a line: 3x faster than JSON both ways
    job = {"netlist": str(netlist_path), "values": str(values_path),
           "driver_names": list(driver_names), "read_file": str(read_path),
           "result": str(wd / "result.npy"), "status": str(wd / "status.json")}
    if analysis is not None:
        job["analysis"] = analysis
    if analysis == "batch_tran":   # vector k is solved at t = k: the percent says which
        job.update(progress=str(wd / "progress.txt"),
                   t_stop=float(max(driver_values.shape[0] - 1, 1)))
    return run_worker(job, wd, timeout_s, proc, session, on_wait=on_wait,
                      on_progress=on_progress)


#: The largest array (cells) a stock ngspice 46 build takes: 832x832, the largest square
#: measured to work (KLU's ``initmem_amd = 10``; see :mod:`.capacity`). Measured (AMD's Lnz,
#: spicebar's netlist): 832x832 69.0e6 (runs: 290 s, 4.8 GB), 848x848 72.1e6, 896x896 83.0e6
#: and 1024x1024 116.6e6 (fail). spicebar's patched copy (:mod:`.patched`) goes further.
NGSPICE_MAX_CELLS = 832 * 832
#: What :func:`check_ngspice_size` says about arrays above the stock limit.
NGSPICE_SIZE_REASON = capacity.index_reason("stock")


def check_ngspice_size(rows: int, cols: int, batch: int = 1, memory=None,
                       library_kind: str | None = None) -> None:
    """Raise :class:`~spicebar.engines.memory.ResourceError` (naming the array size, the
    reason and the largest square array that fits) for an array the ngspice library in
    use cannot solve (KLU's index limit, :mod:`.capacity`) or whose estimated peak memory
    passes the guard's limit, before any work. ``library_kind``: that of
    :func:`.toolchain.library_choice` (looked up when None)."""
    from ..memory import BYTES_PER_CELL_PER_VECTOR, MemoryGuard, ResourceError
    from .toolchain import library_choice
    kind = library_kind or library_choice()["kind"]
    if not capacity.fits_index(kind, rows, cols):
        side = capacity.largest_square(lambda n: capacity.fits_index(kind, n, n))
        raise ResourceError("array size", f"{rows}x{cols} = {rows * cols} cells for ngspice "
                            f"(library: {kind})",
                            f"at most {side}x{side} with this library: "
                            f"{capacity.index_reason(kind)}; use the nodal engine (exact to "
                            f"a 1e-13 residual), or tiles of at most {side}x{side}")
    guard = MemoryGuard.resolve(memory)

    def need(r: int, c: int) -> int:
        return capacity.ngspice_bytes(r, c) + BYTES_PER_CELL_PER_VECTOR * r * c * batch

    advice = "use the nodal engine, fewer vectors per call or tiles"
    if need(rows, cols) > guard.limit_bytes:   # the search only for the refusal's text
        side = capacity.largest_square(lambda n: need(n, n) <= guard.limit_bytes
                                       and capacity.fits_index(kind, n, n))
        advice = f"the largest square array that fits is about {side}x{side}; {advice}"
    guard.require(need(rows, cols), f"ngspice on {rows}x{cols} cells with {batch} input "
                  "vector(s)", advice)


#: A run expected to take at least this long (s) reports its progress (see solve_ngspice).
PROGRESS_MIN_S = 20.0
#: ... at most this often, s.
PROGRESS_EVERY_S = 30.0


def _progress_reporter(rows: int, cols: int, batch: int, progress: bool | None):
    """An ``on_wait`` for :func:`run_worker` that prints the elapsed time of a long run to
    stderr, or None. Its ``seen(percent)`` (an ``on_progress``) takes a batch transient's
    percent of simulated time, which the lines then turn into input vectors solved."""
    expected = capacity.expected_seconds(rows, cols, batch)
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress or expected < PROGRESS_MIN_S:
        return None
    last, pct = [0.0], [None]
    what = "one .op" if batch == 1 else f"{batch} input vectors"

    def report(elapsed: float) -> None:
        if elapsed - last[0] >= PROGRESS_EVERY_S:
            last[0] = elapsed
            # vector k is solved at t = k of t_stop = batch - 1
            solved = None if pct[0] is None else (
                batch if pct[0] >= 100 else int(pct[0] / 100 * (batch - 1)))
            done = "" if solved is None else f", {solved} of {batch} vectors solved"
            print(f"spicebar: ngspice is solving {rows}x{cols} cells ({what}): {elapsed:.0f} s "
                  f"elapsed of about {expected:.0f} s on an idle core{done}",
                  file=sys.stderr, flush=True)

    def seen(percent: float) -> None:
        pct[0] = percent
    report.seen = seen
    return report


#: The netlist a kept run folder holds: it runs as it is in ``ngspice -b`` (every input
#: vector, answers written to ``crossbar.dat``; :mod:`spicebar.netlist.standalone`).
RUNNABLE_NETLIST = "crossbar.cir"
#: Its shared-library twin, the one the worker runs (``external`` drivers for a batch).
SHARED_NETLIST = "crossbar_shared.cir"


def write_runnable(path: Path, ir: CircuitIR, inputs: np.ndarray,
                   extra_cards: tuple[str, ...] = ()) -> Path:
    """Write the standalone DC job of ``inputs`` ``(batch, rows)`` V to ``path``."""
    from ...netlist.standalone import data_file_for, format_dc_job
    from ...io import write_text_atomic
    return write_text_atomic(path, format_dc_job(ir, inputs, data_file_for(path).name,
                                                 extra_cards))


def _naming_runnable(exc: SimulationError, runnable: Path, ir: CircuitIR, inputs: np.ndarray,
                     extra_cards, written: bool) -> SimulationError:
    """``exc`` naming the runnable netlist (written now if it was not), or ``exc`` itself
    when it cannot be written."""
    try:
        if not written:
            write_runnable(runnable, ir, inputs, extra_cards)
    except (OSError, SpicebarError):
        return exc
    new = type(exc)(exc.summary + f" (the shared-library twin that ran: {exc.netlist_path})",
                    str(runnable), exc.ngspice_messages, exc.cause)
    return new


def uses_batch_transient(ir: CircuitIR, batch: int) -> bool:
    """Whether :func:`solve_ngspice` runs ``batch`` vectors as one transient (linear
    circuits without capacitors, two or more vectors) rather than one ``.op`` each."""
    return batch >= 2 and not ir.nonlinear and not ir.capacitors


def solve_ngspice(ir: CircuitIR, inputs: np.ndarray, workdir: str | Path | None = None,
                  timeout_s: float = DEFAULT_TIMEOUT_S, keep_files: bool = False,
                  extra_cards: tuple[str, ...] = (), session=None, memory=None,
                  progress: bool | None = None, _checked: bool = False) -> SimulationResult:
    """Simulate ``inputs`` of shape ``(batch, rows)`` volts with ngspice.

    One vector: one ``.op``. A batch of a linear circuit without capacitors: one
    transient that orders the matrix once (:mod:`spicebar.netlist.batch`); other
    batches: one ``.op`` per vector (``alter`` between them).

    ``extra_cards``: netlist lines added before ``.op`` (see ``format_netlist``).
    ``session``: a :class:`~spicebar.engines.ngspice.session.NgspiceSession` to reuse one
    ngspice process across calls (no start-up per run); default a fresh process per call.
    ``memory``: the memory guard (or byte limit) the run is checked against before it starts.
    ``progress``: say on stderr how long a long run (expected over :data:`PROGRESS_MIN_S`)
    has taken, every :data:`PROGRESS_EVERY_S`; None: when stderr is a terminal. With the
    default ``timeout_s`` a large array gets 3x its expected time (:func:`.capacity.default_timeout`).
    """
    if not _checked:   # simulate() checks before it elaborates, and says so here
        check_ngspice_size(ir.rows, ir.cols, inputs.shape[0], memory)
    timeout_s = capacity.default_timeout(ir.rows, ir.cols, timeout_s, inputs.shape[0])
    on_wait = _progress_reporter(ir.rows, ir.cols, inputs.shape[0], progress)
    t_start = time.perf_counter()
    own_dir = workdir is None
    proc = None
    from .openvaf import compile_devices
    compile_devices(ir)  # Verilog-A devices: OSDI libraries (cached) before the netlist runs
    keep = keep_files or not own_dir
    with run_folder(workdir, keep_files) as wd:
        runnable = wd / RUNNABLE_NETLIST
        netlist_path = wd / SHARED_NETLIST  # what the worker runs (external sources)
        try:
            if keep:
                write_runnable(runnable, ir, inputs, extra_cards)
            if session is None:
                proc = start_worker(wd)  # loads ngspice while the netlist is written
            t0 = time.perf_counter()
            batch_tran = uses_batch_transient(ir, inputs.shape[0])
            if batch_tran:
                netlist_path.write_text(format_batch_netlist(ir, inputs.shape[0], extra_cards))
            else:
                write_netlist(netlist_path, ir, inputs[0], extra_cards)
            mid = [] if ir.mid_node is None else [ir.mid_node.ravel()]
            gates = [] if ir.gates is None else [ir.gates.node_p]
            wanted = np.zeros(ir.n_nodes, dtype=bool)  # a mask, not np.unique: O(nodes)
            wanted[np.concatenate([ir.wl_node.ravel(), ir.bl_node.ravel(), *mid, *gates])] = True
            wanted[0] = False  # ground
            node_read = np.flatnonzero(wanted)
            read = ir.node_names[node_read].tolist()
            read += [branch_name(n) for n in ir.drivers.names]
            read += [branch_name(n) for n in ir.senses.names]
            t_emit = time.perf_counter() - t0
            values, status = run_netlist(netlist_path, read, wd, timeout_s, ir.drivers.names,
                                         ir.driver_voltages(inputs) + 0.0, proc=proc,
                                         session=session,
                                         analysis="batch_tran" if batch_tran else None,
                                         on_wait=on_wait,
                                         on_progress=getattr(on_wait, "seen", None))
        except SimulationError as exc:
            stop_worker(proc)
            raise _naming_runnable(exc, runnable, ir, inputs, extra_cards, keep) from None
        except BaseException:
            stop_worker(proc)
            raise

    batch = inputs.shape[0]
    v = np.zeros((batch, ir.n_nodes))
    n_nodes_read = node_read.size
    v[:, node_read] = values[:, :n_nodes_read]
    from ..cell_currents import deferred_cell_currents
    n_drv = len(ir.drivers)
    # i(v) is the current into the source's + terminal: minus what a driver delivers.
    drv = -values[:, n_nodes_read:n_nodes_read + n_drv]
    sen = values[:, n_nodes_read + n_drv:]
    currents = np.zeros((batch, ir.cols))
    np.add.at(currents, (slice(None), ir.sense_col), sen)
    driver_currents = np.zeros((batch, ir.rows))
    np.add.at(driver_currents, (slice(None), ir.driver_row), drv)
    elapsed = time.perf_counter() - t_start
    timings = dict(status["timings"], emit_s=t_emit)
    info = {"ngspice_version": status["ngspice_version"], "timings": timings,
            "ngspice_library": status.get("library"),
            "analysis": ("one transient for the batch (external drivers, vector k on "
                         "k <= t < k+1)" if batch_tran else "one .op per input vector"),
            "netlist": str(runnable) if keep else None,
            "warnings": status["warnings"]}
    return SimulationResult("ngspice", inputs, currents, v[:, ir.wl_node], v[:, ir.bl_node],
                            driver_currents, elapsed, info,
                            cell_currents=deferred_cell_currents(ir, v))
