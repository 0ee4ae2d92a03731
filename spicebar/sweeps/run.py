"""Running a sweep: points on any ``concurrent.futures`` executor, nothing lost.

* Each point runs in a worker (:func:`run_point`: build the spec, run the
  reference engine, score every model) and comes back as a JSON-able record.
* The caller writes each record as it arrives to ``OUT/points/<key>.json``
  (atomically), keyed by :func:`spicebar.sweeps.definition.point_key`. A rerun skips every
  point whose record exists, so an interrupted sweep finishes only what is missing.
* A point whose ngspice fails (rejected netlist, crash, no convergence, timeout)
  is recorded as ``failed`` with the reason and the netlist path, and the sweep
  goes on. ``retry_failed=True`` runs recorded failures again.
* The executor is local processes by default (one per core), or any object with
  ``submit`` returning ``concurrent.futures.Future`` objects, such as a Dask
  ``Client.get_executor()``. Workers need spicebar and ngspice installed.
"""

from __future__ import annotations

from .._progress import bar_disable

import json
import os
import shutil
import socket
import threading
import time
import weakref
from concurrent.futures import Executor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..io import write_text_atomic
from ..errors import SimulationError, SimulationTimeout, SolverError, SpecError, SpicebarError
from .definition import Sweep, SweepOptions, build_point, point_key
from .records import POINTS_DIR, load_record, write_json

WORK_DIR = "work"


def _ngspice_words(exc: SimulationError) -> str:
    """A failed point's message: the summary, ngspice's first errors (the cause), then its
    last lines (what it was doing)."""
    return "\n".join([exc.summary, *exc.cause, *exc.last_lines(8)])


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


_LOCAL = threading.local()
#: Every live session this process started (for the clean-up when the spicebar process
#: dies); weak, so a session whose thread has ended is still collected and closed.
_SESSIONS: "weakref.WeakSet" = weakref.WeakSet()
#: Set once this worker was told to stop (SIGTERM: its spicebar process ended): the points
#: still queued to it (the pool hands out a few ahead) then stop before they start an
#: ngspice worker that the clean-up on the way out would race.
_STOPPING = threading.Event()


def _session():
    """This thread's ngspice session: points in one worker share one ngspice process."""
    from ..engines.ngspice.session import NgspiceSession
    if _STOPPING.is_set():
        raise KeyboardInterrupt("stopping")
    if getattr(_LOCAL, "session", None) is None:
        _LOCAL.session = NgspiceSession()
        _SESSIONS.add(_LOCAL.session)
    return _LOCAL.session


def _close_sessions() -> None:
    """On a worker's way out: close its sessions, end any ngspice worker of this process
    an interrupt left unrecorded (it could write in a session folder while it is removed),
    then remove the sessions' folders once more."""
    from ..engines.ngspice.lifeline import kill_children
    sessions = list(_SESSIONS)
    for session in sessions:
        try:
            session.close()
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass
    if kill_children("spicebar.engines.ngspice.worker"):
        for session in sessions:
            shutil.rmtree(session.folder, ignore_errors=True)


def _interrupt(signum, frame):
    if _STOPPING.is_set():
        return  # already stopping: a second signal must not cut the clean-up short
    _STOPPING.set()
    raise KeyboardInterrupt(f"signal {signum}")


def _pool_worker_init(parent: int) -> None:
    """Each local pool worker dies with the ``spicebar`` process that started it, whatever
    ends that process (SIGKILL included): the kernel sends it SIGTERM
    (``PR_SET_PDEATHSIG``, and a thread watches the parent too), which it takes like
    Ctrl-C (the running point stops, its ngspice worker is killed); then it closes its
    ngspice sessions (their folders are removed) and exits."""
    import signal
    from ..engines.ngspice.lifeline import exit_with_parent
    import atexit
    signal.signal(signal.SIGTERM, _interrupt)
    atexit.register(_close_sessions)  # a worker that ends by an exception in its loop
    exit_with_parent(parent, signal.SIGTERM, on_exit=_close_sessions, deathsig=True)


def run_point(task: dict) -> dict:
    """Run one point in a worker; never raises for a simulation failure.

    ``task``: ``key``, ``index``, ``params``, ``options`` (a dict of
    :class:`SweepOptions`), ``workdir`` (where ngspice's files go).
    """
    from .. import __version__
    from ..analysis.scoring import default_adc, failed_score, score_model
    from ..engines.simulation import simulate
    t0, cpu0 = time.perf_counter(), _cpu_seconds()
    opts = SweepOptions(**task["options"])
    params = task["params"]
    spec, v = build_point(params)
    from .definition import Point
    reference, note = Point(task["index"], params).reference_for(opts)
    workdir = Path(task["workdir"])
    record = {"key": task["key"], "index": task["index"], "params": params,
              "rows": spec.rows, "cols": spec.cols, "reference": reference, "note": note,
              "status": "ok", "reason": "", "message": "", "netlist": "",
              "spicebar_version": __version__, "host": socket.gethostname(), "pid": os.getpid()}
    try:
        adc = default_adc(spec, v, opts.adc_bits)
        record["full_scale_a"] = adc.x_max
        record["lsb_a"] = adc.lsb
        if reference == "ngspice":
            from ..circuit.elaboration import elaborate
            from ..engines.ngspice.engine import solve_ngspice
            timeout = params.get("timeout_s") or opts.timeout_s
            try:
                ref = solve_ngspice(elaborate(spec), v, workdir=workdir, timeout_s=timeout,
                                    extra_cards=tuple(params.get("netlist_cards", ())),
                                    session=_session())
            except KeyboardInterrupt:  # stopped (Ctrl-C, SIGTERM): no half-run folder left
                shutil.rmtree(workdir, ignore_errors=True)
                raise
            record["ngspice_version"] = ref.info.get("ngspice_version", "")
            if opts.keep_netlists:
                record["netlist"] = str(workdir / "crossbar.cir")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
        else:
            ref = simulate(spec, v, "nodal")
        record["reference_s"] = ref.elapsed_s
        scores = [score_model(m, spec, v, ref.currents, adc, name=m, reference_name=reference)
                  for m in opts.models]
    except SimulationError as exc:
        record.update(status="failed",
                      reason="timeout" if isinstance(exc, SimulationTimeout) else "ngspice error",
                      message=_ngspice_words(exc),
                      netlist=exc.netlist_path or "", reference_s=float("nan"))
        scores = [failed_score(m, reference, record["reason"]) for m in opts.models]
    except (SolverError, SpicebarError) as exc:
        record.update(status="failed", reason=type(exc).__name__, message=str(exc),
                      reference_s=float("nan"))
        scores = [failed_score(m, reference, record["reason"]) for m in opts.models]
    record["models"] = [s.to_dict() for s in scores]
    record["elapsed_s"] = time.perf_counter() - t0
    record["cpu_s"] = _cpu_seconds() - cpu0
    return record


@dataclass(frozen=True)
class SweepRun:
    """What a :func:`run_sweep` call did. Times in seconds."""

    out_dir: Path
    keys: tuple[str, ...]    # per point, in sweep order
    reused: int              # points whose record already existed
    ran: int                 # points run now
    failed: int              # points recorded as failed (now or before)
    lost: int                # points whose worker died (not recorded; rerun to finish)
    elapsed_s: float
    cpu_s: float             # CPU time of the points run now (workers and ngspice; counted
                             # per process, so only approximate when points share one)
    point_s: float           # wall time of the points run now, summed (/ elapsed_s: concurrency)
    table: Path | None


def _stop_workers(executor: Executor, grace_s: float = 2.0) -> None:
    """Interrupt our local workers (each kills its ngspice run), then end them."""
    import signal
    procs = list((getattr(executor, "_processes", None) or {}).values())
    for p in procs:
        try:
            os.kill(p.pid, signal.SIGINT)
        except (ProcessLookupError, OSError):
            pass
    deadline = time.monotonic() + grace_s
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.terminate()


def local_executor(workers: int | None = None) -> Executor:
    """Local worker processes (``spawn``), one per core by default."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    n = workers or os.cpu_count() or 1
    return ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_pool_worker_init, initargs=(os.getpid(),))


def check_models(options: SweepOptions) -> None:
    """Import every model of ``options`` (user models ``package.module:function`` too) and
    call each once on a 2x2 array, before the first point runs: a model that cannot be
    imported, or fails or answers in the wrong shape there, would fail every point.
    SpecError naming ``sweep.models``."""
    import numpy as np

    from ..analysis.models import resolve_model
    from ..circuit.spec import CrossbarSpec
    spec = CrossbarSpec(np.full((2, 2), 1e-5), r_wl=1.0, r_bl=1.0)
    v = np.full((1, 2), 0.1)
    for name in options.models:
        try:
            fn = resolve_model(name)
        except SpecError as exc:
            raise SpecError("sweep.models", exc.problem, exc.allowed) from None
        try:
            out = np.asarray(fn(spec.conductances, v, spec), dtype=float)
        except Exception as exc:  # noqa: BLE001 - the user's code, reported in one line
            raise SpecError("sweep.models", f"{name!r} failed on a 2x2 array "
                            f"({type(exc).__name__}: {exc})",
                            "a function model(G, V, spec) -> I (batch, cols) A") from None
        if out.shape != (1, 2) or not np.all(np.isfinite(out)):
            raise SpecError("sweep.models", f"{name!r} answered {out.shape} "
                            f"{'with non-finite values ' if out.shape == (1, 2) else ''}on a "
                            "2x2 array with one vector", "finite currents of shape (batch, cols)")


#: The lock file of a sweep's results folder: one sweep at a time writes there.
LOCK_FILE = ".sweep.lock"


@contextmanager
def out_lock(out: Path):
    """Hold ``out``'s lock for the block (``flock``, released by the kernel whatever ends
    the process). A folder another sweep holds is refused: SpecError naming ``--out``."""
    import fcntl
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise SpecError("--out", f"{str(out)!r} is in use by another sweep ({holder})",
                            "a results folder no other sweep is writing (wait, or use another "
                            "--out)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def run_sweep(sweep: Sweep, out_dir: str | Path, *, executor: Executor | None = None,
              workers: int | None = None, retry_failed: bool = False, progress: bool = True,
              log=print) -> SweepRun:
    """Run every point of ``sweep`` not yet in ``out_dir``; write the table at the end.

    Args:
        executor: where points run; default :func:`local_executor` (closed afterwards).
            A caller's executor is left open.
        workers: local processes when no executor is given (default: all cores).
        retry_failed: run points recorded as failed again.
        progress: show a tqdm bar (points done, failed, ETA) on stderr.
        log: where one-line messages go (None: nowhere).
    """
    t_start = time.perf_counter()
    log = log or (lambda *a, **k: None)
    out = Path(out_dir)
    if executor is None:  # local workers share this environment: check the models here once
        check_models(sweep.options)
    else:  # a caller's executor (a Dask cluster): check them once where the points will run
        executor.submit(check_models, sweep.options).result()
    with out_lock(out):
        return _run_locked(sweep, out, executor, workers, retry_failed, progress, log, t_start)


def _run_locked(sweep: Sweep, out: Path, executor, workers, retry_failed, progress, log,
                t_start) -> SweepRun:
    from .table import write_table
    from ..engines.ngspice.toolchain import ngspice_version
    (out / POINTS_DIR).mkdir(parents=True, exist_ok=True)
    if sweep.source:
        write_text_atomic(out / "sweep.toml", sweep.source)
    ng = (ngspice_version().get("version") or "") if sweep.options.reference == "ngspice" else ""
    keys = tuple(point_key(p.params, sweep.options, ng) for p in sweep.points)
    write_json(out / "manifest.json", {"keys": list(keys), "swept": list(sweep.swept),
                                        "options": sweep.options.__dict__ | {
                                            "models": list(sweep.options.models)}})
    todo, failed_before = [], 0
    for p, k in zip(sweep.points, keys):
        rec = load_record(out, k)
        if rec is None or (retry_failed and rec.get("status") != "ok"):
            todo.append((p, k))
        elif rec.get("status") != "ok":
            failed_before += 1
    reused = len(keys) - len(todo)
    own = executor is None
    if own and todo:
        executor = local_executor(workers)
    where = (f"{workers or os.cpu_count()} local processes" if own
             else type(executor).__name__)
    log(f"sweep: {len(keys)} points, {reused} already done, {len(todo)} to run on {where}")
    failed = lost = 0
    cpu = point_s = 0.0
    bar = None
    interrupted = False
    try:
        if todo:
            from tqdm import tqdm
            bar = tqdm(total=len(todo), desc="sweep", unit="point", disable=bar_disable(progress),
                       dynamic_ncols=True)
            bar.set_postfix(failed=0)
            if progress and log is print:
                log = bar.write  # keep messages above the bar
            opts = dict(sweep.options.__dict__, models=list(sweep.options.models))
            futures = {executor.submit(run_point, {
                "key": k, "index": p.index, "params": p.params, "options": opts,
                "workdir": str((out / WORK_DIR / k).resolve())}): (p, k) for p, k in todo}
            for fut in as_completed(futures):
                p, k = futures[fut]
                try:
                    rec = fut.result()
                except Exception as exc:  # the worker process died: not recorded, rerun later
                    lost += 1
                    log(f"sweep: point {p.index} lost ({type(exc).__name__}: {exc}); "
                        "rerun the sweep to finish it")
                    bar.update(1)
                    continue
                write_json(out / POINTS_DIR / f"{k}.json", rec)
                cpu += rec.get("cpu_s", 0.0)
                point_s += rec.get("elapsed_s", 0.0)
                if rec["status"] != "ok":
                    failed += 1
                    why = (rec.get("message") or "").strip().splitlines()
                    log(f"sweep: point {p.index} failed ({rec['reason']}"
                        f"{': ' + why[0] if why else ''}); netlist: {rec['netlist'] or '-'}")
                bar.set_postfix(failed=failed)
                bar.update(1)
    except BaseException:
        interrupted = True
        log(f"sweep: stopped; finished points are kept in {out / POINTS_DIR}: run the same "
            "command again to finish the rest")
        raise
    finally:
        if bar is not None:
            bar.close()
        if own and executor is not None:
            if interrupted:
                _stop_workers(executor)
            executor.shutdown(wait=not interrupted, cancel_futures=True)
    table = write_table(out, sweep, keys)
    elapsed = time.perf_counter() - t_start
    log(f"sweep: {len(todo) - lost} run, {failed + failed_before} failed, {lost} lost, "
        f"{elapsed:.1f} s wall, points busy {point_s:.1f} s, CPU {cpu:.1f} s -> {table}")
    return SweepRun(out, keys, reused, len(todo) - lost, failed + failed_before, lost, elapsed,
                    cpu, point_s, table)
