"""Figures (matplotlib, loaded on first use): voltage maps and column errors
(:mod:`.maps`), cell and sneak maps, sweeps, readout transients, MVM layers.
Every function takes ``ax``/``axes=None`` and returns the axes; none calls ``show()``.

May import: every layer below (sweeps, hardware, analysis, engines, circuit, base).
Used by the CLI and notebooks.
"""
