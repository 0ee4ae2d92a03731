"""Closed-form and recursive circuit answers, computed without any matrix solve.

Used to check the engines against something they did not compute themselves.
"""

from __future__ import annotations

import numpy as np


def single_cell_current(v: float, g: float, r_wl: float, r_bl: float,
                        r_driver: float = 0.0, r_sense: float = 0.0) -> float:
    """1x1 array: the driver, one word-line segment, the cell, one bit-line segment, the readout."""
    return v / (r_driver + r_wl + 1.0 / g + r_bl + r_sense)


def single_row_currents(v: float, g: np.ndarray, r_wl: float, r_bl: float) -> np.ndarray:
    """1 x n array driven at the left: a resistive ladder, solved from the open end.

    Each cell branch to its grounded readout is ``1/g[j] + r_bl``; the word line
    has a segment ``r_wl`` before every cell. Returns the ``n`` column currents (A).
    """
    branch = 1.0 / g + r_bl
    n = g.size
    z = np.empty(n)  # resistance looking right from word-line node j
    z[-1] = branch[-1]
    for j in range(n - 2, -1, -1):
        z[j] = 1.0 / (1.0 / branch[j] + 1.0 / (r_wl + z[j + 1]))
    currents = np.empty(n)
    node_v = v * z[0] / (r_wl + z[0])
    for j in range(n):
        currents[j] = node_v / branch[j]
        if j + 1 < n:
            i_right = node_v / (r_wl + z[j + 1])  # current continuing along the word line
            node_v = node_v - i_right * r_wl
    return currents


def single_column_current(v: np.ndarray, g: np.ndarray, r_wl: float, r_bl: float) -> float:
    """n x 1 array read at the bottom: Thevenin equivalents folded down the bit line.

    Row ``i`` is a source ``v[i]`` behind ``r_wl + 1/g[i]`` onto bit-line node ``i``;
    a segment ``r_bl`` lies below each node. Returns the readout current (A).
    """
    r_branch = r_wl + 1.0 / g
    v_th, r_th = v[0], r_branch[0]
    for i in range(1, v.size):
        r_th = r_th + r_bl  # the segment between node i-1 and node i
        y = 1.0 / r_th + 1.0 / r_branch[i]
        v_th = (v_th / r_th + v[i] / r_branch[i]) / y
        r_th = 1.0 / y
    return v_th / (r_th + r_bl)  # the last segment into the 0 V readout
