"""How the nodal engine stamps each IR element kind, and the matrices built from them.

The one place where element kinds meet nodal analysis: :data:`STAMPED_KINDS` has an
entry for every kind in :data:`spicebar.circuit.ir.ELEMENT_KINDS` (a test checks it,
beside the netlist writer's table). The linear solve (:mod:`.linear`) and Newton
(:mod:`.newton`) both build on :func:`conductance_matrix` and :func:`fixed_voltages`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ...circuit.ir import CAPACITOR, DEVICE, NMOS, RESISTOR, SINH, VSOURCE, CircuitIR, ElementGroup
from ...circuit.iv_models import level1_params, mos1_ids, read_model_card, sinh_iv
from ...errors import SpecError
from .tables import Level1StandIn, Table1D, Table2D


def _stamp_resistors(g: ElementGroup) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COO triplets (row, col, siemens) of a resistor table's conductance stamps."""
    p, n, y = g.node_p, g.node_n, 1.0 / g.value
    return (np.concatenate([p, n, p, n]), np.concatenate([p, n, n, p]),
            np.concatenate([y, y, -y, -y]))


def _fix_sources(g: ElementGroup) -> np.ndarray:
    """A grounded voltage source fixes the voltage of its + node (eliminated, not stamped)."""
    if np.any(g.node_n != 0):
        raise NotImplementedError("the nodal engine handles grounded voltage sources only")
    return g.node_p


def _open_at_dc(g: ElementGroup) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A capacitor carries no DC current: no stamp (transient charge: engines/readout_nodal)."""
    empty = np.zeros(0, dtype=np.int64)
    return empty, empty, np.zeros(0)


def stamp_sinh(g: ElementGroup, v: np.ndarray):
    """Currents out of ``node_p`` (into the device), and COO Jacobian triplets.

    Args:
        v: voltage across each device ``V(p) - V(n)``, shape ``(n,)`` volts (already limited).
    Returns:
        ``(i, rows, cols, vals)``: ``i`` shape ``(n,)`` A; Jacobian entries in siemens.
    """
    i, gd = sinh_iv(v, g.value, g.param)
    p, n = g.node_p, g.node_n
    return (i, np.concatenate([p, n, p, n]), np.concatenate([p, n, n, p]),
            np.concatenate([gd, gd, -gd, -gd]))


def _not_followed(g: ElementGroup, what: str) -> SpecError:
    return SpecError("cell", f"{what}: the nodal engine follows it only through a table measured "
                     "in ngspice, and this IR has none",
                     "simulate(spec, inputs, 'nodal') (it measures the table, cached), or "
                     "allow_approximate_cells=True / --allow-approximate-cells for a printed "
                     "stand-in where one exists, or the ngspice engine")


def mos_is_level1(g: ElementGroup) -> bool:
    """True where spicebar has the card's own equations (a level-1 card)."""
    from ...circuit.pdk import PdkMosfet
    if isinstance(g.model, PdkMosfet):
        return False  # a PDK transistor (BSIM4): followed through a measured table
    return int(read_model_card(str(g.model))[1].get("level", 1)) == 1


def stamp_nmos(g: ElementGroup, vd, vg, vs):
    """Currents into drain and into source of NMOS devices, and COO Jacobian triplets.

    A level-1 card: ngspice's level-1 equations (the bulk junctions' ``gmin`` is stamped
    by Newton). Any other card: the group's :class:`~.tables.Table2D` (measured in ngspice,
    junctions included), or the level-1 stand-in where the caller allowed it.
    """
    d, gt, s = g.node_p, g.node_g, g.node_n
    if isinstance(g.table, Table2D):
        return stamp_table2d(g, vd, vs)
    if isinstance(g.table, Level1StandIn):
        params = level1_params(g.table.card, g.temperature_k)
    elif mos_is_level1(g):
        params = level1_params(str(g.model), g.temperature_k)
    else:
        raise _not_followed(g, f"the MOSFET card {g.model} is not level 1")
    i, dd, dg, ds = mos1_ids(vd, vg, vs, 0.0, g.value, g.param, params)
    rows = np.concatenate([d, d, d, s, s, s])
    cols = np.concatenate([d, gt, s, d, gt, s])
    return i, -i, rows, cols, np.concatenate([dd, dg, ds, -dd, -dg, -ds])


def stamp_table2d(g: ElementGroup, vp: np.ndarray, vn: np.ndarray):
    """A gated device (gate held by a source) from its :class:`~.tables.Table2D`: currents
    into its first and second terminal, COO Jacobian triplets over those two nodes."""
    i_p, pp, pn, i_n, np_, nn = g.table.evaluate(vp, vn)
    p, n = g.node_p, g.node_n
    return (i_p, i_n, np.concatenate([p, p, n, n]), np.concatenate([p, n, p, n]),
            np.concatenate([pp, pn, np_, nn]))


def device_table(g: ElementGroup):
    """The table that stands for a user-device group (or the refusal)."""
    want = Table1D if g.node_g is None else Table2D
    if not isinstance(g.table, want):
        raise _not_followed(g, f"the user device {g.model.name}")
    return g.table


def stamp_device(g: ElementGroup, vp: np.ndarray, vn: np.ndarray):
    """User devices from their table: currents into the first and second terminal and
    COO Jacobian triplets (two terminals: as :func:`stamp_sinh`)."""
    table = device_table(g)
    if isinstance(table, Table2D):
        return stamp_table2d(g, vp, vn)
    i, gd = table.evaluate(vp - vn)
    p, n = g.node_p, g.node_n
    return (i, -i, np.concatenate([p, n, p, n]), np.concatenate([p, n, n, p]),
            np.concatenate([gd, gd, -gd, -gd]))


#: How the nodal engine takes each IR element kind (a test checks every kind is here).
#: Nonlinear kinds are stamped per Newton iteration (:mod:`.newton`).
STAMPED_KINDS = {RESISTOR: _stamp_resistors, VSOURCE: _fix_sources, CAPACITOR: _open_at_dc,
                 SINH: stamp_sinh, NMOS: stamp_nmos, DEVICE: stamp_device}


def conductance_matrix(ir: CircuitIR) -> sp.csr_matrix:
    """Nodal conductance matrix of every resistor, shape ``(n_nodes, n_nodes)``, siemens."""
    triplets = [STAMPED_KINDS[RESISTOR](g) for g in ir.resistors]
    if not triplets:  # e.g. nonlinear cells on ideal wires: no resistor at all
        return sp.csr_matrix((ir.n_nodes, ir.n_nodes))
    rows, cols, vals = (np.concatenate(t) for t in zip(*triplets))
    return sp.coo_matrix((vals, (rows, cols)), shape=(ir.n_nodes, ir.n_nodes)).tocsr()


def kcl_node_residual(ir: CircuitIR, v: np.ndarray, nodes: np.ndarray,
                      scale: np.ndarray) -> float:
    """The answer's KCL check: the largest net current its resistors leave at any of
    ``nodes``, relative to ``scale`` (per input vector: the largest readout or driver
    current, the currents that matter), largest over the batch.

    ``v``: node voltages ``(n_nodes, batch)``; ``scale``: ``(batch,)`` amperes. Each
    resistor current is ``(v_p - v_n) / r``, from a voltage difference, so the check sees
    the currents that flow: a conductance so large that the wires' share is lost to
    rounding (G = 1e30 S) leaves a net current far above the outputs, where a backward
    error scaled by ``||L|| ||v||`` (1e30) would call the answer exact.
    """
    if not ir.resistors or nodes.size == 0:
        return 0.0
    p = np.concatenate([g.node_p for g in ir.resistors])
    n = np.concatenate([g.node_n for g in ir.resistors])
    r = np.concatenate([g.value for g in ir.resistors])
    i = (v[p] - v[n]) / r[:, None]  # (elements, batch) A, out of p into n
    e = np.arange(p.size)
    incidence = sp.coo_matrix((np.concatenate([np.ones(p.size), -np.ones(p.size)]),
                               (np.concatenate([p, n]), np.concatenate([e, e]))),
                              shape=(ir.n_nodes, p.size)).tocsr()[nodes]
    net = np.abs(incidence @ i).max(axis=0)  # (batch,)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(net > 0, net / scale, 0.0)
    worst = float(rel.max(initial=0.0))
    return worst if np.isfinite(worst) else float("inf")


def fixed_voltages(ir: CircuitIR, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nodes held by sources (ground first) and their voltages, shape ``(n_fixed, batch)``."""
    batch = inputs.shape[0]
    fix = STAMPED_KINDS[VSOURCE]
    gates = [] if ir.gates is None else [ir.gates]
    nodes = np.concatenate([[0], fix(ir.drivers), fix(ir.senses), *(fix(g) for g in gates)])
    values = np.concatenate([np.zeros((1, batch)), ir.driver_voltages(inputs).T,
                             np.repeat(ir.senses.value[:, None], batch, 1),
                             *(np.repeat(g.value[:, None], batch, 1) for g in gates)])
    return nodes, values


#: Spread of a matrix's diagonal (largest / smallest) beyond which float64's 16 digits
#: cannot hold both ends: an LU then fails or returns noise, whatever the topology.
DIAGONAL_SPREAD_LIMIT = 1e16


def singular_reason(matrix) -> str:
    """Why an LU of the nodal ``matrix`` (sparse) most likely failed, for the error: values
    that overflowed (a device parameter far out of range), a spread of conductances no
    float64 solve can hold, or, when neither, a node with no DC path."""
    data = matrix.tocsr().data
    if data.size and not np.all(np.isfinite(data)):
        return ("the matrix holds non-finite conductances: a device's current overflowed "
                "(check its model parameters, e.g. a transistor's kp or a cell's conductance)")
    diag = np.abs(matrix.diagonal())
    big, small = float(diag.max(initial=0.0)), float(diag[diag > 0].min(initial=np.inf))
    if big > 0 and small < np.inf and big / small > DIAGONAL_SPREAD_LIMIT:
        return (f"its conductances span {big / small:.1e} (largest {big:.3g} S, smallest "
                f"{small:.3g} S), beyond float64's 16 digits (check device model parameters "
                "and the bounds in spicebar/circuit/bounds.py)")
    return "some node has no DC path to a driver or readout"
