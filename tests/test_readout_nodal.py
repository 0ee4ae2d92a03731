"""The nodal transient engine against ngspice on the same readout circuit.

Every case runs both engines on one spec and compares the samples at every sampling
instant, as a fraction of the output full scale (``READOUT_AGREEMENT_FS``): the ideal
signal swing ``v_read * max column conductance sum * gain``, or the rail span when the
windows saturate. Small arrays (8x8 to 32x32) keep the suite fast.
"""

import numpy as np
import pytest

from spicebar import CrossbarSpec
from spicebar.circuit.cells import NonlinearCell, SelectorCell, TransistorCell
from spicebar.circuit.converters import ADCSpec
from spicebar.circuit.devices import DeviceCell
from spicebar.circuit.iv_models import MODELS_DIR
from spicebar.circuit.encoding import EncodingSpec
from spicebar.circuit.readout import IntegratorSpec, OpAmpSpec, TIASpec
from spicebar.engines.transient.run import compare_readouts, simulate_readout
from spicebar.netlist.readout import TranSettings
from spicebar.errors import SpecError

from .tolerances import NODAL_GRID_FS, READOUT_AGREEMENT_FS

pytestmark = pytest.mark.ngspice

MACRO = OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, v_lo=-1.0, v_hi=1.0)
IDEAL = OpAmpSpec("ideal")


def both(spec, v, enc, **kw):
    a = simulate_readout(spec, v, enc, "nodal", **kw)
    b = simulate_readout(spec, v, enc, "ngspice", **kw)
    return a, b, compare_readouts(a, b, spec)


def fit_c_int(g, v_read, t_int, swing=0.6):
    """An integrator capacitor that puts the largest column at ``swing`` volts."""
    return v_read * float(g.sum(axis=0).max()) * t_int / swing


CASES = {
    # name: (rows, cols, readout kwargs, encoding kwargs, spec kwargs)
    "integrator-ideal-amplitude-16": (16, 16, dict(kind="integrator", opamp=IDEAL),
                                      dict(kind="amplitude", bits=4), {}),
    "integrator-macro-bitserial-wireC-16": (16, 16, dict(kind="integrator", opamp=MACRO, c=2e-15),
                                            dict(kind="bit_serial", bits=2), {}),
    "integrator-macro-pulsewidth-signed-8": (8, 8, dict(kind="integrator", opamp=MACRO),
                                             dict(kind="pulse_width", bits=3, signed=True), {}),
    "integrator-macro-vref-offset-8": (8, 8, dict(kind="integrator", v_ref=0.1,
                                                  opamp=OpAmpSpec("macro", a0=3e4, gbw_hz=3e8,
                                                                  v_lo=-1.0, v_hi=1.2, v_os=2e-3)),
                                       dict(kind="amplitude", bits=4), {}),
    "integrator-macro-wireC-32": (32, 32, dict(kind="integrator", opamp=MACRO, c=1e-15),
                                  dict(kind="amplitude", bits=4), dict(r_driver=10.0, r_sense=5.0)),
    "tia-macro-amplitude-8": (8, 8, dict(kind="tia", opamp=MACRO), dict(kind="amplitude", bits=4), {}),
    "tia-ideal-bitserial-wireC-8": (8, 8, dict(kind="tia", opamp=IDEAL, c=2e-15),
                                    dict(kind="bit_serial", bits=2), {}),
    "integrator-macro-sense-both-8": (8, 8, dict(kind="integrator", opamp=MACRO),
                                      dict(kind="amplitude", bits=4), dict(sense="both", drive="both")),
}


def build(rows, cols, ro, enc_kw, spec_kw, rng, v_read=0.2, cell=None, t_int=20e-9):
    g = rng.uniform(1e-6, 1e-5, (rows, cols))
    c = ro.pop("c", 0.0)
    kind = ro.pop("kind")
    if kind == "integrator":
        readout = IntegratorSpec(c_int_f=fit_c_int(g, v_read, t_int), t_int_s=t_int,
                                 c_wl_f=c, c_bl_f=c, **ro)
    else:
        swing = 0.6
        readout = TIASpec(r_f_ohm=swing / (v_read * float(g.sum(axis=0).max())), t_int_s=t_int,
                          c_wl_f=c, c_bl_f=c, **ro)
    kw = dict(r_wl=1.0, r_bl=1.0, **spec_kw)
    if cell is not None:
        kw["cell"] = cell
    spec = CrossbarSpec(g, readout=readout, **kw)
    enc = EncodingSpec(v_read=v_read, **enc_kw)
    sign = enc.signed
    v = rng.uniform(-v_read if sign else 0.0, v_read, (2, rows))
    return spec, v, enc


@pytest.mark.parametrize("name", list(CASES))
def test_nodal_transient_agrees_with_ngspice(ngspice_ready, rng, name):
    rows, cols, ro, enc_kw, spec_kw = CASES[name]
    spec, v, enc = build(rows, cols, dict(ro), enc_kw, spec_kw, rng)
    a, b, cmp = both(spec, v, enc)
    assert a.info["not_modelled"] == []
    assert cmp["sample_deviation_fs"] < READOUT_AGREEMENT_FS, cmp
    assert np.all(a.saturated == b.saturated)
    assert "waveform_deviation_fs" in cmp


@pytest.mark.parametrize("make_cell", [
    lambda: SelectorCell(nonlinearity=100, v_read_volt=1.0, i_read_a=1e-5),
    # level1-nocap: the default level-1 card's TOX gives ngspice Meyer gate capacitances the
    # nodal transient does not model (1.2e-4 of full scale at 5x5)
    lambda: TransistorCell(vg_on_volt=1.8, model="level1-nocap"),
    lambda: NonlinearCell(v0_volt=0.25),
    lambda: DeviceCell(MODELS_DIR / "devices" / "sinh_cell.sp", params={"v0": 0.5})],
    ids=["1s1r", "1t1r", "sinh", "user-device"])
def test_nodal_transient_with_nonlinear_cells_agrees(ngspice_ready, rng, make_cell):
    # 5x5: each input vector and time point on an edge costs a Newton solve and a Schur
    # complement; the cell models are what is under test, not the size
    spec, v, enc = build(5, 5, dict(kind="integrator", opamp=MACRO), dict(kind="amplitude", bits=3),
                         {}, rng, v_read=0.5, cell=make_cell())
    a, b, cmp = both(spec, v, enc)
    assert cmp["sample_deviation_fs"] < READOUT_AGREEMENT_FS, cmp


def test_saturating_windows_clip_as_the_macromodel(ngspice_ready, rng):
    # the capacitor is 3x too small: the largest columns hit the -1 V rail and the virtual
    # ground lets go; both engines follow the same macromodel there
    spec, v, enc = build(8, 8, dict(kind="integrator", opamp=MACRO), dict(kind="amplitude", bits=4),
                         {}, rng)
    spec = CrossbarSpec(spec.conductances, r_wl=1.0, r_bl=1.0,
                        readout=IntegratorSpec(c_int_f=spec.readout.c_int_f / 3, t_int_s=20e-9,
                                               opamp=MACRO, adc=ADCSpec(8, 0.0, 2.0)))
    v = np.vstack([np.full(8, 0.2), np.full(8, 0.05)])  # the first vector saturates
    a, b, cmp = both(spec, v, enc)
    assert a.saturated[0].any() and not a.saturated[1].any()
    assert a.saturated.any() and np.all(a.saturated == b.saturated)
    assert a.vout.min() >= MACRO.v_lo - 1e-3   # clipped, as the soft clamp holds it
    assert cmp["sample_deviation_fs"] < READOUT_AGREEMENT_FS, cmp
    assert np.array_equal(a.codes, b.codes) or np.abs(a.codes - b.codes).max() <= 1


def test_nodal_transient_grid_converges(rng):
    # halving every step changes the samples by less than NODAL_GRID_FS: the grid's own
    # truncation error is far below the agreement target
    spec, v, enc = build(8, 8, dict(kind="integrator", opamp=MACRO, c=2e-15),
                         dict(kind="amplitude", bits=4), {}, rng)
    a = simulate_readout(spec, v, enc, "nodal")
    b = simulate_readout(spec, v, enc, "nodal", settings=TranSettings(steps_per_window=200))
    fs = compare_readouts(a, b, spec)["full_scale_v"]
    assert np.abs(a.samples - b.samples).max() / fs < NODAL_GRID_FS


def test_a_bsim4_access_transistor_is_refused(rng):
    # its DC table holds no charges, which ngspice's transient integrates (measured 2.6e-4
    # of full scale apart at 8x8 before this refusal)
    spec = CrossbarSpec(rng.uniform(1e-6, 1e-5, (4, 4)), cell=TransistorCell(vg_on_volt=1.8,
                        model="bsim4"), readout=IntegratorSpec())
    with pytest.raises(SpecError, match="charges") as err:
        simulate_readout(spec, np.full(4, 0.1), EncodingSpec(), "nodal")
    assert err.value.parameter == "cell"


def test_nonlinear_cells_with_wire_capacitance_are_refused(rng):
    g = rng.uniform(1e-6, 1e-5, (4, 4))
    spec = CrossbarSpec(g, cell=NonlinearCell(v0_volt=0.25),
                        readout=IntegratorSpec(c_wl_f=1e-15, c_bl_f=1e-15))
    with pytest.raises(SpecError, match="nonlinear"):
        simulate_readout(spec, np.full(4, 0.1), EncodingSpec(), "nodal")
