"""Transpose mode: the transposed spec is the same circuit, and the network is reciprocal."""

from collections import Counter

import numpy as np
import pytest

from spicebar import CrossbarSpec, elaborate, simulate
from spicebar.hardware.transpose import original_node_name, transpose_spec

from .conftest import random_conductances
from .tolerances import ENGINE_AGREEMENT_REL, FLOAT_REL


def _edges(ir, rename=lambda n: n):
    names = ir.node_names
    return Counter((frozenset((rename(names[p]), rename(names[n]))), float(v))
                   for g in ir.resistors for p, n, v in zip(g.node_p, g.node_n, g.value))


def _sources(group, ir, rename=lambda n: n):
    return sorted(rename(ir.node_names[p]) for p in group.node_p)


def _spec(rng, drive="left", sense="bottom"):
    rows, cols = 5, 7
    return CrossbarSpec(random_conductances(rng, rows, cols), r_wl=rng.uniform(0.5, 2, (rows, cols + 1)),
                        r_bl=rng.uniform(0.5, 2, (rows + 1, cols)), r_driver=15.0, r_sense=4.0,
                        drive=drive, sense=sense)


@pytest.mark.parametrize("drive, sense", [("left", "bottom"), ("right", "top"), ("both", "both")])
def test_transposed_spec_is_the_same_circuit(rng, drive, sense):
    """Same resistors between the same (renamed) nodes; sources on swapped ends."""
    spec = _spec(rng, drive, sense)
    fwd, bwd = elaborate(spec), elaborate(transpose_spec(spec))
    assert _edges(fwd) == _edges(bwd, original_node_name)
    # Backward drivers sit where the forward readout's sources are, and vice versa.
    assert _sources(bwd.drivers, bwd, original_node_name) == _sources(fwd.senses, fwd)
    assert _sources(bwd.senses, bwd, original_node_name) == _sources(fwd.drivers, fwd)
    assert transpose_spec(transpose_spec(spec)).describe() == spec.describe()


def test_backward_is_exactly_the_transpose_of_forward_by_reciprocity(rng):
    """With wires, the backward transfer matrix equals the forward one transposed."""
    spec = _spec(rng)
    m_fwd = simulate(spec, np.eye(spec.rows), "nodal").currents          # (rows, cols)
    m_bwd = simulate(transpose_spec(spec), np.eye(spec.cols), "nodal").currents  # (cols, rows)
    assert np.abs(m_fwd - spec.conductances).max() > 1e-3 * spec.conductances.max()  # wires matter
    # Two LU solves of the same SPD system in a different node order: float rounding.
    np.testing.assert_allclose(m_bwd, m_fwd.T, rtol=0, atol=1e3 * FLOAT_REL * np.abs(m_fwd).max())


@pytest.mark.ngspice
def test_backward_in_ngspice_matches_nodal_and_reciprocity(ngspice_ready, rng):
    spec = _spec(rng)
    bwd = transpose_spec(spec)
    v = rng.uniform(-0.2, 0.2, (2, spec.cols))
    a = simulate(bwd, v, "ngspice").currents
    m_fwd = simulate(spec, np.eye(spec.rows), "nodal").currents
    np.testing.assert_allclose(a, v @ m_fwd.T, rtol=0, atol=ENGINE_AGREEMENT_REL * np.abs(a).max())


def test_geometry_forward_and_backward_errors_grow_away_from_the_drivers():
    """Uniform array with wires: the cell nearest every driver and readout (bottom-left) is
    least affected; forward outputs degrade along the word lines, backward outputs up the
    bit lines."""
    g = np.full((12, 16), 5e-5)
    spec = CrossbarSpec(g, r_wl=1.0, r_bl=2.0)
    m = simulate(spec, np.eye(12), "nodal").currents
    rel = (m - g) / g
    assert np.unravel_index(np.argmax(rel), rel.shape) == (11, 0)   # least negative
    assert np.unravel_index(np.argmin(rel), rel.shape) == (0, 15)   # farthest corner
    fwd = simulate(spec, np.ones(12), "nodal").currents[0] / g.sum(0) - 1
    bwd = simulate(transpose_spec(spec), np.ones(16), "nodal").currents[0] / g.sum(1) - 1
    assert np.all(np.diff(fwd) < 0)   # forward: worse with distance from the left drivers
    assert np.all(np.diff(bwd) > 0)   # backward: worse towards the top (far from bottom drivers)
