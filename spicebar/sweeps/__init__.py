"""Parameter sweeps: a TOML sweep file (:mod:`.definition`), its points run on local
processes or a Dask cluster with resumable per-point records (:mod:`.run`,
:mod:`.records`), and the results table (:mod:`.table`).

May import: ``spicebar.analysis``, ``spicebar.engines``, ``spicebar.netlist``,
``spicebar.circuit`` and the base. Used by plots and the CLI (``spicebar sweep``).
"""
