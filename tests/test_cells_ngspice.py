"""Newton nodal engine against the real ngspice on nonlinear, 1S1R and 1T1R arrays."""

import numpy as np
import pytest

from spicebar import CrossbarSpec, simulate_all
from spicebar.circuit.cells import NonlinearCell, SelectorCell, TransistorCell
from spicebar.circuit.operation import ReadOperation, VmmOperation

from .conftest import random_conductances
from .tolerances import BSIM4_TABLE_REL, CELL_AGREEMENT_REL, ENGINE_AGREEMENT_REL

pytestmark = pytest.mark.ngspice


def agree(results, rel):
    a, b = results["nodal"], results["ngspice"]
    scale = np.abs(b.currents).max()
    np.testing.assert_allclose(a.currents, b.currents, rtol=rel, atol=rel * scale)
    # per-cell currents: nodal from its own voltages, ngspice from node voltages it printed
    np.testing.assert_allclose(a.cell_currents, b.cell_currents, rtol=0, atol=rel * scale)
    return np.abs(a.currents - b.currents).max() / scale


@pytest.mark.parametrize("n, cell, v_max", [
    (64, NonlinearCell(v0_volt=0.2), 0.5),
    (64, SelectorCell(nonlinearity=1000.0, v_read_volt=1.0, i_read_a=1e-4), 1.2),
    (32, TransistorCell(vg_on_volt=1.8), 0.4),
])
def test_newton_matches_ngspice_on_large_arrays(ngspice_ready, rng, n, cell, v_max):
    g = random_conductances(rng, n, n)
    v = rng.uniform(0.0, v_max, (2, n))
    v[1, ::3] = -v[1, ::3]  # mixed signs: reverse-biased cells and inverse-mode transistors
    results = simulate_all(CrossbarSpec(g, r_wl=2.0, r_bl=2.0, cell=cell), v, ("nodal", "ngspice"))
    agree(results, CELL_AGREEMENT_REL)
    assert results["nodal"].info["converged"] and results["nodal"].info["max_iterations"] < 60


@pytest.mark.parametrize("cell, op", [
    (NonlinearCell(), VmmOperation(floating_rows=(0, 5, 9))),
    (SelectorCell(nonlinearity=50.0), VmmOperation(floating_rows=(1, 2))),
    (TransistorCell(vg_on_volt=1.5), VmmOperation(floating_rows=(3,), gated_off_rows=(0, 7))),
    (SelectorCell(), ReadOperation(row=0, col=11, v_read_volt=1.0, scheme="floating")),
    (SelectorCell(), ReadOperation(row=3, col=4, v_read_volt=1.0, scheme="v2")),
    (TransistorCell(vg_on_volt=1.8), ReadOperation(row=3, col=4, v_read_volt=0.3, scheme="v3")),
])
def test_newton_matches_ngspice_in_every_mode(ngspice_ready, rng, cell, op):
    g = random_conductances(rng, 12, 12)
    v = None if op.mode == "read" else rng.uniform(0.0, 0.6, (2, 12))
    agree(simulate_all(CrossbarSpec(g, r_wl=1.0, r_bl=1.0, cell=cell), v, ("nodal", "ngspice"),
                       operation=op), CELL_AGREEMENT_REL)


@pytest.mark.parametrize("scheme", ["floating", "v2", "v3"])
def test_linear_reads_match_to_linear_precision(ngspice_ready, rng, scheme):
    g = random_conductances(rng, 10, 10)
    op = ReadOperation(row=2, col=7, v_read_volt=0.3, scheme=scheme)
    agree(simulate_all(CrossbarSpec(g, r_wl=1.0, r_bl=1.0), None, ("nodal", "ngspice"), operation=op),
          ENGINE_AGREEMENT_REL)


def test_bsim4_card_runs_and_the_nodal_engine_follows_it(ngspice_ready, rng):
    g = random_conductances(rng, 8, 8)
    v = rng.uniform(0.0, 0.3, (1, 8))
    spec = CrossbarSpec(g, r_wl=2.0, r_bl=2.0, cell=TransistorCell(vg_on_volt=1.8, model="bsim4"))
    results = simulate_all(spec, v, ("nodal", "ngspice"), operation=VmmOperation(gated_off_rows=(1,)))
    rel = np.abs(results["nodal"].currents - results["ngspice"].currents).max() / \
        np.abs(results["ngspice"].currents).max()
    assert rel < BSIM4_TABLE_REL  # the card itself, through its measured table
    assert "table measured in ngspice" in results["nodal"].info["mos_model"]


@pytest.mark.ngspice
@pytest.mark.parametrize("n, volts", [(8, 0.1), (16, 0.05)])
def test_newton_converges_on_selectors_at_low_bias(ngspice_ready, rng, n, volts):
    """A default 1S1R array read at 0.05-0.1 V carries ~1e-9 A per column, while evaluating
    the wire currents rounds to ~1e-17 A x the wire conductance: Newton stalled at a KCL
    residual of 4e-9..7e-9 of the largest current (limit 1e-9) with steps of 7e-18 V and
    raised SolverError. Its KCL scale now has float64's rounding floor; the answer agrees
    with ngspice to the nonlinear-cell tolerance (measured 6e-12)."""
    spec = CrossbarSpec(rng.uniform(1e-6, 1e-4, (n, n)), r_wl=1.0, r_bl=1.0, cell=SelectorCell())
    agree(simulate_all(spec, np.full((2, n), volts), ("nodal", "ngspice"), solver="direct"),
          CELL_AGREEMENT_REL)
