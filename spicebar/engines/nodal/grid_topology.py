"""The facts of the elaborated circuit that the grid line solver re-derives from the spec.

Every other engine reads the circuit IR (:func:`spicebar.circuit.elaboration.elaborate`).
The grid line solver (:mod:`.grid`) skips elaboration for speed (a 1024x1024 IR takes
seconds to build) and reads these facts straight from the spec instead. They are named
here, in one place, and ``tests/test_grid_topology.py`` checks them against the IR: the
IR's conductance matrix, reduced to the cell nodes and the sources (series nodes
eliminated, which is exact for resistors), must hold exactly these conductances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...circuit.spec import CrossbarSpec


@dataclass(frozen=True, eq=False)
class GridTopology:
    """A plain passive grid, as conductances in siemens.

    Attributes:
        g: ``(rows, cols)``, cell ``(i, j)`` between word-line node ``(i, j)`` and bit-line
            node ``(i, j)``.
        wl_seg: ``(rows, cols - 1)``, word-line segment between cells ``(i, k)`` and ``(i, k+1)``.
        bl_seg: ``(rows - 1, cols)``, bit-line segment between cells ``(i, j)`` and ``(i+1, j)``.
        g_left, g_right: ``(rows,)``, from row ``i``'s driver (held at ``V[i]``) to its
            first / last word-line node (end segment in series with ``r_driver``); 0 where
            that end is not driven.
        g_top, g_bottom: ``(cols,)``, from column ``j``'s top / bottom bit-line node to its
            readout (held at 0 V; end segment in series with ``r_sense``); 0 where not read.
        ideal_w: the word lines are ideal wires: every word-line node is its driver's node
            (no unknowns on the word lines; ``wl_seg``, ``g_left``, ``g_right`` are unused).
        ideal_b: the same for the bit lines and the readout (held at 0 V).
    """

    g: np.ndarray
    wl_seg: np.ndarray
    bl_seg: np.ndarray
    g_left: np.ndarray
    g_right: np.ndarray
    g_top: np.ndarray
    g_bottom: np.ndarray
    ideal_w: bool
    ideal_b: bool

    @property
    def shape(self) -> tuple[int, int]:
        return self.g.shape


def ideal_line(r, r_end: float) -> bool:
    """A line is an ideal wire: scalar 0 ohm segments and no end resistance."""
    return np.ndim(r) == 0 and float(r) == 0.0 and r_end == 0.0


def grid_topology(spec: CrossbarSpec) -> GridTopology:
    """The :class:`GridTopology` of a passive ``spec`` (see :func:`.grid.grid_reason` for
    which specs the grid solver takes)."""
    from ...circuit.temperature import at_temperature
    spec = at_temperature(spec)  # the wires and cells at the spec's temperature (identity at 27 C)
    rows, cols = spec.shape
    left, right = spec.drive in ("left", "both"), spec.drive in ("right", "both")
    bottom, top = spec.sense in ("bottom", "both"), spec.sense in ("top", "both")
    r_wl, r_bl = spec.wl_segments(), spec.bl_segments()
    with np.errstate(divide="ignore"):
        return GridTopology(
            g=spec.conductances,
            wl_seg=1.0 / r_wl[:, 1:cols], bl_seg=1.0 / r_bl[1:rows],
            g_left=1 / (r_wl[:, 0] + spec.r_driver) if left else np.zeros(rows),
            g_right=1 / (r_wl[:, cols] + spec.r_driver) if right else np.zeros(rows),
            g_top=1 / (r_bl[0] + spec.r_sense) if top else np.zeros(cols),
            g_bottom=1 / (r_bl[rows] + spec.r_sense) if bottom else np.zeros(cols),
            ideal_w=ideal_line(spec.r_wl, spec.r_driver),
            ideal_b=ideal_line(spec.r_bl, spec.r_sense))
