"""A failing ngspice run names the netlist and quotes ngspice; the caller survives."""

import numpy as np
import pytest

from spicebar import CrossbarSpec, SimulationError, SimulationTimeout, simulate
from spicebar.engines.ngspice import run_netlist
from spicebar.engines.ngspice_worker import classify

pytestmark = pytest.mark.ngspice


def test_rejected_netlist_reports_path_and_ngspice_words(ngspice_ready, tmp_path):
    bad = tmp_path / "bad.cir"
    bad.write_text("* broken\nr1 a 0 notanumber\nvx a 0 dc 1\nq1 a b c nomodel\n.op\n.end\n")
    with pytest.raises(SimulationError) as err:
        run_netlist(bad, ["a"], tmp_path, timeout_s=60)
    assert err.value.netlist_path == str(bad)
    assert str(bad) in str(err.value)
    assert any("error" in m.lower() or "unknown" in m.lower() or "can't find" in m.lower()
               for m in err.value.ngspice_messages)


def test_singular_circuit_fails_clearly(ngspice_ready, tmp_path):
    loop = tmp_path / "loop.cir"
    loop.write_text("* two sources in parallel\nv1 a 0 dc 1\nv2 a 0 dc 2\nr1 a 0 1k\n.op\n.end\n")
    with pytest.raises(SimulationError) as err:
        run_netlist(loop, ["a"], tmp_path, timeout_s=60)
    assert "loop.cir" in str(err.value)


def test_timeout_kills_the_simulator(ngspice_ready, rng, tmp_path):
    g = rng.uniform(1e-6, 1e-4, (96, 96))
    spec = CrossbarSpec(g, r_wl=1.0, r_bl=1.0)
    with pytest.raises(SimulationTimeout) as err:
        simulate(spec, rng.uniform(0, 0.2, (50, 96)), "ngspice", timeout_s=0.5,
                 workdir=tmp_path / "run")
    assert "crossbar.cir" in str(err.value)
    assert (tmp_path / "run" / "crossbar.cir").exists()  # kept for the user


@pytest.mark.parametrize("line, kind", [
    ("stdout Using KLU as Direct Linear Solver", "info"),
    ("stderr Note: No compatibility mode selected!", "info"),
    ("stdout Doing analysis at TEMP = 27.000000 and TNOM = 27.000000", "info"),
    ("stderr Warning: vin_0: no DC value, transient time 0 value used", "warning"),
    ("stderr Error: circuit not parsed.", "error"),
    ("stderr singular matrix:  check node a", "error"),
    ("stderr Error on line 3 or its substitute:", "error"),
    ("stderr run simulation(s) aborted", "error"),
])
def test_message_classification(line, kind):
    assert classify(line) == kind
