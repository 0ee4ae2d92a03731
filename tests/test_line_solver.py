"""The fast line solver (conjugate gradients over word/bit lines) against the direct LU."""

import numpy as np
import pytest

from spicebar import CrossbarSpec, SolverError, simulate
from spicebar.circuit.elaboration import elaborate
from spicebar.engines.nodal import grid as grid_module
from spicebar.engines.nodal.grid import grid_reason, solve_grid
from spicebar.engines.nodal import solve_nodal
from spicebar.engines.nodal.solvers import AUTO_ITERATIVE_CELLS
from spicebar.engines.memory import ResourceError

from .conftest import random_conductances
from .tolerances import LINE_SOLVER_REL, VOLTAGE_RESIDUAL_REL


def assert_same(a, b, rel=LINE_SOLVER_REL, r_min=0.01):
    """Currents, driver currents and node voltages agree relative to their largest value.

    ``r_min``: smallest wire resistance, ohm (driver currents: see VOLTAGE_RESIDUAL_REL).
    """
    vmax = np.abs(b.inputs).max()
    for name in ("currents", "driver_currents", "v_wl", "v_bl", "cell_currents"):
        x, y = getattr(a, name, None), getattr(b, name, None)
        if x is None and y is None:
            continue
        atol = rel * max(np.abs(y).max(), vmax if name.startswith("v_") else 0)
        if name == "driver_currents":
            atol += VOLTAGE_RESIDUAL_REL * vmax / r_min
        np.testing.assert_allclose(x, y, rtol=0, atol=atol, err_msg=name)


@pytest.mark.parametrize("r_wl, r_bl", [(0.01, 0.01), (0.01, 10.0), (10.0, 0.01), (10.0, 10.0),
                                        (1.0, 1.0)])
def test_grid_solver_matches_direct_over_wire_and_cell_ranges(rng, r_wl, r_bl):
    g = random_conductances(rng, 48, 40, g_min=1e-7, g_max=1e-3)
    v = rng.uniform(-0.2, 0.2, (3, 48))
    spec = CrossbarSpec(g, r_wl=r_wl, r_bl=r_bl)
    fast = simulate(spec, v, "nodal", solver="iterative")
    assert fast.info["iterations"] > 0 and fast.info["cg_residual_rel"] <= fast.info["rtol"]
    assert "grid line solver" in fast.info["solver_choice"]
    assert_same(fast, simulate(spec, v, "nodal", solver="direct"))


@pytest.mark.parametrize("options", [
    dict(r_wl=1.0, r_bl=2.0, r_driver=100.0, r_sense=50.0),
    dict(r_wl=1.0, r_bl=2.0, drive="both", sense="both"),
    dict(r_wl=3.0, r_bl=0.5, drive="right", sense="top", r_sense=2.0),
    dict(r_wl=0.0, r_bl=2.0), dict(r_wl=2.0, r_bl=0.0), dict(r_wl=0.0, r_bl=0.0),
    "per-segment",
])
def test_grid_solver_handles_every_topology_option(rng, options):
    rows, cols = 20, 24
    if options == "per-segment":
        options = dict(r_wl=rng.uniform(0.01, 10, (rows, cols + 1)),
                       r_bl=rng.uniform(0.01, 10, (rows + 1, cols)), drive="both")
    spec = CrossbarSpec(random_conductances(rng, rows, cols, 1e-7, 1e-3), **options)
    assert grid_reason(spec) is None
    v = rng.uniform(-0.2, 0.2, (2, rows))
    assert_same(solve_grid(spec, v), solve_nodal(elaborate(spec), v))


@pytest.mark.parametrize("options", [
    dict(r_wl=0.0, r_bl=2.0, r_driver=5.0, drive="both", sense="both"),  # merged word lines
    dict(r_wl=1.0, r_bl=1.0, r_driver=20.0, r_sense=10.0),
])
def test_ir_line_solver_matches_direct(rng, options):
    spec = CrossbarSpec(random_conductances(rng, 24, 20, 1e-7, 1e-3), **options)
    ir = elaborate(spec)
    v = rng.uniform(-0.2, 0.2, (3, 24))
    fast = solve_nodal(ir, v, solver="iterative")
    assert "on the IR" in fast.info["solver"] and "solver_fallback" not in fast.info
    assert_same(fast, solve_nodal(ir, v, solver="direct"))


def test_ideal_segment_in_a_resistive_line_goes_to_the_ir_path(rng):
    r_wl = np.full((16, 17), 1.0)
    r_wl[:, 5] = 0.0  # one ideal segment on every word line: the grid solver declines
    spec = CrossbarSpec(random_conductances(rng, 16, 16), r_wl=r_wl, r_bl=1.0)
    assert "ideal" in grid_reason(spec)
    v = rng.uniform(0, 0.2, (2, 16))
    fast = simulate(spec, v, "nodal", solver="iterative")
    assert "grid solver not applicable" in fast.info["solver_choice"]
    assert_same(fast, simulate(spec, v, "nodal", solver="direct"))


def test_batch_wider_than_rows_uses_the_unit_basis(rng):
    spec = CrossbarSpec(random_conductances(rng, 12, 30), r_wl=2.0, r_bl=1.0)
    v = rng.uniform(-0.2, 0.2, (40, 12))
    fast = solve_grid(spec, v)
    assert fast.info["basis_solves"]
    assert_same(fast, simulate(spec, v, "nodal", solver="direct"))


def test_auto_picks_the_line_solver_for_large_arrays(rng):
    n = int(np.sqrt(AUTO_ITERATIVE_CELLS))
    spec = CrossbarSpec(random_conductances(rng, n, n), r_wl=1.0, r_bl=1.0)
    r = simulate(spec, rng.uniform(0, 0.2, n), "nodal")
    assert r.info["solver_choice"].startswith("auto: grid line solver")
    small = simulate(CrossbarSpec(random_conductances(rng, 8, 8), r_wl=1.0, r_bl=1.0),
                     np.full(8, 0.1), "nodal")
    assert small.info["solver"].startswith("scipy splu")


def test_no_convergence_raises_with_the_residual(rng):
    spec = CrossbarSpec(random_conductances(rng, 32, 32, 1e-4, 1e-3), r_wl=10.0, r_bl=10.0)
    with pytest.raises(SolverError, match=r"did not converge: relative residual .* after 1 "):
        solve_grid(spec, np.full((1, 32), 0.2), max_iter=1)


def test_memory_estimate_refuses_before_solving(monkeypatch, rng):
    spec = CrossbarSpec(random_conductances(rng, 64, 64), r_wl=1.0, r_bl=1.0)
    from spicebar.engines import memory as resources
    monkeypatch.setattr(resources, "available_bytes", lambda: 1_000_000)
    with pytest.raises(ResourceError, match=r"needs about .* GB.*available"):
        solve_grid(spec, np.full((1, 64), 0.2))


def test_cli_solver_flag(tmp_path, rng):
    import json
    import subprocess
    import sys

    from spicebar.results import SimulationResult
    g = random_conductances(rng, 10, 12)
    np.save(tmp_path / "G.npy", g)
    np.save(tmp_path / "V.npy", rng.uniform(0, 0.2, (2, 10)))
    outs = {}
    for solver in ("iterative", "direct"):
        out = tmp_path / f"{solver}.npz"
        p = subprocess.run([sys.executable, "-m", "spicebar.cli", "simulate", "-G",
                            tmp_path / "G.npy", "-V", tmp_path / "V.npy", "--r-wl", "1",
                            "--r-bl", "1", "--solver", solver, "-o", out],
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        outs[solver] = SimulationResult.load(out)
    assert outs["iterative"].info["iterations"] > 0
    assert json.dumps(outs["iterative"].info)  # info stays JSON-able
    assert_same(outs["iterative"], outs["direct"])


def test_kcl_residual_catches_a_wrong_answer(rng):
    """The reported KCL residual is the check of the answer, not CG's own bookkeeping."""
    spec = CrossbarSpec(random_conductances(rng, 24, 20, 1e-6, 1e-4), r_wl=1.0, r_bl=1.0)
    volts = rng.uniform(0, 0.2, (2, 24))
    grid = grid_module._Grid(spec)
    x_w, x_b, _ = grid_module._solve_layouts(grid, volts, 1e-13, None)
    assert grid_module._kcl_residual(grid, volts, x_w, x_b) < 1e-12  # CG stops at 1e-13
    for x in (x_w, x_b):  # 1 uV off at one node: each 1 ohm wire beside it carries 1 uA more
        x[1, 7, 5] += 1e-6
        # relative to the largest source current, g_end * V <= 1 S * 0.2 V: >= 5e-6
        assert grid_module._kcl_residual(grid, volts, x_w, x_b) > 4e-6
        x[1, 7, 5] -= 1e-6


def test_deferred_maps_are_built_on_first_read_and_survive_pickling(rng):
    import pickle
    spec = CrossbarSpec(random_conductances(rng, 10, 14), r_wl=1.0, r_bl=2.0)
    v = rng.uniform(-0.2, 0.2, (25, 10))
    fast = solve_grid(spec, v)
    assert fast.deferred == ("v_wl", "v_bl", "cell_currents")
    copy = pickle.loads(pickle.dumps(fast))
    direct = simulate(spec, v, "nodal", solver="direct")
    assert_same(fast, direct)
    assert fast.deferred == ()
    assert copy.deferred == ("v_wl", "v_bl", "cell_currents")
    assert_same(copy, direct)


@pytest.mark.parametrize("solver, who", [("direct", r"direct \(LU\)"), ("iterative", "line solver")])
def test_the_memory_limit_reaches_the_solver_that_runs(rng, solver, who):
    """One estimate per solver, asked once: the caller's limit is held against it."""
    spec = CrossbarSpec(random_conductances(rng, 64, 64), r_wl=1.0, r_bl=1.0)
    with pytest.raises(ResourceError, match=rf"{who}.* needs about .* GB.*the limit you set"):
        simulate(spec, np.full(64, 0.2), "nodal", solver=solver, memory_limit_bytes=10_000_000)
    simulate(spec, np.full(64, 0.2), "nodal", solver=solver, memory_limit_bytes=2_000_000_000)


def test_copies_of_a_result_build_their_maps_independently(rng):
    import copy
    spec = CrossbarSpec(random_conductances(rng, 6, 5), r_wl=1.0, r_bl=1.0)
    fast = solve_grid(spec, rng.uniform(0, 0.2, (9, 6)))
    twin = copy.copy(fast)
    v_wl = fast.v_wl  # built on the original: the copy still knows how to build its own
    np.testing.assert_array_equal(twin.v_wl, v_wl)
    assert fast.deferred == twin.deferred == ("v_bl", "cell_currents")
