"""Readout noise: spectra against ngspice's .noise, an integrator window against a TRNOISE
transient Monte Carlo in ngspice, and the analytic limits 2kT G T and kT/C."""

from __future__ import annotations

import numpy as np
import pytest

import spicebar as sb
from spicebar.analysis.noise import noise, window_variance, log_grid
from spicebar.analysis.noise_network import K_BOLTZMANN, build_network
from spicebar.circuit.elaboration import elaborate
from spicebar.errors import SpecError

from .noise_circuits import T_NGSPICE, ngspice_noise_spectrum, ngspice_trnoise_windows

#: Output noise density against ngspice's .noise of the same circuit. Both solve the same
#: linear AC network at each frequency; ngspice uses Boltzmann's constant of CODATA 2014
#: (1.38064852e-23, 3.5e-7 below the exact 2019 value spicebar uses) and its own LU;
#: measured 3.5e-7. The issue's target is 1e-3.
SPECTRUM_REL = 1e-3
#: The window filter's quadrature (fine linear grid to 200/T, log-log interpolation of a
#: 12-per-decade spectrum, the averaged tail beyond): measured 1e-5 on 1/f^2.
WINDOW_REL = 1e-4
#: TRNOISE Monte Carlo: the sample variance of N independent Gaussian windows has a relative
#: standard deviation sqrt(2 / (N - 1)); the band is 3 sigma. TRNOISE's own bandwidth
#: (1 / (2 NT), NT = T/25) leaves out ~1/(pi^2 12.5) = 0.8 % of the window's white noise.
#: ngspice 46 cannot seed TRNOISE (its Gaussian pool is filled from the process id before
#: any ``setseed``), so every run is a fresh draw: a correct model falls outside this band
#: by chance 0.27 % of draws. A draw outside is followed by one more, which must fall
#: inside: a correct model then fails 0.27 %^2 = 7e-6 of runs, and a model off by more than
#: the band still fails (both draws centre on its error).
MC_WINDOWS = 400
MC_SIGMAS = 3.0
MC_DRAWS = 2


def _spec(readout, rng, rows=3, cols=4):
    g = np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), (rows, cols)))
    return sb.CrossbarSpec(g, r_wl=5.0, r_bl=7.0, r_driver=50.0, r_sense=20.0, readout=readout)


@pytest.mark.parametrize("kind", ["integrator", "tia"])
def test_output_spectrum_matches_ngspice_noise(ngspice_ready, rng, kind):
    op = sb.OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, en_v_rthz=5e-9, in_a_rthz=2e-13)
    wires = dict(c_wl_f=2e-15, c_bl_f=3e-15, opamp=op)
    ro = sb.IntegratorSpec(**wires) if kind == "integrator" else sb.TIASpec(**wires)
    spec = _spec(ro, rng)
    f, s_ng = ngspice_noise_spectrum(spec, 1, 1e3, 1e11, 5)
    net = build_network(elaborate(spec), ro, T_NGSPICE)
    per_source = net.spectra(f, np.array([1]))[0]
    assert per_source.sum(axis=0) == pytest.approx(s_ng, rel=SPECTRUM_REL, abs=0)
    # every source the budget names reaches the output (none silently dropped)
    assert set(net.categories) >= {"cells (thermal)", "word-line wires", "bit-line wires",
                                   "driver resistance", "sense resistance",
                                   "op-amp voltage noise", "op-amp current noise"}
    assert np.all(per_source.max(axis=1) > 0)


def test_integrator_window_matches_a_trnoise_monte_carlo(ngspice_ready):
    g = np.array([[1e-4, 5e-5], [2e-5, 8e-5]])
    ro = sb.IntegratorSpec(c_int_f=1e-13, t_int_s=100e-9)
    spec = sb.CrossbarSpec(g, r_wl=100.0, r_bl=100.0, readout=ro)
    r = noise(spec, np.ones(2), columns=[0], temperature_k=T_NGSPICE)
    network = [k for k, c in enumerate(r.categories) if c != "ADC quantisation"]
    predicted = r.variance_v2[0, network].sum()
    misses = []
    for _ in range(MC_DRAWS):
        d = ngspice_trnoise_windows(spec, 0, ro.t_int_s, MC_WINDOWS, 25)
        band = MC_SIGMAS * np.sqrt(2.0 / (d.size - 1))
        miss = np.var(d, ddof=1) / predicted - 1
        if abs(miss) <= band:
            break
        misses.append(miss)
    assert len(misses) < MC_DRAWS, f"every draw off by more than {band:.3f}: {misses}"


def test_cell_noise_reaches_2kTGT_and_snr_reaches_the_thermal_bound(rng):
    g = np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), (4, 3)))
    ro = sb.IntegratorSpec(c_int_f=1e-12, t_int_s=50e-9)
    spec = sb.CrossbarSpec(g, r_wl=1e-6, r_bl=1e-6, readout=ro)
    v = np.full(4, 0.25)
    r = noise(spec, v)
    cells = r.variance_v2[:, r.categories.index("cells (thermal)")]
    expected = 2 * K_BOLTZMANN * r.info["temperature_k"] * g.sum(axis=0) * ro.t_int_s
    assert cells * ro.c_int_f ** 2 == pytest.approx(expected, rel=WINDOW_REL, abs=0)
    # equal inputs: the cells' own SNR is exactly E_col / 2kT (the bound)
    snr_cells = 10 * np.log10(r.signal_v ** 2 / cells)
    assert snr_cells == pytest.approx(r.thermal_bound_db, abs=10 * np.log10(1 + WINDOW_REL))
    assert np.all(r.snr_db <= r.thermal_bound_db)
    assert r.signal_v == pytest.approx(g.sum(axis=0) * 0.25 * ro.t_int_s / ro.c_int_f, rel=1e-6, abs=0)


def test_reset_kTC_only_without_cds_and_quantisation():
    spec = sb.CrossbarSpec(np.full((2, 2), 1e-5), r_wl=1.0, r_bl=1.0,
                           readout=sb.IntegratorSpec(c_int_f=1e-12,
                                                     adc=sb.circuit.converters.ADCSpec(6, 0, 1)))
    with_cds = noise(spec, np.ones(2), temperature_k=300.0)
    without = noise(spec, np.ones(2), temperature_k=300.0, cds=False)
    assert "reset kT/C" not in with_cds.categories
    k = without.categories.index("reset kT/C")
    assert without.variance_v2[:, k] == pytest.approx(K_BOLTZMANN * 300.0 / 1e-12, rel=1e-15, abs=0)
    q = with_cds.categories.index("ADC quantisation")
    assert with_cds.lsb_v == 1 / 64
    assert with_cds.variance_v2[:, q] == pytest.approx((1 / 64) ** 2 / 12, rel=1e-15, abs=0)
    assert with_cds.total_v ** 2 == pytest.approx(with_cds.variance_v2.sum(axis=1), rel=1e-12, abs=0)
    assert with_cds.bits == pytest.approx(np.log2(1 / (np.sqrt(12) * with_cds.total_v)))


def test_window_filter_quadrature_on_a_closed_form():
    t = 1e-7
    f = log_grid(1e-3 / t, 1e12)
    # an ideal integrator of white current: S = 1 / f^2 -> integral 4 sin^2(pi f T) / f^2 = 2 pi^2 T
    assert window_variance(f, 1 / f ** 2, t) == pytest.approx(2 * np.pi ** 2 * t, rel=WINDOW_REL)


def test_bad_input_names_the_parameter():
    spec = sb.CrossbarSpec(np.full((2, 2), 1e-4), r_wl=1.0, r_bl=1.0)
    with pytest.raises(SpecError, match="readout"):
        noise(spec, np.ones(2))
    spec = sb.CrossbarSpec(np.full((2, 2), 1e-4), readout=sb.TIASpec())
    with pytest.raises(SpecError, match="columns"):
        noise(spec, np.ones(2), columns=[5])
    with pytest.raises(SpecError, match="temperature_k"):
        noise(spec, np.ones(2), temperature_k=-1)
    with pytest.raises(SpecError, match="en_v_rthz"):
        sb.OpAmpSpec(en_v_rthz=float("nan"))
