"""The ``spicebar`` command (:mod:`.main`, one module per command group) and the demos.

May import: every layer. Nothing in the package imports it, except the public
``spicebar.run_demo`` (loaded on first use).
"""

import os

#: BLAS threads of a ``spicebar`` process unless the user sets OPENBLAS_NUM_THREADS: a
#: process loads two OpenBLAS copies (numpy's and scipy's), whose thread pools cost about
#: 0.13 s of start-up on the 2-core machine (a 64x64 nodal readout: 0.61-0.67 s -> 0.51 s
#: wall), more than a command's dense algebra gains from them; the heavy loops are
#: spicebar's own compiled kernels (``--threads``). Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .main import main  # noqa: E402,F401  (the console script: spicebar.cli:main)
