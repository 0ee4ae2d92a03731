"""Old module paths, kept working until 0.3.0 after the move into subpackages.

``import spicebar.readout`` (and every other path in :data:`MOVED`) returns the module
at its new home, the same object, with a :class:`DeprecationWarning` that names it.
Three old modules are now packages that re-export their public names instead:
``spicebar.netlist``, ``spicebar.engines.nodal``, ``spicebar.engines.ngspice`` (and
``spicebar.cli``, whose ``main`` the console script uses).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

#: The release that removes the old paths (CHANGELOG.md says so too).
REMOVED_IN = "0.3.0"

#: old module path -> new module path (removed in :data:`REMOVED_IN`).
MOVED = {f"spicebar.{old}": f"spicebar.{new}" for old, new in {
    "resources": "engines.memory", "toolchain": "engines.ngspice.toolchain",
    "names": "circuit.names", "ir": "circuit.ir", "spec": "circuit.spec",
    "cells": "circuit.cells", "cell_ir": "circuit.cell_ir", "iv_models": "circuit.iv_models",
    "operation": "circuit.operation", "elaboration": "circuit.elaboration",
    "readout": "circuit.readout", "converters": "circuit.converters",
    "encoding": "circuit.encoding", "netlist_reader": "netlist.reader",
    "readout_netlist": "netlist.readout", "cell_currents": "engines.cell_currents",
    "simulation": "engines.simulation", "transient": "engines.transient.run",
    "engines.readout_nodal": "engines.transient.nodal",
    "engines.readout_ngspice": "engines.transient.ngspice",
    "engines.newton": "engines.nodal.newton", "engines.solvers": "engines.nodal.solvers",
    "engines.lines": "engines.nodal.lines", "engines.grid": "engines.nodal.grid",
    "engines._kernels": "engines.nodal._kernels",
    "engines.ngspice_session": "engines.ngspice.session",
    "engines.ngspice_worker": "engines.ngspice.worker",
    "comparison": "analysis.comparison", "sneak": "analysis.sneak",
    "read_margin": "analysis.read_margin", "scoring": "analysis.scoring",
    "models": "analysis.models", "budget": "analysis.budget", "devices": "hardware.devices",
    "mapping": "hardware.mapping", "tiling": "hardware.tiling",
    "tile_readout": "hardware.tile_readout", "mvm": "hardware.mvm",
    "transpose": "hardware.transpose", "sweep": "sweeps.definition", "sweep_run": "sweeps.run",
    "sweep_table": "sweeps.table", "plot": "plots.maps", "plot_cells": "plots.cells",
    "plot_sweep": "plots.sweep", "plot_transient": "plots.transient", "mvm_plot": "plots.mvm",
    "cli_cells": "cli.cells", "cli_mvm": "cli.mvm", "cli_readout": "cli.readout",
    "cli_sweep": "cli.sweep", "demo": "cli.demo", "mvm_demo": "cli.mvm_demo",
}.items()}


class _Alias(importlib.abc.Loader):
    """Loads an old path as the module at its new home (the same object)."""

    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module) -> None:
        pass


class _MovedFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        new = MOVED.get(fullname)
        if new is None:
            return None
        warnings.warn(f"{fullname} has moved to {new}; the old path will be removed in "
                      f"spicebar {REMOVED_IN}",
                      DeprecationWarning, stacklevel=2)
        return importlib.util.spec_from_loader(fullname, _Alias(new))


def install() -> None:
    """Put the finder last on ``sys.meta_path`` (real modules are always found first)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())


def keep_exports(package: str, exports) -> None:
    """Keep ``package``'s exported names when an old module path of the same name is imported.

    Importing a submodule sets it as an attribute of its package, so ``import
    spicebar.read_margin`` (the old path of ``spicebar.analysis.read_margin``) would
    replace the function ``spicebar.read_margin`` by that module for the rest of the
    process. The package's class refuses exactly that assignment; the old path still
    imports (``sys.modules`` holds it, ``importlib.import_module`` returns it).
    """
    import types
    module = sys.modules[package]
    shadowing = {name for name in exports if f"{package}.{name}" in MOVED}
    if not shadowing:
        return

    class _Package(types.ModuleType):
        def __setattr__(self, name, value):
            if name in shadowing and isinstance(value, types.ModuleType):
                return
            super().__setattr__(name, value)

    module.__class__ = _Package
