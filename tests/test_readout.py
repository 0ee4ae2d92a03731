"""Time-domain readout: integrator and TIA against closed forms, finite gain, rails, encodings."""

import numpy as np
import pytest
from scipy.integrate import quad

from spicebar import CrossbarSpec
from spicebar.circuit.cells import SelectorCell, TransistorCell
from spicebar.circuit.converters import ADCSpec
from spicebar.circuit.encoding import EncodingSpec, build_schedule
from spicebar.errors import SpecError
from spicebar.circuit.readout import IntegratorSpec, OpAmpSpec, TIASpec
from spicebar.engines.transient.run import TransientResult, error_budget, simulate_readout

from .tolerances import FINITE_GAIN_REL, IDEAL_OPAMP_REL, FLOAT_REL, NODAL_CHARGE_REL, TRAN_REL

pytestmark = pytest.mark.ngspice

C_INT = 1e-12
T_INT = 100e-9
G_COL = np.array([[1e-4], [5e-5]])  # one column, two cells: 150 uS, 3 V ideal swing at 0.2 V


def integrator(**kw):
    return IntegratorSpec(**{"c_int_f": C_INT, "t_int_s": T_INT, **kw})


@pytest.mark.parametrize("engine, rel", [("ngspice", TRAN_REL), ("nodal", IDEAL_OPAMP_REL)])
def test_ideal_integrator_constant_input_gives_minus_i_t_over_c(ngspice_ready, engine, rel):
    spec = CrossbarSpec(G_COL, readout=integrator())
    enc = EncodingSpec("amplitude", bits=8, v_read=0.2)
    r = simulate_readout(spec, [0.2, 0.2], enc, engine)
    current = float(r.equivalent_inputs[0] @ G_COL[:, 0])
    v_out_end = np.interp(r.t_sample[0], r.time, r.vout[0])
    assert v_out_end == pytest.approx(-current * T_INT / C_INT, rel=rel)
    assert r.currents[0, 0] == pytest.approx(current, rel=rel)
    assert r.readout_currents[0, 0] == pytest.approx(current, rel=rel)


def test_finite_gain_follows_the_one_pole_formula(ngspice_ready):
    """Gain A, ideal wires, column conductance G, input current I(t) = sum_i G_i V_i(t).

    The bit line sits at v_g = -v_o / A; KCL at it gives
        dv_o/dt = -a v_o - b I(t),  a = G / ((1 + A) C),  b = A / ((1 + A) C),
    so v_o(T) = -b * integral_0^T exp(-a (T - s)) I(s) ds. For a constant I over T:
        v_o(T) = -A (I / G) (1 - exp(-G T / ((1 + A) C)))
               ~ -(I T / C) * A / (1 + A) * (1 - G T / (2 (1 + A) C)):
    the ideal value times the 1/(1 + 1/A) charge-sharing factor and a leak term.
    """
    g_tot = G_COL.sum()
    enc = EncodingSpec("amplitude", bits=8, v_read=0.2)
    for a0 in (10.0, 100.0, 1000.0):
        spec = CrossbarSpec(G_COL, readout=integrator(opamp=OpAmpSpec("ideal", a0=a0)))
        r = simulate_readout(spec, [0.2, 0.2], enc, "ngspice")
        sch = build_schedule(enc, r.inputs, T_INT, spec.readout.t_reset_s, 0.0)
        t_end = r.t_sample[0]

        def current(s):
            return sum(G_COL[i, 0] * np.interp(s, sch.row_t[i], sch.row_v[i]) for i in range(2))

        a, b = g_tot / ((1 + a0) * C_INT), a0 / ((1 + a0) * C_INT)
        exact = -b * quad(lambda s: np.exp(-a * (t_end - s)) * current(s), sch.t_open[0], t_end,
                          points=list(sch.row_t[0]), limit=200, epsabs=0, epsrel=1e-12)[0]
        got = np.interp(t_end, r.time, r.vout[0])
        assert got == pytest.approx(exact, rel=FINITE_GAIN_REL)
        ideal = -float(r.equivalent_inputs[0] @ G_COL[:, 0]) * T_INT / C_INT
        first_order = ideal * a0 / (1 + a0) * (1 - g_tot * T_INT / (2 * (1 + a0) * C_INT))
        if a0 >= 100:  # the expansion's next term is (a T)^2 / 6 ~ 2e-4 at A = 100
            assert got == pytest.approx(first_order, rel=(g_tot * T_INT / ((1 + a0) * C_INT)) ** 2)
        # the virtual ground moves by -v_o / A
        assert np.interp(t_end, r.time, r.vg[0]) == pytest.approx(-got / a0, rel=FINITE_GAIN_REL)


def test_rail_saturation_is_clipped_and_reported(ngspice_ready):
    op = OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, v_lo=-1.0, v_hi=1.0)
    # 2 ns to settle: the 1 GHz loop lags the charge by 1/(2 pi gbw) = 0.16 ns
    spec = CrossbarSpec(np.hstack([G_COL, G_COL / 10]), readout=integrator(opamp=op, t_settle_s=2e-9))
    r = simulate_readout(spec, [0.2, 0.2], EncodingSpec("amplitude", bits=8), "ngspice")
    # column 0 wants -3 V and stops at the -1 V rail; column 1 wants -0.3 V and is fine
    assert r.saturated[0].tolist() == [True, False]
    # the soft clamp holds the output at the rail (r_out = 1 mOhm adds < 1 uV)
    assert -1.0 - 1e-6 < r.vout[0].min() < -0.95
    assert r.info["n_saturated"] == 1 and "column 0" in r.info["readout_errors"][0]
    assert "rail" in r.info["readout_errors"][0]
    # a clipped integrator also loses its virtual ground: the bit line rises towards the
    # inputs and the column delivers less charge; the sample says a third of the truth
    ideal = float(r.equivalent_inputs[0] @ G_COL[:, 0])
    assert r.vg[0].max() > 0.05
    assert r.currents[0, 0] < 0.9 * ideal and r.readout_currents[0, 0] < 0.4 * ideal
    # column 1 is inside the rails: a0 = 1e5 and 1 GHz leave < 1e-3 of readout error
    assert r.readout_currents[0, 1] == pytest.approx(r.currents[0, 1], rel=1e-3)
    # single-pole loop: mid-window the virtual ground lags by v_g = -(dv_o/dt) / (2 pi gbw)
    # - v_o / a0 (the GBW term dominates: 3 V/us / 6.3e9/s = 0.48 mV); 2 % covers the
    # slope's own change (the cells see v_g too) and the finite difference
    mid = r.t_open[0] + 0.5 * T_INT
    k = np.searchsorted(r.time, mid)
    slope = (r.vout[1, k + 1] - r.vout[1, k - 1]) / (r.time[k + 1] - r.time[k - 1])
    expect = -slope / (2 * np.pi * op.gbw_hz) - r.vout[1, k] / op.a0
    assert r.vg[1, k] == pytest.approx(expect, rel=0.02)


def encoded_digital(spec, v, kind, engine):
    enc = EncodingSpec(kind, bits=4, v_read=0.2, signed=bool(np.any(v < 0)))
    return simulate_readout(spec, v, enc, engine)


@pytest.mark.parametrize("signed", [False, True])
def test_pulse_width_and_bit_serial_match_amplitude_within_one_lsb(ngspice_ready, rng, signed):
    g = rng.uniform(1e-6, 1e-5, (8, 3))
    v = rng.uniform(-0.2 if signed else 0.0, 0.2, (2, 8))
    fs = 0.2 * g.sum(axis=0).max() * T_INT / C_INT  # largest |signal|, V
    adc = ADCSpec(8, -fs if signed else 0.0, fs)
    spec = CrossbarSpec(g, readout=integrator(adc=adc))
    lsb_a = adc.lsb / spec.readout.gain()  # one ADC step as an equivalent current, A
    results = {k: encoded_digital(spec, v, k, "ngspice")
               for k in ("amplitude", "pulse_width", "bit_serial")}
    amp = results["amplitude"]
    ideal = amp.equivalent_inputs @ g
    assert np.abs(amp.digital_currents - ideal).max() <= 0.5 * lsb_a * (1 + 1e-6)
    for kind in ("pulse_width", "bit_serial"):
        r = results[kind]
        np.testing.assert_array_equal(r.equivalent_inputs, amp.equivalent_inputs)
        # analog: the same charge, to the transient's accuracy
        np.testing.assert_allclose(r.currents, ideal, rtol=TRAN_REL, atol=TRAN_REL * np.abs(ideal).max())
        assert np.abs(r.digital_currents - amp.digital_currents).max() <= lsb_a * (1 + 1e-6)
    assert results["bit_serial"].samples.shape == (2 * 4, 3)  # 4 bit windows per vector


def test_nodal_and_ngspice_agree_on_windows_with_wires(ngspice_ready, rng):
    g = rng.uniform(1e-6, 1e-4, (6, 4))
    v = rng.uniform(0, 0.2, (2, 6))
    spec = CrossbarSpec(g, r_wl=5.0, r_bl=5.0, readout=integrator(adc=ADCSpec(6, 0.0, 3.0)))
    enc = EncodingSpec("bit_serial", bits=3)
    a, b = (simulate_readout(spec, v, enc, e) for e in ("ngspice", "nodal"))
    np.testing.assert_allclose(a.samples, b.samples, rtol=TRAN_REL, atol=TRAN_REL * np.abs(b.samples).max())
    # conservation: the word lines deliver what the bit lines collect
    np.testing.assert_allclose(a.driver_currents.sum(1), a.currents.sum(1), rtol=TRAN_REL)
    parts = error_budget(b, spec)
    assert parts["readout"] < IDEAL_OPAMP_REL and parts["array"] > 1e-4
    assert parts["total"] <= (parts["array"] + parts["virtual ground"] + parts["readout"]
                              + parts["adc"] + FLOAT_REL)


def test_wire_capacitance_settles_and_conserves_charge(ngspice_ready, rng):
    g = rng.uniform(1e-5, 1e-4, (4, 3))
    base = dict(c_wl_f=20e-15, c_bl_f=20e-15, t_settle_s=5e-9)
    spec = CrossbarSpec(g, r_wl=50.0, r_bl=50.0, readout=integrator(**base))
    r = simulate_readout(spec, rng.uniform(0, 0.2, 4), EncodingSpec("amplitude", bits=6), "ngspice")
    dc = simulate_readout(CrossbarSpec(g, r_wl=50.0, r_bl=50.0, readout=integrator(t_settle_s=5e-9)),
                          r.inputs, EncodingSpec("amplitude", bits=6), "nodal")
    # every charge that entered the array left it through a readout once the lines settled
    np.testing.assert_allclose(r.driver_currents.sum(), r.currents.sum(), rtol=1e-4)
    # RC ~ 50 ohm * 20 fF * (4 segments)^2 ~ 16 ps << 100 ns: the charge equals the DC one
    np.testing.assert_allclose(r.currents, dc.currents, rtol=1e-4)


def test_tia_output_is_minus_i_rf(ngspice_ready):
    spec = CrossbarSpec(G_COL, readout=TIASpec(r_f_ohm=5e3, t_int_s=20e-9))
    for engine in ("ngspice", "nodal"):
        r = simulate_readout(spec, [0.1, 0.2], EncodingSpec("amplitude", bits=8), engine)
        current = float(r.equivalent_inputs[0] @ G_COL[:, 0])
        assert r.samples[0, 0] == pytest.approx(current * 5e3, rel=TRAN_REL)


def test_result_round_trips_through_npz(ngspice_ready, tmp_path):
    spec = CrossbarSpec(G_COL, readout=integrator(adc=ADCSpec(8, 0, 3.5)))
    r = simulate_readout(spec, [[0.2, 0.1], [0.05, 0.0]], EncodingSpec("pulse_width"), "nodal")
    back = TransientResult.load(r.save(tmp_path / "r.npz"))
    for k in ("time", "vout", "samples", "codes", "currents", "digital_currents", "t_sample"):
        np.testing.assert_array_equal(getattr(back, k), getattr(r, k))
    with np.load(tmp_path / "r.npz") as data:
        assert {"currents", "v_wl", "v_bl", "driver_currents", "inputs", "engine", "info",
                "time", "vout"} <= set(data.files)


@pytest.mark.parametrize("make, parameter", [
    (lambda: IntegratorSpec(c_int_f=0), "readout.c_int_f"),
    (lambda: IntegratorSpec(t_int_s=-1), "readout.t_int_s"),
    (lambda: OpAmpSpec("macro", v_lo=1, v_hi=-1), "opamp.v_hi"),
    (lambda: OpAmpSpec("bipolar"), "opamp.kind"),
    (lambda: IntegratorSpec(opamp=OpAmpSpec("macro", v_lo=0.1, v_hi=1)), "readout.v_ref"),
    (lambda: EncodingSpec("thermometer"), "encoding.kind"),
    (lambda: EncodingSpec(bits=17), "encoding.bits"),
    (lambda: CrossbarSpec([[1e-4]], readout="integrator"), "readout"),
    (lambda: simulate_readout(CrossbarSpec([[1e-4]], readout=integrator()), [-0.1]), "inputs"),
    (lambda: simulate_readout(CrossbarSpec([[1e-4]], readout=TIASpec()), [0.1],
                              EncodingSpec("pulse_width")), "encoding"),
    (lambda: simulate_readout(CrossbarSpec([[1e-4]]), [0.1]), "readout"),
    (lambda: simulate_readout(CrossbarSpec([[1e-4]], readout=integrator()), [0.1],
                              EncodingSpec("pulse_width", bits=12, t_edge_s=1e-9)), "encoding.t_edge_s"),
])
def test_bad_readout_specs_name_the_parameter(make, parameter):
    with pytest.raises(SpecError) as err:
        make()
    assert err.value.parameter == parameter


@pytest.mark.parametrize("make_cell", [
    lambda: SelectorCell(nonlinearity=100, v_read_volt=1.0, i_read_a=1e-3),
    lambda: TransistorCell(vg_on_volt=1.8)], ids=["1s1r", "1t1r"])
def test_readout_with_nonlinear_cells_engines_agree(ngspice_ready, rng, make_cell):
    from .tolerances import NONLINEAR_EDGE_REL
    g = rng.uniform(1e-5, 1e-4, (4, 3))
    spec = CrossbarSpec(g, r_wl=1.0, r_bl=1.0, cell=make_cell(), readout=integrator(c_int_f=20e-12))
    enc = EncodingSpec("pulse_width", bits=3, v_read=1.0)
    v = rng.uniform(0.5, 1.0, (1, 4))
    a, b = (simulate_readout(spec, v, enc, e) for e in ("ngspice", "nodal"))
    np.testing.assert_allclose(a.samples, b.samples, rtol=NONLINEAR_EDGE_REL)


def test_voltage_maps_of_an_ngspice_transient_say_why_there_are_none(ngspice_ready, rng):
    from spicebar.errors import SpecError
    from spicebar.plots.maps import plot_voltage_maps
    spec = CrossbarSpec(rng.uniform(1e-6, 1e-4, (3, 2)), r_wl=1.0, r_bl=1.0,
                        readout=integrator())
    r = simulate_readout(spec, rng.uniform(0, 0.2, 3), EncodingSpec("amplitude", bits=4),
                         "ngspice")
    with pytest.raises(SpecError, match=r"^result: .*no cell-node voltages"):
        plot_voltage_maps(r)
