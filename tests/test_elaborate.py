"""Topology of the IR: counts, names, merged ideal wires, one emitter and one stamp per kind."""

import numpy as np
import pytest

from spicebar import CrossbarSpec
from spicebar.circuit.elaboration import elaborate
import spicebar.engines.nodal as nodal
from spicebar.circuit.ir import ELEMENT_KINDS, RESISTOR
from spicebar.netlist.writer import FORMATTERS, format_netlist


def test_every_element_kind_has_a_formatter_and_a_nodal_stamp():
    assert set(FORMATTERS) == set(ELEMENT_KINDS)
    assert set(nodal.STAMPED_KINDS) == set(ELEMENT_KINDS)


def test_default_topology_matches_the_convention():
    ir = elaborate(CrossbarSpec(np.full((3, 4), 1e-4), r_wl=1.0, r_bl=2.0))
    groups = {g.prefix: g for g in ir.resistors}
    names = ir.node_names
    wl, bl = groups["rwl"], groups["rbl"]
    # one segment before the first cell, none after the last (open right end)
    assert len(wl) == 3 * 4 and len(bl) == 3 * 4 and len(groups["rcell"]) == 12
    edges = {n: (names[p], names[q]) for n, p, q in zip(wl.names, wl.node_p, wl.node_n)}
    assert edges["rwl_1_0"] == ("in_1", "wl_1_0")
    assert edges["rwl_1_3"] == ("wl_1_2", "wl_1_3")
    edges = {n: (names[p], names[q]) for n, p, q in zip(bl.names, bl.node_p, bl.node_n)}
    assert edges["rbl_0_2"] == ("bl_0_2", "bl_1_2")
    assert edges["rbl_2_2"] == ("bl_2_2", "out_2")  # one segment after the last cell
    assert ir.drivers.names == ["vin_0", "vin_1", "vin_2"]
    assert ir.senses.names == [f"vsense_{j}" for j in range(4)]
    assert names[ir.wl_node[2, 3]] == "wl_2_3" and names[ir.bl_node[0, 1]] == "bl_0_1"


def test_zero_wire_merges_nodes_instead_of_tiny_resistors():
    ir = elaborate(CrossbarSpec(np.full((2, 3), 1e-4), r_wl=0.0, r_bl=1.0))
    assert "rwl" not in {g.prefix for g in ir.resistors}
    assert np.all(ir.wl_node == ir.drivers.node_p[:, None])  # the word line is the driver node
    text = format_netlist(ir)
    assert "rwl_" not in text and "rcell_0_2 in_0 bl_0_2" in text
    ir = elaborate(CrossbarSpec(np.full((2, 3), 1e-4)))
    assert {g.prefix for g in ir.resistors} == {"rcell"}
    assert ir.n_nodes == 1 + 2 + 3  # ground, in_i, out_j


def test_both_ends_over_an_ideal_wire_keeps_one_source():
    ir = elaborate(CrossbarSpec(np.full((2, 2), 1e-4), drive="both", sense="both"))
    assert len(ir.drivers) == 2 and len(ir.senses) == 2  # no parallel sources (voltage loops)
    ir = elaborate(CrossbarSpec(np.full((2, 2), 1e-4), r_wl=1, r_bl=1, drive="both", sense="both"))
    assert ir.drivers.names == ["vin_0", "vin_1", "vinr_0", "vinr_1"]
    assert ir.senses.names == ["vsense_0", "vsense_1", "vsenset_0", "vsenset_1"]


def test_driver_and_sense_resistances_are_elements():
    ir = elaborate(CrossbarSpec(np.full((2, 2), 1e-4), r_driver=10.0, r_sense=5.0))
    prefixes = {g.prefix: g for g in ir.resistors}
    assert np.all(prefixes["rdrv"].value == 10.0) and np.all(prefixes["rsense"].value == 5.0)
    assert all(g.kind == RESISTOR for g in ir.resistors)


def test_names_are_unique_and_lowercase():
    ir = elaborate(CrossbarSpec(np.full((4, 5), 1e-4), r_wl=1, r_bl=1, r_driver=1, r_sense=1,
                                drive="both", sense="both"))
    names = [n for g in ir.groups for n in g.names]
    assert len(names) == len(set(names))
    assert all(n == n.lower() for n in names)
    assert len(set(ir.node_names.tolist())) == ir.n_nodes


@pytest.mark.parametrize("drive", ["left", "right", "both"])
@pytest.mark.parametrize("sense", ["bottom", "top", "both"])
def test_per_segment_arrays_equal_scalar_wires(drive, sense):
    g = np.random.default_rng(0).uniform(1e-6, 1e-4, (3, 4))
    v = np.array([[0.1, 0.2, -0.1]])
    a = nodal.solve_nodal(elaborate(CrossbarSpec(g, r_wl=2.0, r_bl=3.0, drive=drive, sense=sense)), v)
    b = nodal.solve_nodal(elaborate(CrossbarSpec(g, r_wl=np.full((3, 5), 2.0),
                                                 r_bl=np.full((4, 4), 3.0), drive=drive,
                                                 sense=sense)), v)
    np.testing.assert_array_equal(a.currents, b.currents)  # same IR, same arithmetic


def test_vectorised_names_follow_the_naming_rule():
    from spicebar.circuit.names import indexed_names, node_name
    for labels in (np.arange(12), np.indices((3, 4)).reshape(2, -1).T,
                   np.indices((2, 3, 2)).reshape(3, -1).T, np.zeros((0, 2), dtype=int)):
        want = [node_name("wl", *np.atleast_1d(row)) for row in labels]
        assert indexed_names("wl", labels) == want


def test_value_texts_read_back_to_the_same_floats(rng):
    from spicebar.netlist.writer import format_value, value_texts
    values = np.concatenate([rng.uniform(1e-7, 1e-3, 200), 1 / rng.uniform(1e-7, 1e-3, 200),
                             [0.0, -0.0, 1.0, 1.0, 5e-324, 1.7976931348623157e308, -2.5]])
    texts = value_texts(values)
    assert [float(t) for t in texts] == (values + 0.0).tolist()  # exact, and no "-0.0"
    assert texts == [format_value(v) for v in values + 0.0]
