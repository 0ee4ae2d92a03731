"""Size guard: estimate the memory a solve or simulation needs, refuse what cannot fit.

The per-cell figures were measured on the passive default topology (peak resident
memory, 1 ohm wires): the nodal engine's SuperLU factorisation took 2.8, 2.9 and
3.3 kB per cell at 128x128, 256x256 and 512x512; ngspice with KLU took about 6.1 and
6.5 kB per cell at 256x256 (0.4 GB) and 512x512 (1.7 GB). The estimates round those
up; per input vector every engine also holds two (rows, cols) voltage maps.
"""

from __future__ import annotations

import os

from ._validate import positive_scalar
from .errors import SpecError

#: Peak bytes per cell of the solve itself, by engine (measured, rounded up).
BYTES_PER_CELL = {"ideal": 16, "nodal": 4_000, "ngspice": 7_500,
                  # the line solver (spicebar.engines.grid): 0.9 GB peak at 2048x2048
                  "nodal-lines": 250}
#: Bytes per cell per input vector: v_wl and v_bl (float64) plus working copies.
BYTES_PER_CELL_PER_VECTOR = 48
#: Fixed cost of an engine (interpreter, libraries, ngspice itself).
BASE_BYTES = {"ideal": 0, "nodal": 50_000_000, "ngspice": 150_000_000,
              "nodal-lines": 150_000_000}
#: Leave this share of available memory to everything else.
HEADROOM = 0.8


class ResourceError(SpecError):
    """The requested solve would not fit in memory."""


def estimate_bytes(rows: int, cols: int, batch: int, engine: str) -> int:
    """Estimated peak memory of ``engine`` on a ``rows x cols`` array and ``batch`` vectors."""
    cells = rows * cols
    return int(BASE_BYTES[engine] + BYTES_PER_CELL[engine] * cells
               + BYTES_PER_CELL_PER_VECTOR * cells * batch)


def available_bytes() -> int:
    """Memory available to a new allocation now (MemAvailable), bytes."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def check_memory(rows: int, cols: int, batch: int, engine: str,
                 limit_bytes: int | None = None) -> int:
    """Raise ResourceError when the estimate exceeds the limit; return the estimate.

    ``limit_bytes`` defaults to 80 % of the memory available now.
    """
    need = estimate_bytes(rows, cols, batch, engine)
    if limit_bytes is None:
        limit, why = int(HEADROOM * available_bytes()), "80% of the memory available now"
    else:
        limit = int(positive_scalar("memory_limit_bytes", limit_bytes, "bytes"))
        why = "the limit you set"
    if need > limit:
        raise ResourceError(
            "array size", f"{engine} on {rows}x{cols} cells with {batch} input vector(s) needs "
            f"about {need / 1e9:.2f} GB", f"at most {limit / 1e9:.2f} GB ({why}); use fewer "
            "vectors per call, a smaller array or tiles")
    return need
