"""Per-cell currents from node voltages and each cell's I-V (every engine uses this).

The current of cell ``(i, j)`` is the current it delivers into its bit-line node:

* passive / 1S1R: the current through the linear element ``rcell_i_j`` (for 1S1R the
  element sits between ``mid_i_j`` and the bit line);
* nonlinear: ``G V0 sinh((V_wl - V_bl) / V0)``;
* user devices: the device's measured table at ``V_wl - V_bl`` (see
  :mod:`spicebar.engines.characterise`; an IR without its table has no cell currents);
* 1T1R: the channel current of ``macc_i_j`` (for a level-1 card, ngspice's level-1
  equations; for other cards the ``rcell_i_j`` current, i.e. the drain current)
  plus its bulk-source junction current ``gmin * (0 - V_bl)``.

No extra sources are added to a netlist: ngspice's node voltages are enough. By
KCL a bit line's readout current is the sum of its cells' currents (up to the
solver's residual).
"""

from __future__ import annotations

import numpy as np

from ..circuit.iv_models import NGSPICE_GMIN, level1_params, mos1_ids, read_model_card, sinh_iv
from ..circuit.ir import CircuitIR
from ..errors import SpecError


def _group(ir: CircuitIR, prefix: str):
    for g in (*ir.resistors, *ir.devices):
        if isinstance(g.prefix, str) and g.prefix == prefix:
            return g
    return None


def _scatter(ir: CircuitIR, g, values: np.ndarray) -> np.ndarray:
    out = np.zeros((values.shape[0], ir.rows, ir.cols))
    out[:, g.labels[:, 0], g.labels[:, 1]] = values
    return out


def cell_currents(ir: CircuitIR, v: np.ndarray) -> np.ndarray:
    """Cell currents into the bit lines, ``(batch, rows, cols)`` A, from node voltages ``v``
    of shape ``(batch, n_nodes)`` volts."""
    mos = _group(ir, "macc") or _group(ir, "xacc")
    if mos is not None:
        into_column = getattr(ir.cell, "source_lines", "columns") == "columns"
        if mos.prefix == "macc" and into_column and \
                int(read_model_card(str(mos.model))[1].get("level", 1)) == 1:
            i = mos1_ids(v[:, mos.node_p], v[:, mos.node_g], v[:, mos.node_n], 0.0, mos.value,
                         mos.param, level1_params(str(mos.model), mos.temperature_k))[0]
        else:  # the element's current (source lines along the rows: it meets the column line)
            r = _group(ir, "rcell")
            i = (v[:, r.node_p] - v[:, r.node_n]) / r.value
            if not into_column:
                return _scatter(ir, r, i)
        return _scatter(ir, mos, i - NGSPICE_GMIN * v[:, mos.node_n])
    for prefix in ("xcell", "ncell"):
        d = _group(ir, prefix)
        if d is not None:
            if d.table is None:
                raise SpecError("cell", f"{d.model.name} device cells have no measured table, "
                                "so their currents are unknown here",
                                "results of simulate(...), which measures it")
            if d.node_g is not None:  # gated: minus the current into the second terminal
                return _scatter(ir, d, -d.table.evaluate(v[:, d.node_p], v[:, d.node_n])[3])
            return _scatter(ir, d, d.table.evaluate(v[:, d.node_p] - v[:, d.node_n],
                                                    np.broadcast_to(d.table.which, (v.shape[0], len(d))))[0])
    b = _group(ir, "bcell")
    if b is not None:
        return _scatter(ir, b, sinh_iv(v[:, b.node_p] - v[:, b.node_n], b.value, b.param)[0])
    r = _group(ir, "rcell")
    return _scatter(ir, r, (v[:, r.node_p] - v[:, r.node_n]) / r.value)


def deferred_cell_currents(ir: CircuitIR, v: np.ndarray):
    """:func:`cell_currents` of ``ir`` at ``v``, built when a result first reads it."""
    from ..results import Deferred
    return Deferred(_cell_currents_of_result, ir, v)


def _cell_currents_of_result(result, ir: CircuitIR, v: np.ndarray) -> np.ndarray:
    return cell_currents(ir, v)


def node_voltages(result) -> np.ndarray | None:
    """Every node's voltage ``(batch, n_nodes)`` V behind a result whose cell currents are
    still deferred (set by :func:`deferred_cell_currents`), else None."""
    build = result.__dict__.get("_deferred", {}).get("cell_currents")
    if build is None or build.fn is not _cell_currents_of_result:
        return None
    return build.args[1]
