"""Three-line 1T1R arrays: resistive-capacitive gate lines, source lines along rows or columns.

Checked against what the engines do not compute themselves: the two-line array they reduce
to, a hand-solved cell (series resistor and a Shichman-Hodges transistor written out here),
the exact RC-ladder response by a matrix exponential, and each other (nodal vs ngspice).
"""

import numpy as np
import pytest
from scipy.linalg import expm
from scipy.optimize import brentq

from spicebar import CrossbarSpec
from spicebar.circuit.cells import TransistorCell
from spicebar.circuit.elaboration import elaborate
from spicebar.circuit.encoding import EncodingSpec
from spicebar.circuit.readout import IntegratorSpec, OpAmpSpec
from spicebar.engines.simulation import simulate
from spicebar.engines.transient.gate_lines import ladder_ramp_response
from spicebar.engines.transient.run import compare_readouts, simulate_readout
from spicebar.errors import SpecError
from spicebar.netlist.writer import format_netlist

from .tolerances import ANALYTIC_REL, CELL_AGREEMENT_REL, READOUT_AGREEMENT_FS

pytestmark = pytest.mark.ngspice

#: The hand-solved cell leaves out ngspice's gmin (1e-12 S from drain and source to bulk): at
#: 0.3 V that is 3e-13 A against cell currents of ~1e-5 A, so 3e-8 relative; 1e-7 holds it.
GMIN_LEFT_OUT_REL = 1e-7
#: The gate-line delay must move the samples by at least this many times the engines'
#: agreement target, so a test of their agreement would notice the delay went missing.
DELAY_OVER_AGREEMENT = 10.0


def both_dc(spec, v):
    return simulate(spec, v, engine="nodal"), simulate(spec, v, engine="ngspice")


def rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def test_ideal_gate_lines_write_the_two_line_netlist(rng):
    # ideal gate lines and source lines along the columns ARE the two-line 1T1R: same text
    g = rng.uniform(1e-5, 1e-4, (3, 4))
    a = CrossbarSpec(g, r_wl=1.0, r_bl=2.0, cell=TransistorCell(vg_on_volt=1.8))
    b = CrossbarSpec(g, r_wl=1.0, r_bl=2.0, cell=TransistorCell(vg_on_volt=1.8, r_gl_ohm=0.0,
                                                                c_gl_f=0.0, source_lines="columns"))
    v = rng.uniform(0, 0.3, 3)
    assert format_netlist(elaborate(a), v) == format_netlist(elaborate(b), v)


@pytest.mark.parametrize("source_lines", ["columns", "rows"])
def test_resistive_gate_lines_leave_dc_unchanged_in_both_engines(ngspice_ready, rng, source_lines):
    # a gate draws no DC current: a resistive, capacitive gate line is at its source's
    # voltage everywhere, so DC equals the array with ideal gate lines (a ladder really built)
    g = rng.uniform(1e-5, 1e-4, (3, 4))
    v = rng.uniform(0, 0.3, (2, 3))
    three = CrossbarSpec(g, r_wl=2.0, r_bl=3.0, cell=TransistorCell(
        vg_on_volt=1.8, source_lines=source_lines, r_gl_ohm=500.0, c_gl_f=5e-15))
    two = CrossbarSpec(g, r_wl=2.0, r_bl=3.0, cell=TransistorCell(vg_on_volt=1.8,
                                                                  source_lines=source_lines))
    ir = elaborate(three)
    assert any(r.prefix == "rgl" and len(r) == 12 for r in ir.resistors)
    assert "gl_2_3" in set(ir.node_names.tolist()) and len(ir.capacitors) == 1
    a3, b3 = both_dc(three, v)
    a2, b2 = both_dc(two, v)
    assert rel(a3.currents, b3.currents) < CELL_AGREEMENT_REL
    assert rel(a3.currents, a2.currents) < CELL_AGREEMENT_REL
    assert rel(b3.currents, b2.currents) < CELL_AGREEMENT_REL


def _ids(vg, vd, vs, w=1e-6, l_=0.18e-6, vto=0.5, kp=387e-6, gamma=0.4, phi=0.8, lam=0.1):
    """Shichman-Hodges drain current (the shipped level-1 card's numbers), written out, vd >= vs."""
    vt = vto + gamma * (np.sqrt(phi + vs) - np.sqrt(phi))
    vgs, vds = vg - vs, vd - vs
    if vgs <= vt:
        return 0.0
    beta = kp * w / l_
    if vds < vgs - vt:
        return beta * (vgs - vt - vds / 2) * vds * (1 + lam * vds)
    return beta / 2 * (vgs - vt) ** 2 * (1 + lam * vds)


def _hand_cell(v_in, g, source_lines, vg=1.8):
    """The current of one cell between an ideal input v_in and a 0 V readout."""
    r = 1.0 / g
    if source_lines == "columns":  # v_in - R - mid - transistor (drain mid, source 0) - 0
        mid = brentq(lambda m: (v_in - m) / r - _ids(vg, m, 0.0), 0.0, v_in, xtol=1e-16, rtol=1e-15)
        return (v_in - mid) / r
    # v_in - transistor (drain v_in, source mid) - mid - R - 0
    mid = brentq(lambda m: _ids(vg, v_in, m) - m / r, 0.0, v_in, xtol=1e-16, rtol=1e-15)
    return mid / r


@pytest.mark.parametrize("source_lines", ["columns", "rows"])
def test_zero_resistance_lines_give_the_hand_solved_cells(ngspice_ready, rng, source_lines):
    # source and bit lines at 0 ohm (and a resistive gate line, which DC does not see): every
    # cell is a series resistor and transistor between its input and the readout
    g = rng.uniform(1e-5, 1e-4, (3, 4))
    v = rng.uniform(0.05, 0.3, (1, 3))
    spec = CrossbarSpec(g, cell=TransistorCell(vg_on_volt=1.8, source_lines=source_lines,
                                               r_gl_ohm=100.0))
    hand = np.array([[_hand_cell(v[0, i], g[i, j], source_lines) for j in range(4)]
                     for i in range(3)]).sum(axis=0)
    a, b = both_dc(spec, v)
    assert rel(a.currents[0], hand) < GMIN_LEFT_OUT_REL
    assert rel(b.currents[0], hand) < GMIN_LEFT_OUT_REL


def test_ladder_response_is_the_matrix_exponential():
    # the gate ladder's closed form (eigenmodes under a ramp) against the exact solution of
    # the same linear system by a matrix exponential of the system augmented with the ramp
    n, r, c, t_on, t_edge = 5, 300.0, 4e-15, 1e-9, 1e-10
    times = np.array([0.5e-9, 1.03e-9, 1.1e-9, 1.2e-9, 1.5e-9, 3e-9])
    got = ladder_ramp_response(r, c, n, t_on, t_edge, times)
    lap = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    lap[-1, -1] = 1.0
    a = -lap / (r * c)
    e0 = np.zeros(n)
    e0[0] = 1.0 / (r * c)

    def step(x, u, du, h):
        # z = [x, u, 1]: x' = a x + e0 u, u' = du, 1' = 0; exact over h by expm
        m = np.zeros((n + 2, n + 2))
        m[:n, :n], m[:n, n], m[n, n + 1] = a, e0, du
        return (expm(m * h) @ np.concatenate([x, [u, 1.0]]))[:n]
    for k, t in enumerate(times):
        x = np.zeros(n)
        if t > t_on:  # ramp u = (t' - t_on) / t_edge over [t_on, min(t, t_on + t_edge)], then 1
            h1 = min(t, t_on + t_edge) - t_on
            x = step(x, 0.0, 1.0 / t_edge, h1)
            if t > t_on + t_edge:
                x = step(x, 1.0, 0.0, t - t_on - t_edge)
        assert np.allclose(got[k], x, rtol=ANALYTIC_REL * 1e3, atol=1e-12), (t, got[k], x)


def _readout_spec(g, cell, v_read=0.2, t_int=20e-9):
    ro = IntegratorSpec(c_int_f=v_read * float(g.sum(0).max()) * t_int / 0.6, t_int_s=t_int,
                        opamp=OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, v_lo=-1.0, v_hi=1.0))
    return CrossbarSpec(g, r_wl=1.0, r_bl=1.0, cell=cell, readout=ro)


def test_rc_gate_lines_delay_the_readout_alike_in_both_engines(ngspice_ready, rng):
    # the gates ramp on as the first window opens; the far cells of each row turn on later,
    # so the first window integrates less; both engines agree on how much
    # 2x3: every time point of the gates' turn-on is a Newton solve and a Schur complement
    # (the error-controlled grid puts about 900 there); the size does not change the physics
    g = rng.uniform(1e-6, 1e-5, (2, 3))
    v = rng.uniform(0.05, 0.2, (1, 2))
    enc = EncodingSpec(v_read=0.2, kind="amplitude", bits=3)
    cell = TransistorCell(vg_on_volt=1.8, model="level1-nocap", r_gl_ohm=1000.0, c_gl_f=10e-15)
    spec = _readout_spec(g, cell, t_int=5e-9)
    a = simulate_readout(spec, v, enc, "nodal")
    b = simulate_readout(spec, v, enc, "ngspice")
    cmp = compare_readouts(a, b, spec)
    assert cmp["sample_deviation_fs"] < READOUT_AGREEMENT_FS, cmp
    ideal = simulate_readout(_readout_spec(g, TransistorCell(vg_on_volt=1.8, model="level1-nocap"),
                                           t_int=5e-9), v, enc, "nodal")
    moved = np.abs(a.samples - ideal.samples).max() / cmp["full_scale_v"]
    assert moved > DELAY_OVER_AGREEMENT * READOUT_AGREEMENT_FS, moved
    assert np.all(a.samples <= ideal.samples + READOUT_AGREEMENT_FS * cmp["full_scale_v"])


def test_ramped_gates_on_a_card_with_gate_charge_are_refused(rng):
    g = rng.uniform(1e-6, 1e-5, (2, 2))
    spec = _readout_spec(g, TransistorCell(vg_on_volt=1.8, r_gl_ohm=10.0, c_gl_f=1e-15))
    with pytest.raises(SpecError, match="c_gl_f.*level1-nocap"):
        simulate_readout(spec, np.full(2, 0.1), EncodingSpec(v_read=0.2, kind="amplitude", bits=2),
                         "nodal")


@pytest.mark.parametrize("kw, name", [(dict(source_lines="diagonal"), "source_lines"),
                                      (dict(r_gl_ohm=-1.0), "r_gl_ohm"),
                                      (dict(c_gl_f=1.0), "c_gl_f")])
def test_bad_three_line_fields_name_themselves(kw, name):
    with pytest.raises(SpecError, match=name):
        TransistorCell(vg_on_volt=1.8, **kw)
