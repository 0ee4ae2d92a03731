"""Nonlinear cells in the noise analysis: the array's DC operating point for one input
vector, its small-signal conductances there, and the noise source of every device.

The operating point is the nodal engine's own Newton solution
(:func:`spicebar.engines.nodal.newton.newton_solve`) with every readout's sense node held at
its virtual ground ``v_ref + v_os``; the small-signal matrix is the Newton Jacobian at that
point (:func:`spicebar.engines.transient.boundary.full_jacobian`: every device's ``dI/dV``,
the transistors' ``gm``, ``gds`` and ngspice's ``gmin``), so the noise network is the
tangent of exactly the circuit the engines solve.

Noise of each device kind, a current source across the device (one-sided densities):

* memory elements and wires (resistors): thermal ``4 k T / R`` (as for linear cells);
* a built-in nonlinear cell (``I = G V0 sinh(V / V0)``, the memory element itself):
  thermal ``4 k T g_d`` at its small-signal conductance ``g_d = dI/dV``;
* a 1S1R selector (``I = Is sinh(V / Vs)``, junction-like): shot ``2 q |I|``;
* a 1T1R level-1 access transistor: ngspice's MOS1 channel noise
  ``4 k T (2/3) |gm|`` between drain and source (its default noise model; ``gm`` at the
  operating point, so an access transistor in its linear region, where ``gm`` is small,
  adds little; the card's ``KF`` flicker term is 0 by default and not modelled); its
  ``gmin`` conductances are noiseless, as in ngspice;
* a user device (:class:`~spicebar.circuit.devices.DeviceCell`): its ``noise`` field,
  ``"thermal"`` ``4 k T g`` (``g = dI/dV`` at the operating point; a gated device:
  ``dI_p/dV_p`` with its gate and other terminal held), ``"shot"`` ``2 q |I|``, or
  ``"none"``.
"""

from __future__ import annotations

import numpy as np

from ..circuit.ir import DEVICE, NMOS, SINH, CircuitIR
from ..errors import SpecError

#: Category of shot noise in the budget.
SHOT = "cells (shot)"
#: Category of the access transistors' channel noise.
CHANNEL = "access transistors"


#: Fixed-point passes of a TIA's virtual ground against its op-amp's finite gain (each
#: shrinks the error by ``(R_f + r_out) G_col / a0``, below 1e-4 for any gain >= 1e4 here).
TIA_PASSES = 3


def operating_point(ir: CircuitIR, x: np.ndarray, v_virtual) -> np.ndarray:
    """Node voltages ``(n_nodes,)`` V of ``ir`` for input vector ``x`` ``(rows,)`` V with
    each column's sense nodes at ``v_virtual`` (scalar or ``(cols,)`` V: the readouts'
    virtual grounds), by the nodal engine's Newton solve."""
    from dataclasses import replace

    from ..engines.nodal.newton import _System, newton_solve
    from ..engines.nodal.stamps import conductance_matrix, fixed_voltages
    held = np.broadcast_to(np.asarray(v_virtual, float), (ir.cols,))[ir.sense_col]
    ir0 = replace(ir, senses=replace(ir.senses, value=held.copy()))
    fixed, v_fixed = fixed_voltages(ir0, np.asarray(x, float)[None])
    system = _System(ir0, conductance_matrix(ir0), fixed)
    v = np.zeros(ir.n_nodes)
    v[fixed] = v_fixed[:, 0]
    return newton_solve(system, v, 0)[0]


def readout_operating_point(ir: CircuitIR, x: np.ndarray, readout):
    """``(v, i_cells)``: node voltages ``(n_nodes,)`` V and cell currents ``(rows, cols)`` A
    (their column sums are the currents into the readouts). The virtual ground is the op-amp's ``v_ref + v_os``; a TIA's also
    moves by its finite gain: ``a0 (v+ - vg) + i r_out = vg - i R_f`` gives
    ``vg = (a0 v+ + i (R_f + r_out)) / (1 + a0)`` (solved by :data:`TIA_PASSES` passes).
    An integrator has no DC operating point of its loop (the output ramps): its virtual
    ground is taken at ``v+``."""
    from ..engines.cell_currents import cell_currents
    op = readout.opamp
    v_plus = readout.v_ref + op.v_os
    vg = np.full(ir.cols, v_plus)
    for _ in range(TIA_PASSES if readout.kind == "tia" else 1):
        v = operating_point(ir, x, vg)
        i_cells = cell_currents(ir, v[None])[0]
        if readout.kind == "tia":
            vg = (op.a0 * v_plus + i_cells.sum(axis=0) * (readout.r_f_ohm + op.r_out)) \
                / (1.0 + op.a0)
    return v, i_cells


def small_signal_matrix(ir: CircuitIR, v: np.ndarray):
    """``(n_nodes, n_nodes)`` csr S: the array linearised at node voltages ``v``."""
    from ..engines.nodal.stamps import conductance_matrix
    from ..engines.transient.boundary import full_jacobian
    return full_jacobian(ir, v, conductance_matrix(ir))


def _level1(g):
    from ..circuit.iv_models import level1_params
    from ..engines.nodal.stamps import mos_is_level1
    from ..engines.nodal.tables import Level1StandIn
    if isinstance(g.table, Level1StandIn):
        return level1_params(g.table.card, g.temperature_k)
    if g.table is None and mos_is_level1(g):
        return level1_params(str(g.model), g.temperature_k)
    raise SpecError("cell", f"has access transistors of the card {g.model}, which is not "
                    "level 1: the noise analysis models ngspice's level-1 channel noise only",
                    "a level-1 card (--mos-model level1 or level1-nocap), or passive, "
                    "nonlinear, 1s1r or device cells")


def device_sources(ir: CircuitIR, v: np.ndarray) -> list[tuple]:
    """``[(category, node_p, node_n, law, x)]`` of every device of ``ir`` at node voltages
    ``v`` ``(n_nodes,)`` (node indices of ``ir``; see the module docstring): ``law`` is
    ``"shot"`` with ``x = |I|`` (A; density ``2 q x``) or ``"thermal"`` with ``x`` the
    noise conductance (S; density ``4 k T x``), ``(n,)`` each."""
    from ..circuit.iv_models import mos1_ids, sinh_iv
    out = []
    for g in ir.devices:
        vp, vn = v[g.node_p], v[g.node_n]
        if g.kind == SINH:
            i, gd = sinh_iv(vp - vn, g.value, g.param)
            if g.prefix == "bsel":  # a selector: junction-like
                out.append((SHOT, g.node_p, g.node_n, "shot", np.abs(i)))
            else:                   # the nonlinear memory element
                out.append(("cells (thermal)", g.node_p, g.node_n, "thermal", np.abs(gd)))
        elif g.kind == NMOS:
            _, _, gm, _ = mos1_ids(vp, v[g.node_g], vn, 0.0, g.value, g.param, _level1(g))
            out.append((CHANNEL, g.node_p, g.node_n, "thermal", (2.0 / 3.0) * np.abs(gm)))
        elif g.kind == DEVICE:
            kind = g.model.noise
            if kind == "none":
                continue
            if g.node_g is not None:
                i, gd = g.table.evaluate(vp, vn)[:2]
            else:
                i, gd = g.table.evaluate(vp - vn)
            if kind == "shot":
                out.append((SHOT, g.node_p, g.node_n, "shot", np.abs(i)))
            else:
                out.append(("cells (thermal)", g.node_p, g.node_n, "thermal", np.abs(gd)))
        else:  # pragma: no cover - every nonlinear kind is above
            raise SpecError("cell", f"has devices of kind {g.kind}", "sinh, nmos or device")
    return out
