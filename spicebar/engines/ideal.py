"""The ideal engine: ``I = V @ G``, no wires, perfect virtual ground."""

from __future__ import annotations

import time

import numpy as np

from ..results import Deferred, SimulationResult
from ..circuit.spec import CrossbarSpec


def solve_ideal(spec: CrossbarSpec, inputs: np.ndarray) -> SimulationResult:
    """Ideal VMM for ``inputs`` of shape ``(batch, rows)`` volts.

    Only the currents are computed now (``V @ G``: about 1 ms for 1,000 vectors on a
    256x256 array); the per-cell maps ``v_wl`` (the inputs), ``v_bl`` (zeros) and
    ``cell_currents`` (``V[:, :, None] * G``), each ``(batch, rows, cols)``, are
    :class:`~spicebar.results.Deferred`: built on first read.
    """
    t0 = time.perf_counter()
    g = spec.conductances
    currents = inputs @ g
    driver_currents = inputs * g.sum(axis=1)
    return SimulationResult("ideal", inputs, currents, Deferred(_word_lines),
                            Deferred(_bit_lines), driver_currents,
                            time.perf_counter() - t0, {"model": "I = V @ G"},
                            cell_currents=Deferred(ideal_cell_currents, g))


def _word_lines(result: SimulationResult) -> np.ndarray:
    """Every word-line node at its driver's voltage, ``(batch, rows, cols)`` V."""
    v = result.inputs
    return np.broadcast_to(v[:, :, None], (*v.shape, result.currents.shape[1])).copy()


def _bit_lines(result: SimulationResult) -> np.ndarray:
    """Every bit-line node at the ideal virtual ground, ``(batch, rows, cols)`` V."""
    return np.zeros((*result.inputs.shape, result.currents.shape[1]))


def ideal_cell_currents(result: SimulationResult, g: np.ndarray) -> np.ndarray:
    """``V[:, :, None] * G`` ``(batch, rows, cols)`` A: each cell at its full input."""
    return result.inputs[:, :, None] * g
