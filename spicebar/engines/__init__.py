"""The engines that compute what an array does, and the one entry point to them.

``ideal`` (``V @ G``), ``nodal/`` (exact nodal analysis: sparse LU, the line solvers,
Newton), ``ngspice/`` (the IR as a netlist in ngspice, in a worker process), and
``transient/`` (the readout circuit in time). :mod:`.simulation` dispatches
``simulate(spec, inputs, engine=...)``; :mod:`.memory` is the size guard every solve
asks once; :mod:`.cell_currents` turns any engine's node voltages into cell currents.

May import: ``spicebar.circuit``, ``spicebar.netlist`` and the base. Used by
analysis, hardware, sweeps, plots and the CLI.
"""
