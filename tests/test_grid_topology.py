"""The grid line solver's topology facts (read from the spec) against the elaborated IR.

The grid solver skips elaboration for speed; :mod:`spicebar.engines.nodal.grid_topology`
names what it re-derives. Here the IR's conductance matrix is Kron-reduced to the cell
nodes and the source nodes (every other node eliminated: exact for a resistor network)
and must hold exactly those conductances, and nothing else.
"""

from __future__ import annotations

import numpy as np
import pytest

from spicebar import CrossbarSpec, elaborate
from spicebar.engines.nodal.grid_topology import grid_topology
from spicebar.engines.nodal.stamps import conductance_matrix

#: Kron reduction eliminates at most two series nodes per end path (driver/sense
#: resistor and end segment) with a dense solve: float64 rounding, ~1e-15 relative,
#: with margin for the summed totals.
RTOL = 1e-12

CASES = {
    "scalar wires": dict(r_wl=2.0, r_bl=3.0),
    "per-segment wires": dict(r_wl=np.linspace(1, 2, 3 * 5).reshape(3, 5),
                              r_bl=np.linspace(0.5, 1.5, 4 * 4).reshape(4, 4)),
    "driver and sense resistance": dict(r_wl=1.0, r_bl=1.5, r_driver=5.0, r_sense=7.0),
    "both ends": dict(r_wl=1.0, r_bl=2.0, drive="both", sense="both", r_driver=3.0),
    "right and top": dict(r_wl=1.0, r_bl=2.0, drive="right", sense="top"),
    "ideal word lines": dict(r_wl=0.0, r_bl=1.0),
    "ideal bit lines": dict(r_wl=1.0, r_bl=0.0, r_driver=2.0),
}


def _reduced(ir) -> np.ndarray:
    lap = conductance_matrix(ir).toarray()
    keep = np.unique(np.concatenate([ir.wl_node.ravel(), ir.bl_node.ravel(),
                                     ir.drivers.node_p, ir.senses.node_p]))
    drop = np.setdiff1d(np.arange(ir.n_nodes), np.concatenate([keep, [0]]))
    l_kk, l_kd = lap[np.ix_(keep, keep)], lap[np.ix_(keep, drop)]
    red = l_kk - l_kd @ np.linalg.solve(lap[np.ix_(drop, drop)], l_kd.T) if drop.size else l_kk
    full = np.zeros_like(lap)
    full[np.ix_(keep, keep)] = red
    return full


def _source_nodes(group, prefix: str, count: int, index_of) -> np.ndarray:
    """Node of the source named ``prefix_k`` for k in range(count); -1 where absent."""
    out = np.full(count, -1)
    for name, node in zip(group.names, group.node_p):
        head, _, k = name.rpartition("_")
        if head == prefix:
            out[index_of(int(k))] = node
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_grid_topology_matches_the_reduced_ir(case, rng):
    g = rng.uniform(1e-6, 1e-4, (3, 4))
    spec = CrossbarSpec(g, **CASES[case])
    topo, ir = grid_topology(spec), elaborate(spec)
    red = -_reduced(ir)  # off-diagonal entries: the conductance joining two nodes
    wl, bl = ir.wl_node, ir.bl_node
    rows, cols = g.shape
    left = _source_nodes(ir.drivers, "vin", rows, lambda k: k)
    right = _source_nodes(ir.drivers, "vinr", rows, lambda k: k)
    bottom = _source_nodes(ir.senses, "vsense", cols, lambda k: k)
    top = _source_nodes(ir.senses, "vsenset", cols, lambda k: k)
    np.testing.assert_allclose(red[wl, bl], topo.g, rtol=RTOL)
    expected_total = topo.g.sum()
    if topo.ideal_w:
        for i in range(rows):  # every word-line node is its driver's node
            drivers = {n for n in (left[i], right[i]) if n >= 0}
            assert set(wl[i]) <= drivers
    else:
        np.testing.assert_allclose(red[wl[:, :-1], wl[:, 1:]], topo.wl_seg, rtol=RTOL)
        for nodes, end, col in ((left, topo.g_left, 0), (right, topo.g_right, cols - 1)):
            got = np.where(nodes >= 0, red[wl[:, col], np.maximum(nodes, 0)], 0.0)
            np.testing.assert_allclose(got, end, rtol=RTOL)
        expected_total += topo.wl_seg.sum() + topo.g_left.sum() + topo.g_right.sum()
    if topo.ideal_b:
        for j in range(cols):
            assert set(bl[:, j]) <= {n for n in (bottom[j], top[j]) if n >= 0}
    else:
        np.testing.assert_allclose(red[bl[:-1], bl[1:]], topo.bl_seg, rtol=RTOL)
        for nodes, end, row in ((bottom, topo.g_bottom, rows - 1), (top, topo.g_top, 0)):
            got = np.where(nodes >= 0, red[bl[row], np.maximum(nodes, 0)], 0.0)
            np.testing.assert_allclose(got, end, rtol=RTOL)
        expected_total += topo.bl_seg.sum() + topo.g_bottom.sum() + topo.g_top.sum()
    # nothing else: every conductance of the reduced network is one of the facts above
    # (source-to-source entries are 0: every source sits at the end of a line)
    upper = np.triu(red, 1)
    np.testing.assert_allclose(upper[upper > 0].sum(), expected_total, rtol=RTOL)
