"""One memory guard per solve: the limit is resolved once per ``simulate`` call, and the
solver that runs asks it once, whatever path the call takes."""

from __future__ import annotations

import numpy as np
import pytest

from spicebar import CrossbarSpec, SelectorCell, simulate
from spicebar.engines import memory


@pytest.fixture
def counted(monkeypatch):
    calls = {"available": 0, "require": []}
    real_available, real_require = memory.available_bytes, memory.MemoryGuard.require

    def available():
        calls["available"] += 1
        return real_available()

    def require(self, need, what, advice):
        calls["require"].append(what)
        return real_require(self, need, what, advice)

    monkeypatch.setattr(memory, "available_bytes", available)
    monkeypatch.setattr(memory.MemoryGuard, "require", require)
    return calls


PATHS = {
    # (extra spec fields, engine, solver, what the one check is about)
    "ideal": (dict(), "ideal", "auto", "ideal on"),
    "nodal LU": (dict(), "nodal", "direct", "the direct (LU) solve"),
    "nodal grid line solver": (dict(), "nodal", "iterative", "the line solver"),
    "nodal IR line solver": (dict(r_driver=0.0, r_wl=np.r_[[[0.0] + [1.0] * 8] * 8]), "nodal",
                             "iterative", ""),
    "nodal Newton": (dict(cell=SelectorCell()), "nodal", "auto", "Newton's LU"),
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_each_solve_resolves_and_asks_the_guard_once(path, counted, rng):
    extra, engine, solver, what = PATHS[path]
    spec = CrossbarSpec(rng.uniform(1e-6, 1e-4, (8, 8)), **{"r_wl": 1.0, "r_bl": 1.0, **extra})
    volts = 1.0 if "cell" in extra else 0.1  # a selector is read at its 1 V default
    simulate(spec, np.full((2, 8), volts), engine, solver=solver)
    assert counted["available"] == 1
    assert len(counted["require"]) == 1, counted["require"]
    assert counted["require"][0].startswith(what)


@pytest.mark.ngspice
def test_an_ngspice_run_asks_the_guard_once(ngspice_ready, counted, rng):
    spec = CrossbarSpec(rng.uniform(1e-6, 1e-4, (4, 4)), r_wl=1.0, r_bl=1.0)
    simulate(spec, np.full(4, 0.1), "ngspice")
    assert counted["available"] == 1 and len(counted["require"]) == 1


def test_a_limit_given_by_the_caller_reads_no_system_memory(counted, rng):
    spec = CrossbarSpec(rng.uniform(1e-6, 1e-4, (8, 8)), r_wl=1.0, r_bl=1.0)
    simulate(spec, np.full(8, 0.1), "nodal", memory_limit_bytes=2_000_000_000)
    assert counted["available"] == 0 and len(counted["require"]) == 1
