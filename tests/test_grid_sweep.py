"""The grid's block elimination (:mod:`spicebar.engines.nodal.grid_sweep`) against a sparse
LU of the same nodal matrix, assembled here from the grid's stamps entry by entry."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import spicebar as sb
from spicebar.engines.nodal.grid import _Grid
from spicebar.engines.nodal.grid_sweep import GridSweep, sweep_memory_bytes

#: Two direct solves of the same SPD system in different orders: they differ by rounding
#: times the condition number (cells 1-100 uS against 0.1-1 S segments: about 1e5 here).
#: Measured at most 1.5e-14 of the largest voltage; a wrong block or sign is off by O(1).
SWEEP_REL = 1e-11


def _assemble(grid: _Grid) -> sp.csc_matrix:
    """The grid's matrix over (word-line nodes, bit-line nodes), both row-major."""
    rows, cols = grid.g.shape
    n = rows * cols
    iw = np.arange(n).reshape(rows, cols)
    ib = iw + n
    r, c, v = [], [], []

    def add(i, j, x):
        r.extend([i.ravel()]), c.extend([j.ravel()]), v.extend([np.broadcast_to(x, i.shape).ravel()])
    add(iw, iw, grid.diag_w)
    add(ib, ib, grid.diag_b)
    for a, b in ((iw, ib), (ib, iw)):
        add(a, b, -grid.g)
    for a, b in ((iw[:, :-1], iw[:, 1:]), (iw[:, 1:], iw[:, :-1])):
        add(a, b, grid.off_w[:, :-1])
    for a, b in ((ib[:-1], ib[1:]), (ib[1:], ib[:-1])):
        add(a, b, grid.off_b[:-1])
    return sp.csc_matrix((np.concatenate(v), (np.concatenate(r), np.concatenate(c))),
                         shape=(2 * n, 2 * n))


@pytest.mark.parametrize("rows,cols,drive,sense", [
    (7, 5, "left", "bottom"), (5, 9, "both", "both"), (12, 12, "right", "top"),
    (3, 11, "left", "both"), (1, 6, "left", "bottom"), (6, 1, "both", "bottom")])
def test_block_elimination_matches_a_sparse_lu(rows, cols, drive, sense):
    rng = np.random.default_rng(rows * 100 + cols)
    g = np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), (rows, cols)))
    spec = sb.CrossbarSpec(g, r_wl=rng.uniform(1.0, 10.0, (rows, cols + 1)), r_bl=2.0,
                           drive=drive, sense=sense, r_driver=10.0, r_sense=5.0)
    grid = _Grid(spec)
    f_w, f_b = rng.normal(size=(2, rows, cols, 3)) * 1e-6
    f_w[..., 2] = 0.0
    f_b[..., 1] = 0.0
    sweep = GridSweep(grid)
    assert sweep.transposed == (rows < cols)   # the narrower side is the dense block
    lu = spla.splu(_assemble(grid))
    for fw in (f_w, None):
        x_w, x_b = sweep.solve(fw, f_b)
        rhs = np.concatenate([(f_w if fw is not None else 0 * f_w).reshape(-1, 3),
                              f_b.reshape(-1, 3)])
        ref = lu.solve(rhs)
        got = np.concatenate([x_w.reshape(-1, 3), x_b.reshape(-1, 3)])
        np.testing.assert_allclose(got, ref, rtol=0, atol=SWEEP_REL * np.abs(ref).max())
    # into views of a caller's array, as the noise reduction writes its probes
    out = np.zeros((2 * rows * cols, 5))
    views = (out[:rows * cols, 1:4].reshape(rows, cols, 3),
             out[rows * cols:, 1:4].reshape(rows, cols, 3))
    sweep.solve(f_w, f_b, *views)
    np.testing.assert_allclose(out[:, 1:4], lu.solve(np.concatenate(
        [f_w.reshape(-1, 3), f_b.reshape(-1, 3)])), rtol=0, atol=SWEEP_REL * np.abs(out).max())
    assert not out[:, [0, 4]].any()


def test_memory_estimate_counts_the_block_inverses():
    # rows dense min(rows, cols)^2 inverses, plus four arrays of the right-hand sides
    assert sweep_memory_bytes(512, 256, 0) == 8 * 512 * 256 * 256
    assert sweep_memory_bytes(256, 512, 10) == 8 * (256 * 512 * 256 + 4 * 256 * 512 * 10)



@pytest.mark.parametrize("rows,cols", [(9, 4), (4, 9), (5, 5), (4, 3), (2, 3), (12, 6)])
def test_two_workers_twist_the_elimination_and_agree(rows, cols):
    """Two workers eliminate from both ends to a middle row at once (the first solve's
    right-hand sides carried along), then solve again on the same factors: the same
    solutions as one worker's plain sweep and as a sparse LU, to rounding."""
    rng = np.random.default_rng(7)
    spec = sb.CrossbarSpec(np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), (rows, cols))),
                           r_wl=3.0, r_bl=2.0, drive="both", sense="both", r_driver=10.0,
                           r_sense=5.0)
    grid = _Grid(spec)
    lu = spla.splu(_assemble(grid))
    n_sweep = max(rows, cols)
    probes = np.zeros((rows, cols, cols))          # the noise reduction's: the bottom row only
    probes[-1, np.arange(cols), np.arange(cols)] = 1e-3
    dense = rng.normal(size=(2, rows, cols, 5)) * 1e-6
    for first, rhs_rows in ((probes, (rows - 1,)), (dense[1], None)):
        one, two = GridSweep(grid, workers=1), GridSweep(grid, workers=2)
        for f_w, f_b, rr in ((None, first, rhs_rows), (dense[0], dense[1], None)):
            ref = np.concatenate([x.reshape(-1) for x in one.solve(f_w, f_b, rhs_rows=rr)])
            got = np.concatenate([x.reshape(-1) for x in two.solve(f_w, f_b, rhs_rows=rr)])
            np.testing.assert_allclose(got, ref, rtol=0, atol=SWEEP_REL * np.abs(ref).max())
            k = f_b.shape[2]
            fw = np.zeros_like(f_b) if f_w is None else f_w
            exact = lu.solve(np.concatenate([fw.reshape(-1, k), f_b.reshape(-1, k)])).reshape(-1)
            np.testing.assert_allclose(got, exact, rtol=0, atol=SWEEP_REL * np.abs(ref).max())
        assert one.mid == n_sweep - 1
        if n_sweep < 4:
            assert two.mid == n_sweep - 1
        else:   # both ends at once; probes entering at the bottom move the middle down
            assert 0 < two.mid < n_sweep - 1
            if rhs_rows and not two.transposed:
                assert two.mid >= n_sweep // 2


def test_no_kernel_compiles_after_warm():
    """`make setup` warms the row kernels for every layout the elimination and the noise
    fold pass (tall and wide grids, read-only cells, views into the adjoint voltages), so
    a user's first noise budget loads machine code instead of compiling it."""
    from spicebar.engines.nodal import row_kernels
    row_kernels.warm()
    kernels = {k: f for k, f in vars(row_kernels).items() if hasattr(f, "signatures")}
    assert len(kernels) == 4      # numba is a dependency: the four are compiled
    before = {k: len(f.signatures) for k, f in kernels.items()}
    rng = np.random.default_rng(3)
    for rows, cols in ((9, 5), (5, 9)):
        spec = sb.CrossbarSpec(rng.uniform(1e-6, 1e-5, (rows, cols)), r_wl=1.0, r_bl=2.0,
                               readout=sb.IntegratorSpec(opamp=sb.OpAmpSpec("macro")))
        sb.noise(spec, rng.uniform(0.0, 0.2, rows), network="reduced")
    assert {k: len(f.signatures) for k, f in kernels.items()} == before


@pytest.mark.parametrize("g_lo,g_hi,r_ohm", [(1e-9, 1e-8, 1e-3), (1e-3, 1e-2, 1e3), (1e-7, 1e-3, 1e-2)])
def test_extreme_cell_to_wire_ratios_stay_exact(g_lo, g_hi, r_ohm):
    """Cells 1e12 times weaker than a segment (lines near equipotential: each block a small
    remainder of large terms) or 10 times stronger: the elimination, one or two workers,
    still agrees with the sparse LU (measured 6e-14 at worst)."""
    rng = np.random.default_rng(11)
    n = 24
    g = np.exp(rng.uniform(np.log(g_lo), np.log(g_hi), (n, n)))
    grid = _Grid(sb.CrossbarSpec(g, r_wl=r_ohm, r_bl=r_ohm, r_driver=r_ohm, r_sense=r_ohm))
    f_b = np.zeros((n, n, n))
    f_b[-1, np.arange(n), np.arange(n)] = grid.g_bottom
    ref = spla.splu(_assemble(grid)).solve(np.concatenate([np.zeros((n * n, n)),
                                                           f_b.reshape(-1, n)]))
    for workers in (1, 2):
        x_w, x_b = GridSweep(grid, workers).solve(None, f_b, rhs_rows=(n - 1,))
        got = np.concatenate([x_w.reshape(-1, n), x_b.reshape(-1, n)])
        np.testing.assert_allclose(got, ref, rtol=0, atol=SWEEP_REL * np.abs(ref).max())
