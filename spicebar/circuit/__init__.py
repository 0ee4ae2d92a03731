"""What the user describes, and the circuit it elaborates to.

Owns the frozen, validated specs (``CrossbarSpec``, cells, readout circuits,
converters, input encodings, operation modes), the cells' I-V laws, the node and
element names, and the circuit IR (element tables as numpy arrays) that
:func:`~spicebar.circuit.elaboration.elaborate` builds: the one truth about topology.

May import: the base (``spicebar.errors``, ``spicebar._validate``) and the card guard
``spicebar.netlist.cards`` (which imports only the base), so a model file is parsed and
refused when a spec names it. Used by every
layer above: netlist, engines, analysis, hardware, sweeps, plots, cli.
"""
