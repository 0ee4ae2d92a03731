"""IR-drop compensation: the first-order model's analytic limit, the exact iteration's
convergence, held-out inputs in nodal and ngspice, quantisation, and refusals."""

import numpy as np
import pytest

from spicebar.circuit.spec import CrossbarSpec
from spicebar.engines.nodal.transfer import transfer_matrix
from spicebar.errors import SpecError
from spicebar.hardware.compensation import (EXACT_TOL, Wires, attenuation_first_order,
                                            compensate_exact, compensate_first_order,
                                            transfer_first_order)
from spicebar.hardware.mapping import MappingSpec
from spicebar.hardware.mvm import MVMSpec, run_mvm

from .tolerances import ENGINE_AGREEMENT_REL, LINE_SOLVER_REL

G_MIN, G_MAX = 2e-6, 1e-4

#: The first-order transfer matrix leaves O((r G n^2)^2) of the attenuation: at the
#: tiny wire resistances below (a <= 1e-4) the neglected term is ~1e-8 of G and
#: halving r must quarter the first-order error (within this factor of 4, allowing
#: the next order's share).
SECOND_ORDER_RATIO = (3.5, 4.5)


def _rel_rms(y, ref):
    return float(np.sqrt(np.mean((y - ref) ** 2)) / np.sqrt(np.mean(ref ** 2)))


def _targets(rng, rows, cols, fill=0.5):
    return G_MIN + fill * (G_MAX - G_MIN) * rng.uniform(0, 1, (rows, cols))


def test_transfer_matrix_is_the_linear_map(rng):
    """T from unit solves reproduces the nodal engine on arbitrary inputs (linearity)."""
    from spicebar.engines.simulation import simulate
    spec = CrossbarSpec(_targets(rng, 12, 9), r_wl=2.0, r_bl=1.0, r_driver=5.0, r_sense=3.0)
    v = rng.uniform(-0.2, 0.2, (5, 12))
    t = transfer_matrix(spec, chunk=5)
    direct = simulate(spec, v, "nodal", solver="direct").currents
    np.testing.assert_allclose(v @ t, direct, rtol=LINE_SOLVER_REL, atol=0)
    # Rows past n_rows are held at 0 V: the first n_rows rows of T are unchanged.
    np.testing.assert_allclose(transfer_matrix(spec, 7), t[:7], rtol=LINE_SOLVER_REL, atol=0)


@pytest.mark.parametrize("wires", [Wires(r_wl=1e-3), Wires(r_bl=1e-3),
                                   Wires(r_wl=1e-3, r_bl=2e-3, r_driver=5e-3, r_sense=4e-3)])
def test_first_order_model_is_the_first_order_term(rng, wires):
    """(T - G) / (G a) -> 1 as r -> 0; the remainder is second order (halving r quarters it)."""
    g = _targets(rng, 10, 8)

    def first_order_error(scale):
        w = Wires(*(scale * r for r in (wires.r_wl, wires.r_bl, wires.r_driver, wires.r_sense)))
        spec = CrossbarSpec(g, r_wl=w.r_wl, r_bl=w.r_bl, r_driver=w.r_driver, r_sense=w.r_sense)
        t = transfer_matrix(spec, solver="direct")
        return np.abs(t - transfer_first_order(g, w)).max(), np.abs(t - g).max()

    e1, drop1 = first_order_error(1.0)
    e2, _ = first_order_error(0.5)
    assert e1 < 1e-3 * drop1          # the first-order model carries the drop
    assert SECOND_ORDER_RATIO[0] < e1 / e2 < SECOND_ORDER_RATIO[1]


def test_attenuation_closed_form_on_a_single_row():
    """One row, word-line wire only: a[0, j] = r sum_l G_l (min(j, l) + 1) by hand."""
    g = np.array([[1e-4, 2e-4, 3e-4]])
    a = attenuation_first_order(g, Wires(r_wl=2.0))
    expect = [2.0 * (1e-4 + 2e-4 + 3e-4), 2.0 * (1e-4 + 2 * 2e-4 + 2 * 3e-4),
              2.0 * (1e-4 + 2 * 2e-4 + 3 * 3e-4)]
    np.testing.assert_allclose(a[0], expect, rtol=1e-15)


def test_exact_compensation_converges(rng):
    """T(G) = G_t to the tolerance, monotonically after the first steps, inside the window."""
    g_t = _targets(rng, 32, 32, fill=0.4)
    spec_of = lambda g: CrossbarSpec(g, r_wl=2.0, r_bl=2.0)  # noqa: E731
    r = compensate_exact(g_t, spec_of, G_MIN, G_MAX)
    assert r.residual_rel <= EXACT_TOL
    assert r.iterations <= 10
    t = transfer_matrix(spec_of(r.g))
    assert np.abs(t - g_t).max() <= EXACT_TOL * (G_MAX - G_MIN)
    assert G_MIN <= r.g.min() and r.g.max() <= G_MAX
    assert np.all(r.g >= g_t)  # the wires only attenuate: every cell is raised
    # far from drivers and readout (row 0, last column) the cell is raised the most
    ratio = r.g / g_t
    assert ratio[0, -1] > ratio[-1, 0]


def test_first_order_beats_none_and_exact_beats_first_order(rng):
    g_t = _targets(rng, 24, 24, fill=0.4)
    w = Wires(r_wl=1.0, r_bl=1.0)
    spec_of = lambda g: CrossbarSpec(g, r_wl=1.0, r_bl=1.0)  # noqa: E731
    err = lambda g: np.abs(transfer_matrix(spec_of(g)) - g_t).max()  # noqa: E731
    e_none = err(g_t)
    e_first = err(compensate_first_order(g_t, w, G_MIN, G_MAX))
    e_exact = err(compensate_exact(g_t, spec_of, G_MIN, G_MAX).g)
    assert e_first < 0.1 * e_none
    assert e_exact < 1e-3 * e_first


def test_unreachable_target_is_refused(rng):
    """Cells at g_max far from the ends cannot be raised: refused, naming the parameter."""
    g_t = np.full((32, 32), G_MAX)
    spec_of = lambda g: CrossbarSpec(g, r_wl=5.0, r_bl=5.0)  # noqa: E731
    with pytest.raises(SpecError, match="compensate.*unreachable.*headroom"):
        compensate_exact(g_t, spec_of, G_MIN, G_MAX)
    with pytest.raises(SpecError, match="compensate.*first_order"):
        compensate_first_order(g_t, Wires(5.0, 5.0), G_MIN, G_MAX)


def test_spec_refuses_bad_compensation():
    with pytest.raises(SpecError, match="compensate"):
        MVMSpec(compensate="second_order")
    with pytest.raises(SpecError, match="compensate.*backward"):
        MVMSpec(compensate="exact", direction="backward")


def test_mvm_refuses_unreachable_before_any_run(rng):
    """Full-window weights on 2 ohm wires: SpecError from run_mvm, nothing simulated."""
    w = np.sign(rng.normal(size=(16, 32)))  # every weight at +-w_max: cells at g_max
    x = rng.uniform(0, 1, (2, 32))
    spec = MVMSpec(array_rows=32, array_cols=32, r_wl=5.0, r_bl=5.0, compensate="exact")
    with pytest.raises(SpecError, match="unreachable"):
        run_mvm(w, x, spec, engines=("ngspice",), budget=False, progress=False)


#: With levels, the compensated conductances are snapped to the levels: that is one
#: more independent rounding per cell, so the residual against the quantised ideal is
#: about sqrt(2) times the quantised ideal's own error against float (measured 0.6-1.4x
#: here); 2x bounds it.
QUANT_RESIDUAL_FACTOR = 2.0


@pytest.mark.ngspice
@pytest.mark.parametrize("levels,r_ohm", [(None, 2.0), (256, 4.0)])
def test_compensated_layer_on_held_out_inputs(rng, ngspice_ready, levels, r_ohm):
    """32x32 tile: exact compensation, calibrated on the unit basis only, brings held-out
    inputs to the quantised ideal in nodal and ngspice (and both engines agree).

    Analog: only the iteration's tolerance is left. With levels: the quantisation of the
    compensated cells (QUANT_RESIDUAL_FACTOR), so compensation pays where the IR drop
    is larger than a level step's rounding (at 64 levels and 2 ohm on 32x32 it is not:
    1.9 % IR drop against 1.6 % rounding, measured)."""
    w = rng.normal(size=(16, 32))
    x = rng.uniform(0, 1, (6, 32))
    out = {}
    for comp in ("none", "first_order", "exact"):
        spec = MVMSpec(MappingSpec(levels=levels, w_max=2 * np.abs(w).max()), array_rows=32,
                       array_cols=32, r_wl=r_ohm, r_bl=r_ohm, compensate=comp)
        r = run_mvm(w, x, spec, engines=("nodal", "ngspice"), budget=False, progress=False)
        scale = np.abs(r.y["nodal"]).max()
        np.testing.assert_allclose(r.y["ngspice"], r.y["nodal"], rtol=0,
                                   atol=ENGINE_AGREEMENT_REL * scale * 32)
        out[comp] = _rel_rms(r.y["nodal"], r.y_ideal_quantised)
    q_own = _rel_rms(r.y_ideal_quantised, r.y_ideal)
    assert out["first_order"] < 0.5 * out["none"]
    if levels is None:
        # y error <= EXACT_TOL of the window per cell, summed over 32 rows of inputs <= 1
        assert out["exact"] < 100 * EXACT_TOL
        assert out["first_order"] < 0.2 * out["none"]
    else:
        assert out["exact"] < 0.2 * out["none"]
        assert out["exact"] < QUANT_RESIDUAL_FACTOR * q_own


def test_cli_refuses_unreachable_with_exit_code_2(tmp_path, rng):
    import subprocess
    import sys
    np.save(tmp_path / "W.npy", np.sign(rng.normal(size=(16, 32))))
    np.save(tmp_path / "X.npy", rng.uniform(0, 1, (2, 32)))
    p = subprocess.run([sys.executable, "-m", "spicebar.cli", "mvm", "-W", tmp_path / "W.npy",
                        "-X", tmp_path / "X.npy", "--array", "32x32", "--r-wl", "5", "--r-bl", "5",
                        "--compensate", "exact", "--engines", "ngspice", "--no-budget",
                        "-o", tmp_path / "Y.npz"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 2, p.stderr
    assert "compensate" in p.stderr and "unreachable" in p.stderr and "--w-max" in p.stderr
    assert not (tmp_path / "Y.npz").exists()
