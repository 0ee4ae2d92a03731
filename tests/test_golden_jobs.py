"""Golden job netlists (what `spicebar generate` writes): the text is frozen, and every
frozen file runs in the `ngspice` binary to the answers spicebar computes.

Regenerate on purpose only: `make golden` (then review the diff)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from spicebar.engines.simulation import simulate
from spicebar.engines.transient.run import simulate_readout

from .golden_cases import golden_path, job_cases, job_text
from .test_standalone_netlists import SAME_TRANSIENT_FS, columns, run_ngspice_binary
from .tolerances import CELL_AGREEMENT_REL, ENGINE_AGREEMENT_REL

NAMES = sorted(job_cases())


def normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


@pytest.mark.parametrize("name", NAMES)
def test_job_netlist_text_is_golden(name):
    assert normalise(job_text(name)) == normalise(golden_path(name).read_text()), (
        f"the job netlist {name} changed; if on purpose, run `make golden` and review the diff")


@pytest.mark.ngspice
@pytest.mark.parametrize("name", NAMES)
def test_golden_job_runs_in_the_ngspice_binary(ngspice_ready, tmp_path, name):
    netlist = tmp_path / golden_path(name).name
    shutil.copy(golden_path(name), netlist)
    answers = run_ngspice_binary(netlist)
    case = job_cases()[name]
    spec = case["spec"]
    if "encoding" in case:
        ref = simulate_readout(spec, case["inputs"], case["encoding"], "ngspice")
        got = columns(answers, "sample", spec.cols)
        np.testing.assert_allclose(got, ref.samples, rtol=0,
                                   atol=SAME_TRANSIENT_FS * np.abs(ref.samples).max())
        np.testing.assert_array_equal(columns(answers, "code", spec.cols), ref.codes)
        return
    ref = simulate(spec, case["inputs"], "nodal", operation=case.get("operation"))
    tol = ENGINE_AGREEMENT_REL if spec.cell.kind == "passive" else CELL_AGREEMENT_REL
    np.testing.assert_allclose(columns(answers, "i_col", spec.cols), ref.currents, rtol=tol,
                               atol=tol * np.abs(ref.currents).max())
