"""Weights through mapping, tiles and engines: exact limits, quantisation, drift, reproducibility."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spicebar.hardware.devices import DeviceSpec
from spicebar.errors import SpecError
from spicebar.hardware.mapping import MappingSpec
from spicebar.hardware.mvm import MVMSpec, prepare, programmed_conductances, run_effects, run_mvm

from .tolerances import DRIFT_EXTRA_FACTOR, ENGINE_AGREEMENT_REL, mvm_rounding


def _bound(x, w, on_off, terms):
    return mvm_rounding(float(np.abs(x).sum(axis=1).max()), float(np.abs(w).max()), on_off, terms)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), scheme=st.sampled_from(["differential", "reference"]),
       mode=st.sampled_from(["bipolar", "two_phase"]), backward=st.booleans())
def test_all_off_and_ideal_wires_gives_exact_wx(data, scheme, mode, backward):
    """Nodal engine, every effect off, zero wire resistance: y == W x for any tiling."""
    n_out = data.draw(st.integers(1, 17), "outputs")
    n_in = data.draw(st.integers(1, 17), "inputs")
    rows = data.draw(st.integers(1, 8), "array_rows")
    cols = data.draw(st.integers(2, 8), "array_cols")
    seed = data.draw(st.integers(0, 2**16), "seed")
    backward = backward and scheme == "differential"
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(n_out, n_in))
    x = rng.normal(size=(2, n_out if backward else n_in))
    spec = MVMSpec(MappingSpec(scheme=scheme, input_mode=mode, on_off=20.0), array_rows=rows,
                   array_cols=cols, direction="backward" if backward else "forward")
    r = run_mvm(w, x, spec, engines=("ideal", "nodal"), budget=False, progress=False)
    expect = x @ (w if backward else w.T)
    np.testing.assert_allclose(r.y_ideal, expect, rtol=0, atol=_bound(x, w, 20.0, 1))
    tol = _bound(x, w, 20.0, max(n_in, n_out))
    for engine in ("ideal", "nodal"):
        np.testing.assert_allclose(r.y[engine], expect, rtol=0, atol=tol)


@pytest.mark.ngspice
@pytest.mark.parametrize("scheme", ["differential", "reference"])
def test_ngspice_all_off_gives_exact_wx_on_tiles(ngspice_ready, rng, scheme):
    w = rng.normal(size=(5, 11))
    x = rng.normal(size=(2, 11))
    spec = MVMSpec(MappingSpec(scheme=scheme), array_rows=8, array_cols=6)
    r = run_mvm(w, x, spec, engines=("ngspice",), budget=False, progress=False)
    assert r.info["tiles"] == (2 * 2 if scheme == "differential" else 2 * 1)
    # ngspice prints node voltages to about 1e-12 relative (its reltol stops Newton
    # on a linear circuit only after the exact solve): the engine-agreement bound.
    np.testing.assert_allclose(r.y["ngspice"], r.y_ideal, rtol=0,
                               atol=ENGINE_AGREEMENT_REL * np.abs(w).max() * np.abs(x).sum(1).max())


@pytest.mark.parametrize("scheme", ["differential", "reference"])
@pytest.mark.parametrize("levels", [2, 3, 16, 255])
def test_quantisation_error_is_at_most_half_a_level(rng, scheme, levels):
    w = rng.uniform(-1, 1, size=(30, 40))
    spec = MVMSpec(MappingSpec(scheme=scheme, levels=levels), array_rows=16, array_cols=16)
    prep = prepare(w, np.eye(40), spec)  # one-hot inputs read out single weights
    step = prep.scaling.level_step_weight()
    y = run_effects(prep, ("quantisation",), progress=False)  # (40 one-hot vectors, 30 outputs)
    err = np.abs(y.T - w)
    # Half a level step, plus float64 rounding of the weight->siemens->weight round trip.
    assert err.max() <= 0.5 * step + _bound(np.eye(40), w, 50.0, 1)
    if levels < 100:  # uniform weights fill the steps: the worst error comes close to the bound
        assert err.max() > 0.4 * step
    # The quantised weights are the programmed weights: y is exactly W_q x.
    wq = np.zeros_like(w)
    for k, t in enumerate(prep.tiles):
        g = programmed_conductances(prep, k, ("quantisation",))
        n_cols = prep.scaling.mapping.physical_columns(t.n_outputs)
        gt = np.concatenate([g[:t.n_inputs, :n_cols - 1], g[:t.n_inputs, -1:]], 1) \
            if scheme == "reference" else g[:t.n_inputs, :n_cols]
        wq[t.outputs, t.inputs] = prep.scaling.weights_from_conductances(gt)
    np.testing.assert_allclose(y.T, wq, rtol=0, atol=_bound(np.eye(40), w, 50.0, 1))


@pytest.mark.parametrize("t_read", [10.0, 3600.0, 1e6])
def test_drift_scales_outputs_and_compensation_restores_them(rng, t_read):
    nu = 0.06
    w = rng.uniform(0.1, 1.0, size=(6, 20))  # positive weights
    x = rng.uniform(0, 1, size=(3, 20))
    dev = DeviceSpec(drift_nu=nu, t0_s=1.0, t_read_s=t_read)
    base = MVMSpec(MappingSpec(), dev, array_rows=8, array_cols=8)
    r = run_mvm(w, x, base, engines=("nodal",), budget=False, progress=False)
    tol = DRIFT_EXTRA_FACTOR * _bound(x, w, 50.0, 20)
    np.testing.assert_allclose(r.y["nodal"], r.y_ideal * t_read ** -nu, rtol=0, atol=tol)
    comp = MVMSpec(MappingSpec(), dev, array_rows=8, array_cols=8, drift_compensation=True)
    r = run_mvm(w, x, comp, engines=("nodal",), budget=False, progress=False)
    np.testing.assert_allclose(r.y["nodal"], r.y_ideal, rtol=0, atol=tol * t_read ** nu)


@pytest.mark.ngspice
def test_drift_through_ngspice_scales_as_power_law(ngspice_ready, rng):
    nu, t = 0.05, 1e4
    w = rng.uniform(0.1, 1.0, size=(3, 6))
    x = rng.uniform(0, 1, size=(2, 6))
    spec = MVMSpec(MappingSpec(), DeviceSpec(drift_nu=nu, t_read_s=t), array_rows=6, array_cols=6)
    r = run_mvm(w, x, spec, engines=("ngspice",), budget=False, progress=False)
    np.testing.assert_allclose(r.y["ngspice"], r.y_ideal * t ** -nu, rtol=0,
                               atol=ENGINE_AGREEMENT_REL * np.abs(r.y_ideal).max())


NOISY = DeviceSpec(prog_sigma_rel=0.05, prog_sigma_abs_s=1e-7, read_sigma_rel=0.02, drift_nu=0.03,
                   drift_nu_std=0.01, t_read_s=100.0, stuck_on_rate=0.02, stuck_off_rate=0.02)


def test_draws_are_seeded_and_effects_do_not_share_draws(rng):
    w = rng.normal(size=(10, 12))
    x = rng.normal(size=(2, 12))
    spec = MVMSpec(MappingSpec(levels=8), NOISY, array_rows=8, array_cols=8, r_wl=1.0, r_bl=1.0,
                   seed=7)
    a = run_effects(prepare(w, x, spec), spec.configured_effects(), progress=False)
    b = run_effects(prepare(w, x, spec), spec.configured_effects(), progress=False)
    np.testing.assert_array_equal(a, b)
    other = MVMSpec(MappingSpec(levels=8), NOISY, array_rows=8, array_cols=8, seed=8)
    assert not np.allclose(run_effects(prepare(w, x, other), ("variability",), progress=False),
                           run_effects(prepare(w, x, spec), ("variability",), progress=False))
    # Programming draws do not depend on whether noise or stuck faults are switched on.
    p = prepare(w, x, spec)
    g1 = programmed_conductances(p, 0, ("variability",))
    g2 = programmed_conductances(p, 0, ("variability", "stuck"))
    assert 0 < np.mean(g1 != g2) < 0.1  # only the stuck cells differ


def test_device_model_bounds(rng):
    w = rng.normal(size=(64, 64))
    spec = MVMSpec(MappingSpec(), NOISY, array_rows=64, array_cols=128)
    p = prepare(w, rng.normal(size=(1, 64)), spec)
    m = spec.mapping
    g = programmed_conductances(p, 0, ("variability", "stuck"))
    assert g.min() >= m.g_min_s and g.max() <= m.g_max_s  # programming stays in the window
    # Stuck fractions: 8192 cells, rate 0.02 each: binomial std ~ 0.0015; 4 std allowed.
    stuck_on = np.mean((g == m.g_max_s) & (p.targets[0] != m.g_max_s))
    assert abs(stuck_on - 0.02) < 4 * np.sqrt(0.02 * 0.98 / g.size)
    gd = programmed_conductances(p, 0, ("drift",))
    assert np.all(gd <= p.targets[0])  # drift only lowers conductance (nu >= 0)


@pytest.mark.ngspice
def test_ngspice_matches_nodal_with_every_effect(ngspice_ready, rng):
    w = rng.normal(size=(4, 10))
    x = rng.normal(size=(2, 10))
    spec = MVMSpec(MappingSpec(levels=32, input_mode="two_phase"), NOISY, array_rows=8,
                   array_cols=8, r_wl=2.0, r_bl=2.0, r_driver=10.0, r_sense=5.0)
    r = run_mvm(w, x, spec, engines=("nodal", "ngspice"), budget=True, progress=False)
    np.testing.assert_allclose(r.y["ngspice"], r.y["nodal"], rtol=0,
                               atol=ENGINE_AGREEMENT_REL * np.abs(r.y["nodal"]).max())
    labels = [row.label for row in r.budget]
    assert labels[-1].startswith("all together") and len(labels) == 8
    assert all(row.configured for row in r.budget[:-2])  # the ADC is off here
    assert not r.budget[-2].configured


@pytest.mark.parametrize("kwargs, parameter", [
    (dict(mapping=MappingSpec(scheme="reference"), direction="backward"), "direction"),
    (dict(array_cols=1), "array_cols"),
    (dict(array_rows=0), "array_rows"),
    (dict(r_wl=-1.0), "r_wl"),
    (dict(seed=-3), "seed"),
])
def test_bad_mvm_specs_name_the_parameter(kwargs, parameter):
    with pytest.raises(SpecError) as e:
        MVMSpec(**kwargs)
    assert e.value.parameter == parameter


@pytest.mark.parametrize("kwargs, parameter", [
    (dict(scheme="pairs"), "mapping.scheme"), (dict(on_off=1.0), "mapping.on_off"),
    (dict(levels=1), "mapping.levels"), (dict(levels=2.5), "mapping.levels"),
    (dict(v_read=0), "mapping.v_read"), (dict(input_mode="x"), "mapping.input_mode"),
])
def test_bad_mappings_name_the_parameter(kwargs, parameter):
    with pytest.raises(SpecError) as e:
        MappingSpec(**kwargs)
    assert e.value.parameter == parameter


@pytest.mark.parametrize("kwargs, parameter", [
    (dict(t_read_s=0.5), "devices.t_read_s"), (dict(stuck_on_rate=1.5), "devices.stuck_on_rate"),
    (dict(stuck_on_rate=0.6, stuck_off_rate=0.6), "devices.stuck_off_rate"),
    (dict(prog_sigma_rel=-0.1), "devices.prog_sigma_rel"),
])
def test_bad_devices_name_the_parameter(kwargs, parameter):
    with pytest.raises(SpecError) as e:
        DeviceSpec(**kwargs)
    assert e.value.parameter == parameter


def test_input_shape_mismatch_is_a_spec_error(rng):
    with pytest.raises(SpecError, match="inputs"):
        run_mvm(rng.normal(size=(3, 5)), rng.normal(size=(2, 4)), MVMSpec(), engines=("nodal",),
                budget=False, progress=False)


def test_adc_error_is_bounded_by_half_an_lsb_per_column(rng):
    """Each tile's two columns err by at most half an LSB each; tiles in a column add."""
    w = rng.normal(size=(12, 40))
    x = rng.normal(size=(5, 40))
    spec = MVMSpec(MappingSpec(), array_rows=16, array_cols=8, adc_bits=6)
    prep = prepare(w, x, spec)
    from spicebar.hardware.tile_readout import make_readout
    lsb = make_readout(spec, 16).adc.lsb
    y = run_effects(prep, ("adc",), progress=False)
    row_tiles = 3  # 40 inputs on 16-row arrays
    bound = row_tiles * 2 * 0.5 * lsb / prep.scaling.amperes_per_output
    err = np.abs(y - x @ w.T)
    assert err.max() <= bound * (1 + 1e-9)  # float rounding of the bound itself
    assert err.max() > 0.2 * bound  # 6 bits is coarse: the error is really there


def test_read_noise_is_a_fresh_draw_per_read_with_the_right_spread(rng):
    """Sample std of one output over 600 reads of the same vector against the analytic std."""
    sigma = 0.05
    w = rng.uniform(-1, 1, size=(1, 16))
    x = np.tile(rng.uniform(0.2, 1.0, size=(1, 16)), (600, 1))
    spec = MVMSpec(MappingSpec(), DeviceSpec(read_sigma_rel=sigma), array_rows=16, array_cols=2)
    prep = prepare(w, x, spec)
    y = run_effects(prep, ("noise",), progress=False)[:, 0]
    g = prep.targets[0]
    volts = prep.volts[0]
    amps = prep.scaling.amperes_per_output
    expect = sigma * np.sqrt(np.sum(volts ** 2 * (g[:, 0] ** 2 + g[:, 1] ** 2))) / amps
    # The sample std of N=600 normal draws has relative std 1/sqrt(2N) = 2.9 %: allow 5 of those.
    assert abs(y.std(ddof=1) / expect - 1) < 5 / np.sqrt(2 * 600)
    assert abs(y.mean() - (x[0] @ w[0])) < 5 * expect / np.sqrt(600)  # unbiased


def test_budget_rows_switch_one_effect_each(rng):
    w = rng.normal(size=(6, 10))
    x = rng.normal(size=(2, 10))
    spec = MVMSpec(MappingSpec(), array_rows=8, array_cols=8, r_wl=2.0, r_bl=2.0)
    r = run_mvm(w, x, spec, engines=("nodal",), progress=False)
    by = {row.label: row for row in r.budget}
    assert [row.configured for row in r.budget].count(True) == 2  # wires, and all together
    assert by["IR drop + sneak paths"].rms == pytest.approx(by["all together (nodal)"].rms, rel=1e-12)
    assert by["IR drop + sneak paths"].rel_rms > 1e-4


def test_plots_write_pngs(tmp_path, rng):
    from spicebar import CrossbarSpec
    from spicebar.plots.mvm import plot_budget, plot_outputs, plot_transpose_geometry
    from spicebar.plots.maps import save_figure
    w = rng.normal(size=(4, 8))
    r = run_mvm(w, rng.normal(size=(2, 8)), MVMSpec(MappingSpec(levels=8), array_rows=8,
                array_cols=8, r_wl=1.0), engines=("nodal",), progress=False)
    axes = plot_transpose_geometry(CrossbarSpec(np.full((6, 5), 5e-5), r_wl=1.0, r_bl=2.0))
    assert len(axes) == 3
    for ax, name in ((axes, "t"), (plot_outputs(r), "o"), (plot_budget(r.budget), "b")):
        assert save_figure(ax, tmp_path / f"{name}.png").stat().st_size > 1000


def test_backward_two_phase_with_only_positive_inputs_still_subtracts_the_minus_column():
    """Found by hypothesis: with no negative input the second read was skipped, so the
    word line summed G+ and G- of each pair without subtracting G- (off by on_off/(on_off-1))."""
    rng = np.random.default_rng(1)
    w, y = rng.normal(size=(3, 2)), np.abs(rng.normal(size=(2, 3)))
    spec = MVMSpec(MappingSpec(scheme="differential", input_mode="two_phase", on_off=20.0),
                   array_rows=2, array_cols=6, direction="backward")
    r = run_mvm(w, y, spec, engines=("ideal", "nodal"), budget=False, progress=False)
    tol = _bound(y, w, 20.0, 3)
    for engine in ("ideal", "nodal"):
        np.testing.assert_allclose(r.y[engine], y @ w, rtol=0, atol=tol)
