"""Elaboration: a CrossbarSpec becomes a CircuitIR (pure, vectorised).

Nodes are first numbered block by block, in an order that decides which name a
merged node keeps (driver and readout ends first, then cell nodes); resistors of
exactly 0 ohm are then contracted, so an ideal wire is one node, not a tiny
resistor.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .cell_ir import cell_parts
from .ir import CAPACITOR, RESISTOR, VSOURCE, CircuitIR, ElementGroup
from .names import GROUND, indexed_names
from .spec import CrossbarSpec


class _Nodes:
    """Hands out blocks of pre-merge node ids and remembers their names."""

    def __init__(self) -> None:
        self.count = 1  # node 0 is ground
        self.blocks: list[tuple[str, np.ndarray, np.ndarray]] = []

    def block(self, prefix: str, shape: tuple[int, ...]) -> np.ndarray:
        n = int(np.prod(shape))
        ids = np.arange(self.count, self.count + n).reshape(shape)
        self.count += n
        labels = np.indices(shape).reshape(len(shape), -1).T
        self.blocks.append((prefix, ids.ravel(), labels if len(shape) > 1 else labels[:, 0]))
        return ids

    def names(self) -> np.ndarray:
        out = np.empty(self.count, dtype=object)
        out[0] = GROUND
        for prefix, ids, labels in self.blocks:
            out[ids] = indexed_names(prefix, labels)
        return out


def _group(kind, prefix, labels, p, n, value, comment) -> ElementGroup:
    return ElementGroup(kind, prefix, np.asarray(labels), np.asarray(p).ravel(),
                        np.asarray(n).ravel(), np.asarray(value, dtype=float).ravel(), comment)


def elaborate(spec: CrossbarSpec, operation=None) -> CircuitIR:
    """Build the circuit IR of ``spec``; see :mod:`spicebar.circuit.spec` for the topology.

    ``operation`` (:mod:`spicebar.circuit.operation`, default: plain VMM) removes the drivers of
    floating rows and the readouts of floating columns, biases the readouts, and sets
    the 1T1R gate lines.
    """
    from .operation import VmmOperation
    from .temperature import T_REF_K, at_temperature
    spec = at_temperature(spec)  # wires and memory elements at the spec's temperature
    rows, cols = spec.shape
    operation = VmmOperation() if operation is None else operation
    operation.check(rows, cols, spec.cell.kind)
    driven = ~operation.floating_row_mask(rows)
    sensed = ~operation.floating_col_mask(cols)
    col_v = operation.col_voltages(cols)
    left = spec.drive in ("left", "both")
    right = spec.drive in ("right", "both")
    bottom = spec.sense in ("bottom", "both")
    top = spec.sense in ("top", "both")
    ii, jj = np.indices((rows, cols))
    r_idx = np.arange(rows)
    c_idx = np.arange(cols)

    nodes = _Nodes()
    in_l = nodes.block("in", (rows,)) if left else None
    in_r = nodes.block("inr", (rows,)) if right else None
    out_b = nodes.block("out", (cols,)) if bottom else None
    out_t = nodes.block("outt", (cols,)) if top else None
    src_l = nodes.block("src", (rows,)) if left else None
    src_r = nodes.block("srcr", (rows,)) if right else None
    sns_b = nodes.block("sns", (cols,)) if bottom else None
    sns_t = nodes.block("snst", (cols,)) if top else None
    wl = nodes.block("wl", (rows, cols))
    bl = nodes.block("bl", (rows, cols))

    r_wl = spec.wl_segments()
    r_bl = spec.bl_segments()
    drivers, driver_row, senses, sense_col, res = [], [], [], [], []

    # Drivers and their output resistance.
    for on, node, src, vname, rname in ((left, in_l, src_l, "vin", "rdrv"),
                                        (right, in_r, src_r, "vinr", "rdrvr")):
        if on:
            drivers.append(_group(VSOURCE, vname, r_idx[driven], src[driven],
                                  np.zeros(int(driven.sum()), int), np.zeros(int(driven.sum())),
                                  "word-line drivers (value = input voltage)"))
            driver_row.append(r_idx[driven])
            res.append(_group(RESISTOR, rname, r_idx, src, node, np.full(rows, spec.r_driver),
                              "driver output resistance"))

    # Word-line segments: slot k is left of cell k; slot cols right of the last cell.
    p = [wl[:, :-1]]
    n = [wl[:, 1:]]
    lab = [np.stack([ii[:, 1:].ravel(), jj[:, 1:].ravel()], 1)]
    val = [r_wl[:, 1:cols]]
    if left:
        p.insert(0, in_l[:, None]); n.insert(0, wl[:, :1])
        lab.insert(0, np.stack([r_idx, np.zeros(rows, int)], 1)); val.insert(0, r_wl[:, :1])
    if right:
        p.append(wl[:, -1:]); n.append(in_r[:, None])
        lab.append(np.stack([r_idx, np.full(rows, cols)], 1)); val.append(r_wl[:, cols:])
    order = np.lexsort((np.concatenate([l[:, 1] for l in lab]), np.concatenate([l[:, 0] for l in lab])))
    res.append(_group(RESISTOR, "rwl", np.concatenate(lab)[order],
                      np.concatenate([x.ravel() for x in p])[order],
                      np.concatenate([x.ravel() for x in n])[order],
                      np.concatenate([x.ravel() for x in val])[order], "word-line segments"))

    # Cells (see cell_ir.py).
    cells = cell_parts(spec.cell, spec.conductances, nodes, wl, bl, operation.gated_off_mask(rows))
    res.extend(cells.resistors)

    # Bit-line segments: rbl_i_j lies below cell (i, j); rbltop_j above the first cell.
    if top:
        res.append(_group(RESISTOR, "rbltop", c_idx, out_t, bl[0, :], r_bl[0, :],
                          "bit-line segments above the first cell"))
    p = [bl[:-1, :]]
    n = [bl[1:, :]]
    lab = [np.stack([ii[:-1].ravel(), jj[:-1].ravel()], 1)]
    val = [r_bl[1:rows, :]]
    if bottom:
        p.append(bl[-1:, :]); n.append(out_b[None, :])
        lab.append(np.stack([np.full(cols, rows - 1), c_idx], 1)); val.append(r_bl[rows:, :])
    lab_all = np.concatenate(lab)
    order = np.lexsort((lab_all[:, 0], lab_all[:, 1]))  # column by column
    res.append(_group(RESISTOR, "rbl", lab_all[order], np.concatenate([x.ravel() for x in p])[order],
                      np.concatenate([x.ravel() for x in n])[order],
                      np.concatenate([x.ravel() for x in val])[order], "bit-line segments"))

    # Readout: sense resistance, then a 0 V source whose current is the column current.
    for on, node, sns, vname, rname in ((bottom, out_b, sns_b, "vsense", "rsense"),
                                        (top, out_t, sns_t, "vsenset", "rsenset")):
        if on:
            res.append(_group(RESISTOR, rname, c_idx, node, sns, np.full(cols, spec.r_sense),
                              "readout input resistance"))
            senses.append(_group(VSOURCE, vname, c_idx[sensed], sns[sensed],
                                 np.zeros(int(sensed.sum()), int), col_v[sensed] + 0.0,
                                 "readout virtual ground (current into + is the column current)"))
            sense_col.append(c_idx[sensed])

    names = nodes.names()
    ir, remap = _merge_ideal_wires(
        rows, cols, names, res, drivers, np.concatenate(driver_row), senses,
        np.concatenate(sense_col), wl, bl, spec.describe())
    ir = _with_wire_capacitance(ir, spec.readout)
    if cells.capacitors:  # the gate lines' capacitance (three-line 1T1R)
        ir = replace(ir, capacitors=ir.capacitors + tuple(c.renode(remap) for c in cells.capacitors))
    if operation == VmmOperation() and not (cells.devices or cells.gates is not None):
        return ir if spec.temperature_k == T_REF_K else replace(ir, temperature_k=spec.temperature_k)
    hot = spec.temperature_k != T_REF_K
    devices = tuple(d.renode(remap) for d in cells.devices)
    if hot:  # transistors and user devices follow the simulator's temperature
        devices = tuple(replace(d, temperature_k=spec.temperature_k) for d in devices)
    return replace(ir, devices=devices, temperature_k=spec.temperature_k,
                   gates=None if cells.gates is None else cells.gates.renode(remap),
                   mid_node=None if cells.mid is None else remap[cells.mid], cell=spec.cell,
                   title=f"{ir.title}; {operation.describe()}")


def _with_wire_capacitance(ir: CircuitIR, readout) -> CircuitIR:
    """Wire capacitance per segment, lumped to ground at each cell's wl and bl node."""
    caps = []
    for attr, prefix, node in (("c_wl_f", "cwl", ir.wl_node), ("c_bl_f", "cbl", ir.bl_node)):
        c = getattr(readout, attr, 0.0)
        if c > 0:
            ii, jj = np.indices(node.shape)
            caps.append(_group(CAPACITOR, prefix, np.stack([ii.ravel(), jj.ravel()], 1), node,
                               np.zeros(node.size, int), np.full(node.size, c),
                               "wire capacitance to ground, lumped per cell node"))
    return replace(ir, capacitors=tuple(caps)) if caps else ir


def _concat(groups: list[ElementGroup]) -> ElementGroup:
    """Join same-kind groups (e.g. left and right drivers) into one table."""
    if len(groups) == 1:
        return groups[0]
    g0 = groups[0]
    prefix = np.concatenate([np.full(len(g), g.prefix, dtype=object) for g in groups])
    return ElementGroup(g0.kind, prefix, np.concatenate([g.labels for g in groups]),
                        np.concatenate([g.node_p for g in groups]),
                        np.concatenate([g.node_n for g in groups]),
                        np.concatenate([g.value for g in groups]), g0.comment)


def _merge_ideal_wires(rows, cols, names, res, drivers, driver_row, senses, sense_col, wl, bl, title):
    n_pre = names.shape[0]
    zero = [(g.node_p[g.value == 0], g.node_n[g.value == 0]) for g in res]
    zp = np.concatenate([z[0] for z in zero])
    zn = np.concatenate([z[1] for z in zero])
    graph = coo_matrix((np.ones(zp.size), (zp, zn)), shape=(n_pre, n_pre))
    _, label = connected_components(graph, directed=False)
    rep = np.full(label.max() + 1, n_pre)
    np.minimum.at(rep, label, np.arange(n_pre))  # lowest id names the merged node
    rep_of = rep[label]
    is_kept = np.zeros(n_pre, dtype=bool)
    is_kept[rep_of] = True
    kept = np.flatnonzero(is_kept)  # sorted; ground (0) stays index 0
    new_index = np.empty(n_pre, dtype=np.int64)
    new_index[kept] = np.arange(kept.size)
    remap = new_index[rep_of]

    resistors = tuple(g.renode(remap).subset(g.value != 0) for g in res)
    resistors = tuple(g for g in resistors if len(g))
    drv = _concat(drivers).renode(remap)
    sen = _concat(senses).renode(remap)
    # Two sources on one merged node (both ends driven over an ideal wire) would be
    # a voltage loop: keep the first.
    _, first = np.unique(drv.node_p, return_index=True)
    keep = np.sort(first)
    drv, driver_row = drv.subset(keep), driver_row[keep]
    _, first = np.unique(sen.node_p, return_index=True)
    keep = np.sort(first)
    sen, sense_col = sen.subset(keep), sense_col[keep]
    node_names = names[kept].astype(str)
    ir = CircuitIR(rows=rows, cols=cols, node_names=node_names, resistors=resistors,
                   drivers=drv, driver_row=driver_row, senses=sen, sense_col=sense_col,
                   wl_node=remap[wl], bl_node=remap[bl], title=title)
    return ir, remap  # remap: pre-merge -> final node index, for the cells
