"""How many threads the compiled line-solver kernels use, and on which threading layer.

Measured on a 2-core machine while other work kept the load at 3.6-3.8
(``benchmarks/bench_threads.py``): numba's OpenMP layer spin-waits, so its two
threads ran a 512x512 solve 5-7x slower than one thread (0.36-0.49 s against
0.055-0.088 s); the ``workqueue`` layer's two threads matched one thread there
(0.057-0.060 s) and the Thomas sweeps ran 1.4-2x faster than one thread from about
a million elements (1024x1024, or 512x512 with four vectors). So:

- the threading layer is ``workqueue`` unless ``NUMBA_THREADING_LAYER`` says otherwise;
- only the two Thomas sweeps have a parallel variant, used from
  :data:`spicebar.engines.nodal._kernels.PARALLEL_MIN_ELEMENTS` on; the
  bandwidth-bound updates gained nothing from a second thread and run serially;
- the thread count is every core numba sees, or ``SPICEBAR_THREADS`` / ``spicebar
  --threads N`` (1: never the parallel variants);
- left to choose (neither set), a kernel runs serially while the machine is busy: a
  1-minute load average of at least the core count. Measured at load 4.1-4.5 and 7-12 on
  2 cores: two threads were never clearly faster than one (1024x1024: 0.43 s against
  0.38 s, and 1.22 s against 0.93 s; medians of three rounds).

``workqueue`` must not be entered by two Python threads at once (numba aborts the
process), so a parallel kernel runs only when no other thread is inside one; a
thread that finds the pool busy runs the serial variant.
"""

from __future__ import annotations

import os
import threading

from ...errors import SpecError

#: Environment variable that sets the thread count (an integer from 1 to the cores).
ENV = "SPICEBAR_THREADS"
#: The threading layer spicebar asks numba for, unless NUMBA_THREADING_LAYER is set.
LAYER = "workqueue"

_POOL = threading.Lock()
#: ``threads``: the count in force (None: not resolved yet); ``chosen``: set by the user
#: (SPICEBAR_THREADS or set_threads), so the load does not override it.
_state = {"threads": None, "chosen": False}


def max_threads() -> int:
    """Threads numba can run (its ``NUMBA_NUM_THREADS``: the cores by default), or 1.

    Read without importing numba (0.1-0.2 s of CPU that a path without the compiled
    kernels, such as the nodal transient, need not pay): once numba is loaded its own
    config answers; before, the same rule numba's config applies (the environment
    variable, else the CPUs this process may run on)."""
    import sys
    if "numba" in sys.modules:
        return int(sys.modules["numba"].config.NUMBA_NUM_THREADS)
    from importlib.util import find_spec
    if find_spec("numba") is None:  # pragma: no cover - only where numba is missing
        return 1
    env = os.environ.get("NUMBA_NUM_THREADS", "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:  # numba warns and takes its default
            pass
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - platforms without affinity
        return max(1, os.cpu_count() or 1)


def parse_threads(value, parameter: str = ENV) -> int:
    """``value`` as a thread count from 1 to :func:`max_threads`; SpecError otherwise."""
    top = max_threads()
    try:
        n = int(str(value).strip())
    except ValueError:
        n = 0
    if not 1 <= n <= top or str(value).strip() != str(n):
        raise SpecError(parameter, f"is {value!r}", f"an integer from 1 to {top} (the cores "
                        "numba sees; NUMBA_NUM_THREADS raises it)")
    return n


def set_threads(n: int | None) -> int:
    """Use ``n`` threads from now on (None: back to ``SPICEBAR_THREADS`` or every core).

    Also sets ``SPICEBAR_THREADS`` so worker processes started later (sweeps) follow.
    Returns the count in force. Raises SpecError naming ``threads`` for a bad count.
    """
    if n is None:
        _state["threads"] = None
        return threads()
    n = parse_threads(n, "threads")
    _state["threads"], _state["chosen"] = n, True
    os.environ[ENV] = str(n)
    return n


def threads() -> int:
    """The thread count in force: :func:`set_threads`, else ``SPICEBAR_THREADS``, else
    every core."""
    if _state["threads"] is None:
        env = os.environ.get(ENV, "").strip()
        _state["threads"] = parse_threads(env) if env else max_threads()
        _state["chosen"] = bool(env)
    return _state["threads"]


def python_workers() -> int:
    """Python threads for work split into independent BLAS calls, each on one BLAS thread
    (no spin-waiting between them): :func:`threads`, or 1 while the machine is :func:`busy`
    unless the user chose the count."""
    n = threads()
    return n if n > 1 and (_state["chosen"] or not busy()) else 1


def on_workers(fn, items, workers: int | None = None) -> list:
    """``[fn(x) for x in items]``, shared among ``workers`` Python threads (default
    :func:`python_workers`) where that is more than one; for work that releases the GIL
    (BLAS, LAPACK called by ctypes, numpy's array loops)."""
    items = list(items)
    workers = python_workers() if workers is None else workers
    if workers < 2 or len(items) < 2:
        return [fn(x) for x in items]
    from concurrent.futures import ThreadPoolExecutor
    with _one_blas_thread(), ThreadPoolExecutor(min(workers, len(items))) as pool:
        return list(pool.map(fn, items))


def _one_blas_thread():
    """BLAS on one thread while Python threads share the work (each would otherwise start
    BLAS's own threads: more threads than cores, spin-waiting)."""
    from contextlib import nullcontext
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return nullcontext()
    return threadpool_limits(1, user_api="blas")


def busy() -> bool:
    """Whether the machine is busy: a 1-minute load average of at least the core count."""
    try:
        return os.getloadavg()[0] >= (os.cpu_count() or 1)
    except OSError:  # pragma: no cover - no load average on this platform
        return False


def blas_threads():
    """A context in which BLAS (OpenBLAS, MKL) uses one thread, or :func:`threads` where the
    user chose the count (``SPICEBAR_THREADS``, ``--threads``). OpenBLAS's threads spin-wait:
    on the shared 2-core machine its two threads made the noise analysis's dense products
    5-20x slower than one, at load 4 and also at load 1-2 with one other job running
    (256x256 covariance fold: 5.8 s against 1.0 s). Without ``threadpoolctl``: BLAS as it is."""
    from contextlib import nullcontext
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return nullcontext()
    threads()  # resolves whether the user chose the count
    return threadpool_limits(threads() if _state["chosen"] else 1, user_api="blas")


def configure_layer() -> None:
    """Ask numba for :data:`LAYER` unless the user chose a layer (before any launch)."""
    if "NUMBA_THREADING_LAYER" not in os.environ:
        import numba
        numba.config.THREADING_LAYER = LAYER


def run_parallel(parallel, serial, args):
    """``parallel(*args)`` on :func:`threads` threads if that is more than one, the user
    chose it or the machine is not :func:`busy`, and no other thread is inside the pool;
    ``serial(*args)`` otherwise."""
    n = threads()
    if n > 1 and (_state["chosen"] or not busy()) and _POOL.acquire(blocking=False):
        try:
            import numba
            numba.set_num_threads(n)
            return parallel(*args)
        finally:
            _POOL.release()
    return serial(*args)
