"""The Newton system's fixed-pattern assembly (engines/nodal/pattern.py) and the readout's
per-point solver (engines/transient/nonlinear_points.py) against the construction they
replaced: COO triplets from the stamp functions summed by scipy, a fresh system per
Jacobian, and the Schur complement of that sparse matrix (independent code paths)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from spicebar import CrossbarSpec
from spicebar.circuit.cells import NonlinearCell, SelectorCell, TransistorCell
from spicebar.circuit.elaboration import elaborate
from spicebar.circuit.ir import NMOS, SINH
from spicebar.circuit.iv_models import NGSPICE_GMIN, sinh_iv
from spicebar.engines.nodal.newton import _System, newton_solve
from spicebar.engines.nodal.stamps import (conductance_matrix, fixed_voltages, stamp_nmos,
                                          stamp_sinh)
from spicebar.engines.transient.boundary import full_jacobian, schur
from spicebar.engines.transient.nonlinear_points import PointSolver
from spicebar.engines.transient.partition import Partition
from .tolerances import FLOAT_REL

CELLS = {
    "1t1r-three-line": lambda: TransistorCell(vg_on_volt=1.8, model="level1-nocap",
                                              source_lines="columns", r_gl_ohm=50.0),
    "1s1r": lambda: SelectorCell(nonlinearity=100, v_read_volt=1.0, i_read_a=1e-5),
    "sinh": lambda: NonlinearCell(v0_volt=0.25),
}


def _coo_reference(ir, v, unknown):
    """Injected currents and the Jacobian on ``unknown`` as the former code built them:
    np.add.at per device group and a COO matrix summed by scipy."""
    n = ir.n_nodes
    gmin = np.zeros(n)
    for g in ir.devices:
        if g.kind == NMOS:
            np.add.at(gmin, g.node_p, NGSPICE_GMIN)
            np.add.at(gmin, g.node_n, NGSPICE_GMIN)
    lap = (conductance_matrix(ir) + sp.diags(gmin)).tocsr()
    inj = lap @ v
    coo = lap.tocoo()
    rows, cols, vals = [coo.row], [coo.col], [coo.data]
    for g in ir.devices:
        if g.kind == SINH:
            i, r, c, y = stamp_sinh(g, v[g.node_p] - v[g.node_n])
            np.add.at(inj, g.node_p, i)
            np.add.at(inj, g.node_n, -i)
        else:
            i_d, i_s, r, c, y = stamp_nmos(g, v[g.node_p], v[g.node_g], v[g.node_n])
            np.add.at(inj, g.node_p, i_d)
            np.add.at(inj, g.node_n, i_s)
        rows.append(r); cols.append(c); vals.append(y)
    full = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(n, n)).tocsr()
    return inj, full[unknown][:, unknown].toarray()


@pytest.mark.parametrize("name", list(CELLS))
def test_fixed_pattern_assembly_equals_the_coo_construction(rng, name):
    spec = CrossbarSpec(rng.uniform(1e-6, 1e-5, (3, 4)), r_wl=2.0, r_bl=3.0, cell=CELLS[name]())
    ir = elaborate(spec)
    fixed, v_fixed = fixed_voltages(ir, rng.uniform(0.0, 0.5, (1, 3)))
    system = _System(ir, conductance_matrix(ir), fixed)
    v = rng.uniform(-0.3, 0.6, ir.n_nodes)  # every region of the devices (both MOSFET modes)
    v[fixed] = v_fixed[:, 0]
    inj, jac = system.evaluate(v, None)
    inj_ref, jac_ref = _coo_reference(ir, v, system.unknown)
    assert np.allclose(inj, inj_ref, rtol=0, atol=FLOAT_REL * np.abs(inj_ref).max())
    assert np.allclose(jac.toarray(), jac_ref, rtol=0, atol=FLOAT_REL * np.abs(jac_ref).max())


#: The Schur complement subtracts products of the size of the wire conductances (1/r_bl)
#: to leave cell-sized entries: two eliminations in different orders differ by some
#: hundred rounding units of the largest entry of the sense block.
SCHUR_ROUNDING = 1e3 * np.finfo(float).eps


@pytest.mark.parametrize("name,size", [(n, (3, 4)) for n in CELLS] + [("1t1r-three-line", (10, 10))],
                         ids=[*CELLS, "1t1r-three-line-sparse"])
def test_point_solver_gives_newton_and_the_schur_complement_of_the_old_path(rng, name, size):
    # two neighbouring input vectors: the second starts from the first's solution and LU
    # (the chord path for the transistor), and must land on full Newton's point and on
    # the Schur complement of the Jacobian built afresh there. 3x4: dense LU; 10x10
    # three-line (400 inner nodes): sparse, the Schur complement as a bordered LU's tail
    g = rng.uniform(1e-6, 1e-5, size)
    ir = elaborate(CrossbarSpec(g, r_wl=2.0, r_bl=3.0, cell=CELLS[name]()))
    v0 = 0.01
    ir0 = replace(ir, senses=replace(ir.senses, value=np.full(len(ir.senses), v0)))
    v_rows = rng.uniform(0.1, 0.3, (1, size[0])) * np.array([[1.0], [1.05]])
    fixed, v_fixed = fixed_voltages(ir0, v_rows)
    lap = conductance_matrix(ir)
    part = Partition(ir)
    system = _System(ir0, lap, fixed)
    points = PointSolver(ir, lap, part, system, fixed)
    v, lu = np.zeros(ir.n_nodes), None
    for k in range(2):
        v[fixed] = v_fixed[:, k]
        v, inj, data, lu = points.solve(v, v_fixed[:, k], k, lu)
        y, z = points.schur(data, lu)
        ref = np.zeros(ir.n_nodes)
        ref[fixed] = v_fixed[:, k]
        ref, _ = newton_solve(_System(ir0, lap, fixed), ref, k)
        # Newton's tolerance: VNTOL + RELTOL max|v| (~1e-9 V here); the currents follow
        scale = np.abs(ref).max()
        assert np.abs(v - ref).max() <= 1e-8 * scale, np.abs(v - ref).max()
        jac = full_jacobian(ir, v, lap)
        y_ref, z_ref = schur(jac, part)
        scale = np.abs(jac[part.sense][:, part.sense].toarray()).max()
        assert np.abs(y - y_ref).max() <= SCHUR_ROUNDING * scale, np.abs(y - y_ref).max() / scale
        assert np.abs(z - z_ref).max() <= SCHUR_ROUNDING * scale, np.abs(z - z_ref).max() / scale
    assert (points.bordered is not None) == (size == (10, 10))
    if name.startswith("1t1r"):
        assert points.chord_steps > 0  # the second vector took the chord path
        assert points.factorisations == 2  # one LU per vector


def test_bordered_schur_with_gate_nodes_held_as_inputs(rng):
    # the readout with RC gate lines holds every gate node by a driver of its own (a gate
    # draws no current: those drivers' rows are empty); the bordered LU leaves them out and
    # must still give the Schur complement of the solves per sense node. 12x12 three-line:
    # 300+ inner nodes, the sparse path
    from spicebar.circuit.elaboration import _concat
    from spicebar.circuit.ir import VSOURCE, ElementGroup
    ir = elaborate(CrossbarSpec(rng.uniform(1e-6, 1e-5, (12, 12)), r_wl=1.0, r_bl=1.0,
                                cell=TransistorCell(vg_on_volt=1.8, model="level1-nocap",
                                                    source_lines="columns", r_gl_ohm=50.0)))
    gates = np.unique([g for g in ir.devices if g.kind == NMOS][0].node_g)
    k = gates.size
    held = ElementGroup(VSOURCE, "vgate", np.arange(k), gates, np.zeros(k, int), np.zeros(k), "")
    aug = replace(ir, drivers=_concat([ir.drivers, held]),
                  resistors=tuple(g for g in ir.resistors if g.prefix != "rgl"),
                  driver_row=np.concatenate([ir.driver_row, ir.rows + np.arange(k)]),
                  gates=ir.gates if not np.isin(ir.gates.node_p, gates).any() else None)
    ir0 = replace(aug, senses=replace(aug.senses, value=np.zeros(len(aug.senses))))
    fixed, v_fixed = fixed_voltages(ir0, np.concatenate([rng.uniform(0, 0.2, 12),
                                                         np.linspace(1.8, 0.9, k)])[None])
    lap, part = conductance_matrix(aug), Partition(aug)
    system = _System(ir0, lap, fixed)
    points = PointSolver(aug, lap, part, system, fixed)
    assert points.bordered is not None
    v = np.zeros(aug.n_nodes)
    v[fixed] = v_fixed[:, 0]
    v, _, data, lu = points.solve(v, v_fixed[:, 0], 0, None)
    y, z = points.schur(data, lu)
    jac = full_jacobian(aug, v, lap)
    y_ref, z_ref = schur(jac, part)
    scale = np.abs(jac[part.sense][:, part.sense].toarray()).max()
    assert np.abs(y - y_ref).max() <= SCHUR_ROUNDING * scale, np.abs(y - y_ref).max() / scale
    assert np.abs(z - z_ref).max() <= SCHUR_ROUNDING * scale, np.abs(z - z_ref).max() / scale
