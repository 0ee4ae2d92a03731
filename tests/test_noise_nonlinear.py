"""Noise of nonlinear cells at their DC operating point: spectra against ngspice's .noise of
the same circuit (a level-1 1T1R array; a junction-diode user device, whose shot noise is
ngspice's own), analytic limits (one 1S1R cell's shot noise 2qI into a virtual ground, a
nonlinear memory element's thermal noise at dI/dV) and the linear limit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

import spicebar as sb
from spicebar.analysis.noise import noise
from spicebar.analysis.noise_devices import readout_operating_point
from spicebar.analysis.noise_network import K_BOLTZMANN, Q_ELECTRON, build_network
from spicebar.circuit.elaboration import elaborate
from spicebar.errors import SpecError

from .noise_circuits import T_NGSPICE, ngspice_noise_spectrum
from .test_cli import run_cli

#: Output noise density against ngspice's .noise at a nonlinear operating point. Both
#: linearise the same circuit at the same point (ngspice's solved to reltol 1e-10, spicebar's
#: by the nodal Newton) and solve the same AC network; what is left is ngspice's Boltzmann
#: constant (CODATA 2014, 3.5e-7 below the exact value): measured 3.5e-7 (1T1R) and
#: 5.4e-7 (diode device, whose I-V spicebar follows through its measured table, interpolated
#: to ~1e-7 here). A wrong noise law (shot 2qI vs thermal 4kTg, 2/3 gm vs gds) or a missed
#: linearisation term is off by far more (each checked source is >= 10 % of the total).
NONLINEAR_SPECTRUM_REL = 1e-5
#: Share of the total output density the device under test must reach for the comparison
#: to see it (1e4 times the tolerance).
MIN_SHARE = 0.1
#: Analytic limits with an op-amp of gain 1e9: the loop's gain error is (R_f G) / a0 ~ 1e-9,
#: the Newton operating point exact to its 1e-9 KCL tolerance.
ANALYTIC_REL = 1e-6
#: A nonlinear cell of V0 = 100 V at <= 10 mV is linear to (V / V0)^2 / 2 = 5e-9.
LINEAR_LIMIT_REL = 1e-7

DIODE_CELL = """* test device: a pn junction of area g (ngspice's diode model: shot noise 2 q I_D)
.subckt diode_cell p n params: g=1
d1 p n dcell area={g}
.ends diode_cell
.model dcell d (is=1e-12 n=1)
"""


def _opamp():
    return sb.OpAmpSpec("macro", a0=1e5, gbw_hz=1e9)


def _compare(spec, x):
    """spicebar's per-source output spectra of column 1 and ngspice's total, same grid."""
    ro = spec.readout
    f, s_ng = ngspice_noise_spectrum(spec, 1, 1e3, 1e11, 4, dc_inputs=x)
    ir = elaborate(spec)
    if isinstance(spec.cell, sb.DeviceCell):
        from spicebar.engines.characterise import characterise
        ir = characterise(ir, x[None])
    v_op, _ = readout_operating_point(ir, x, ro)
    net = build_network(ir, ro, T_NGSPICE, v_op=v_op)
    return net, net.spectra(f, np.array([1]))[0], s_ng


def test_1t1r_level1_spectrum_matches_ngspice_noise(ngspice_ready, rng):
    """Saturated access transistors (vg 0.9 V, 0.6..1 V on the rows): the channel noise
    4kT (2/3) gm is half the output; ngspice's MOS1 has the same (its default noise law)."""
    g = np.exp(rng.uniform(np.log(2e-4), np.log(2e-3), (3, 3)))
    x = np.array([0.8, 1.0, 0.6])
    ro = sb.TIASpec(opamp=_opamp(), r_f_ohm=1e3, c_wl_f=2e-15, c_bl_f=3e-15)
    cell = sb.TransistorCell(vg_on_volt=0.9, model="level1-nocap")
    spec = sb.CrossbarSpec(g, r_wl=5.0, r_bl=7.0, r_driver=50.0, r_sense=20.0, readout=ro,
                           cell=cell)
    net, s, s_ng = _compare(spec, x)
    assert s.sum(axis=0) == pytest.approx(s_ng, rel=NONLINEAR_SPECTRUM_REL, abs=0)
    share = s[net.categories.index("access transistors")] / s.sum(axis=0)
    assert share.max() > MIN_SHARE


def test_shot_noise_of_a_diode_device_matches_ngspice_noise(ngspice_ready, rng, tmp_path):
    """A user device declared noise="shot", realised in ngspice as its diode card (whose
    noise is 2 q I_D and nothing else): the shot path and the device linearisation."""
    path = tmp_path / "diode_cell.sp"
    path.write_text(DIODE_CELL)
    x = np.array([0.3, 0.5, 0.2])
    ro = sb.TIASpec(opamp=_opamp(), r_f_ohm=1e3, c_wl_f=2e-15, c_bl_f=3e-15)
    spec = sb.CrossbarSpec(rng.uniform(0.5, 2.0, (3, 3)), r_wl=5.0, r_bl=7.0, r_driver=50.0,
                           r_sense=20.0, readout=ro, cell=sb.DeviceCell(path, noise="shot"))
    net, s, s_ng = _compare(spec, x)
    assert s.sum(axis=0) == pytest.approx(s_ng, rel=NONLINEAR_SPECTRUM_REL, abs=0)
    share = s[net.categories.index("cells (shot)")] / s.sum(axis=0)
    assert share.max() > MIN_SHARE
    assert "cells (thermal)" not in net.categories  # the device's only source is its shot noise


def _ideal_tia(r_f=1e3):
    return sb.TIASpec(opamp=sb.OpAmpSpec("ideal", a0=1e9), r_f_ohm=r_f)


def test_one_selector_cell_gives_2qI_into_the_virtual_ground():
    """1S1R, one cell, ideal wires: the selector's shot current 2 q I reaches the virtual
    ground through the divider of its dI/dV and the element's G; solved here by bisection
    of I_s sinh(V_s' / V_s) = G (V - V_s'), independent of the Newton solver."""
    cell = sb.SelectorCell(nonlinearity=100.0, v_read_volt=1.0, i_read_a=1e-5)
    g, v = 2e-5, 0.8
    spec = sb.CrossbarSpec([[g]], readout=_ideal_tia(), cell=cell)
    i_s, v_s = cell.i_s_amp, cell.v_s_volt
    v_sel = brentq(lambda u: i_s * np.sinh(u / v_s) - g * (v - u), 0.0, v, xtol=1e-15)
    i = g * (v - v_sel)
    g_d = i_s * np.cosh(v_sel / v_s) / v_s
    r = noise(spec, [v], noise_bandwidth_hz=1e3)
    shot = r.spectra_v2_hz[0, r.categories.index("cells (shot)")]
    thermal = r.spectra_v2_hz[0, r.categories.index("cells (thermal)")]
    divider = (g_d / (g_d + g)) ** 2  # the share of a source across R that reaches the ground
    assert shot == pytest.approx(2 * Q_ELECTRON * i * (g / (g_d + g)) ** 2 * 1e6,
                                 rel=ANALYTIC_REL, abs=0)
    assert thermal == pytest.approx(4 * K_BOLTZMANN * T_NGSPICE * g * divider * 1e6,
                                    rel=ANALYTIC_REL, abs=0)
    assert r.signal_v[0] == pytest.approx(i * 1e3, rel=ANALYTIC_REL, abs=0)


def test_nonlinear_element_is_thermal_at_its_small_signal_conductance():
    g, v0, v = 1e-5, 0.25, 0.5
    spec = sb.CrossbarSpec([[g]], readout=_ideal_tia(), cell=sb.NonlinearCell(v0))
    r = noise(spec, [v], noise_bandwidth_hz=1e3)
    s = r.spectra_v2_hz[0, r.categories.index("cells (thermal)")]
    assert s == pytest.approx(4 * K_BOLTZMANN * T_NGSPICE * g * np.cosh(v / v0) * 1e6,
                              rel=ANALYTIC_REL, abs=0)


def test_a_nearly_linear_cell_reduces_to_the_passive_result(rng):
    """A nonlinear cell of V0 = 100 V at <= 10 mV: the linearised network is the passive one."""
    g = rng.uniform(1e-6, 1e-4, (3, 4))
    x = rng.uniform(0.0, 0.01, 3)
    ro = sb.IntegratorSpec(opamp=_opamp(), c_wl_f=2e-15, c_bl_f=2e-15)
    common = dict(r_wl=5.0, r_bl=7.0, r_driver=20.0, readout=ro)
    lin = noise(sb.CrossbarSpec(g, **common), x)
    non = noise(sb.CrossbarSpec(g, cell=sb.NonlinearCell(100.0), **common), x)
    assert non.categories == lin.categories
    np.testing.assert_allclose(non.variance_v2, lin.variance_v2, rtol=LINEAR_LIMIT_REL)
    np.testing.assert_allclose(non.signal_v, lin.signal_v, rtol=LINEAR_LIMIT_REL)


def test_refusals_name_the_parameter(tmp_path):
    path = tmp_path / "diode_cell.sp"
    path.write_text(DIODE_CELL)
    with pytest.raises(SpecError, match="device_noise.*thermal \\| shot \\| none"):
        sb.DeviceCell(path, noise="pink")
    cell = sb.TransistorCell(vg_on_volt=1.8, model="bsim4")
    spec = sb.CrossbarSpec(np.full((2, 2), 1e-4), readout=sb.TIASpec(), cell=cell)
    with pytest.raises(SpecError, match="cell.model.*level-1"):
        noise(spec, np.ones(2))


def test_noise_command_takes_1s1r_cells_and_shows_shot_noise(tmp_path, rng):
    np.save(tmp_path / "G.npy", rng.uniform(1e-5, 1e-4, (3, 3)))
    np.save(tmp_path / "V.npy", np.array([0.8, 1.0, 0.6]))
    args = ["noise", "-G", tmp_path / "G.npy", "-V", tmp_path / "V.npy", "--readout", "tia",
            "--r-wl", 2, "--r-bl", 2]
    p = run_cli(*args, "--cell", "1s1r", "--out-dir", tmp_path / "n")
    assert p.returncode == 0, p.stderr
    assert "cells shot" in p.stdout
    with np.load(tmp_path / "n" / "noise.npz") as z:
        assert "cells (shot)" in z["categories"].tolist()
    p = run_cli(*args, "--cell", "1t1r", "--vg-on", 1.8, "--mos-model", "bsim4",
                "--out-dir", tmp_path / "m")
    assert p.returncode == 2 and p.stderr.startswith("spicebar: error: --mos-model")
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())
