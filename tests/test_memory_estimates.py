"""The memory guard's estimates against measured peaks, at two small sizes per solver."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

#: The guard refuses on its estimate: it must be neither far above the real peak (a
#: refusal of a run that fits) nor far below (a run that does not fit). The issue's bound.
ESTIMATE_WITHIN = 1.5

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("solver, n, batch", [
    ("iterative", 128, 8), ("iterative", 256, 300),   # one chunk; chunks with the maps kept
    ("direct", 64, 4), ("direct", 128, 4),
])
def test_estimate_within_bound_of_measured_peak(solver, n, batch):
    p = subprocess.run([sys.executable, "-m", "tests.peak_memory", solver, str(n), str(batch)],
                       capture_output=True, text=True, cwd=REPO, timeout=300)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    ratio = r["estimate_bytes"] / r["peak_bytes"]
    assert 1 / ESTIMATE_WITHIN <= ratio <= ESTIMATE_WITHIN, r
