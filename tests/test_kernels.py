"""The compiled line-solver kernels against their numpy twins (same formulas, other order).

The grid solver runs the numba kernels; machines without numba run the numpy
versions. Both must give the same numbers, on one thread (small arrays) and on the
thread pool (arrays of at least ``PARALLEL_MIN_ELEMENTS``).
"""

import numpy as np
import pytest

from spicebar.engines.nodal import _kernels as k

from .tolerances import FLOAT_REL

pytestmark = pytest.mark.skipif(not k.HAVE_NUMBA, reason="numba is not installed: only numpy runs")

#: (batch, rows, cols): below and above the thread-pool threshold (PARALLEL_MIN_ELEMENTS).
SHAPES = [(2, 5, 7), (4, 256, 1024)]


def _data(rng, shape):
    b, r, c = shape
    diag = rng.uniform(2.0, 3.0, (r, c))
    off = -rng.uniform(0.1, 0.9, (r, c))
    return dict(diag=diag, off=off, g=rng.uniform(1e-3, 1.0, (r, c)),
                x=rng.standard_normal(shape), y=rng.standard_normal(shape),
                g_end=rng.uniform(0.5, 2.0, (2, r)), volts=rng.standard_normal((b, r)))


def _twins(name):
    return getattr(k, f"_{name}_np"), getattr(k, name)


@pytest.mark.parametrize("shape", SHAPES)
def test_tridiagonal_solves_match(rng, shape):
    d = _data(rng, shape)
    for name, along_rows in (("along_cols", False), ("along_rows", True)):
        if along_rows:  # factors laid (position along the line, line), as the solver keeps them
            factors = k.thomas_factors(d["diag"], d["off"])
        else:
            factors = [np.ascontiguousarray(f.T) for f in k.thomas_factors(d["diag"].T, d["off"].T)]
        py, compiled = _twins(name)
        want, got = np.empty(shape), np.empty(shape)
        extra = [] if along_rows else [np.empty(shape[:2])]  # rhs . out per word line
        extra_got = [np.empty_like(e) for e in extra]
        py(*factors, d["x"], want, *extra)
        # the dispatcher, and both variants directly (a busy machine keeps the dispatcher serial)
        for run in (compiled, compiled.serial, compiled.parallel):
            run(*factors, d["x"], got, *extra_got)
            np.testing.assert_allclose(got, want, rtol=FLOAT_REL,
                                       atol=FLOAT_REL * np.abs(want).max())
            for e, e_got in zip(extra, extra_got):
                np.testing.assert_allclose(e_got, e, rtol=FLOAT_REL,
                                           atol=FLOAT_REL * np.abs(e).max())


@pytest.mark.parametrize("shape", SHAPES)
def test_kcl_kernels_match(rng, shape):
    d = _data(rng, shape)
    b, r, _ = shape
    py, compiled = _twins("kcl_word")
    want, got = np.empty((b, r)), np.empty((b, r))
    args = (d["diag"], d["off"], d["g"], *d["g_end"], d["volts"], d["x"], d["y"])
    py(*args, want)
    compiled(*args, got)
    np.testing.assert_allclose(got, want, rtol=FLOAT_REL)
    py, compiled = _twins("kcl_bit")
    want2, got2 = np.empty((2, b, r)), np.empty((2, b, r))
    py(d["diag"], d["off"], d["g"], d["x"], d["y"], *want2)
    compiled(d["diag"], d["off"], d["g"], d["x"], d["y"], *got2)
    np.testing.assert_allclose(got2, want2, rtol=FLOAT_REL)


@pytest.mark.parametrize("shape", SHAPES)
def test_pointwise_kernels_match(rng, shape):
    d = _data(rng, shape)
    py, compiled = _twins("cell_currents")
    want, got = np.empty(shape), np.empty(shape)
    py(d["x"], d["y"], d["g"], want)
    compiled(d["x"], d["y"], d["g"], got)
    np.testing.assert_array_equal(got, want)  # one subtraction and one product: exact
    py, compiled = _twins("schur_finish")
    dots, dots_got = np.empty(shape[:2]), np.empty(shape[:2])
    py(d["diag"], d["off"], d["g"], d["x"], d["y"], want, dots)
    compiled(d["diag"], d["off"], d["g"], d["x"], d["y"], got, dots_got)
    np.testing.assert_allclose(got, want, rtol=FLOAT_REL, atol=FLOAT_REL * np.abs(want).max())
    np.testing.assert_allclose(dots_got, dots, rtol=FLOAT_REL, atol=FLOAT_REL * np.abs(dots).max())


def test_shapes_cover_both_variants():
    assert np.prod(SHAPES[0]) < k.PARALLEL_MIN_ELEMENTS <= np.prod(SHAPES[1])


@pytest.mark.parametrize("name", ["along_cols", "along_rows"])
def test_the_parallel_variant_is_cached_apart_from_the_serial_one(name):
    """numba files cached machine code by function name and line: under one name the
    parallel variant loaded the serial code and ran on one core. They must differ."""
    kernel = getattr(k, name)
    assert kernel.parallel.targetoptions.get("parallel")
    assert not kernel.serial.targetoptions.get("parallel")
    assert kernel.parallel.py_func.__qualname__ != kernel.serial.py_func.__qualname__


@pytest.mark.parametrize("name", ["schur_finish", "cg_step", "xpby", "cell_currents",
                                  "kcl_word", "kcl_bit", "grid_residual", "add_scaled",
                                  "thomas_rows", "thomas_cols", "cg_step2"])
def test_bandwidth_bound_kernels_are_compiled_once(name):
    """Measured to gain nothing from a second thread (see spicebar.engines.nodal.threads)."""
    from spicebar.engines.nodal import _stage_kernels
    kernel = getattr(k, name, None) or getattr(_stage_kernels, name)
    assert kernel.serial is kernel and not kernel.targetoptions.get("parallel")


def test_warm_compiles_every_variant():
    names = k.warm()
    assert set(names) == {"along_cols", "along_cols_parallel", "along_rows", "along_rows_parallel",
                          "schur_finish", "cg_step", "xpby", "cell_currents", "kcl_word", "kcl_bit"}
    from spicebar.engines.nodal import _stage_kernels
    assert set(_stage_kernels.warm()) == {"grid_residual", "add_scaled", "thomas_rows",
                                          "thomas_cols", "cg_step2"}


def test_a_line_without_a_dc_path_is_refused_by_the_factorisation():
    """Both line solvers factor through thomas_factors: a zero pivot is a SolverError."""
    from spicebar.errors import SolverError
    diag = np.array([[1.0, 2.0], [0.0, 2.0]])  # line 0 loses its pivot at position 1
    off = np.array([[-1.0, -0.5], [0.0, 0.0]])
    with pytest.raises(SolverError, match="no DC path to a driver or readout"):
        k.thomas_factors(diag, off)


def test_no_solve_compiles_after_warm(rng):
    """warm() covers every argument type the solvers pass (the spec's read-only
    conductances, Newton's writable ones): a solve after it compiles nothing."""
    from spicebar.circuit.cells import SelectorCell
    from spicebar.circuit.spec import CrossbarSpec
    from spicebar.engines.simulation import simulate
    k.warm()
    kernels = [getattr(k, n) for n in ("along_cols", "along_rows", "schur_finish", "cg_step",
                                       "xpby", "cell_currents", "kcl_word", "kcl_bit")]
    variants = [v for kern in kernels for v in (kern.serial, getattr(kern, "parallel", None)) if v]
    before = [len(v.signatures) for v in variants]
    g = rng.uniform(1e-6, 1e-4, (12, 9))
    r = simulate(CrossbarSpec(g, r_wl=1.0, r_bl=1.0), rng.uniform(0, 0.2, (20, 12)), "nodal",
                 solver="iterative")
    r.cell_currents  # the maps' kernels too
    cell = SelectorCell(nonlinearity=200, v_read_volt=0.5, i_read_a=1e-5)
    simulate(CrossbarSpec(g, r_wl=1.0, r_bl=1.0, cell=cell), rng.uniform(0, 0.5, (1, 12)),
             "nodal", solver="iterative")
    assert [len(v.signatures) for v in variants] == before
