"""spicebar: what your resistive crossbar really computes.

    >>> import numpy as np, spicebar as sb
    >>> spec = sb.CrossbarSpec(np.full((4, 4), 1e-4), r_wl=1.0, r_bl=1.0)
    >>> sb.simulate(spec, np.full(4, 0.2), engine="nodal").currents.shape
    (1, 4)

Heavy parts (scipy's sparse solvers, PySpice, matplotlib) load on first use.
"""

from .errors import (ConvergenceError, InputFileError, NetlistRejected, SimulationError,
                     SimulationTimeout, SimulatorCrashed, SimulatorSetupError, SolverError,
                     SpecError, SpicebarError)

__version__ = "0.1.0"

# Everything else loads on first use: the ngspice worker process imports this package
# too, and starts faster without the spec and result modules it does not need.
_LAZY = {
    "CrossbarSpec": "spec", "SimulationResult": "results",
    "elaborate": "elaboration", "simulate": "simulation", "simulate_all": "simulation",
    "full_scale_current": "simulation", "ENGINES": "simulation", "compare": "comparison",
    "format_table": "comparison", "format_netlist": "netlist", "write_netlist": "netlist",
    "load_array": "io", "run_demo": "demo", "NgspiceSession": "engines.ngspice_session",
    "simulate_readout": "transient", "TransientResult": "transient", "IntegratorSpec": "readout",
    "TIASpec": "readout", "OpAmpSpec": "readout", "EncodingSpec": "encoding",
    "MVMSpec": "mvm", "run_mvm": "mvm", "MappingSpec": "mapping", "DeviceSpec": "devices",
    "transpose_spec": "transpose",
    "PassiveCell": "cells", "NonlinearCell": "cells", "SelectorCell": "cells",
    "TransistorCell": "cells", "VmmOperation": "operation", "ReadOperation": "operation",
    "decompose": "sneak", "read_margin": "read_margin",
    "MODELS": "models", "score_models": "scoring", "format_scores": "scoring",
    "load_sweep": "sweep", "run_sweep": "sweep_run", "read_table": "sweep_table",
}

__all__ = ["SpicebarError", "SpecError", "InputFileError",
           "SimulationError", "SimulationTimeout", "SimulatorSetupError", "SolverError",
           "SimulatorCrashed", "NetlistRejected", "ConvergenceError",
           *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'spicebar' has no attribute {name!r}")
