"""Run badcrossbar on one case; executed by the peers' own venv (benchmarks/.venv-peers).

    benchmarks/.venv-peers/bin/python benchmarks/peer_badcrossbar.py CASE.npz OUT.npz

CASE.npz holds ``g`` (rows, cols) S, ``v`` (batch, rows) V and ``r`` (ohm, both lines).
Prints one JSON line: wall and CPU seconds of ``badcrossbar.compute`` and peak RSS.
"""

import json
import resource
import sys
import time
import warnings

import numpy as np

warnings.simplefilter("ignore")
import badcrossbar  # noqa: E402

case = np.load(sys.argv[1])
g, v, r = case["g"], case["v"], float(case["r"])
# a 1x1 warm-up so first-call imports are not timed
badcrossbar.compute(np.ones((1, 1)), np.ones((1, 1)) * 1e4, r_i=1.0, node_voltages=False,
                    all_currents=False)
t0, c0 = time.perf_counter(), time.process_time()
sol = badcrossbar.compute(v.T, 1.0 / g, r_i=r, node_voltages=False, all_currents=False)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
np.save(sys.argv[2], np.asarray(sol.currents.output).reshape(v.shape[0], g.shape[1]))
print(json.dumps({"wall": wall, "cpu": cpu,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
