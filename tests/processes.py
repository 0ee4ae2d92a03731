"""Finding spicebar's ngspice worker processes and run folders (for leak checks)."""

from __future__ import annotations

import os
from pathlib import Path

from spicebar.engines.ngspice.engine import FAILED_MARKER, RUN_DIR_PREFIX

WORKER_MODULE = "spicebar.engines.ngspice.worker"


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _descends_from(pid: int, ancestor: int) -> bool:
    for _ in range(64):
        pid = _parent(pid)
        if pid == ancestor:
            return True
        if pid <= 1:
            return False
    return False


def worker_pids() -> list[int]:
    """PIDs of live ngspice worker processes started (directly or not) by this process.

    Workers end themselves when their parent dies, so none can hide as an orphan.
    """
    me = os.getpid()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().split(")")[-1].split()[0]
        except OSError:
            continue
        if WORKER_MODULE in cmdline and state != "Z" and _descends_from(int(entry.name), me):
            pids.append(int(entry.name))
    return pids


def leaked_run_dirs(folder: Path, since: float = 0.0) -> list[Path]:
    """Run folders in ``folder`` that are neither removed nor marked as a kept failure."""
    return [p for p in Path(folder).glob(f"{RUN_DIR_PREFIX}*")
            if p.is_dir() and p.stat().st_mtime >= since and not (p / FAILED_MARKER).exists()]


def descendants(pid: int) -> list[int]:
    """PIDs of every live process below ``pid`` (children, grandchildren, ...)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != pid and _descends_from(int(entry.name), pid):
            out.append(int(entry.name))
    return out


def alive(pids) -> list[int]:
    """Those of ``pids`` still running (not gone, not a zombie)."""
    out = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            out.append(pid)
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def kill_workers_during(call, settle_s: float = 0.8) -> dict:
    """Run ``call()`` in a thread; once an ngspice worker runs (and ``settle_s`` later, so
    it has loaded the circuit), SIGKILL every worker. Returns ``{"result": ...}`` or
    ``{"error": exception}``."""
    import signal
    import threading
    import time
    caught = {}

    def run():
        try:
            caught["result"] = call()
        except Exception as exc:  # noqa: BLE001 - handed to the test thread
            caught["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 30
    while not worker_pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(settle_s)
    for pid in worker_pids():
        os.kill(pid, signal.SIGKILL)
    thread.join(60)
    return caught
