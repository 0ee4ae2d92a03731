"""Sneak-path decomposition and read margin: exact sums, physical limits, known behaviour."""

import numpy as np
import pytest

from spicebar import CrossbarSpec, simulate, simulate_all
from spicebar.circuit.cells import NonlinearCell, PassiveCell, SelectorCell, TransistorCell
from spicebar.circuit.operation import ReadOperation, VmmOperation
from spicebar.analysis.read_margin import read_margin
from spicebar.analysis.sneak import TERMS, decompose

from .conftest import random_conductances
from .tolerances import CELL_AGREEMENT_REL, ENGINE_AGREEMENT_REL, FLOAT_REL


def _assert_sums_back(d):
    parts = sum(getattr(d, t) for t in TERMS)
    scale = np.abs(d.total).max()
    # the identity holds by construction: only float64 rounding of a 5-term sum remains
    np.testing.assert_allclose(parts, d.total, rtol=0, atol=FLOAT_REL * scale)
    np.testing.assert_allclose(d.error, d.ir_drop + d.device + d.sneak + d.residual, rtol=0,
                               atol=FLOAT_REL * scale)
    # the residual is the engine's KCL residual (sum of cell currents vs readout current)
    assert np.abs(d.residual).max() <= ENGINE_AGREEMENT_REL * scale


@pytest.mark.parametrize("cell, op", [
    (PassiveCell(), None),
    (PassiveCell(), VmmOperation(floating_rows=(1, 4))),
    (NonlinearCell(), VmmOperation(floating_rows=(2,))),
    (SelectorCell(nonlinearity=30.0), None),
    (TransistorCell(vg_on_volt=1.8), VmmOperation(gated_off_rows=(0,), floating_rows=(3,))),
    (PassiveCell(), ReadOperation(row=1, col=2, scheme="floating")),
    (SelectorCell(), ReadOperation(row=1, col=2, v_read_volt=1.0, scheme="v3")),
])
def test_decomposition_sums_back_exactly(rng, cell, op):
    g = random_conductances(rng, 6, 7)
    v = None if op is not None and op.mode == "read" else rng.uniform(-0.1, 0.5, (3, 6))
    r = simulate(CrossbarSpec(g, r_wl=2.0, r_bl=2.0, cell=cell), v, "nodal", operation=op)
    _assert_sums_back(decompose(CrossbarSpec(g, cell=cell), r, op))


def test_decomposition_of_ngspice_results_sums_back_and_matches_nodal(ngspice_ready, rng):
    g = random_conductances(rng, 8, 8)
    spec = CrossbarSpec(g, r_wl=2.0, r_bl=2.0, cell=SelectorCell(nonlinearity=100.0))
    op = VmmOperation(floating_rows=(2, 5))
    rs = simulate_all(spec, rng.uniform(0.3, 1.0, (2, 8)), ("nodal", "ngspice"), operation=op)
    dn, ds = (decompose(spec, rs[e], op) for e in ("nodal", "ngspice"))
    _assert_sums_back(ds)
    for t in ("ideal", "ir_drop", "device", "sneak"):
        np.testing.assert_allclose(getattr(ds, t), getattr(dn, t), rtol=0,
                                   atol=CELL_AGREEMENT_REL * np.abs(ds.total).max())


def test_terms_vanish_where_physics_says_so(rng):
    g = random_conductances(rng, 5, 5)
    v = rng.uniform(0.05, 0.2, (2, 5))
    # ideal wires, linear cells, every row driven: the ideal model is exact
    d = decompose(CrossbarSpec(g), simulate(CrossbarSpec(g), v, "nodal"))
    scale = np.abs(d.total).max()
    for t in ("ir_drop", "device", "sneak"):
        assert np.abs(getattr(d, t)).max() <= FLOAT_REL * scale
    # wires: only IR drop (all cells forward-biased at these inputs)
    spec = CrossbarSpec(g, r_wl=5.0, r_bl=5.0)
    d = decompose(spec, simulate(spec, v, "nodal"))
    assert np.all(d.ir_drop < 0) and np.abs(d.sneak).max() == 0
    assert np.abs(d.device).max() <= FLOAT_REL * np.abs(d.total).max()  # 1/R vs G rounding
    # a floating row on ideal wires sits between bit lines all at 0 V: no sneak current
    op = VmmOperation(floating_rows=(0,))
    d = decompose(CrossbarSpec(g), simulate(CrossbarSpec(g), v, "nodal", operation=op), op)
    assert np.abs(d.sneak).max() <= FLOAT_REL * np.abs(d.total).max()
    # with bit-line resistance it picks up current from some bit lines and returns it to
    # others: sneak current in every column, summing to zero over the floating line (KCL)
    r = simulate(spec, v, "nodal", operation=op)
    d = decompose(spec, r, op)
    assert np.all(np.abs(d.sneak) > 0) and np.all(d.sneak.min(axis=1) < 0)
    np.testing.assert_allclose(r.cell_currents[:, 0].sum(axis=1), 0,
                               atol=ENGINE_AGREEMENT_REL * np.abs(r.cell_currents[:, 0]).max())


def test_passive_read_margin_collapses_under_floating_bias_and_a_selector_keeps_it():
    small = read_margin(2, 2, scheme="floating")
    big = read_margin(32, 32, scheme="floating")
    assert big.margin < 0.1 and big.margin < small.margin / 5  # sneak paths grow with n
    sel = SelectorCell(nonlinearity=1000.0, v_read_volt=1.0, i_read_a=1e-4)
    assert read_margin(32, 32, cell=sel, scheme="floating").margin > 0.85
    # 1T1R: unselected rows gated off, no sneak path left
    assert read_margin(32, 32, cell=TransistorCell(vg_on_volt=1.8), scheme="floating").margin > 0.98


@pytest.mark.parametrize("cell", [PassiveCell(), NonlinearCell(), SelectorCell()])
def test_v3_scheme_beats_v2_scheme(cell):
    """Unselected cells on the sensed bit line see V/3 instead of V/2: less half-select leakage."""
    m2 = read_margin(16, 16, cell=cell, scheme="v2").margin
    m3 = read_margin(16, 16, cell=cell, scheme="v3").margin
    assert m3 > m2


def test_read_margin_agrees_between_engines(ngspice_ready):
    a = read_margin(8, 8, cell=SelectorCell(), scheme="v2")
    b = read_margin(8, 8, cell=SelectorCell(), scheme="v2", engine="ngspice")
    assert b.margin == pytest.approx(a.margin, rel=CELL_AGREEMENT_REL)
