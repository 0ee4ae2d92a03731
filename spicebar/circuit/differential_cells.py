"""2T2R differential cells: a signed weight as two 1T1R halves on one gate line.

The spec is :class:`~spicebar.circuit.cells.DifferentialTransistorCell` (kind ``2t2r``,
re-exported here); this module holds its layout notes and the pair helpers.

A 2T2R cell holds one signed weight as two memory elements, ``G+`` and ``G-``, each in
series with its own access transistor; the two transistors share one gate. It lays the
pair out the way the differential mapping does (:mod:`spicebar.hardware.mapping`,
``scheme="differential"``): ``G+`` on physical column ``2p``, ``G-`` on column ``2p + 1``
of the same row, so a conductance array of shape ``(rows, 2 * pairs)`` from
``MappingSpec(scheme="differential").target_conductances(...)`` is a 2T2R array as it is.
Both bit lines of a pair are read (by the spec's readout, one converter each) and the
differential output is ``I[:, 2p] - I[:, 2p + 1]`` (:func:`differential_currents`).

Everything else is the 1T1R cell's (:class:`~spicebar.circuit.cells.TransistorCell`):
the transistor model, W and L, the gate voltages and where the source lines run. The gate
line is per PAIR: with an ideal gate line both transistors sit on ``gl_i``; with a
resistive-capacitive one (``r_gl_ohm`` / ``c_gl_f`` per 2T2R cell, i.e. per pair) the node
``gl_i_p`` is the shared gate of pair ``(i, p)`` and segment ``rgl_i_p`` lies left of it.
"""

from __future__ import annotations

import numpy as np

from .cells import DifferentialTransistorCell  # noqa: F401 (the cell spec lives with the others)
from ..errors import SpecError


def differential_currents(currents: np.ndarray) -> np.ndarray:
    """The differential output of a 2T2R array: ``(..., 2 * pairs)`` -> ``(..., pairs)``,
    ``I[..., 2p] - I[..., 2p + 1]`` (amperes in, amperes out; volts likewise for samples)."""
    c = np.asarray(currents, float)
    if c.shape[-1] % 2:
        raise SpecError("currents", f"has {c.shape[-1]} columns", "an even number (pairs of columns)")
    return c[..., 0::2] - c[..., 1::2]


def pair_conductances(g_pos: np.ndarray, g_neg: np.ndarray) -> np.ndarray:
    """Interleave ``G+`` and ``G-`` (each ``(rows, pairs)`` S) into the 2T2R array
    ``(rows, 2 * pairs)``: ``G+`` on the even columns, ``G-`` on the odd ones."""
    gp, gn = np.asarray(g_pos, float), np.asarray(g_neg, float)
    if gp.shape != gn.shape or gp.ndim != 2:
        raise SpecError("g_neg", f"has shape {gn.shape}", f"the shape of g_pos, {gp.shape} (2-D)")
    g = np.empty((gp.shape[0], 2 * gp.shape[1]))
    g[:, 0::2], g[:, 1::2] = gp, gn
    return g
