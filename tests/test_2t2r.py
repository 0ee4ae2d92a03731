"""2T2R differential cells: two 1T1R halves (G+ on column 2p, G- on 2p+1) on one gate.

Checked against what the engines do not compute themselves: the signed product ``W x`` of
the differential mapping (transistors fully on, zero wire resistance, so every cell is its
element), the symmetry of identical halves (zero differential output), and each other
(nodal vs ngspice, DC and the integrator readout with RC gate lines shared per pair).
"""

import numpy as np
import pytest

from spicebar import CrossbarSpec, DifferentialTransistorCell, MappingSpec
from spicebar.circuit.differential_cells import differential_currents, pair_conductances
from spicebar.circuit.elaboration import elaborate
from spicebar.circuit.encoding import EncodingSpec
from spicebar.circuit.iv_models import level1_params
from spicebar.circuit.readout import IntegratorSpec, OpAmpSpec
from spicebar.engines.simulation import simulate
from spicebar.circuit.cells import TransistorCell
from spicebar.circuit.encoding import build_schedule
from spicebar.engines.transient.gate_lines import (gate_node_voltages, ladder_time_constant_s,
                                                   warn_gate_charge)
from spicebar.engines.transient.run import compare_readouts, simulate_readout
from spicebar.errors import ReadoutWarning, SpecError

from .test_cli import run_cli
from .tolerances import CELL_AGREEMENT_REL, READOUT_AGREEMENT_FS

pytestmark = pytest.mark.ngspice

#: The full-on limit's access transistor: the widest the spec allows at the highest gate
#: voltage, so its channel resistance is ~1 ohm against the elements' >= 1e4 ohm.
WIDE_W_M, L_M, VG_FULL_ON = 1e-4, 0.18e-6, 5.0


def _r_on_ohm(card_path: str) -> float:
    """Triode channel resistance at V_DS -> 0 and V_S = 0 (Shichman-Hodges written out)."""
    p = level1_params(card_path)
    return 1.0 / (p.kp * WIDE_W_M / (L_M - 2 * p.ld) * (VG_FULL_ON - p.vto))


def test_full_on_2t2r_gives_the_signed_product_of_the_mapping(ngspice_ready, rng):
    # signed weights -> the differential mapping's (G+, G-) columns -> a 2T2R array; with
    # zero wire resistance and ~1 ohm transistors every bit line carries sum_i V_i G[i, j],
    # so the mapping's outputs are W x up to the transistors' share of each cell's resistance
    w = rng.uniform(-1, 1, (2, 3))  # 2 outputs, 3 inputs
    x = rng.uniform(0.2, 1, (2, 3))  # non-negative inputs: the bit lines stay the sources
    scale = MappingSpec(g_max_s=1e-4).resolve(w, x)
    g = scale.target_conductances(w)  # (3, 4): G+ on even, G- on odd columns
    cell = DifferentialTransistorCell(vg_on_volt=VG_FULL_ON, w_m=WIDE_W_M, l_m=L_M)
    spec = CrossbarSpec(g, cell=cell)
    volts, _, _ = scale.input_reads(x)
    # each cell current is short of V G by R_on G / (1 + R_on G) <= R_on G_max of itself;
    # twice that covers the (sub-percent) body effect and channel-length modulation
    share = 2.0 * _r_on_ohm(cell.mos_model) * float(g.max())
    assert share < 1e-3  # the limit really is the transistors fully on
    want = x @ w.T
    for engine in ("nodal", "ngspice"):
        i = simulate(spec, volts, engine=engine).currents
        bound = share * (i[:, 0::2] + i[:, 1::2]) / scale.amperes_per_output  # both halves' shares
        err = np.abs(scale.outputs_from_currents(i) - want)
        assert np.all(err <= bound), (engine, err, bound)
        assert np.abs(differential_currents(i) / scale.amperes_per_output - want).max() == \
            pytest.approx(err.max())  # the 2T2R readout is the mapping's differential one


def test_identical_halves_read_zero_difference(ngspice_ready, rng):
    # G+ == G- on ideal word lines: the two bit lines of a pair are the same circuit (same
    # inputs, elements, shared gate, bit-line resistance), so I+ - I- = 0 up to the solvers'
    # convergence (CELL_AGREEMENT_REL of the column current)
    gp = rng.uniform(1e-5, 1e-4, (3, 2))
    spec = CrossbarSpec(pair_conductances(gp, gp), r_wl=0.0, r_bl=5.0, cell=DifferentialTransistorCell(
        vg_on_volt=1.8, r_gl_ohm=200.0, c_gl_f=1e-15))
    v = rng.uniform(0.05, 0.3, (2, 3))
    for engine in ("nodal", "ngspice"):
        i = simulate(spec, v, engine=engine).currents
        assert np.abs(differential_currents(i)).max() < CELL_AGREEMENT_REL * np.abs(i).max(), engine
        assert np.abs(i).min() > 0.1 * np.abs(i).max()  # the cells did conduct


def test_a_pair_shares_one_gate_node():
    g = np.full((2, 6), 5e-5)
    ir = elaborate(CrossbarSpec(g, cell=DifferentialTransistorCell(vg_on_volt=1.8, r_gl_ohm=100.0,
                                                                    c_gl_f=2e-15)))
    (mos,) = [d for d in ir.devices if d.kind == "nmos"]
    gate = mos.node_g.reshape(2, 6)
    assert np.array_equal(gate[:, 0::2], gate[:, 1::2])
    assert len(np.unique(gate)) == 2 * 3  # one gate node per pair, not per column
    (rgl,) = [r for r in ir.resistors if r.prefix == "rgl"]
    assert len(rgl) == 6 and len(ir.capacitors[0]) == 6
    names = set(ir.node_names.tolist())
    assert "gl_1_2" in names and "gl_1_3" not in names


def test_2t2r_engines_agree_dc_and_readout(ngspice_ready, rng):
    # DC: resistive wires and an RC gate line per pair, at the 1T1R cell tolerance
    g = pair_conductances(rng.uniform(1e-5, 1e-4, (3, 2)), rng.uniform(1e-5, 1e-4, (3, 2)))
    dc = CrossbarSpec(g, r_wl=2.0, r_bl=3.0, cell=DifferentialTransistorCell(
        vg_on_volt=1.8, r_gl_ohm=500.0, c_gl_f=5e-15))
    v = rng.uniform(0, 0.3, (2, 3))
    a, b = simulate(dc, v, engine="nodal"), simulate(dc, v, engine="ngspice")
    da, db = differential_currents(a.currents), differential_currents(b.currents)
    assert np.abs(a.currents - b.currents).max() < CELL_AGREEMENT_REL * np.abs(b.currents).max()
    assert np.abs(da - db).max() < CELL_AGREEMENT_REL * np.abs(b.currents).max()
    # readout (2 rows x 2 pairs, a resistive gate line per pair): the integrators of both
    # halves of every pair, at the 1T1R readout tolerance
    g2 = g[:2] * 0.1
    ro = IntegratorSpec(c_int_f=0.2 * float(g2.sum(0).max()) * 5e-9 / 0.6, t_int_s=5e-9,
                        opamp=OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, v_lo=-1.0, v_hi=1.0))
    spec = CrossbarSpec(g2, r_wl=1.0, r_bl=1.0, readout=ro, cell=DifferentialTransistorCell(
        vg_on_volt=1.8, model="level1-nocap", r_gl_ohm=1000.0))
    enc = EncodingSpec(v_read=0.2, kind="amplitude", bits=3)
    vr = rng.uniform(0.05, 0.2, (1, 2))
    ra, rb = simulate_readout(spec, vr, enc, "nodal"), simulate_readout(spec, vr, enc, "ngspice")
    cmp = compare_readouts(ra, rb, spec)
    assert cmp["sample_deviation_fs"] < READOUT_AGREEMENT_FS, cmp
    diff = differential_currents(ra.samples) - differential_currents(rb.samples)
    assert np.abs(diff).max() < 2 * READOUT_AGREEMENT_FS * cmp["full_scale_v"]  # two samples' errors


def test_pair_gates_follow_the_ladder_of_pairs():
    # RC gate lines in a readout: the ladder has one node per PAIR (its segments are a 2T2R
    # cell's pitch), both halves of a pair see that node: the 1T1R ladder of `pairs` cells,
    # column by column (a closed form the 1T1R tests check against a matrix exponential)
    g = np.full((2, 6), 5e-6)
    ro = IntegratorSpec(c_int_f=1e-13, t_int_s=5e-9)
    kw = dict(vg_on_volt=1.8, model="level1-nocap", r_gl_ohm=1000.0, c_gl_f=10e-15)
    two = elaborate(CrossbarSpec(g, cell=DifferentialTransistorCell(**kw), readout=ro))
    one = elaborate(CrossbarSpec(g[:, :3], cell=TransistorCell(**kw), readout=ro))
    enc = EncodingSpec(v_read=0.2, kind="amplitude", bits=3)
    sched = build_schedule(enc, np.full((1, 2), 0.1), 5e-9, ro.t_reset_s, ro.t_settle_s)
    times = np.linspace(0.0, 3e-9, 40)
    _, v2 = gate_node_voltages(two, sched, enc.t_edge_s, times)
    _, v1 = gate_node_voltages(one, sched, enc.t_edge_s, times)
    v2, v1 = v2.reshape(40, 2, 6), v1.reshape(40, 2, 3)
    assert np.array_equal(v2[:, :, 0::2], v1) and np.array_equal(v2[:, :, 1::2], v1)
    assert np.ptp(v1, axis=2).max() > 0.01  # the far gates really lag the near ones here
    assert ladder_time_constant_s(two) == ladder_time_constant_s(one)


def test_odd_columns_and_bad_fields_are_refused():
    with pytest.raises(SpecError, match="conductances.*even number of columns"):
        CrossbarSpec(np.full((2, 3), 1e-5), cell=DifferentialTransistorCell(vg_on_volt=1.8))
    with pytest.raises(SpecError, match="r_gl_ohm"):
        DifferentialTransistorCell(vg_on_volt=1.8, r_gl_ohm=-1.0)
    with pytest.raises(SpecError, match="vg_on_volt"):
        DifferentialTransistorCell()


def test_cli_2t2r(ngspice_ready, tmp_path):
    np.save(tmp_path / "G.npy", np.full((2, 3), 1e-5))
    np.save(tmp_path / "G4.npy", pair_conductances(np.full((2, 2), 2e-5), np.full((2, 2), 1e-5)))
    np.save(tmp_path / "V.npy", np.full((1, 2), 0.2))
    p = run_cli("simulate", "-G", tmp_path / "G.npy", "-V", tmp_path / "V.npy", "--cell", "2t2r",
                "--vg-on", "1.8", "--engine", "nodal", "--out", tmp_path / "r.npz")
    assert p.returncode == 2 and "even number of columns" in p.stderr, p.stderr
    assert not (tmp_path / "r.npz").exists()
    p = run_cli("simulate", "-G", tmp_path / "G4.npy", "-V", tmp_path / "V.npy", "--cell", "2t2r",
                "--vg-on", "1.8", "--engine", "nodal", "--out", tmp_path / "r.npz")
    assert p.returncode == 0, p.stderr
    assert "2T2R differential" in p.stdout and "2 pair(s)" in p.stdout


def test_nodal_readout_warns_about_gate_charge(rng):
    g = rng.uniform(1e-6, 1e-5, (1, 2))
    ro = IntegratorSpec(c_int_f=1e-13, t_int_s=5e-9,
                        opamp=OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, v_lo=-1.0, v_hi=1.0))
    tox = CrossbarSpec(g, cell=DifferentialTransistorCell(vg_on_volt=1.8), readout=ro)
    with pytest.warns(ReadoutWarning):
        assert "level1-nocap" in warn_gate_charge(elaborate(CrossbarSpec(g, cell=tox.cell)))
    nocap = CrossbarSpec(g, cell=DifferentialTransistorCell(vg_on_volt=1.8, model="level1-nocap"))
    assert warn_gate_charge(elaborate(nocap)) == ""
    with pytest.warns(ReadoutWarning, match="nmos_level1.lib has TOX.*level1-nocap"):
        simulate_readout(tox, [0.1], EncodingSpec(v_read=0.2, kind="amplitude", bits=2), "nodal")
