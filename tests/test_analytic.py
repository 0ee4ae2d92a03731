"""Engines against analytic limits and conservation laws (no simulator needed)."""

import numpy as np
import pytest

from spicebar import CrossbarSpec, simulate
from spicebar.circuit.elaboration import elaborate
from spicebar.engines.nodal import conductance_matrix, solve_nodal

from .analytic import single_cell_current, single_column_current, single_row_currents
from .conftest import random_conductances
from .tolerances import ANALYTIC_REL, FLOAT_REL, rounding_current


@pytest.mark.parametrize("r_wl, r_bl, r_driver, r_sense", [
    (1.0, 1.0, 0.0, 0.0), (0.0, 5.0, 0.0, 0.0), (10.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0),
    (1.0, 2.0, 100.0, 50.0)])
def test_single_cell(r_wl, r_bl, r_driver, r_sense):
    spec = CrossbarSpec([[1e-4]], r_wl=r_wl, r_bl=r_bl, r_driver=r_driver, r_sense=r_sense)
    r = simulate(spec, [0.3], "nodal")
    expect = single_cell_current(0.3, 1e-4, r_wl, r_bl, r_driver, r_sense)
    assert r.currents[0, 0] == pytest.approx(expect, rel=ANALYTIC_REL)


@pytest.mark.parametrize("n", [1, 2, 7, 64])
@pytest.mark.parametrize("r_wl, r_bl", [(1.0, 1.0), (10.0, 0.0), (0.1, 3.0)])
def test_single_row_ladder(rng, n, r_wl, r_bl):
    g = random_conductances(rng, 1, n)
    r = simulate(CrossbarSpec(g, r_wl=r_wl, r_bl=r_bl), [0.25], "nodal")
    np.testing.assert_allclose(r.currents[0], single_row_currents(0.25, g[0], r_wl, r_bl),
                               rtol=ANALYTIC_REL)


@pytest.mark.parametrize("n", [1, 3, 64])
@pytest.mark.parametrize("r_wl, r_bl", [(1.0, 1.0), (0.0, 10.0), (2.0, 0.5)])
def test_single_column_ladder(rng, n, r_wl, r_bl):
    g = random_conductances(rng, n, 1)
    v = rng.uniform(-0.2, 0.3, n)
    r = simulate(CrossbarSpec(g, r_wl=r_wl, r_bl=r_bl), v, "nodal")
    assert r.currents[0, 0] == pytest.approx(single_column_current(v, g[:, 0], r_wl, r_bl),
                                             rel=ANALYTIC_REL)


def test_zero_wire_resistance_is_exactly_v_at_g(rng):
    g = random_conductances(rng, 40, 30)
    v = rng.uniform(-0.2, 0.2, (5, 40))
    spec = CrossbarSpec(g)
    for engine in ("ideal", "nodal"):
        np.testing.assert_allclose(simulate(spec, v, engine).currents, v @ g, rtol=FLOAT_REL,
                                   atol=FLOAT_REL * np.abs(v @ g).max())


def test_error_vanishes_linearly_as_wire_resistance_goes_to_zero(rng):
    """First-order perturbation: the IR-drop error is proportional to r for small r."""
    g = random_conductances(rng, 32, 32)
    v = rng.uniform(0.0, 0.2, (2, 32))
    ideal = v @ g
    errors = []
    for r in (1e-1, 1e-2, 1e-3, 1e-4):
        i = simulate(CrossbarSpec(g, r_wl=r, r_bl=r), v, "nodal").currents
        errors.append(np.abs(i - ideal).max() / np.abs(ideal).max())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    # each tenfold cut in r cuts the error tenfold; the O(r^2) term moves the first ratio <1%
    np.testing.assert_allclose(ratios, 10.0, rtol=0.01)
    assert errors[-1] < 1e-5


@pytest.mark.parametrize("drive, sense", [("left", "bottom"), ("right", "top"), ("both", "both")])
def test_driver_current_equals_readout_current(rng, drive, sense):
    """Conservation: no path to ground but the readout, so what drivers push in comes out."""
    g = random_conductances(rng, 20, 25)
    v = rng.uniform(-0.2, 0.2, (4, 20))
    r = simulate(CrossbarSpec(g, r_wl=2.0, r_bl=1.0, r_driver=5, r_sense=3, drive=drive,
                              sense=sense), v, "nodal")
    total_in, total_out = r.driver_currents.sum(axis=1), r.currents.sum(axis=1)
    # sums of 20-50 source currents, each a wire voltage difference over >= 1 ohm
    np.testing.assert_allclose(total_in, total_out, rtol=0,
                               atol=rounding_current(0.2, 1.0, terms=2 * 25))


def test_kcl_residual_at_every_node(rng):
    g = random_conductances(rng, 16, 16)
    v = rng.uniform(-0.2, 0.2, (3, 16))
    ir = elaborate(CrossbarSpec(g, r_wl=1.0, r_bl=1.0))
    r = solve_nodal(ir, v)
    assert r.info["kcl_residual_rel"] < FLOAT_REL
    # rebuild every node voltage and check KCL at the nodes not held by a source
    lap = conductance_matrix(ir)
    volts = np.zeros((ir.n_nodes, 3))
    volts[ir.wl_node] = r.v_wl.transpose(1, 2, 0)
    volts[ir.bl_node] = r.v_bl.transpose(1, 2, 0)
    volts[ir.drivers.node_p] = v.T
    free = np.setdiff1d(np.unique(np.r_[ir.wl_node.ravel(), ir.bl_node.ravel()]),
                        np.r_[ir.drivers.node_p, ir.senses.node_p])
    net = lap @ volts
    # each free node joins at most 3 elements, the smallest a 1 ohm wire
    assert np.abs(net[free]).max() < rounding_current(0.2, 1.0, terms=3)


def test_ideal_engine_has_no_drop(rng):
    g = random_conductances(rng, 4, 5)
    r = simulate(CrossbarSpec(g, r_wl=5.0), [0.1, 0.2, 0.3, 0.4], "ideal")
    assert np.all(r.v_bl == 0) and np.all(r.v_wl[0, :, 0] == [0.1, 0.2, 0.3, 0.4])


def test_wires_only_ever_lose_current_for_positive_inputs(rng):
    """Passive network, positive inputs: every column current lies in (0, V @ G]."""
    g = random_conductances(rng, 24, 24)
    v = rng.uniform(0.01, 0.2, (3, 24))
    i = simulate(CrossbarSpec(g, r_wl=3.0, r_bl=3.0), v, "nodal").currents
    assert np.all(i > 0) and np.all(i <= v @ g)
