"""The ngspice engine: the IR as a netlist, run in a worker process through PySpice.

:mod:`.engine` (one-shot runs, run folders, error reports), :mod:`.session` (a worker
kept alive between runs, and a pool of them), :mod:`.worker` (the child process that
loads libngspice and speaks the job protocol), :mod:`.analyses` (the worker's runners:
one transient or DC sweep, a batch as one transient), and
:mod:`.toolchain` (finding ngspice, its version and KLU).

May import: ``spicebar.circuit``, ``spicebar.netlist``, ``spicebar.engines.cell_currents``
and the base. Used by ``engines.simulation``, the transient engines, hardware (tiles)
and sweeps.
"""

from ..._lazy import lazy_exports

_ENGINE = ("DEFAULT_TIMEOUT_S", "RUN_DIR_PREFIX", "FAILED_MARKER", "run_folder", "kill_group",
           "start_worker", "crashed", "stop_worker", "run_worker", "read_status", "run_netlist",
           "solve_ngspice")
__getattr__ = lazy_exports(__name__, {**{name: "engine" for name in _ENGINE},
                                      "NgspiceSession": "session", "SessionPool": "session"})
