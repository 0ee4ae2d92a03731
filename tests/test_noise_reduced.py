"""The noise network reduced onto the columns (an array without capacitance): against the
full per-frequency network (every per-source row, spectra, SNR, bits), against ngspice's
.noise, against Twiss' theorem (the thermal covariance of a resistive network is 4kT times
its admittance) with the admittance from the readout engine's own Schur complement, and
with the line solver doing the reduction."""

from __future__ import annotations

import numpy as np
import pytest

import spicebar as sb
from spicebar.analysis.noise import noise
from spicebar.analysis.noise_network import K_BOLTZMANN
from spicebar.analysis.noise_reduced import build_reduced_network, fold
from spicebar.circuit.elaboration import elaborate
from spicebar.errors import SpecError

from .noise_circuits import T_NGSPICE, ngspice_noise_spectrum
from .test_noise import SPECTRUM_REL

#: The reduced and the full network solve the same linear equations in a different order
#: (one Schur complement then a dense cols x cols solve, against one sparse LU of the whole
#: network a frequency): they differ by rounding times the readout loop's conditioning
#: (op-amp gain 1e5). Measured at most 3.2e-11 relative on every per-source variance and
#: spectrum value below (the line solver's 1e-13 residual included); a dropped or
#: mis-folded source, or a lost cross-column term, is off by far more.
REDUCED_REL = 1e-9
#: Twiss: the folded thermal covariance against 4kT Y, both sums of the same conductances
#: (measured 2e-12 of the largest entry on the 6x5 case; the off-diagonal entries are
#: differences of close numbers).
TWISS_REL = 1e-10


def _opamp():
    return sb.OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, en_v_rthz=5e-9, in_a_rthz=2e-13)


def _passive(rng, readout, rows=8, cols=8):
    g = np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), (rows, cols)))
    return sb.CrossbarSpec(g, r_wl=5.0, r_bl=7.0, r_driver=50.0, r_sense=20.0, readout=readout)


def _cases(rng):
    x8 = rng.uniform(0.0, 0.2, 8)
    x4 = np.array([0.8, 1.0, 0.6, 0.7])
    x10 = rng.uniform(0.6, 1.0, 10)
    yield "8x8 integrator, 1/f", _passive(rng, sb.IntegratorSpec(opamp=_opamp())), x8, 1e-6
    # 12x12: over 300 inner nodes, so the sparse LU (the dense one below that)
    yield "12x12 TIA", _passive(rng, sb.TIASpec(opamp=_opamp()), 12, 12), \
        rng.uniform(0.0, 0.2, 12), 0.0
    t1r = sb.TransistorCell(vg_on_volt=0.9, model="level1-nocap")
    g = np.exp(rng.uniform(np.log(2e-4), np.log(2e-3), (10, 10)))  # sparse LU, unsymmetric
    yield "10x10 1T1R TIA", sb.CrossbarSpec(g, r_wl=5.0, r_bl=7.0, r_driver=50.0, r_sense=20.0,
                                          readout=sb.TIASpec(opamp=_opamp(), r_f_ohm=1e3),
                                          cell=t1r), x10, 0.0
    sel = sb.SelectorCell(nonlinearity=100.0, v_read_volt=1.0, i_read_a=1e-5)
    yield "4x4 1S1R integrator, 1/f", sb.CrossbarSpec(
        rng.uniform(1e-5, 1e-4, (4, 4)), r_wl=2.0, r_bl=2.0, readout=sb.IntegratorSpec(
            opamp=_opamp()), cell=sel), x4, 1e-7


def _assert_same(full, red):
    assert red.categories == full.categories
    for name in ("variance_v2", "spectra_v2_hz", "signal_v", "total_v"):
        np.testing.assert_allclose(getattr(red, name), getattr(full, name), rtol=REDUCED_REL,
                                   atol=0, err_msg=name)
    # SNR and bits are logarithms of the above: their rounding is absolute
    np.testing.assert_allclose(red.snr_db, full.snr_db, rtol=0, atol=10 * REDUCED_REL)
    np.testing.assert_allclose(red.bits, full.bits, rtol=0, atol=REDUCED_REL)


def test_reduced_network_matches_the_full_one(rng):
    for label, spec, x, kf in _cases(rng):
        full = noise(spec, x, flicker_kf=kf, network="full")
        auto = noise(spec, x, flicker_kf=kf)
        assert auto.info["network"].startswith("reduced"), label
        assert full.info["network"].startswith("full"), label
        _assert_same(full, auto)
        if kf:
            assert "cells (1/f)" in auto.categories
        if "1T1R" in label or "1S1R" in label:  # shot or channel noise reached the outputs
            k = [c for c in auto.categories if c in ("cells (shot)", "access transistors")]
            assert k and np.all(auto.variance_v2[:, auto.categories.index(k[0])] > 0)


@pytest.mark.parametrize("solver", ["block elimination", "conjugate gradients", "line solver"])
@pytest.mark.parametrize("shape", [(12, 10), (7, 13)])
def test_probing_solvers_match_the_full_network(rng, monkeypatch, solver, shape):
    """The reduction's probes by each solver on a tall and a wide array (the block
    elimination sweeps the narrower side): the grid's block elimination (where it fits),
    the grid's conjugate gradients (where it does not: from 256x256 on or wherever the
    readout probes, here forced), the line solver on the IR (the spec not given)."""
    import spicebar.analysis.noise_reduced as nr
    import spicebar.engines.nodal.grid_sweep as grid_sweep
    import spicebar.engines.transient.probing as probing
    spec = _passive(rng, sb.IntegratorSpec(opamp=_opamp()), *shape)
    x = rng.uniform(0.0, 0.2, shape[0])
    full = noise(spec, x, network="full")
    monkeypatch.setattr(probing, "PROBE_CELLS", 1)
    if solver != "block elimination":
        monkeypatch.setattr(grid_sweep, "sweep_memory_bytes", lambda *a: 1 << 62)
    if solver == "line solver":
        monkeypatch.setattr(nr, "_grid_probes", lambda *a: None)
    red = noise(spec, x, network="reduced")
    assert solver in red.info["solver"]
    _assert_same(full, red)


def test_series_transfer_matches_the_dense_solve(rng, monkeypatch):
    """Identical readouts: the frequencies taken by the series in Y (noise_series) against
    the same network solved densely at every frequency, TIA and integrator, 1/f included."""
    import spicebar.analysis.noise_series as series
    for readout, kf in ((sb.IntegratorSpec(opamp=_opamp()), 1e-6), (sb.TIASpec(opamp=_opamp()), 0)):
        spec = _passive(rng, readout, 9, 7)
        x = rng.uniform(0.0, 0.2, 9)
        with monkeypatch.context() as m:
            m.setattr(series, "SERIES_RHO_MAX", 0.0)
            dense = noise(spec, x, flicker_kf=kf)
        got = noise(spec, x, flicker_kf=kf)
        assert dense.info["series"]["frequencies"] == 0
        assert got.info["series"]["frequencies"] > 0.5 * got.info["frequencies"]
        assert 0 < got.info["series"]["terms"] < 30
        assert got.info["series"]["readout sources"] == "series"
        _assert_same(dense, got)


def test_thermal_covariance_is_4kT_times_the_admittance(rng):
    """Twiss' theorem, with Y from the transient engine's Schur complement (its own LU)."""
    from spicebar.engines.nodal.stamps import conductance_matrix
    from spicebar.engines.transient.boundary import Partition, schur
    from spicebar.engines.transient.partition import sense_map
    spec = _passive(rng, sb.IntegratorSpec(opamp=_opamp()), rows=6, cols=5)
    ir = elaborate(spec)
    net = build_reduced_network(ir, spec.readout, 300.0)
    part = Partition(ir)
    ps = sense_map(ir)
    y_ref = ps.T @ schur(conductance_matrix(ir), part)[0] @ ps
    np.testing.assert_allclose(net.y, y_ref, rtol=0, atol=TWISS_REL * np.abs(y_ref).max())
    thermal = sum(s.white for s in net.sources if hasattr(s, "white") and s.white.ndim == 2)
    ref = 4 * K_BOLTZMANN * 300.0 * y_ref
    np.testing.assert_allclose(thermal, ref, rtol=0, atol=TWISS_REL * np.abs(ref).max())
    assert net.info["twiss_residual"] < TWISS_REL
    # each category alone is not 4kT Y: the split is real (cells carry most, wires some)
    cells = net.sources[net.categories.index("cells (thermal)")].white
    assert 0.5 < np.trace(cells) / np.trace(ref) < 1 - 1e-3


def test_one_category_folds_to_its_own_transfers():
    """fold against its definition sum_e S_e a_e a_e^T on a random transfer matrix."""
    from spicebar.analysis.noise_network import Sources
    rng = np.random.default_rng(3)
    u = np.vstack([rng.normal(size=(9, 4)), np.zeros((1, 4))])   # last row: ground
    p, n = rng.integers(0, 10, 7) - 1, rng.integers(0, 10, 7) - 1
    w = rng.uniform(0.0, 2.0, 7)
    cov = fold(Sources("x", p, n, w, 3 * w), u, np.arange(4))
    a = u[p] - u[n]
    ref = (a * w[:, None]).T @ a
    np.testing.assert_allclose(cov.white, ref, rtol=1e-13, atol=0)
    np.testing.assert_allclose(cov.flicker, 3 * ref, rtol=1e-13, atol=0)


def test_reduced_spectrum_matches_ngspice_noise(ngspice_ready, rng):
    """No wire capacitance: the reduced network against ngspice's .noise of the circuit."""
    ro = sb.TIASpec(opamp=_opamp())
    spec = _passive(rng, ro, rows=3, cols=4)
    f, s_ng = ngspice_noise_spectrum(spec, 1, 1e3, 1e11, 5)
    net = build_reduced_network(elaborate(spec), ro, T_NGSPICE)
    per_source = net.spectra(f, np.array([1]))[0]
    assert per_source.sum(axis=0) == pytest.approx(s_ng, rel=SPECTRUM_REL, abs=0)
    assert np.all(per_source.max(axis=1) > 0)


def test_network_choice_is_checked(rng):
    wires = sb.IntegratorSpec(opamp=_opamp(), c_wl_f=1e-15, c_bl_f=1e-15)
    spec = _passive(rng, wires, rows=3, cols=3)
    assert noise(spec, np.ones(3), columns=[0]).info["network"].startswith("full")
    with pytest.raises(SpecError, match="network.*capacitance"):
        noise(spec, np.ones(3), network="reduced")
    with pytest.raises(SpecError, match="network.*auto \\| reduced \\| full"):
        noise(spec, np.ones(3), network="fast")
    with pytest.raises(SpecError, match="v_op"):
        build_reduced_network(elaborate(sb.CrossbarSpec(
            np.full((2, 2), 1e-5), readout=sb.TIASpec(), cell=sb.NonlinearCell(0.3))),
            sb.TIASpec(), 300.0)
