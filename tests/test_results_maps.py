"""Results hold what was asked: maps built on first read, written only on request, and
batches solved in chunks that give the same answer as one solve."""

import numpy as np
import pytest

from spicebar.circuit.spec import CrossbarSpec
from spicebar.engines.nodal import grid as grid_mod
from spicebar.engines.simulation import simulate
from spicebar.results import MapsNotSaved, SimulationResult

from .conftest import random_conductances
from .tolerances import FLOAT_REL, LINE_SOLVER_REL


@pytest.fixture
def spec(rng):
    return CrossbarSpec(random_conductances(rng, 12, 9), r_wl=1.5, r_bl=0.7)


def test_ideal_engine_builds_maps_on_first_read(spec, rng):
    v = rng.uniform(-0.2, 0.2, (4, 12))
    r = simulate(spec, v, "ideal")
    assert set(r.deferred) == {"v_wl", "v_bl", "cell_currents"}
    np.testing.assert_allclose(r.currents, v @ spec.conductances, rtol=FLOAT_REL)
    # exact: copies and products of the inputs, no sums
    np.testing.assert_array_equal(r.v_wl, np.broadcast_to(v[:, :, None], (4, 12, 9)))
    np.testing.assert_array_equal(r.v_bl, 0.0)
    np.testing.assert_array_equal(r.cell_currents, v[:, :, None] * spec.conductances)
    assert r.deferred == ()


def test_file_without_maps_says_so(spec, rng, tmp_path):
    r = simulate(spec, rng.uniform(0, 0.2, (3, 12)), "nodal", solver="iterative")
    r.save(tmp_path / "r.npz", maps=False)
    with np.load(tmp_path / "r.npz") as data:
        assert set(data.files) == {"inputs", "currents", "driver_currents", "engine",
                                   "elapsed_s", "info"}
    back = SimulationResult.load(tmp_path / "r.npz")
    np.testing.assert_array_equal(back.currents, r.currents)
    with pytest.raises(MapsNotSaved, match="--maps"):
        back.v_wl
    assert not hasattr(back, "v_bl")  # an AttributeError too
    r.save(tmp_path / "m.npz")  # the default of save() keeps every map
    np.testing.assert_array_equal(SimulationResult.load(tmp_path / "m.npz").v_bl, r.v_bl)


@pytest.mark.parametrize("batch", [5, 30])  # below and above the rows: the unit-basis path
def test_chunked_batches_match_one_solve(spec, rng, monkeypatch, batch):
    v = rng.uniform(-0.2, 0.2, (batch, 12))
    whole = simulate(spec, v, "nodal", solver="iterative")
    assert whole.info["chunks"] == 1
    one_vector = 8 * spec.rows * spec.cols * grid_mod.ARRAYS_PER_VECTOR
    monkeypatch.setattr(grid_mod, "CHUNK_BYTES", 2 * one_vector)     # two vectors a chunk
    monkeypatch.setattr(grid_mod, "KEEP_MAPS_BYTES", 0)              # maps re-solved on read
    chunked = simulate(spec, v, "nodal", solver="iterative")
    assert chunked.info["chunk_vectors"] == 2 and chunked.info["chunks"] > 1
    assert set(chunked.deferred) == {"v_wl", "v_bl", "cell_currents"}
    # both are CG solves stopped at the same residual, vectors grouped differently
    for name in ("currents", "driver_currents", "v_bl", "v_wl", "cell_currents"):
        a, b = getattr(chunked, name), getattr(whole, name)
        np.testing.assert_allclose(a, b, rtol=LINE_SOLVER_REL,
                                   atol=LINE_SOLVER_REL * np.abs(b).max(), err_msg=name)
    assert chunked.deferred == ()


def test_memory_estimate_counts_one_chunk():
    """A 1024x1024 batch of 100 is estimated at about two vectors' working memory."""
    one = grid_mod.grid_memory_bytes(1024, 1024, 1)
    hundred = grid_mod.grid_memory_bytes(1024, 1024, 100)
    assert hundred < 2.5 * one
