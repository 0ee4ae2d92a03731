"""The shipped models and the scoring harness: analytic limits, orders of error, ngspice."""

import numpy as np
import pytest

from spicebar import CrossbarSpec, SpecError, simulate
from spicebar.circuit.converters import ADCSpec
from spicebar.analysis.models import MODELS, first_order, ideal, resolve_model
from spicebar.analysis.scoring import (default_adc, error_statistics, format_scores, score_model,
                                       score_models)

from .analytic import single_cell_current
from .conftest import random_conductances
from .tolerances import ENGINE_AGREEMENT_REL, FLOAT_REL, SECOND_ORDER_RATIO_REL


@pytest.mark.parametrize("r_wl, r_bl, r_driver, r_sense",
                         [(1.0, 1.0, 0.0, 0.0), (2.0, 0.0, 30.0, 10.0), (0.0, 0.0, 0.0, 0.0)])
def test_first_order_single_cell_is_the_linearised_divider(r_wl, r_bl, r_driver, r_sense):
    g, v = 1e-4, 0.3
    spec = CrossbarSpec([[g]], r_wl=r_wl, r_bl=r_bl, r_driver=r_driver, r_sense=r_sense)
    series = r_wl + r_bl + r_driver + r_sense
    got = first_order(spec.conductances, np.array([[v]]), spec)[0, 0]
    # V G / (1 + G R) to first order in G R is V G (1 - G R).
    assert got == pytest.approx(v * g * (1 - g * series), rel=FLOAT_REL)
    exact = single_cell_current(v, g, r_wl, r_bl, r_driver, r_sense)
    # Its error against the exact divider is (G R)^2 relative, up to a factor 1 + G R.
    assert abs(got - exact) / exact == pytest.approx((g * series) ** 2, rel=2 * g * series + 1e-12)


def test_first_order_error_is_second_order_in_wire_resistance(rng):
    g = random_conductances(rng, 12, 10)
    v = rng.uniform(0, 0.2, (3, 12))
    errs = []
    for r in (0.2, 0.1):
        spec = CrossbarSpec(g, r_wl=r, r_bl=1.5 * r, r_driver=5 * r, r_sense=3 * r)
        exact = simulate(spec, v, "nodal").currents
        errs.append(np.abs(first_order(g, v, spec) - exact).max())
        e_ideal = np.abs(ideal(g, v, spec) - exact).max()
        assert errs[-1] < 0.05 * e_ideal  # far better than ideal where r G N^2 << 1
    assert errs[0] / errs[1] == pytest.approx(4.0, rel=SECOND_ORDER_RATIO_REL)


def test_first_order_honours_per_segment_wires_and_ideal_wires(rng):
    g = random_conductances(rng, 5, 7)
    v = rng.uniform(-0.1, 0.2, (2, 5))
    scalar = CrossbarSpec(g, r_wl=1.3, r_bl=0.7)
    arrays = CrossbarSpec(g, r_wl=np.full((5, 8), 1.3), r_bl=np.full((6, 7), 0.7))
    np.testing.assert_allclose(first_order(g, v, arrays), first_order(g, v, scalar), rtol=FLOAT_REL)
    none = CrossbarSpec(g)
    np.testing.assert_allclose(first_order(g, v, none), v @ g, rtol=FLOAT_REL)


def test_models_resolve_and_refuse_what_they_cannot_model(rng):
    assert set(MODELS) >= {"ideal", "first_order", "nodal"}
    assert resolve_model("numpy:matmul") is np.matmul
    with pytest.raises(SpecError, match="model"):
        resolve_model("no_such_model")
    with pytest.raises(SpecError, match="cannot be imported"):
        resolve_model("no_such_module_xyz:f")
    spec = CrossbarSpec(random_conductances(rng, 3, 3), r_wl=1.0, drive="both")
    with pytest.raises(SpecError, match="drive"):
        first_order(spec.conductances, np.ones((1, 3)), spec)
    adc = default_adc(spec, np.ones(3))
    s = score_model("first_order", spec, np.ones(3), np.ones((1, 3)), adc)
    assert s.status == "failed" and s.error.startswith("not applicable")


def test_error_statistics_on_known_errors():
    ref = np.array([[1.0, 2.0, 4.0, 0.0]]) * 1e-6
    out = ref * np.array([1.01, 0.98, 1.0, 1.0]) + np.array([0, 0, 0, 1e-9])
    adc = ADCSpec(8, 0.0, 255e-8)  # lsb 1e-8 A
    s = error_statistics(out, ref, adc)
    # Relative errors 0.01, 0.02, 0 over the non-zero references; the zero reference (below
    # REL_FLOOR_FS of the ADC's full scale 2.55e-6 A) is a fraction of full scale: 1e-9 / 2.55e-6.
    f = 1e-9 / 255e-8
    assert s["max_rel"] == pytest.approx(0.02, rel=FLOAT_REL)
    assert s["mean_rel"] == pytest.approx((0.03 + f) / 4, rel=FLOAT_REL)
    assert s["rms_rel"] == pytest.approx(np.sqrt((1e-4 + 4e-4 + f * f) / 4), rel=FLOAT_REL)
    assert s["mean_signed_rel"] == pytest.approx((-0.01 + f) / 4, rel=FLOAT_REL)
    # Absolute errors 1e-8, 4e-8, 0, 1e-9 A: 1, 4, 0, 0.1 LSB.
    assert s["max_lsb"] == pytest.approx(4.0, rel=FLOAT_REL)
    assert s["max_code_err"] == 4


@pytest.mark.ngspice
def test_score_models_against_ngspice(ngspice_ready, rng):
    g = random_conductances(rng, 16, 16)
    v = rng.uniform(0, 0.2, (2, 16))
    spec = CrossbarSpec(g, r_wl=1.0, r_bl=1.0)

    def broken(G, V, spec):
        raise RuntimeError("my model is unfinished")

    scores = score_models(["ideal", "first_order", "nodal", broken], spec, v, "ngspice",
                          timeout_s=60)
    by = {s.model: s for s in scores}
    assert by["nodal"].max_rel < ENGINE_AGREEMENT_REL
    assert 0 < by["first_order"].max_rel < by["ideal"].max_rel
    assert by["ideal"].mean_signed_rel > 0  # IR drop: V @ G overestimates every column
    assert by["broken"].status == "failed" and "unfinished" in by["broken"].error
    text = format_scores(scores)
    assert "first_order" in text and "failed" in text
