"""Preconditioner study for the grid line solver: why CG's iteration count grows, and
what a two-level (coarse-space) preconditioner would buy.

    SPICEBAR_THREADS=1 python benchmarks/bench_precond.py [--sizes 128,...,2048]
        [--sweep-size 512] [--batches 1024x8,2048x2] [--coarse 128] [--repeat 3]

Table 1, per size (the standard case of ``common.passive_case``: 1 ohm segments,
1 uS-100 uS cells): the solver as shipped (``schur_cg`` with the word-line
preconditioner ``A_w``): iterations, CPU and wall seconds, and the smallest eigenvalue of
``A_w^-1 S`` (a Ritz value from CG's own coefficients; all others lie in (0, 1]);
then deflated CG with a coarse space of bilinear hats every ``--coarse`` cells and the
exact Galerkin matrix ``E = Z^T S Z`` (built from one bit-line solve per coarse row of
hats, not from ``S`` products): iterations (deflated + clean-up by the shipped CG once
deflation reaches its rounding floor), ``S`` products (two per deflated iteration),
set-up CPU, total CPU and wall, the largest change of the answer and the floor. Then the
iterations of two cheaper variants (additive coarse correction; coarse starting guess).
Table 2: iterations of the shipped solver at ``--sweep-size`` over wire resistance and
cell conductance, beside ``n sqrt(G r)``. Writes ``benchmarks/out/precond_<coarse>.png``.
Iteration and ``S``-product counts do not depend on the load; CPU time moves less with it
than wall time, but still moves (memory bandwidth is shared): medians of ``--repeat``
interleaved rounds, the load average printed beside the tables.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core each: CPU times compare
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from common import OUT, R_WIRE, loglog_figure, passive_case  # noqa: E402
from spicebar import CrossbarSpec  # noqa: E402
from spicebar.engines.nodal._kernels import warm  # noqa: E402
from spicebar.engines.nodal.grid import _Grid  # noqa: E402
from spicebar.engines.nodal.lines import DEFAULT_RTOL, schur_cg  # noqa: E402


def grid_case(n: int, batch: int, r_ohm: float = R_WIRE, g_lo: float | None = None,
              g_hi: float | None = None, seed: int = 0):
    """``(_Grid, f_w (batch, n, n) A)``: the standard case, or cells log-uniform in
    ``[g_lo, g_hi]`` S."""
    g, v = passive_case(n, batch, seed)
    if g_lo is not None:
        rng = np.random.default_rng(seed)
        g = np.exp(rng.uniform(np.log(g_lo), np.log(g_hi), (n, n)))
    grid = _Grid(CrossbarSpec(g, r_wl=r_ohm, r_bl=r_ohm))
    return grid, grid.drive(v)


def smallest_ritz(grid: _Grid, f: np.ndarray, rtol: float = DEFAULT_RTOL) -> float:
    """Smallest eigenvalue of ``A_w^-1 S`` seen by line-preconditioned CG on ``f[:1]``
    (the Lanczos matrix of CG's coefficients)."""
    r = f[:1].copy()
    z, rz = grid.solve_w_dot(r)
    p, norm = z.copy(), np.sqrt(grid.dot(r, r))
    alphas, betas = [], []
    while np.sqrt(grid.dot(r, r)) > rtol * norm and len(alphas) < 200:
        q, pq = grid.schur_dot(p)
        a = rz / pq
        r -= a[:, None, None] * q
        z, rz_new = grid.solve_w_dot(r)
        b, rz = rz_new / rz, rz_new
        p = z + b[:, None, None] * p
        alphas.append(a[0])
        betas.append(b[0])
    k = len(alphas)
    t = np.zeros((k, k))
    for j in range(k):
        t[j, j] = 1 / alphas[j] + (betas[j - 1] / alphas[j - 1] if j else 0.0)
        if j + 1 < k:
            t[j, j + 1] = t[j + 1, j] = np.sqrt(betas[j]) / alphas[j]
    return float(np.linalg.eigvalsh(t)[0])


def hats(n: int, step: int) -> np.ndarray:
    """``(n, m)`` piecewise-linear interpolation from nodes ``0, step, ..., n-1``."""
    nodes = np.unique(np.r_[np.arange(0, n, step), n - 1])
    return np.stack([np.interp(np.arange(n), nodes, np.eye(nodes.size)[c])
                     for c in range(nodes.size)], axis=1)


def line_galerkin(across: np.ndarray, along: np.ndarray, diag: np.ndarray,
                  off: np.ndarray) -> np.ndarray:
    """``Z^T T Z`` for ``T`` tridiagonal along axis 1 of ``diag`` ``(L, K)`` (``off[:, k]``
    joins ``k``, ``k+1``) and ``Z = across (x) along`` (hats ``(L, na)``, ``(K, nb)``);
    returns ``(na, na, nb, nb)``, indexed ``[b, a, d, c]``."""
    (rows, na), (cols, nb) = across.shape, along.shape
    aa = sp.csr_matrix((across[:, :, None] * across[:, None, :]).reshape(rows, na * na))
    bb = (along[:, :, None] * along[:, None, :]).reshape(cols, nb * nb)
    up = (aa.T @ off[:, :-1]) @ (along[:-1, :, None] * along[1:, None, :]).reshape(cols - 1, -1)
    e = (aa.T @ diag) @ bb + up + up.reshape(-1, nb, nb).transpose(0, 2, 1).reshape(-1, nb * nb)
    return e.reshape(na, na, nb, nb)


def _coarse_matrix(e: np.ndarray) -> np.ndarray:
    """``[b, a, d, c]`` -> ``(n_c, n_c)`` over coarse nodes ``(a, c)``, symmetrised."""
    ni, nk = e.shape[1], e.shape[3]
    e = e.transpose(0, 2, 1, 3).reshape(ni * nk, ni * nk)
    return (e + e.T) / 2


class Deflated:
    """Deflated CG on ``S`` (Saad et al. 2000) with the coarse space ``Z = P_i (x) P_k``
    (bilinear hats, ``(rows*cols, n_c)``) and ``E = Z^T S Z`` exact:
    ``Z^T A_w Z - Z^T G A_b^-1 G Z``, the second term from ``A_b^-1 (G P_i[:, a])``
    (one bit-line solve per coarse row ``a``) contracted column by column. ``wire_inv``:
    the inverse of ``Z^T W Z`` for the wires' own Laplacian ``W = A_w + A_b - 2 G`` (the
    full circuit's Galerkin matrix on ``[Z; Z]``: the cells cancel), for the variants."""

    def __init__(self, grid: _Grid, step: int, variants: bool = False):
        self.grid = grid
        rows, cols = grid.g.shape
        pi, pk = hats(rows, step), hats(cols, step)
        ni, nk = pi.shape[1], pk.shape[1]
        self.pi_d, self.pk_d = pi, pk   # dense: BLAS beats sparse products on batches
        word = line_galerkin(pi, pk, grid.diag_w, grid.off_w)
        m = np.empty((ni, ni, cols))                                        # [b, a, j]
        pi_s = sp.csr_matrix(pi)                                            # 2 hats a cell
        for a in range(ni):
            v = grid.solve_b_cells(np.ascontiguousarray(
                np.broadcast_to(pi[:, a][None, :, None], (1, rows, cols))))[0]
            m[:, a] = pi_s.T @ (grid.g * v)
        pkpk = (pk[:, :, None] * pk[:, None, :]).reshape(cols, nk * nk)
        self.e_inv = np.linalg.inv(_coarse_matrix(word - (m.reshape(ni * ni, cols) @ pkpk)
                                                  .reshape(ni, ni, nk, nk)))
        if variants:
            bit = line_galerkin(pk, pi, grid.diag_b.T, grid.off_b.T).transpose(2, 3, 0, 1)
            cells = line_galerkin(pi, pk, grid.g, np.zeros_like(grid.g))
            self.wire_inv = np.linalg.inv(_coarse_matrix(word + bit - 2 * cells))
        self.n_coarse, self.shape = ni * nk, (ni, nk)

    def coarse(self, r: np.ndarray, e_inv: np.ndarray | None = None) -> np.ndarray:
        """``Z E^-1 Z^T r`` for ``r`` ``(batch, rows, cols)`` (``E``: ``e_inv`` if given)."""
        e_inv = self.e_inv if e_inv is None else e_inv
        y = (self.pi_d.T @ r @ self.pk_d).reshape(len(r), -1) @ e_inv.T
        return self.pi_d @ y.reshape(len(r), *self.shape) @ self.pk_d.T

    def solve(self, f: np.ndarray, rtol: float = DEFAULT_RTOL, max_iter: int = 100):
        """``x`` with ``||f - S x|| <= rtol ||f||`` for every vector: deflated CG until
        ``rtol`` or until its residual stops falling (the coarse projection's rounding
        floor, about 1e-13 from 1024x1024), then the shipped line CG on the true residual
        to the same rule. Returns ``x``, the deflated and the clean-up iterations, the
        ``S`` products and the smallest deflated residual (relative, worst vector)."""
        g = self.grid
        norm = np.sqrt(g.dot(f, f))
        x = self.coarse(f)
        r = f - g.schur_dot(x)[0]
        z, rz = g.solve_w_dot(r)
        z = z.copy()
        p = z - self.coarse(g.schur_dot(z)[0])
        it, products = 0, 2
        rel = best = np.max(np.sqrt(g.dot(r, r)) / norm)
        while rel > rtol and it < max_iter and rel <= best:
            w, pw = g.schur_dot(p)
            rel = np.max(np.sqrt(g.cg_step(x, r, p, w, rz / pw)) / norm)
            best = min(best, rel)
            it, products = it + 1, products + 1
            if rel <= rtol:
                break
            z, rz_new = g.solve_w_dot(r)
            beta, rz = rz_new / rz, rz_new
            z = z.copy()
            z -= self.coarse(g.schur_dot(z)[0])
            g.xpby(p, z, beta)
            products += 1
        clean = 0
        if rel > rtol:
            r = f - g.schur_dot(x)[0]
            scale = np.min(norm / np.sqrt(g.dot(r, r)))
            e, _, info = schur_cg(g, r, None, rtol * scale)
            x += e
            clean, products = info["iterations"], products + 1 + info["iterations"]
        return x, it, clean, products, float(best)


class _Additive:
    """The shipped CG's ``system`` with ``A_w^-1 + Z (Z^T W Z)^-1 Z^T`` as preconditioner."""

    def __init__(self, defl: Deflated):
        self.grid, self.defl = defl.grid, defl

    def __getattr__(self, name):
        return getattr(self.grid, name)

    def solve_w_dot(self, r):
        z, dots = self.grid.solve_w_dot(r)
        c = self.defl.coarse(r, self.defl.wire_inv)
        return z + c, dots + self.grid.dot(r, c)


def variant_iterations(grid: _Grid, f: np.ndarray, step: int) -> tuple[int, int]:
    """Iterations of two cheaper variants: the additive coarse correction with the wires'
    Galerkin matrix (no ``S`` products), and the shipped CG from the coarse answer
    ``Z E^-1 Z^T f`` (one ``S`` product); both to the shipped rule."""
    defl = Deflated(grid, step, variants=True)
    additive = schur_cg(_Additive(defl), f, None)[2]["iterations"]
    x0 = defl.coarse(f)
    r = f - grid.schur_dot(x0)[0]
    scale = np.min(np.sqrt(grid.dot(f, f) / grid.dot(r, r)))
    return additive, schur_cg(grid, r, None, DEFAULT_RTOL * scale)[2]["iterations"]


def timed(fn, *args):
    """``fn(*args)``, its CPU seconds and its wall seconds."""
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn(*args)
    return out, time.process_time() - c0, time.perf_counter() - w0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="128,256,512,1024,2048")
    ap.add_argument("--sweep-size", type=int, default=512)
    ap.add_argument("--batches", default="1024x8,2048x2", help="extra NxBATCH rows ('' to skip)")
    ap.add_argument("--coarse", type=int, default=128, help="cells between coarse hats")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved rounds (medians)")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}; SPICEBAR_THREADS="
          f"{os.environ.get('SPICEBAR_THREADS', 'unset')}")
    head = (f"{'n':>5} {'batch':>5} | {'line: iters':>11} {'cpu s':>7} {'wall s':>7} "
            f"{'min eig':>8} | {'deflated: n_c':>13} {'iters':>5} {'S prods':>7} {'setup s':>7} "
            f"{'cpu s':>7} {'wall s':>7} {'|dx|':>8} {'floor':>8}")
    print(head)
    print("-" * len(head))
    sizes = [int(s) for s in args.sizes.split(",")]
    cases = [(n, 1) for n in sizes] + [tuple(int(v) for v in c.split("x"))
                                        for c in args.batches.split(",") if c]
    warm()  # compiled kernels loaded before any timing
    series = {"line preconditioner (shipped): iterations = S products": ([], []),
              "deflated, exact coarse E: iterations": ([], []),
              "deflated, exact coarse E: S products": ([], [])}
    for n, batch in cases:
        grid, f = grid_case(n, batch)
        lam = smallest_ritz(grid, f)
        times = []
        for _ in range(args.repeat):  # interleaved rounds, medians: the load drifts
            (x, _, info), c_line, w_line = timed(schur_cg, grid, f, None)
            defl, c_setup, w_setup = timed(Deflated, grid, args.coarse)
            (x_d, it_d, clean, prods, floor), c_defl, w_defl = timed(defl.solve, f)
            times.append((c_line, w_line, c_setup, c_setup + c_defl, w_setup + w_defl))
        c_line, w_line, c_setup, c_total, w_total = np.median(times, axis=0)
        its = f"{it_d}+{clean}" if clean else str(it_d)
        dx = float(np.abs(x_d - x).max() / np.abs(x).max())
        print(f"{n:>5} {batch:>5} | {info['iterations']:>11} {c_line:>7.3f} {w_line:>7.3f} "
              f"{lam:>8.3f} | {defl.n_coarse:>13} {its:>5} {prods:>7} {c_setup:>7.3f} "
              f"{c_total:>7.3f} {w_total:>7.3f} {dx:>8.1e} {floor:>8.1e}", flush=True)
        if batch == 1:
            for (cells, counts), count in zip(series.values(),
                                              (info["iterations"], it_d + clean, prods)):
                cells.append(n * n)
                counts.append(count)
    print(f"\ncheaper variants, iterations (hats every {args.coarse} cells): additive "
          "A_w^-1 + Z (Z^T W Z)^-1 Z^T / shipped CG started from the coarse answer")
    for n in sizes:
        grid, f = grid_case(n, 1)
        print(f"{n:>5}: " + " / ".join(map(str, variant_iterations(grid, f, args.coarse))))
    print(f"\niterations of the shipped solver at {args.sweep_size}x{args.sweep_size} "
          f"(load {os.getloadavg()[0]:.1f}); in brackets n sqrt(mean(G) r), the array's "
          "size over the length 1/sqrt(G r) on which wire drop and cell leak balance:")
    ranges = ((1e-7, 1e-6), (1e-6, 1e-4), (1e-4, 1e-3))
    print(f"{'wire ohm':>8} " + " ".join(f"{f'{lo:.0e}-{hi:.0e} S':>16}" for lo, hi in ranges))
    for r_ohm in (0.1, 1.0, 10.0):
        its = []
        for lo, hi in ranges:
            grid, f = grid_case(args.sweep_size, 1, r_ohm, lo, hi)
            size = args.sweep_size * np.sqrt(grid.g.mean() * r_ohm)   # array over lambda
            its.append(f"{schur_cg(grid, f, None)[2]['iterations']} ({size:.1f})")
        print(f"{r_ohm:>8} " + " ".join(f"{i:>16}" for i in its))
    path = loglog_figure(series, f"CG to rtol 1e-13 (1 ohm wires, 1-100 uS cells; coarse hats "
                         f"every {args.coarse} cells)", OUT / f"precond_{args.coarse}.png",
                         ylabel="count")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
