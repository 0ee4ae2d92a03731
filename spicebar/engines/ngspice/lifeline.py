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
