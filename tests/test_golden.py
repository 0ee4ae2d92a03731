"""Golden netlists: the text is frozen, and every golden file runs in ngspice."""

import shutil

import numpy as np
import pytest

from spicebar.circuit.elaboration import elaborate
from spicebar.engines.ngspice.engine import run_netlist
from spicebar.engines.nodal import solve_nodal
from spicebar.netlist.writer import format_netlist
from spicebar.circuit.names import branch_name

from .golden_cases import cases, golden_path
from .tolerances import ENGINE_AGREEMENT_REL

CASES = cases()


def normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


@pytest.mark.parametrize("name", sorted(CASES))
def test_netlist_text_is_golden(name):
    spec, v = CASES[name]
    expected = golden_path(name).read_text()
    assert normalise(format_netlist(elaborate(spec), v)) == normalise(expected), (
        f"netlist of {name} changed; if on purpose, run `make golden` and review the diff")


@pytest.mark.ngspice
@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_netlist_runs_in_ngspice(ngspice_ready, tmp_path, name):
    spec, v = CASES[name]
    ir = elaborate(spec)
    netlist = tmp_path / golden_path(name).name
    shutil.copy(golden_path(name), netlist)
    read = [branch_name(n) for n in ir.senses.names]
    values, status = run_netlist(netlist, read, tmp_path, timeout_s=60)
    currents = np.zeros(spec.cols)
    np.add.at(currents, ir.sense_col, values[0])
    expected = solve_nodal(ir, v[None, :]).currents[0]
    np.testing.assert_allclose(currents, expected, rtol=ENGINE_AGREEMENT_REL,
                               atol=ENGINE_AGREEMENT_REL * np.abs(expected).max())
    assert status["status"] == "ok"
