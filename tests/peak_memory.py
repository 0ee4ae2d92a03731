"""Measure a nodal solve's peak memory in a fresh process: ``python -m tests.peak_memory
SOLVER N BATCH`` prints JSON with the peak resident bytes the solve added and the guard's
estimate (without the interpreter's fixed share, ``BASE_BYTES``)."""

from __future__ import annotations

import json
import sys

import numpy as np


def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def main(solver: str, n: int, batch: int) -> dict:
    from spicebar.circuit.spec import CrossbarSpec
    from spicebar.engines.memory import BASE_BYTES
    from spicebar.engines.nodal import grid, linear
    from spicebar.engines.simulation import simulate
    rng = np.random.default_rng(0)
    spec = CrossbarSpec(rng.uniform(1e-6, 1e-4, (n, n)), r_wl=1.0, r_bl=1.0)
    v = rng.uniform(0, 0.2, (batch, n))
    small = CrossbarSpec(rng.uniform(1e-6, 1e-4, (8, 8)), r_wl=1.0, r_bl=1.0)
    simulate(small, v[:, :8], "nodal", solver=solver)  # imports and code paths loaded first
    base = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak (VmHWM) to the resident size now
    simulate(spec, v, "nodal", solver=solver)
    peak = _status("VmHWM") - base
    est = (grid.grid_memory_bytes(n, n, batch) if solver == "iterative"
           else linear.direct_memory_bytes(2 * n * n, batch)) - BASE_BYTES["nodal"]
    return {"solver": solver, "n": n, "batch": batch, "peak_bytes": peak, "estimate_bytes": est}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
