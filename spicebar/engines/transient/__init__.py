"""The readout circuit in time: encode the inputs, run a transient, sample, quantise.

:mod:`.run` (``simulate_readout``, ``error_budget``, ``compare_readouts``), :mod:`.result`
(what the engines return, and ``TransientResult``), :mod:`.saturation` (the swing forecast
and the reset's leftover, before a run), and one engine each: :mod:`.ngspice` (the whole
circuit as a ``.tran``) and :mod:`.nodal` (the same circuit by TR-BDF2, with the array
reduced to its bit-line ends, :mod:`.boundary`, the readouts' equations, :mod:`.columns`,
and the time grid, :mod:`.timegrid`).

May import: ``spicebar.circuit``, ``spicebar.netlist``, the DC engines below it and
the base. Used by the CLI (``simulate --readout``), plots and analysis of readouts.
"""

from ..._lazy import lazy_exports

__getattr__ = lazy_exports(__name__, {
    "simulate_readout": "run", "error_budget": "run", "TransientResult": "result",
    "RawTransient": "result"})
