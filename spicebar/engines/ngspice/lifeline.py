"""Child processes that die with their parent, whatever ends it.

Used by the ngspice worker (:mod:`.worker`) and the sweep's pool workers
(:mod:`spicebar.sweeps.run`). Imports nothing of spicebar, so a worker can call it first.
"""

from __future__ import annotations

import os
import threading
import time

#: prctl option: the signal this process gets when its parent ends (Linux).
PR_SET_PDEATHSIG = 1


def exit_with_parent(parent: int | None = None, sig: int = 9, code: int = 2,
                     on_exit=None, deathsig: bool = False) -> None:
    """End this process when its parent (``parent``, default the current one) ends, by
    any signal, so nothing it started is orphaned: a thread checks the parent twice a
    second and, once it has gone, sends ``sig`` to this process (unless it is 9, SIGKILL),
    waits 2 s for its handler to unwind, calls ``on_exit()`` (if given) and ends the
    process with ``code``.

    ``deathsig``: also ask the kernel to send ``sig`` the moment the parent goes
    (``PR_SET_PDEATHSIG``). The kernel sends it when the *thread* that started this
    process ends, so only processes started by a thread that outlives them should ask
    (the sweep's pool workers: started by the thread that runs the sweep). ngspice
    workers of a session may be started by a short-lived thread and keep the watch only.
    """
    parent = os.getppid() if parent is None else parent
    if deathsig:
        try:
            import ctypes
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                if sig != 9:
                    os.kill(os.getpid(), sig)
                    time.sleep(2)  # the handler of sig unwinds what runs
                if on_exit is not None:
                    on_exit()
                os._exit(code)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def kill_children(marker: str) -> list[int]:
    """SIGKILL the process group of every child of this process whose command line
    contains ``marker``, and reap it (Linux ``/proc``; elsewhere nothing). For the way
    out of a worker: a child an interrupt left unrecorded (the signal landed between
    ``Popen`` returning and its caller keeping it) is ended too. Returns their PIDs."""
    import signal
    me, killed = os.getpid(), []
    try:
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return killed
    for name in entries:
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                if int(f.read().rsplit(b")", 1)[1].split()[1]) != me:
                    continue
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if marker.encode() not in f.read().replace(b"\0", b" "):
                    continue
        except (OSError, ValueError, IndexError):
            continue
        pid = int(name)
        for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            try:
                kill()
                break
            except OSError:
                pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        killed.append(pid)
    return killed
