"""Stages of a crossbar with wire capacitance on its grid layout
(:mod:`spicebar.engines.transient.stage_grid`) and the compiled kernels it adds
(:mod:`spicebar.engines.nodal._stage_kernels`), each against a plain numpy / scipy reference;
the line path read from the IR's graph stays covered."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from spicebar import CrossbarSpec
from spicebar.circuit.elaboration import elaborate
from spicebar.circuit.readout import IntegratorSpec, OpAmpSpec
from spicebar.engines.nodal import _kernels as kn
from spicebar.engines.nodal import _stage_kernels as ks
from spicebar.engines.transient import stage_cg
from spicebar.engines.transient.capacitive import CapacitiveArray
from spicebar.engines.transient.stage_grid import GridStages

from .tolerances import FLOAT_REL, STAGE_RESIDUAL_REL

#: A stage solve against scipy's direct solve of the same ``K``: the solve stops at a
#: residual of STAGE_RESIDUAL_REL, and ``K`` (1 ohm wires, uS cells, fF / 10 ps) has a
#: condition number of about 1e4: 1e-9 of the largest voltage holds with room.
SOLVE_REL = 1e-9


def wired_ir(rng, rows=7, cols=5):
    g = rng.uniform(1e-6, 1e-5, (rows, cols))
    ro = IntegratorSpec(c_int_f=1e-12, t_int_s=20e-9, opamp=OpAmpSpec("macro"),
                        c_wl_f=2e-15, c_bl_f=3e-15)
    return elaborate(CrossbarSpec(g, r_wl=1.0, r_bl=2.0, readout=ro))


def inner_system(rng, dh=1e-11):
    """The grid stages of a small array, ``K_oo`` at ``dh`` and the inner capacitances."""
    ir = wired_ir(rng)
    arr = CapacitiveArray(ir, None, "cg")
    o = arr.part.inner
    lap_oo = arr.lap.tocsr()[o][:, o].tocsr()
    grid, why = GridStages.build(ir, o, arr.lap, arr.c[o])
    assert grid is not None, why
    return grid, (lap_oo + sp.diags(arr.c[o] / dh)).tocsr(), lap_oo, arr.c[o]


def test_compiled_factors_are_the_numpy_ones(rng):
    """Same operations in the same order: bit-identical; a bad pivot is refused."""
    d = 3 + rng.random((9, 6))
    off = -rng.random((9, 6))
    rows = ks.thomas_lines(d, np.where(np.arange(9)[:, None] < 8, off, 0.0), 0)
    ref = kn.thomas_factors(d, np.where(np.arange(9)[:, None] < 8, off, 0.0))
    assert all(np.array_equal(a, b) for a, b in zip(rows, ref))
    off_c = np.where(np.arange(6)[None, :] < 5, off, 0.0)
    cols = ks.thomas_lines(d, off_c, 1)
    ref = kn.thomas_factors(d.T.copy(), off_c.T.copy())
    assert all(np.array_equal(a, b.T) for a, b in zip(cols, ref))
    with pytest.raises(Exception, match="not positive definite"):
        ks.thomas_lines(-d, off_c, 1)


def test_residual_kernel_against_scipy(rng):
    grid, k, _, _ = inner_system(rng)
    f = grid._shift(1e-11)
    n = grid.w.size
    x, b = rng.normal(size=2 * n), rng.normal(size=2 * n)
    r_w, r_b, bsq = np.empty((grid.rows, grid.cols)), np.empty((grid.rows, grid.cols)), \
        np.empty(grid.rows)
    ks.grid_residual(f.diag_w, grid.off_w, f.diag_b, grid.off_b, grid.g,
                     b[:n].reshape(grid.rows, grid.cols), b[n:].reshape(grid.rows, grid.cols),
                     x[:n].reshape(grid.rows, grid.cols), x[n:].reshape(grid.rows, grid.cols),
                     r_w, r_b, bsq)
    want = b - k @ x
    scale = abs(k) @ np.abs(x) + np.abs(b)        # the size of the terms summed
    got = np.concatenate([r_w.ravel(), r_b.ravel()])
    assert np.all(np.abs(got - want) <= FLOAT_REL * scale)
    np.testing.assert_allclose(bsq.sum(), b @ b, rtol=FLOAT_REL)


def test_fused_updates_against_numpy(rng):
    x, y, r, p, q, u = (rng.normal(size=(1, 4, 6)) for _ in range(6))
    alpha = np.array([0.37])
    want = [x + alpha * p, y + alpha * u, r - alpha * q]
    rr = np.empty(1)
    ks.cg_step2(x, y, r, p, q, u, alpha, rr)
    for got, ref in zip((x, y, r), want):
        np.testing.assert_allclose(got, ref, rtol=FLOAT_REL, atol=FLOAT_REL)
    np.testing.assert_allclose(rr[0], np.sum(want[2] ** 2), rtol=FLOAT_REL)
    g, t, rows = rng.random((4, 6)), rng.normal(size=(4, 6)), np.empty(4)
    out = np.empty((4, 6))
    ks.add_scaled(r[0], g, t, out, rows)
    np.testing.assert_allclose(out, r[0] + g * t, rtol=FLOAT_REL, atol=FLOAT_REL)
    np.testing.assert_allclose(rows, np.sum(out ** 2, axis=1), rtol=FLOAT_REL)


@pytest.mark.parametrize("order", ["elaborated", "shuffled"])
def test_stage_solve_against_scipy(rng, order):
    """Cold and warm solves meet the stop rule and agree with spsolve; a shuffled node
    order (no views: gathers) gives the same answer."""
    grid, k, lap_oo, c = inner_system(rng)
    if order == "shuffled":
        perm = rng.permutation(2 * grid.w.size)
        inv = np.argsort(perm)
        grid = GridStages(lap_oo[perm][:, perm].tocsr(), inv[grid.w], inv[grid.b], c[perm])
        k = k[perm][:, perm].tocsr()
        assert not grid.views
    else:
        assert grid.views
    for warm in (False, True, True):
        b = rng.normal(size=k.shape[0]) * 1e-3
        x = grid.solve(1e-11, b, STAGE_RESIDUAL_REL, warm)
        assert np.linalg.norm(b - k @ x) <= 2 * STAGE_RESIDUAL_REL * np.linalg.norm(b)
        want = spla.spsolve(k.tocsc(), b)
        assert np.abs(x - want).max() <= SOLVE_REL * np.abs(want).max()
    assert grid.solves == 3 and grid.iterations > 0


def test_an_array_not_on_a_grid_is_refused(rng):
    ir = wired_ir(rng)
    arr = CapacitiveArray(ir, None, "cg")
    o = arr.part.inner
    grid, why = GridStages.build(ir, o[1:], arr.lap, arr.c[o[1:]])
    assert grid is None and "inner nodes" in why
    lap = arr.lap.tolil()
    w0, w2 = ir.wl_node[0, 0], ir.wl_node[0, 2]     # a resistor across a word line
    lap[w0, w2] = lap[w2, w0] = -1.0
    lap[w0, w0] += 1.0
    lap[w2, w2] += 1.0
    grid, why = GridStages.build(ir, o, lap.tocsr(), arr.c[o])
    assert grid is None and "outside its word and bit lines" in why


def test_grid_and_line_paths_agree(rng, monkeypatch):
    """The same stage on the grid layout and on the lines read from the IR's graph."""
    ir = wired_ir(rng)
    out = {}
    for use in (True, False):
        monkeypatch.setattr(stage_cg, "USE_GRID", use)
        arr = CapacitiveArray(ir, None, "cg")
        arr.plan({1e-11: 4})
        assert (arr.cg.grid is not None) == use
        p = arr.part
        local = np.random.default_rng(7)
        out[use] = arr.solve(1e-11, arr.c * local.uniform(0, 0.2, p.n),
                             local.uniform(0, 0.2, p.fixed.size), np.full(p.sense.size, 1e-3))
    assert np.abs(out[True] - out[False]).max() <= SOLVE_REL * np.abs(out[False]).max()


def test_line_sweeps_are_bit_identical_on_any_thread_count(rng):
    """Each line's sweep is independent of the others: the parallel variants (which the
    grid stages use on a million nodes and more) give the serial answer bit for bit."""
    import numba
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    d = 3 + rng.random((40, 70))
    off_r = np.where(np.arange(40)[:, None] < 39, -rng.random((40, 70)), 0.0)
    off_c = np.where(np.arange(70)[None, :] < 69, -rng.random((40, 70)), 0.0)
    x = rng.normal(size=(1, 40, 70))
    a, b = np.empty_like(x), np.empty_like(x)
    kn.along_rows.serial(*ks.thomas_lines(d, off_r, 0), x, a)
    kn.along_rows.parallel(*ks.thomas_lines(d, off_r, 0), x, b)
    assert np.array_equal(a, b)
    dots = [np.empty((1, 40)), np.empty((1, 40))]
    kn.along_cols.serial(*ks.thomas_lines(d, off_c, 1), x, a, dots[0])
    kn.along_cols.parallel(*ks.thomas_lines(d, off_c, 1), x, b, dots[1])
    assert np.array_equal(a, b) and np.array_equal(*dots)
