"""How large an array the ngspice engine can solve, by library, before anything runs.

Two limits, both checked up front by :func:`check_ngspice_size`:

* KLU's index limit. ngspice's KLU asks first for ``3 (initmem_amd * Lnz + n)`` 8-byte units
  (``Lnz``: AMD's fill estimate of L, ``n``: equations) and stops with
  ``KLU_OUT_OF_MEMORY`` when that passes ``INT_MAX``. Stock ngspice (``initmem_amd = 10``):
  ``Lnz`` ~ 71.4e6, between 832x832 (69.0e6, measured to run) and 848x848 (72.1e6, fails).
  spicebar's patched copy of Debian's build (1.2, :mod:`.patched`): ``Lnz`` ~ 590e6,
  between 1024x1024 (116.6e6, runs) and 2048x2048 (594.5e6). ``Lnz`` of other sizes comes
  from the measured ones (:data:`MEASURED_FILL`) by log-log interpolation in cells.
* Memory: the peak resident size of ngspice's worker, measured (:data:`MEASURED_PEAK`),
  interpolated the same way (:func:`ngspice_bytes`); held to the memory guard.

Every refusal names the reason and the largest square array that fits. The expected time
of a run (:func:`expected_seconds`) sets the default time limit and the progress lines.
"""

from __future__ import annotations

import numpy as np

from .limits import DEFAULT_TIMEOUT_S

#: AMD's estimate of nonzeros in L for spicebar's default passive netlist of an n x n array
#: (measured with SuiteSparse's AMD on ngspice's matrix): n -> Lnz.
MEASURED_FILL = {832: 69.0e6, 848: 72.1e6, 896: 83.0e6, 1024: 116.6e6, 2048: 594.5e6}
#: ``3 (f Lnz + n) <= INT_MAX`` solved for ``Lnz``, with ``n`` ~ 2 unknowns per cell.
INT_MAX = 2 ** 31 - 1
#: KLU's ``initmem_amd`` of each library kind (see :mod:`.patched`).
INITMEM_AMD = {"patched": 1.2}
STOCK_INITMEM_AMD = 10.0
#: The fill estimate is interpolated: a size is taken only when it is below this share of
#: the limit.
FILL_MARGIN = 0.98
#: Stock builds: the largest square measured to run (the fill model puts the edge between
#: 832 and 848; the refusal stays at the measured size).
STOCK_MAX_SIDE = 832
#: Peak resident bytes of ngspice's worker process (passive default topology, one ``.op``),
#: measured by benchmarks/bench_scale.py (``ru_maxrss``, MiB: 256x256 ~400, 512x512 ~1700,
#: 832x832 5014, 1024x1024 7844 with the patched library), here in bytes: n -> bytes.
MEASURED_PEAK = {256: 0.42e9, 512: 1.79e9, 832: 5.26e9, 1024: 8.23e9}
#: The estimate is the interpolated peak times this (the figures are single runs).
PEAK_MARGIN = 1.1


def _loglog(table: dict, cells: float) -> float:
    """``table`` (side -> value) interpolated, and extrapolated with the nearest slope,
    linearly in log(value) against log(cells)."""
    sides = np.array(sorted(table), dtype=float)
    x, y = np.log(sides ** 2), np.log([table[int(s)] for s in sides])
    lx = np.log(max(cells, 1.0))
    if lx <= x[0]:
        return float(np.exp(y[0] + (y[1] - y[0]) / (x[1] - x[0]) * (lx - x[0])))
    if lx >= x[-1]:
        return float(np.exp(y[-1] + (y[-1] - y[-2]) / (x[-1] - x[-2]) * (lx - x[-1])))
    return float(np.exp(np.interp(lx, x, y)))


def fill_estimate(rows: int, cols: int) -> float:
    """AMD's fill estimate ``Lnz`` for a ``rows x cols`` array (interpolated)."""
    return _loglog(MEASURED_FILL, rows * cols)


def fill_limit(kind: str, rows: int, cols: int) -> float:
    """The largest ``Lnz`` KLU takes with this library's ``initmem_amd``."""
    f = INITMEM_AMD.get(kind, STOCK_INITMEM_AMD)
    n = 2.0 * rows * cols
    return (INT_MAX / 3.0 - n) / f


def fits_index(kind: str, rows: int, cols: int) -> bool:
    """Whether KLU's first allocation fits its 32-bit offsets for this array."""
    if kind not in INITMEM_AMD:
        return rows * cols <= STOCK_MAX_SIDE ** 2
    return fill_estimate(rows, cols) <= FILL_MARGIN * fill_limit(kind, rows, cols)


def ngspice_bytes(rows: int, cols: int) -> int:
    """Estimated peak memory of the ngspice worker on one ``.op`` of this array, bytes."""
    return int(PEAK_MARGIN * _loglog(MEASURED_PEAK, rows * cols))


def largest_square(ok) -> int:
    """The largest ``n`` (multiple of 8, up to 4096) with ``ok(n)`` true; 0 if none."""
    best = 0
    for n in range(8, 4097, 8):
        if ok(n):
            best = n
        else:
            break
    return best


def index_reason(kind: str) -> str:
    """Why the index limit is where it is, for the refusal."""
    if kind in INITMEM_AMD:
        return ("KLU in ngspice (also spicebar's patched copy, initmem_amd 1.2) indexes its LU "
                "with 32-bit offsets: its first allocation 3 (1.2 Lnz + n) must stay below 2^31 "
                "8-byte units (fill Lnz below about 590e6; 2048x2048 has 594.5e6)")
    return ("ngspice's bundled KLU sizes its first LU allocation at 10x AMD's fill estimate and "
            "stops when that passes 2^31 8-byte units (reported as \"singular matrix: check node "
            "0\"), from about 848x848 (1024x1024: fill 116.6e6 > 71e6); 832x832 is the largest "
            "square measured to run (about 5 minutes, 5 GB). `make setup` on Debian 12 with "
            "backports' libngspice 46 makes a patched private copy whose index limit is near "
            "2000x2000 (memory permitting: 1024x1024 takes about 8.2 GB; see `spicebar doctor`)")


def default_timeout(rows: int, cols: int, timeout_s: float, batch: int = 1) -> float:
    """``timeout_s``, or for the default limit on a large array 3x the expected time
    (:func:`expected_seconds`): a 1024x1024 ``.op`` needs ~400 s CPU."""
    if timeout_s != DEFAULT_TIMEOUT_S:
        return timeout_s
    return max(timeout_s, 3.0 * expected_seconds(rows, cols, batch))


#: ngspice's ``.op`` time on the passive default netlist, measured: 512x512 64 s, 832x832
#: ~300 s, 1024x1024 ~400 s CPU (patched library); modelled as 1 s + b cells^1.5.
SECONDS_PER_CELL15 = 4.0e-7
#: A batch runs as one transient (:mod:`spicebar.netlist.batch`) of about ``batch + 10``
#: time points, each a numeric refactorisation and a check: measured at 256x256 with 100
#: vectors, 107 points in 101.5 s against 3.8 s for one ``.op``: about this share of an
#: ``.op`` per point.
BATCH_POINT_SHARE = 0.25


def expected_seconds(rows: int, cols: int, batch: int = 1) -> float:
    """Rough wall time of one run on an idle core, s (for progress and the timeout): one
    ``.op``, or a batch's transient (``batch`` >= 2; nonlinear batches, one ``.op`` per
    vector, take longer)."""
    op = 1.0 + SECONDS_PER_CELL15 * float(rows * cols) ** 1.5
    return op if batch < 2 else op * (1.0 + BATCH_POINT_SHARE * (batch + 10))
