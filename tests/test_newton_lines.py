"""Newton steps on the line solver (spicebar.engines.nodal.newton_lines) against Newton
with a sparse LU per step, and the cases that keep the LU with their reason."""

import numpy as np
import pytest

from spicebar.circuit.cells import NonlinearCell, SelectorCell, TransistorCell
from spicebar.circuit.spec import CrossbarSpec
from spicebar.engines.memory import ResourceError
from spicebar.engines.simulation import simulate

from .conftest import random_conductances
from .tolerances import CELL_AGREEMENT_REL, NEWTON_LINES_REL


def _agree(a, b, tol):
    for name in ("currents", "driver_currents"):
        x, y = getattr(a, name), getattr(b, name)
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol * np.abs(y).max(), err_msg=name)
    scale = np.abs(b.v_wl).max()
    for name in ("v_wl", "v_bl"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=0, atol=tol * scale)


@pytest.mark.parametrize("cell, options", [
    (SelectorCell(nonlinearity=1000, v_read_volt=0.5, i_read_a=1e-5), {}),
    (SelectorCell(nonlinearity=50, v_read_volt=0.5, i_read_a=1e-4), dict(drive="both",
                                                                         sense="both")),
    (NonlinearCell(v0_volt=0.2), dict(r_wl=np.linspace(0.5, 3.0, 11 * 9).reshape(11, 9))),
])
def test_line_steps_match_lu_steps(rng, cell, options):
    spec = CrossbarSpec(random_conductances(rng, 11, 8), **{"r_wl": 2.0, "r_bl": 1.0,
                                                             "cell": cell, **options})
    v = rng.uniform(-0.6, 0.6, (3, 11))
    lines = simulate(spec, v, "nodal", solver="iterative")
    lu = simulate(spec, v, "nodal", solver="direct")
    assert lines.info["newton_steps"].startswith("line-preconditioned")
    assert lu.info["newton_steps"].startswith("sparse LU")
    assert lines.info["kcl_residual_rel"] <= 1e-9  # Newton's own rule, unchanged
    _agree(lines, lu, NEWTON_LINES_REL)


@pytest.mark.ngspice
def test_line_steps_match_ngspice(ngspice_ready, rng):
    spec = CrossbarSpec(random_conductances(rng, 9, 7), r_wl=1.0, r_bl=1.0,
                        cell=SelectorCell(nonlinearity=200, v_read_volt=0.5, i_read_a=1e-5))
    v = rng.uniform(0, 0.5, (2, 9))
    lines = simulate(spec, v, "nodal", solver="iterative")
    assert lines.info["newton_steps"].startswith("line-preconditioned")
    _agree(lines, simulate(spec, v, "ngspice"), CELL_AGREEMENT_REL)


@pytest.mark.parametrize("options, reason", [
    (dict(r_driver=10.0), "some unknown node"),     # the driver resistance adds nodes
    (dict(r_wl=0.0), "some unknown node"),          # ideal word lines: held by the drivers
])
def test_other_topologies_keep_the_lu_and_say_why(rng, options, reason):
    cell = SelectorCell(nonlinearity=200, v_read_volt=0.5, i_read_a=1e-5)
    spec = CrossbarSpec(random_conductances(rng, 5, 4), **{"r_wl": 1.0, "r_bl": 1.0,
                                                           "cell": cell, **options})
    r = simulate(spec, rng.uniform(0, 0.5, (1, 5)), "nodal", solver="iterative")
    assert reason in r.info["newton_steps"]


def test_transistor_cells_keep_the_lu(rng):
    spec = CrossbarSpec(random_conductances(rng, 4, 3), r_wl=1.0, r_bl=1.0,
                        cell=TransistorCell(vg_on_volt=1.8))
    r = simulate(spec, rng.uniform(0, 0.2, (1, 4)), "nodal", solver="iterative")
    assert "not sinh cells" in r.info["newton_steps"]


def test_guard_advice_names_what_applies(rng):
    spec = CrossbarSpec(random_conductances(rng, 6, 5), r_wl=1.0, r_bl=1.0, cell=SelectorCell())
    v = rng.uniform(0, 0.5, (1, 6))
    with pytest.raises(ResourceError, match="Newton on the line solver"):
        simulate(spec, v, "nodal", solver="iterative", memory_limit_bytes=1000)
    with pytest.raises(ResourceError, match="solver='auto' takes the line solver"):
        simulate(spec, v, "nodal", solver="direct", memory_limit_bytes=1000)
