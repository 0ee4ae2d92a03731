"""A network layer on real arrays: signed weights mapped onto devices (differential
pairs, reference columns, levels, variability, noise, drift), tiles, their readout
and ADCs, the layer's MVM forward and backward (transposed arrays), IR-drop
compensation of the programmed conductances, and whole networks layer by layer.

May import: ``spicebar.analysis``, ``spicebar.engines``, ``spicebar.circuit`` and the
base. Used by plots and the CLI (``spicebar mvm``, ``spicebar network``).
"""
