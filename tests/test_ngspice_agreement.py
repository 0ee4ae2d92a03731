"""ngspice (real, through PySpice) against the nodal engine on the same IR."""

import numpy as np
import pytest

from spicebar import CrossbarSpec, simulate_all

from .conftest import random_conductances
from .tolerances import ENGINE_AGREEMENT_REL

pytestmark = pytest.mark.ngspice

CASES = [  # rows, cols, r_wl, r_bl
    (1, 1, 1.0, 1.0), (1, 8, 0.1, 10.0), (8, 1, 10.0, 0.1), (16, 16, 0.0, 2.0),
    (16, 16, 2.0, 0.0), (24, 40, 0.1, 0.1), (64, 64, 1.0, 1.0), (64, 64, 10.0, 10.0),
    (128, 128, 1.0, 1.0),
]


def assert_engines_agree(results):
    a, b = results["ngspice"], results["nodal"]
    scale = np.abs(b.currents).max()
    np.testing.assert_allclose(a.currents, b.currents, rtol=ENGINE_AGREEMENT_REL,
                               atol=ENGINE_AGREEMENT_REL * scale)
    np.testing.assert_allclose(a.driver_currents, b.driver_currents, rtol=ENGINE_AGREEMENT_REL,
                               atol=ENGINE_AGREEMENT_REL * np.abs(b.driver_currents).max())
    vmax = np.abs(b.inputs).max()
    np.testing.assert_allclose(a.v_wl, b.v_wl, rtol=0, atol=ENGINE_AGREEMENT_REL * vmax)
    np.testing.assert_allclose(a.v_bl, b.v_bl, rtol=0, atol=ENGINE_AGREEMENT_REL * vmax)


@pytest.mark.parametrize("rows, cols, r_wl, r_bl", CASES)
def test_ngspice_matches_nodal(ngspice_ready, rng, rows, cols, r_wl, r_bl):
    g = random_conductances(rng, rows, cols)
    v = rng.uniform(-0.2, 0.2, (3, rows))
    results = simulate_all(CrossbarSpec(g, r_wl=r_wl, r_bl=r_bl), v, ("nodal", "ngspice"))
    assert_engines_agree(results)
    assert results["ngspice"].info["ngspice_version"] not in ("", "unknown")


@pytest.mark.parametrize("options", [
    dict(r_driver=50.0, r_sense=20.0),
    dict(drive="right", sense="top"),
    dict(drive="both", sense="both"),
    dict(r_wl=np.linspace(0.1, 3.0, 12 * 11).reshape(12, 11), r_bl=0.5),
])
def test_ngspice_matches_nodal_for_other_ends_and_loads(ngspice_ready, rng, options):
    g = random_conductances(rng, 12, 10)
    v = rng.uniform(0.0, 0.2, (2, 12))
    spec = CrossbarSpec(g, **{"r_wl": 1.0, "r_bl": 1.0, **options})
    assert_engines_agree(simulate_all(spec, v, ("nodal", "ngspice")))


def test_single_vector_and_repeated_vectors(ngspice_ready, rng):
    """A batch whose vectors repeat (no source changes between runs) still reads right."""
    g = random_conductances(rng, 6, 5)
    v = np.array([[0.1] * 6, [0.1] * 6, [0.2] * 6])
    results = simulate_all(CrossbarSpec(g, r_wl=1.0, r_bl=1.0), v, ("nodal", "ngspice"))
    assert_engines_agree(results)
    np.testing.assert_allclose(results["ngspice"].currents[2], 2 * results["ngspice"].currents[0],
                               rtol=ENGINE_AGREEMENT_REL)  # linear network
