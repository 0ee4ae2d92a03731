"""spicebar: what your resistive crossbar really computes.

    >>> import numpy as np, spicebar as sb
    >>> spec = sb.CrossbarSpec(np.full((4, 4), 1e-4), r_wl=1.0, r_bl=1.0)
    >>> sb.simulate(spec, np.full(4, 0.2), engine="nodal").currents.shape
    (1, 4)

Heavy parts (scipy's sparse solvers, PySpice, matplotlib) load on first use.

The package, in layers (each imports only from the layers before it; a test keeps it so):

    errors, results, io        the shared base: exceptions, result arrays, file input
    circuit/    specs, cells, readout specs, encodings, the IR and its elaboration
    netlist/    SPICE text from the IR (writer, reader, readout netlists)
    engines/    ideal, nodal/ (exact solvers), ngspice/ (the simulator), transient/
    analysis/   comparison, sneak paths, read margin, model scoring, error budgets
    hardware/   weight mapping, devices, tiles, the MVM of a layer
    sweeps/     parameter sweeps over the engines
    plots/      matplotlib figures
    cli/        the ``spicebar`` command and the demos
"""

from . import _moved
from ._lazy import lazy_exports
from .errors import (ConvergenceError, InputFileError, NetlistRejected, SimulationError,
                     SimulationTimeout, SimulatorCrashed, SimulatorSetupError, SolverError,
                     SpecError, SpicebarError)

__version__ = "0.2.0"

# Everything else loads on first use: the ngspice worker process imports this package
# too, and starts faster without the spec and result modules it does not need.
_LAZY = {
    "CrossbarSpec": "circuit.spec", "SimulationResult": "results",
    "elaborate": "circuit.elaboration", "simulate": "engines.simulation",
    "simulate_all": "engines.simulation", "full_scale_current": "engines.simulation",
    "ENGINES": "engines.simulation", "compare": "analysis.comparison",
    "format_table": "analysis.comparison", "format_netlist": "netlist.writer",
    "write_netlist": "netlist.writer", "load_array": "io", "run_demo": "cli.demo",
    "NgspiceSession": "engines.ngspice.session",
    "simulate_readout": "engines.transient.run", "TransientResult": "engines.transient.result",
    "IntegratorSpec": "circuit.readout", "TIASpec": "circuit.readout",
    "OpAmpSpec": "circuit.readout", "OpAmpSupply": "circuit.readout",
    "EncodingSpec": "circuit.encoding",
    "MVMSpec": "hardware.mvm", "run_mvm": "hardware.mvm", "MappingSpec": "hardware.mapping",
    "DeviceSpec": "hardware.devices", "transpose_spec": "hardware.transpose",
    "PassiveCell": "circuit.cells", "NonlinearCell": "circuit.cells",
    "SelectorCell": "circuit.cells", "TransistorCell": "circuit.cells",
    "DifferentialTransistorCell": "circuit.cells",
    "VmmOperation": "circuit.operation", "ReadOperation": "circuit.operation",
    "decompose": "analysis.sneak", "read_margin": "analysis.read_margin",
    "MODELS": "analysis.models", "score_models": "analysis.scoring",
    "format_scores": "analysis.scoring", "load_sweep": "sweeps.definition",
    "run_sweep": "sweeps.run", "read_table": "sweeps.table",
    # results you can open, jobs you can run by hand, the readout in one import
    "load": "sweeps.result_files", "export_csv": "sweeps.result_files",
    "write_job": "engines.transient.jobs", "read_job_answers": "engines.transient.jobs",
    "ideal_conductances": "engines.simulation", "MVMResult": "hardware.mvm",
    "ADCSpec": "circuit.converters", "DACSpec": "circuit.converters",
    "TranSettings": "netlist.readout", "error_budget": "engines.transient.run",
    "compare_readouts": "engines.transient.run", "DeviceCell": "circuit.devices",
    "WireGeometry": "circuit.wires", "technology_geometry": "circuit.technology",
    "TECHNOLOGIES": "circuit.technology", "write_cell": "analysis.write",
    "WriteResult": "analysis.write", "plot_write_stress": "plots.write",
    "settling": "analysis.settling", "SettlingResult": "analysis.settling",
    "noise": "analysis.noise", "NoiseResult": "analysis.noise",
    "DELAY_MODELS": "analysis.delay_models",
    "energy_breakdown": "analysis.energy_run", "simulate_with_energy": "analysis.energy_run",
    "energy_of": "analysis.energy_run", "EnergyBreakdown": "engines.energy",
    "ConverterEnergy": "engines.energy", "score_energy_models": "analysis.energy_models",
    "format_energy_scores": "analysis.energy_models", "ENERGY_MODELS": "analysis.energy_models",
}

__all__ = ["SpicebarError", "SpecError", "InputFileError",
           "SimulationError", "SimulationTimeout", "SimulatorSetupError", "SolverError",
           "SimulatorCrashed", "NetlistRejected", "ConvergenceError",
           *_LAZY]


__getattr__ = lazy_exports(__name__, _LAZY)


def __dir__() -> list[str]:
    """The public names (the lazy ones too, so completion and ``dir()`` offer them)."""
    return sorted(set(globals()) | set(__all__))


_moved.install()  # old module paths (spicebar.readout, spicebar.mvm, ...) until 0.3.0
_moved.keep_exports(__name__, _LAZY)  # spicebar.read_margin stays the function
