"""Child process that runs one netlist in ngspice through PySpice's shared library.

Run as ``python -m spicebar.engines.ngspice.worker JOB.json``. It is the only
place libngspice is loaded, so a crash or hang takes down this process, never
the caller. It writes ``JOB.json``'s ``result`` (.npz) and ``status`` (.json).

The job: ``netlist`` (path), ``values`` (.npz with ``driver_values`` of shape
``(batch, n_drivers)``), ``driver_names``, ``read`` (vector names, e.g. node names
and ``vsense_0#branch``) or ``read_file`` (the same, one a line). Vector 0 uses
the netlist's own source values; each further vector is applied with ``alter``
before another ``op``.

With ``"analysis": "tran"`` (or ``"dc"``, ``"noise"``) the netlist's own ``.tran`` (``.dc``
sweep, ``.noise`` spectra) runs once instead and every ``read`` vector is saved whole over
time (over the sweep, over frequency): result shape ``(len(read), n_points)``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .lifeline import exit_with_parent
from ...netlist.batch import vector_at
from .analyses import (EXIT_OK, EXIT_SETUP_ERROR, EXIT_SIM_ERROR, Failure, current_plot,  # noqa: F401
                       run_batch_tran, run_command, run_tran)
from .messages import (CONVERGENCE_PATTERN, ERROR_PATTERN, MESSAGES_HEAD,  # noqa: F401
                       MESSAGES_TAIL, classify, explained, first_errors, status_messages)
from .toolchain import configure_library_path



#: A transient writes its progress (ngspice's percent of the stop time) at most this often.
PROGRESS_EVERY_S = 0.25


def _open_ngspice(messages: list[str]):
    logging.getLogger("PySpice").setLevel(logging.CRITICAL)
    configure_library_path()
    try:
        from PySpice.Spice.NgSpice.Shared import NgSpiceShared, ffi
    except ImportError as exc:
        raise Failure(f"PySpice is not installed ({exc}); pip install PySpice==1.5",
                       EXIT_SETUP_ERROR) from None

    class CapturingNgSpice(NgSpiceShared):
        """PySpice's shared-mode ngspice, but every message is kept and classified here,
        and an operating point's vectors are taken from ngspice's data callbacks in one
        sweep (about 1 us a vector; asking for each vector by name costs twice that).

        ``capture``: None (ignore data, e.g. during a transient's many time points), or
        a dict that receives ``values`` (float, every point) and, once per new plot if
        it holds ``read`` (vector names), ``where``: the position of each of them among
        the plot's vectors (see :func:`_positions`). ngspice announces a plot's vectors
        before it solves, and their names live as long as the plot, so a thread
        (``names_thread``) decodes and matches them while ngspice computes.
        """

        capture: dict | None = None
        #: where a transient reports its progress (percent of the stop time), or None
        progress_path: str | None = None
        progress_written = 0.0

        def send_stat(self, message, ngspice_id) -> int:
            """ngspice's status callback (``int SendStat(char *, int, void *)``): must return
            an int, or cffi logs a TypeError with a traceback for every status line."""
            path = CapturingNgSpice.progress_path
            now = time.monotonic()
            if path is not None and now - CapturingNgSpice.progress_written >= PROGRESS_EVERY_S:
                match = re.search(r"(\d+(?:\.\d+)?)\s*%", message)
                if match:
                    CapturingNgSpice.progress_written = now
                    try:
                        replace_text(path, match.group(1))
                    except OSError:
                        pass  # progress is a courtesy: a full disk must not stop the run
            return 0

        #: ``external`` driver values of a batch transient: ``(values (B, n), {name: k}, B)``.
        sources: tuple | None = None

        @staticmethod
        def _get_vsrc_data(voltage, time_s, node, ngspice_id, user_data):
            values, index, n = CapturingNgSpice.sources
            voltage[0] = values[vector_at(time_s, n), index[ffi.string(node)]]
            return 0

        @staticmethod
        def _send_char(message_c, ngspice_id, user_data):
            messages.append(ffi.string(message_c).decode("utf-8", "replace"))
            return 0

        @staticmethod
        def _send_init_data(data, ngspice_id, user_data):
            capture = CapturingNgSpice.capture
            if capture is not None:
                t0 = time.perf_counter()
                vecs = data.vecs
                count = capture["count"] = data.veccount
                if capture.get("read") is not None:
                    def decode() -> None:
                        names = [ffi.string(vecs[k].vecname) for k in range(count)]
                        capture["where"] = _positions(names, capture.pop("read"))
                    capture["names_thread"] = threading.Thread(target=decode, daemon=True)
                    capture["names_thread"].start()
                capture["callback_s"] += time.perf_counter() - t0
            return 0

        @staticmethod
        def _send_data(data, count, ngspice_id, user_data):
            capture = CapturingNgSpice.capture
            if capture is not None:
                t0 = time.perf_counter()
                vecs = data.vecsa
                capture["values"] = [vecs[k].creal for k in range(count)]
                capture["callback_s"] += time.perf_counter() - t0
            return 0

    CapturingNgSpice._logger.setLevel(logging.CRITICAL)
    try:
        with _empty_folder():
            ng = CapturingNgSpice(ngspice_id=0, send_data=True)
    except Exception as exc:  # noqa: BLE001 - any failure to load is a set-up problem
        lib = os.environ.get("NGSPICE_LIBRARY_PATH") or "libngspice"
        raise Failure(f"cannot load the ngspice shared library {lib} ({type(exc).__name__}: "
                       f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}); install "
                       "libngspice0 (Debian: apt-get install libngspice0-dev) or set "
                       "NGSPICE_LIBRARY_PATH to libngspice.so.0", EXIT_SETUP_ERROR) from None
    return ng, ffi


@contextmanager
def _empty_folder():
    """Run the block in a new, empty, private working folder (then come back).

    ngspice reads ``.spiceinit`` from its working folder when it starts (``ngSpice_Init``),
    and a user's init file could run ``shell`` commands or change options (``rshunt``)
    behind spicebar's back. The library's own switch (``ngSpice_nospiceinit``) crashes
    ngspice 46 when called before ``ngSpice_Init`` (measured: SIGSEGV), so the start-up
    happens where no such file can be. ``spinit`` comes from the installation only: the
    caller removes ``SPICE_LIB_DIR`` and ``SPICE_SCRIPTS`` from this process's environment.
    """
    import tempfile
    back = os.getcwd()
    # inside the run folder (the working folder start_worker gives): a worker killed
    # while ngspice starts leaves it where the run folder's own clean-up removes it
    empty = tempfile.mkdtemp(prefix=".ngspice-init-", dir=back)
    os.chdir(empty)
    try:
        yield
    finally:
        os.chdir(back)
        os.rmdir(empty)


def run_job(job: dict, messages: list[str], opened=None) -> dict:
    timings = {}
    t0 = time.perf_counter()
    if isinstance(opened, Failure):
        raise opened
    ng, ffi = opened or _open_ngspice(messages)
    banner = "\n".join(messages)
    version_match = re.search(r"ngspice-(\d+)", banner)
    version = version_match.group(1) if version_match else "unknown"
    if job.get("require_klu", True) and "KLU" not in banner:
        raise Failure(f"this ngspice ({version}) was built without KLU, which makes large arrays "
                       "100-300x slower; install a KLU build (Debian 12: apt-get install -t "
                       "bookworm-backports ngspice libngspice0 libngspice0-dev; Debian 13: the "
                       "distribution's ngspice) or run `make setup`", EXIT_SETUP_ERROR)
    timings["init_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    start = len(messages)
    if re.fullmatch(r"[\w./+-]+", job["netlist"]):  # ngspice reads the file itself: faster
        rc = ng._ngspice_shared.ngSpice_Command(f"source {job['netlist']}".encode())
    else:  # a path ngspice's command line would split: hand the lines over
        text = Path(job["netlist"]).read_text()
        lines = [ln for ln in text.splitlines() if ln] + [""]
        keep = [ffi.new("char[]", ln.encode("utf-8")) for ln in lines] + [ffi.NULL]
        rc = ng._ngspice_shared.ngSpice_Circ(ffi.new("char *[]", keep))
    errors = [m for m in messages[start:] if classify(m) == "error"]
    if rc != 0 or errors:
        raise Failure("ngspice rejected the netlist", kind="rejected")
    timings["load_s"] = time.perf_counter() - t0
    if job.get("analysis") in ("tran", "dc", "noise"):
        return run_tran(ng, ffi, job, messages, timings, version)
    if job.get("analysis") == "batch_tran":
        return run_batch_tran(ng, ffi, job, messages, timings, version)

    with np.load(job["values"]) as data:
        driver_values = np.asarray(data["driver_values"], dtype=float)
    names = job["driver_names"]
    read = job["read"] if "read" in job else Path(job["read_file"]).read_text().split("\n")
    out = np.empty((driver_values.shape[0], len(read)))
    t_run = t_read = 0.0
    # time in the data callbacks is read-back (ours), though it passes inside "op"
    capture = type(ng).capture = {"read": read, "callback_s": 0.0}
    try:
        for b in range(driver_values.shape[0]):
            t0 = time.perf_counter()
            if b > 0:
                for k in np.flatnonzero(driver_values[b] != driver_values[b - 1]):
                    errors = run_command(ng, messages,
                                      f"alter {names[k]} dc = {float(driver_values[b, k])!r}")
                    if errors:
                        raise Failure(f"ngspice could not set {names[k]} for input vector {b}")
            capture.pop("values", None)
            errors = run_command(ng, messages, "op")
            plot = current_plot(ng, ffi)
            if errors or not plot.startswith("op"):
                if any(CONVERGENCE_PATTERN.search(m) for m in messages):
                    raise Failure(f"ngspice found no operating point for input vector {b} "
                                   "(Newton, gmin and source stepping failed)", kind="convergence")
                raise Failure(f"ngspice operating point failed for input vector {b}")
            t1 = time.perf_counter()
            t_run += t1 - t0
            if b == 0:  # every vector of the batch runs the same circuit: same vector order
                _join_names(capture)
                where = capture.pop("where", None)
                if not isinstance(where, np.ndarray):
                    raise Failure(f"ngspice has no vector {where!r} in plot {plot}")
            values = capture.get("values")
            if values is None or len(values) != capture.get("count"):
                raise Failure(f"ngspice sent no complete operating point for input vector {b}")
            out[b] = np.asarray(values)[where]
            if b + 1 < driver_values.shape[0]:  # the last plot goes with the job's clean-up
                run_command(ng, messages, f"destroy {plot}")
            t_read += time.perf_counter() - t1
    finally:
        _join_names(capture)  # before anything frees the plot whose names it reads
        type(ng).capture = None
    timings["run_s"] = t_run - capture["callback_s"]
    timings["read_s"] = t_read + capture["callback_s"]
    np.save(job["result"], out)
    return {"status": "ok", "ngspice_version": version, "timings": timings,
            "warnings": [m for m in messages if classify(m) == "warning"][:50]}


def _join_names(capture: dict) -> None:
    thread = capture.pop("names_thread", None)
    if thread is not None:
        thread.join()


def _positions(vector_names: list[bytes], read: list[str]) -> np.ndarray | str:
    """Index of each ``read`` name among the vectors ngspice sent, or the first name
    it did not send."""
    index = {name.decode(): k for k, name in enumerate(vector_names)}
    try:
        return np.array([index[name] for name in read], dtype=np.intp)
    except KeyError as exc:
        return exc.args[0]


def replace_text(path: str | Path, text: str) -> None:
    """Write ``text`` beside ``path`` and rename it over: a reader never sees half a file.
    (No fsync, unlike :func:`spicebar.io.write_text_atomic`: these are hand-over files
    between two live processes, and the progress one is written from ngspice's callback.)"""
    tmp = Path(f"{path}.part")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_status(path: str | Path, status: dict) -> None:
    """Write a status file atomically: a waiting caller never reads half of one."""
    replace_text(path, json.dumps(status))


def _try_open(messages: list[str]):
    """ngspice opened, or the setup failure to report for every job that arrives."""
    try:
        return _open_ngspice(messages)
    except Failure as exc:
        return exc


def _finish(job: dict, messages: list[str], opened, timings: dict | None = None) -> int:
    """Run ``job`` and write its status file (ok, or the failure); return the exit code.

    ``timings`` (seconds) are added to a successful job's own."""
    try:
        status, code = run_job(job, messages, opened), EXIT_OK
        status["timings"].update(timings or {})
    except Failure as exc:
        cause = first_errors(messages)
        status = {"status": "error", "summary": explained(exc.summary, cause), "code": exc.code,
                  "kind": exc.kind, "cause": cause}
        code = exc.code
    status["nonce"] = job.get("nonce")  # binds this status to the job that asked for it
    status["library"] = os.environ.get("NGSPICE_LIBRARY_PATH")  # the one this worker loaded
    status["messages"] = status_messages(messages)
    write_status(job["status"], status)
    return code


class JobUnreadable(Exception):
    """The job file named on stdin cannot be read: the caller's bug, reported in one line."""


def job_line(job_path: str | Path) -> bytes:
    """The line that hands a job to a worker: its path as a JSON string, so no character
    of the path (a newline in a user's folder name) can split or end the line."""
    return (json.dumps(str(job_path)) + "\n").encode()


def read_job(line: str) -> dict:
    """The job whose path :func:`job_line` wrote."""
    try:
        return json.loads(Path(json.loads(line)).read_text())
    except (OSError, ValueError, TypeError) as exc:
        raise JobUnreadable(f"cannot read the job named by {line.strip()[:200]!r}: "
                            f"{type(exc).__name__}: {exc}") from None


def serve(done_fd: int | None = None) -> int:
    """Session mode: load ngspice once, then run every job whose path arrives on stdin.

    After each job its status file is written, a line on ``done_fd`` (if given) wakes
    the caller, and the circuit and its plots are removed, so memory does not grow.
    Ends at end of input.
    """
    messages: list[str] = []
    opened = _try_open(messages)
    banner = list(messages)
    for line in sys.stdin:
        if not line.strip():
            break
        messages[:] = banner  # run_job reads the version and KLU banner from here
        _finish(read_job(line), messages, opened)
        if done_fd is not None:  # before the clean-up below, which the caller need not wait for
            os.write(done_fd, b"done\n")
        if not isinstance(opened, Failure):
            opened[0]._ngspice_shared.ngSpice_Command(b"destroy all")
            opened[0]._ngspice_shared.ngSpice_Command(b"remcirc")
    return EXIT_OK


def main(argv: list[str]) -> int:
    """``JOB.json``, ``--stdin`` (load ngspice first, then read one job's path from stdin,
    while the caller writes the netlist) or ``--serve`` (many jobs, see :func:`serve`)."""
    exit_with_parent()
    if argv[0] == "--serve":
        return serve(int(argv[1]) if len(argv) > 1 else None)
    messages: list[str] = []
    opened = None
    timings = {}
    if argv[0] == "--stdin":
        t0 = time.perf_counter()
        opened = _try_open(messages)
        timings["preload_s"] = time.perf_counter() - t0
        line = sys.stdin.readline()
        if not line.strip():
            return EXIT_SIM_ERROR  # the caller gave up before sending a job
        job = read_job(line)
    else:
        job = read_job(json.dumps(argv[0]))
    code = _finish(job, messages, opened, timings)
    sys.stdout.flush()
    return code


#: Exit code of a worker that stopped on its own error (not ngspice's): one line in its log.
EXIT_WORKER_ERROR = 70


def guarded_main(argv: list[str]) -> int:
    """:func:`main`, with any error of the worker itself reported as one log line (the
    caller quotes the log to the user: never a Python traceback)."""
    try:
        return main(argv)
    except JobUnreadable as exc:
        print(f"spicebar worker: {exc}", flush=True)
    except Exception as exc:  # noqa: BLE001 - the last line of defence, one line each
        print(f"spicebar worker: internal error: {type(exc).__name__}: {exc}", flush=True)
    return EXIT_WORKER_ERROR


if __name__ == "__main__":
    # os._exit: skip libngspice's atexit handlers, which can hang or crash at unload.
    rc = guarded_main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)
