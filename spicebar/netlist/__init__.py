"""SPICE text from the circuit IR: the writer (one formatter per element kind), the
readout transient netlist, a reader that parses a netlist back for tests, and
:mod:`.cards`, the one guard for user SPICE text (model files parsed against an
allow-list, comment text escaped; it imports only the base, so specs use it too).

May import: ``spicebar.circuit`` and the base. Used by the ngspice engines, sweeps
(netlist hashes) and the CLI (``generate``).

``spicebar.netlist`` was one module before the move into subpackages; its public
names still load from here (from :mod:`.writer`).
"""

from .._lazy import lazy_exports

_WRITER = ("NGSPICE_OPTIONS", "NGSPICE_NONLINEAR_OPTIONS", "format_value", "value_texts",
           "FORMATTERS", "model_cards", "format_netlist", "write_netlist")
__getattr__ = lazy_exports(__name__, {name: "writer" for name in _WRITER})
