"""Compiled tridiagonal kernels of the grid line solver (numba), with numpy fallbacks.

Arrays of node voltages have shape ``(batch, rows, cols)``: word line ``i`` is
``x[b, i, :]`` (contiguous), bit line ``j`` is ``x[b, :, j]``. Thomas factors have
shape ``(rows, cols)``: ``inv`` (1 / pivot), ``fwd`` (sub-diagonal / pivot) and
``back`` (super-diagonal / pivot), laid along the line's own axis.

Without numba the same recurrences run as numpy loops over the line position,
vectorised across lines and batch (about 5x slower at 1024x1024).
"""

from __future__ import annotations

import numpy as np

from ...errors import SolverError
from .threads import configure_layer, run_parallel

try:  # numba compiles the recurrences; cache=True keeps the machine code on disk
    from numba import njit, prange
    HAVE_NUMBA = True
    configure_layer()
except ImportError:  # pragma: no cover - exercised only where numba is missing
    HAVE_NUMBA = False


def _along_cols_py(inv, fwd, back, rhs, out, dots):
    """Solve every word line (recurrence along the last axis); ``dots[b, i]`` gets
    ``rhs . out`` over the line (conjugate gradients' ``r . z``, while the line is hot).

    One line at a time: interleaving four lines was no faster with 256 vectors and
    2x slower on one 1024x1024 vector (measured).
    """
    B, R, K = rhs.shape
    for t in prange(B * R):
        bb, i = t // R, t % R
        y = rhs[bb, i, 0] * inv[i, 0]
        out[bb, i, 0] = y
        for k in range(1, K):
            y = rhs[bb, i, k] * inv[i, k] - fwd[i, k] * y
            out[bb, i, k] = y
        s = rhs[bb, i, K - 1] * y
        for k in range(K - 2, -1, -1):
            y = out[bb, i, k] - back[i, k] * y
            out[bb, i, k] = y
            s += rhs[bb, i, k] * y
        dots[bb, i] = s


def _along_rows_py(inv, fwd, back, rhs, out):
    """Solve every bit line (recurrence along axis 1, vectorised across columns)."""
    B, R, K = rhs.shape
    chunk = 256
    n_chunks = (K + chunk - 1) // chunk
    for c in prange(B * n_chunks):
        bb, j0 = c // n_chunks, (c % n_chunks) * chunk
        j1 = min(K, j0 + chunk)
        for j in range(j0, j1):
            out[bb, 0, j] = rhs[bb, 0, j] * inv[0, j]
        for i in range(1, R):
            for j in range(j0, j1):
                out[bb, i, j] = rhs[bb, i, j] * inv[i, j] - fwd[i, j] * out[bb, i - 1, j]
        for i in range(R - 2, -1, -1):
            for j in range(j0, j1):
                out[bb, i, j] -= back[i, j] * out[bb, i + 1, j]


def _schur_finish_py(diag, off, g, p, s, out, dots):
    """``out = A_w p - g * s``: the word-line tridiagonal product minus the cell currents;
    ``dots[b, i]`` gets ``p . out`` over word line ``i``."""
    B, R, K = p.shape
    for b in prange(B * R):
        bb, i = b // R, b % R
        acc = 0.0
        for k in range(K):
            v = diag[i, k] * p[bb, i, k] - g[i, k] * s[bb, i, k]
            if k > 0:
                v += off[i, k - 1] * p[bb, i, k - 1]
            if k < K - 1:
                v += off[i, k] * p[bb, i, k + 1]
            out[bb, i, k] = v
            acc += p[bb, i, k] * v
        dots[bb, i] = acc


def _schur_finish_np(diag, off, g, p, s, out, dots):
    out[...] = diag * p - g * s
    out[:, :, 1:] += off[:, :-1] * p[:, :, :-1]
    out[:, :, :-1] += off[:, :-1] * p[:, :, 1:]
    dots[...] = np.einsum("bik,bik->bi", p, out)


def _cg_step_py(x, r, p, q, alpha, rr):
    """``x += alpha p``, ``r -= alpha q`` and ``rr = |r|^2``, per vector, in one pass."""
    B, R, K = x.shape
    for b in prange(B):
        a = alpha[b]
        s = 0.0
        for i in range(R):
            for k in range(K):
                x[b, i, k] += a * p[b, i, k]
                v = r[b, i, k] - a * q[b, i, k]
                r[b, i, k] = v
                s += v * v
        rr[b] = s


def _cg_step_np(x, r, p, q, alpha, rr):
    a = alpha[:, None, None]
    x += a * p
    r -= a * q
    rr[:] = np.einsum("bij,bij->b", r, r)


def _xpby_py(p, z, beta):
    """``p = z + beta p`` per vector, in place."""
    B, R, K = p.shape
    for b in prange(B):
        c = beta[b]
        for i in range(R):
            for k in range(K):
                p[b, i, k] = z[b, i, k] + c * p[b, i, k]


def _xpby_np(p, z, beta):
    p *= beta[:, None, None]
    p += z


def _cell_currents_py(v_wl, v_bl, g, out):
    """``out = (v_wl - v_bl) * g``: each linear cell's current into its bit-line node."""
    B, R, K = out.shape
    for b in prange(B * R):
        bb, i = b // R, b % R
        for k in range(K):
            out[bb, i, k] = (v_wl[bb, i, k] - v_bl[bb, i, k]) * g[i, k]


def _cell_currents_np(v_wl, v_bl, g, out):
    np.subtract(v_wl, v_bl, out=out)
    out *= g


def _kcl_word_py(diag, off, g, g_left, g_right, volts, x_w, x_b, worst):
    """``worst[b, i]``: largest KCL mismatch on word line ``i`` of vector ``b``, amperes.

    Injected by the drivers at the two ends, minus what leaves through the wire
    segments and the cells: ``f - A_w x_w + g x_b``. The product repeats
    :func:`_schur_finish_py`'s on purpose: sharing it through an inlined helper made
    numba's loop 8x slower (measured).
    """
    B, R, K = x_w.shape
    for b in prange(B * R):
        bb, i = b // R, b % R
        m = 0.0
        for k in range(K):
            v = g[i, k] * x_b[bb, i, k] - diag[i, k] * x_w[bb, i, k]
            if k > 0:
                v -= off[i, k - 1] * x_w[bb, i, k - 1]
            else:
                v += g_left[i] * volts[bb, i]
            if k < K - 1:
                v -= off[i, k] * x_w[bb, i, k + 1]
            else:
                v += g_right[i] * volts[bb, i]
            m = max(m, abs(v))
        worst[bb, i] = m


def _kcl_word_np(diag, off, g, g_left, g_right, volts, x_w, x_b, worst):
    r = g * x_b - diag * x_w
    r[:, :, 1:] -= off[:, :-1] * x_w[:, :, :-1]
    r[:, :, :-1] -= off[:, :-1] * x_w[:, :, 1:]
    r[:, :, 0] += g_left * volts
    r[:, :, -1] += g_right * volts
    worst[...] = np.abs(r).max(axis=2)


def _kcl_bit_py(diag, off, g, x_w, x_b, worst, inflow):
    """``worst[b, i]``: largest ``|g x_w - A_b x_b|`` over row ``i``'s bit-line nodes;
    ``inflow[b, i]``: largest cell current into them (the scale over ideal word lines)."""
    B, R, K = x_w.shape
    for b in prange(B * R):
        bb, i = b // R, b % R
        m, n = 0.0, 0.0
        for k in range(K):
            into = g[i, k] * x_w[bb, i, k]
            v = into - diag[i, k] * x_b[bb, i, k]
            if i > 0:
                v -= off[i - 1, k] * x_b[bb, i - 1, k]
            if i < R - 1:
                v -= off[i, k] * x_b[bb, i + 1, k]
            m = max(m, abs(v))
            n = max(n, abs(into))
        worst[bb, i] = m
        inflow[bb, i] = n


def _kcl_bit_np(diag, off, g, x_w, x_b, worst, inflow):
    into = g * x_w
    r = into - diag * x_b
    r[:, 1:] -= off[:-1] * x_b[:, :-1]
    r[:, :-1] -= off[:-1] * x_b[:, 1:]
    worst[...] = np.abs(r).max(axis=2)
    inflow[...] = np.abs(into).max(axis=2)


def _along_cols_np(inv, fwd, back, rhs, out, dots):
    out[...] = rhs * inv
    for k in range(1, rhs.shape[2]):
        out[:, :, k] -= fwd[:, k] * out[:, :, k - 1]
    for k in range(rhs.shape[2] - 2, -1, -1):
        out[:, :, k] -= back[:, k] * out[:, :, k + 1]
    dots[...] = np.einsum("bik,bik->bi", rhs, out)


def _along_rows_np(inv, fwd, back, rhs, out):
    out[...] = rhs * inv
    for i in range(1, rhs.shape[1]):
        out[:, i] -= fwd[i] * out[:, i - 1]
    for i in range(rhs.shape[1] - 2, -1, -1):
        out[:, i] -= back[i] * out[:, i + 1]


#: Below this many elements the Thomas sweeps run on one thread: waking the pool costs
#: about 45 us a call, and on a busy 2-core machine two threads only beat one from about
#: a million elements (1024x1024, or 512x512 with four vectors; see :mod:`.threads`).
PARALLEL_MIN_ELEMENTS = 1 << 20


def _renamed(py, suffix: str):
    """A copy of ``py`` under another name. numba's on-disk cache files a function by its
    name and line, not by ``parallel``: compiled twice under one name, the parallel
    variant could load the serial machine code and run on one core (it did)."""
    import types
    fn = types.FunctionType(py.__code__, py.__globals__, py.__name__ + suffix, py.__defaults__,
                            py.__closure__)
    fn.__qualname__ = py.__qualname__ + suffix
    fn.__doc__ = py.__doc__
    return fn


def _dispatch(py, np_fallback, fastmath=False, parallel=True):
    """The compiled kernel of ``py``: serial, plus (``parallel=True``) a parallel variant
    for arrays of at least :data:`PARALLEL_MIN_ELEMENTS` elements, run on the thread
    count of :mod:`.threads`. Kernels measured to gain nothing from a second thread
    are compiled once, serial (``parallel=False``)."""
    if not HAVE_NUMBA:  # pragma: no cover
        return np_fallback
    serial = njit(cache=True, fastmath=fastmath)(py)
    if not parallel:
        serial.serial = serial
        return serial
    variant = njit(cache=True, parallel=True, fastmath=fastmath)(_renamed(py, "_parallel"))

    def kernel(*args):
        if max(np.size(a) for a in args) >= PARALLEL_MIN_ELEMENTS:
            return run_parallel(variant, serial, args)
        return serial(*args)
    kernel.__doc__ = py.__doc__
    kernel.serial, kernel.parallel = serial, variant
    return kernel


# Measured (see .threads): the Thomas sweeps gain from a second thread on large arrays;
# the updates below are memory-bandwidth bound (or split only across the batch) and
# did not, so they are compiled once, serial.
along_cols = _dispatch(_along_cols_py, _along_cols_np)
along_rows = _dispatch(_along_rows_py, _along_rows_np)
schur_finish = _dispatch(_schur_finish_py, _schur_finish_np, parallel=False)
cg_step = _dispatch(_cg_step_py, _cg_step_np, fastmath=True, parallel=False)  # |r|^2 vectorises
xpby = _dispatch(_xpby_py, _xpby_np, parallel=False)
cell_currents = _dispatch(_cell_currents_py, _cell_currents_np, parallel=False)
kcl_word = _dispatch(_kcl_word_py, _kcl_word_np, parallel=False)
kcl_bit = _dispatch(_kcl_bit_py, _kcl_bit_np, parallel=False)


def warm() -> list[str]:
    """Compile (or load from numba's cache) every kernel variant for the argument types
    the solver passes, on tiny arrays; returns their names. ``make setup`` runs this
    (``python -m spicebar.engines.nodal.warm``) so no user call waits for the compiler."""
    if not HAVE_NUMBA:  # pragma: no cover
        return []
    f = np.full((2, 3), 0.5)
    x = [np.full((1, 2, 3), v) for v in (1.0, 2.0, 3.0, 4.0)]
    per_line, scal, ends = np.empty((1, 2)), np.ones(1), np.ones(2)
    done = []
    # The cell conductances reach some kernels as the spec's read-only array (another
    # machine-code signature for numba) and as a writable one (Newton's linearised cells).
    frozen = f.copy()
    frozen.flags.writeable = False
    for g in (f, frozen):
        calls = {
            "along_cols": (along_cols, (f, f, f, x[0], x[1], per_line)),
            "along_rows": (along_rows, (f, f, f, x[0], x[1])),
            "schur_finish": (schur_finish, (f, f, g, x[0], x[1], x[2], per_line)),
            "cg_step": (cg_step, (x[0], x[1], x[2], x[3], scal, np.empty(1))),
            "xpby": (xpby, (x[0], x[1], scal)),
            "cell_currents": (cell_currents, (x[0], x[1], g, x[2])),
            "kcl_word": (kcl_word, (f, f, g, ends, ends, np.ones((1, 2)), x[0], x[1], per_line)),
            "kcl_bit": (kcl_bit, (f, f, g, x[0], x[1], per_line, np.empty((1, 2)))),
        }
        for name, (kernel, args) in calls.items():
            for label, variant in (("", kernel.serial),
                                   ("_parallel", getattr(kernel, "parallel", None))):
                if variant is not None:
                    variant(*args)
                    if name + label not in done:
                        done.append(name + label)
    return done


def thomas_factors(diag: np.ndarray, off: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Factors of tridiagonal lines along axis 0 of ``diag`` ``(L, P)``; ``off[k]`` joins k, k+1.

    Returns ``inv``, ``fwd``, ``back``, each ``(L, P)``. Raises SolverError if a pivot
    is not positive (a node without a DC path to a source).
    """
    L = diag.shape[0]
    inv = np.empty_like(diag)
    fwd = np.zeros_like(diag)
    back = np.zeros_like(diag)
    for k in range(L):
        pivot = diag[k] - off[k - 1] * back[k - 1] if k else diag[0]
        if np.any(pivot <= 0):
            raise SolverError("a line matrix is not positive definite: some node has no DC "
                              "path to a driver or readout")
        inv[k] = 1.0 / pivot
        back[k] = off[k] * inv[k]
        if k:
            fwd[k] = off[k - 1] * inv[k]
    return inv, fwd, back
