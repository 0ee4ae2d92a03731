"""The readout circuit in time: encode the inputs, run a transient, sample, quantise.

:mod:`.run` (``simulate_readout``, ``error_budget``), :mod:`.result` (what the engines
return, and ``TransientResult``), and one engine module each: :mod:`.ngspice` (the
whole circuit as a ``.tran``) and :mod:`.nodal` (charge as the integral of the exact
DC column current).

May import: ``spicebar.circuit``, ``spicebar.netlist``, the DC engines below it and
the base. Used by the CLI (``simulate --readout``), plots and analysis of readouts.
"""

from ..._lazy import lazy_exports

__getattr__ = lazy_exports(__name__, {
    "simulate_readout": "run", "error_budget": "run", "TransientResult": "result",
    "RawTransient": "result"})
