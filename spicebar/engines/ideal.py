"""The ideal engine: ``I = V @ G``, no wires, perfect virtual ground."""

from __future__ import annotations

import time

import numpy as np

from ..results import SimulationResult
from ..circuit.spec import CrossbarSpec


def solve_ideal(spec: CrossbarSpec, inputs: np.ndarray) -> SimulationResult:
    """Ideal VMM for ``inputs`` of shape ``(batch, rows)`` volts."""
    t0 = time.perf_counter()
    g = spec.conductances
    batch = inputs.shape[0]
    currents = inputs @ g
    v_wl = np.broadcast_to(inputs[:, :, None], (batch, *g.shape)).copy()
    v_bl = np.zeros((batch, *g.shape))
    driver_currents = inputs * g.sum(axis=1)
    return SimulationResult("ideal", inputs, currents, v_wl, v_bl, driver_currents,
                            time.perf_counter() - t0, {"model": "I = V @ G"},
                            cell_currents=inputs[:, :, None] * g)
