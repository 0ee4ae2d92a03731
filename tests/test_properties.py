"""Property-based tests (hypothesis) on small random crossbars.

The regular suite runs at least 200 examples per property, bounded in time; set
``SPICEBAR_HYPOTHESIS=long`` for a longer run (2,000 examples, no deadline).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spicebar import CrossbarSpec
from spicebar.circuit.elaboration import elaborate
from spicebar.engines.ideal import solve_ideal
from spicebar.engines.ngspice.engine import solve_ngspice
from spicebar.engines.nodal import conductance_matrix, solve_nodal
from spicebar.netlist.writer import format_netlist
from spicebar.netlist.reader import parse_netlist

from .tolerances import ENGINE_AGREEMENT_REL, FLOAT_REL, rounding_current

LONG = os.environ.get("SPICEBAR_HYPOTHESIS") == "long"
EXAMPLES = 2000 if LONG else 200
PROFILE = settings(max_examples=EXAMPLES, deadline=None if LONG else 2000,
                   suppress_health_check=[HealthCheck.too_slow], derandomize=not LONG)

wire = st.one_of(st.just(0.0), st.floats(0.01, 10.0))


@st.composite
def crossbars(draw):
    rows, cols = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    log_g = draw(st.lists(st.floats(np.log(1e-7), np.log(1e-3)), min_size=rows * cols,
                          max_size=rows * cols))
    spec = CrossbarSpec(np.exp(np.array(log_g)).reshape(rows, cols), r_wl=draw(wire),
                        r_bl=draw(wire), r_driver=draw(st.one_of(st.just(0.0), st.floats(0.1, 100))),
                        r_sense=draw(st.one_of(st.just(0.0), st.floats(0.1, 100))),
                        drive=draw(st.sampled_from(["left", "right", "both"])),
                        sense=draw(st.sampled_from(["bottom", "top", "both"])))
    batch = draw(st.integers(1, 3))
    v = np.array(draw(st.lists(st.floats(-0.5, 0.5), min_size=batch * rows,
                               max_size=batch * rows))).reshape(batch, rows)
    return spec, v


def min_resistance(spec: CrossbarSpec) -> float:
    rs = [x for x in (spec.r_wl, spec.r_bl, spec.r_driver, spec.r_sense) if x > 0]
    return min(rs + [1.0 / spec.conductances.max()])


@PROFILE
@given(crossbars())
def test_kcl_residual_is_zero_at_every_free_node(case):
    spec, v = case
    ir = elaborate(spec)
    r = solve_nodal(ir, v)
    volts = np.zeros((ir.n_nodes, v.shape[0]))
    volts[ir.wl_node] = r.v_wl.transpose(1, 2, 0)
    volts[ir.bl_node] = r.v_bl.transpose(1, 2, 0)
    fixed = np.r_[0, ir.drivers.node_p, ir.senses.node_p]
    volts[ir.drivers.node_p] = ir.driver_voltages(v).T
    cell_nodes = np.unique(np.r_[ir.wl_node.ravel(), ir.bl_node.ravel()])
    lap = conductance_matrix(ir)
    known = np.zeros(ir.n_nodes, bool)
    known[cell_nodes] = known[fixed] = True
    # free cell nodes whose every neighbour's voltage the result reports (or a source fixes)
    free = [n for n in np.setdiff1d(cell_nodes, fixed) if known[lap[n].indices].all()]
    net = lap @ volts
    # the solver's normwise backward error over all free nodes: a backward-stable LU gives
    # a small multiple of eps
    assert r.info["kcl_residual_rel"] < 100 * np.finfo(float).eps
    if free:
        assert np.abs(net[free]).max() <= rounding_current(0.5, min_resistance(spec), terms=4)


@PROFILE
@given(crossbars())
def test_driver_current_equals_readout_current(case):
    spec, v = case
    r = solve_nodal(elaborate(spec), v)
    tol = rounding_current(0.5, min_resistance(spec), terms=2 * (spec.rows + spec.cols))
    np.testing.assert_allclose(r.driver_currents.sum(1), r.currents.sum(1), rtol=0, atol=tol)


@PROFILE
@given(crossbars(), st.floats(0.01, 10.0))
def test_results_move_toward_v_at_g_as_wires_vanish(case, r0):
    """Shrinking every wire tenfold shrinks the error against V @ G (passive network)."""
    spec, v = case
    g = spec.conductances
    ideal = solve_ideal(spec, v).currents
    errors = []
    for r in (r0, r0 / 10, r0 / 100):
        s = CrossbarSpec(g, r_wl=r, r_bl=r, drive=spec.drive, sense=spec.sense)
        errors.append(np.abs(solve_nodal(elaborate(s), v).currents - ideal).max())
    floor = FLOAT_REL * max(np.abs(ideal).max(), 1e-30)
    assert errors[1] <= errors[0] + floor and errors[2] <= errors[1] + floor
    exact = solve_nodal(elaborate(CrossbarSpec(g, drive=spec.drive, sense=spec.sense)), v)
    np.testing.assert_allclose(exact.currents, ideal, rtol=FLOAT_REL, atol=floor)


@PROFILE
@given(crossbars())
def test_emit_parse_emit_is_stable(case):
    spec, v = case
    ir = elaborate(spec)
    text = format_netlist(ir, v[0])
    parsed = parse_netlist(text)
    assert parsed.format() == text
    assert parse_netlist(parsed.format()).format() == text
    elements = parsed.elements
    for group in ir.resistors:  # every value reads back to the same float64
        got = np.array([elements[n].value for n in group.names])
        np.testing.assert_array_equal(got, group.value)


@pytest.fixture(scope="module")
def session():
    """One ngspice process for every example (a fresh one per example costs ~0.3 s)."""
    from spicebar.engines.ngspice.session import NgspiceSession
    with NgspiceSession() as s:
        yield s


@pytest.mark.ngspice
@PROFILE
@given(case=crossbars())
def test_nodal_and_ngspice_agree(ngspice_ready, session, case):
    spec, v = case
    ir = elaborate(spec)
    a, b = solve_ngspice(ir, v, session=session), solve_nodal(ir, v)
    scale = max(np.abs(b.currents).max(), 1e-30)
    np.testing.assert_allclose(a.currents, b.currents, rtol=ENGINE_AGREEMENT_REL,
                               atol=ENGINE_AGREEMENT_REL * scale)


@pytest.mark.ngspice
def test_same_spec_same_bits(ngspice_ready, tmp_path):
    """Determinism: the same spec and seed give byte-identical netlists and identical results."""
    def build(seed):
        rng = np.random.default_rng(seed)
        g = np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), (20, 30)))
        return CrossbarSpec(g, r_wl=1.5, r_bl=0.7, r_sense=2.0), rng.uniform(-0.2, 0.2, (3, 20))

    (s1, v1), (s2, v2) = build(7), build(7)
    t1, t2 = format_netlist(elaborate(s1), v1[0]), format_netlist(elaborate(s2), v2[0])
    assert t1.encode() == t2.encode()
    for engine in (solve_nodal, solve_ngspice):
        r1, r2 = engine(elaborate(s1), v1), engine(elaborate(s2), v2)
        for key in ("currents", "v_wl", "v_bl", "driver_currents"):
            np.testing.assert_array_equal(getattr(r1, key), getattr(r2, key))
    assert format_netlist(elaborate(build(8)[0])) != format_netlist(elaborate(s1))
