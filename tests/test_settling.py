"""Settling time: the eigen time constant against a closed form and against ngspice's step
response, and the half-LSB settling time of both engines."""

from __future__ import annotations

import numpy as np
import pytest

import spicebar as sb
from spicebar.analysis.delay_models import loaded_line
from spicebar.analysis.settling import Dynamics, settle_times, settling, slowest_modes
from spicebar.errors import SpecError

from .noise_circuits import ngspice_step

#: A discrete ladder of N segments against the continuum line ``R C / (pi^2/4 + R G)``:
#: the lowest mode of the lumped line differs by ~(pi / 4N)^2 / 3 (2e-5 at N = 128) plus
#: the end segment's half-cell offset (~1/(2N) of the loading term); the issue asks 1 %.
LOADED_LINE_REL = 1e-2
#: The eigen time constant against the decay rate of ngspice's step-response tail, fitted
#: over 5..10 tau, where the next mode (9x faster on a single line) has died out by
#: e^-40: what is left is ngspice's time-step error (steps of tau/100, trapezoidal).
TAIL_REL = 1e-3
#: Nodal TR-BDF2 (steps tau/5) against ngspice (steps tau/50) after 3 tau, in LSB of 8 bits:
#: the second-order error (h/tau)^2/12 ~ 3e-3 of the slow modes' amplitude (~30 LSB at 3 tau).
STEP_RESPONSE_LSB = 0.1
#: The line solver's path against the LU's: every solve to a 1e-11 relative residual.
LINES_REL = 1e-8


def _line(rows, r_seg=20.0, c_seg=5e-15, g=2e-5):
    """One bit line of ``rows`` cells on ideal word lines (held by their drivers)."""
    ro = sb.IntegratorSpec(c_bl_f=c_seg)
    return sb.CrossbarSpec(np.full((rows, 1), g), r_wl=0.0, r_bl=r_seg, readout=ro)


def test_loaded_line_matches_the_closed_form():
    rows, r_seg, c_seg, g = 128, 20.0, 5e-15, 2e-5
    spec = _line(rows, r_seg, c_seg, g)
    tau = slowest_modes(Dynamics(spec), 1)[0]
    r, c, gl = rows * r_seg, rows * c_seg, rows * g
    expected = r * c / (np.pi ** 2 / 4 + r * gl)
    assert tau == pytest.approx(expected, rel=LOADED_LINE_REL)
    assert loaded_line(spec) == pytest.approx(expected, rel=1e-12)  # the model is the formula
    # and without the cells (G -> 0) the open line's 4 R C / pi^2
    bare = slowest_modes(Dynamics(_line(rows, r_seg, c_seg, 1e-12)), 1)[0]
    assert bare == pytest.approx(4 * r * c / np.pi ** 2, rel=LOADED_LINE_REL)


def test_eigen_time_constant_is_the_tail_of_ngspice_step(ngspice_ready):
    g = np.linspace(1e-5, 1e-4, 16)[None, :]
    spec = sb.CrossbarSpec(g, r_wl=50.0, r_bl=10.0,
                           readout=sb.IntegratorSpec(c_wl_f=10e-15, c_bl_f=2e-15))
    tau = slowest_modes(Dynamics(spec), 2)
    assert tau[0] > 5 * tau[1]   # the premise of the fit window: a well separated mode
    t, cur = ngspice_step(spec, np.array([0.3]), 12 * tau[0], tau[0] / 100)
    final = sb.simulate(spec, np.array([0.3]), "nodal").currents[0]
    dev = np.abs(cur[15] - final[15])   # the far column: the slowest to settle
    win = (t >= 5 * tau[0]) & (t <= 10 * tau[0])
    slope = np.polyfit(t[win], np.log(dev[win]), 1)[0]
    assert -1.0 / slope == pytest.approx(tau[0], rel=TAIL_REL)


def test_settling_times_agree_with_ngspice_within_one_step(ngspice_ready, rng):
    g = np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), (6, 5)))
    spec = sb.CrossbarSpec(g, r_wl=30.0, r_bl=30.0,
                           readout=sb.IntegratorSpec(c_wl_f=5e-15, c_bl_f=5e-15))
    v = rng.uniform(0.1, 0.3, 6)
    res = settling(spec, v, bits=8)
    h = res.t[1] - res.t[0]
    t, cur = ngspice_step(spec, v, res.t[-1], h / 10)
    ts_ng = settle_times(t, cur, res.final_a, 0.5 * res.lsb_a)
    assert np.all(np.isfinite(res.t_settle_s)) and np.all(res.t_settle_s > 0)
    assert np.max(np.abs(ts_ng - res.t_settle_s)) <= h
    # once the fast modes are gone (which the L-stable steps of tau/5 damp rather than
    # follow), the nodal step response follows ngspice's to a small part of an LSB
    ng_on_grid = np.stack([np.interp(res.t, t, c) for c in cur])
    late = res.t >= 3 * res.tau_s
    assert np.abs(ng_on_grid - res.currents)[:, late].max() < STEP_RESPONSE_LSB * res.lsb_a
    # one pole's charge error bound: the window needed grows like tau 2^(N+1)
    assert res.t_window_s > res.t_settle_max_s


def test_estimates_are_scored_and_a_user_model_is_taken():
    spec = _line(64)
    res = settling(spec, np.full(64, 0.2), bits=6, models={"mine": lambda s: 1e-12,
                                                            "broken": lambda s: 1 / 0})
    by = {r["model"]: r for r in res.estimates}
    assert set(by) >= {"exact (nodal)", "elmore", "loaded_line", "neurosim", "mine", "broken"}
    assert abs(by["loaded_line"]["tau_error"]) < LOADED_LINE_REL
    assert by["mine"]["tau_s"] == 1e-12 and "ZeroDivisionError" in by["broken"]["error"]
    assert by["elmore"]["tau_error"] == pytest.approx(
        by["elmore"]["tau_s"] / res.tau_s - 1, rel=1e-12)


def test_bad_input_names_the_parameter():
    spec = sb.CrossbarSpec(np.full((2, 2), 1e-4), r_wl=1.0, r_bl=1.0)
    with pytest.raises(SpecError, match="c_wl_f"):
        settling(spec, np.ones(2))
    spec = _line(4)
    with pytest.raises(SpecError, match="bits"):
        settling(spec, np.ones(4), bits=0)
    with pytest.raises(SpecError, match="inputs"):
        settling(spec, np.zeros(4))


def test_line_solver_path_matches_the_direct_path(rng):
    """The large-array path (line solver, no factorisation) against the sparse LU path."""
    g = np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), (5, 6)))
    spec = sb.CrossbarSpec(g, r_wl=5.0, r_bl=8.0,
                           readout=sb.IntegratorSpec(c_wl_f=3e-15, c_bl_f=2e-15))
    v = rng.uniform(0.05, 0.2, 5)
    a = settling(spec, v, bits=6, method="direct")
    b = settling(spec, v, bits=6, method="lines")
    assert b.info["method"] == "modes: lines, step: lines"
    assert a.info["method"] == "modes: direct, step: direct"
    # ARPACK on two exact inverses of G (LU; CG to 1e-11): the same eigenvalues
    assert b.taus_s == pytest.approx(a.taus_s, rel=LINES_REL)
    # the step responses carry the line solves' 1e-11 residual
    assert np.abs(b.currents - a.currents).max() < LINES_REL * a.full_scale_a
    assert b.t_settle_s == pytest.approx(a.t_settle_s, rel=LINES_REL)
