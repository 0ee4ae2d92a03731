"""Compile the line solver's kernels ahead of the first call: ``python -m spicebar.engines.nodal.warm``.

``make setup`` (``tools/setup.sh``) runs it, so the first large nodal call after set-up
loads machine code from numba's cache instead of compiling (a 512x512 call took 20.8 s
the first time, then 6 s). numba keeps the cache beside the package sources
(``__pycache__``) or, where those are read-only (an installed wheel), in the user's
cache folder (``NUMBA_CACHE_DIR``, default ``~/.cache``).
"""

from __future__ import annotations

import sys
import time


def main() -> int:
    t0 = time.perf_counter()
    from ._kernels import HAVE_NUMBA, warm
    if not HAVE_NUMBA:
        print("spicebar: numba is not installed: the line solver runs its numpy kernels")
        return 0
    names = warm()
    from ._stage_kernels import warm as warm_stages   # (the readout transient's stages)
    names += warm_stages()
    from .row_kernels import warm as warm_rows          # (the noise reduction's probes and fold)
    names += warm_rows()
    from .threads import threads
    print(f"spicebar: {len(names)} compiled kernels ready in {time.perf_counter() - t0:.1f} s "
          f"({threads()} thread(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
