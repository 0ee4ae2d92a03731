"""A batch of input vectors through one ngspice transient (spicebar.netlist.batch)."""

import numpy as np
import pytest

from spicebar.circuit.cells import SelectorCell
from spicebar.circuit.elaboration import elaborate
from spicebar.circuit.spec import CrossbarSpec
from spicebar.engines.simulation import simulate
from spicebar.netlist.batch import batch_analysis_card, format_batch_netlist, vector_at

from .conftest import random_conductances
from .test_ngspice_agreement import assert_engines_agree

pytestmark = pytest.mark.ngspice


def test_every_vector_owns_one_unit_of_time():
    assert batch_analysis_card(5) == ".tran 1.0 4.0 0 1.0"
    assert [vector_at(t, 5) for t in (0.0, 0.5, 1.0 - 1e-12, 1.0, 3.9456, 4.0, 9.0)] == \
        [0, 0, 1, 1, 3, 4, 4]
    with pytest.raises(ValueError, match="two input vectors"):
        batch_analysis_card(1)


def test_netlist_has_external_drivers_and_no_op(rng):
    ir = elaborate(CrossbarSpec(random_conductances(rng, 3, 2), r_wl=1.0, r_bl=1.0))
    text = format_batch_netlist(ir, 4)
    drivers = [ln for ln in text.splitlines() if ln.split(" ")[0] in set(ir.drivers.names)]
    assert len(drivers) == 3 and all(ln.endswith(" dc 0 external") for ln in drivers)
    assert ".tran 1.0 3.0 0 1.0" in text and ".op" not in text.splitlines()
    nonlinear = elaborate(CrossbarSpec(random_conductances(rng, 3, 2), r_wl=1.0, r_bl=1.0,
                                       cell=SelectorCell()))
    with pytest.raises(ValueError, match="linear circuits"):
        format_batch_netlist(nonlinear, 4)


def test_many_vectors_in_one_transient_match_nodal(ngspice_ready, rng):
    """40 vectors, with sign changes, repeats and an all-zero vector, on a 9x7 array."""
    spec = CrossbarSpec(random_conductances(rng, 9, 7), r_wl=2.0, r_bl=0.5, r_driver=10.0,
                        drive="both", sense="both")
    v = rng.uniform(-0.2, 0.2, (40, 9))
    v[5] = 0.0
    v[6] = v[7]
    ngs = simulate(spec, v, "ngspice")
    assert ngs.info["analysis"].startswith("one transient")
    assert ngs.info["timings"]["time_points"] >= 40
    assert_engines_agree({"ngspice": ngs, "nodal": simulate(spec, v, "nodal", solver="direct")})


def test_one_vector_and_nonlinear_batches_keep_the_op_loop(ngspice_ready, rng):
    spec = CrossbarSpec(random_conductances(rng, 4, 3), r_wl=1.0, r_bl=1.0)
    one = simulate(spec, rng.uniform(0, 0.2, (1, 4)), "ngspice")
    assert one.info["analysis"] == "one .op per input vector"
    sel = CrossbarSpec(random_conductances(rng, 4, 3), r_wl=1.0, r_bl=1.0, cell=SelectorCell())
    assert simulate(sel, rng.uniform(0, 0.2, (2, 4)), "ngspice").info["analysis"] == \
        "one .op per input vector"


def _stock_library(monkeypatch):
    """Run on the system's (unpatched) libngspice, as a user who sets the variable does."""
    from spicebar.engines.ngspice.toolchain import _system_library
    monkeypatch.setenv("NGSPICE_LIBRARY_PATH", _system_library())


def test_ngspice_refuses_1024x1024_up_front(tmp_path, monkeypatch):
    """Measured: stock ngspice's KLU stops at 1024x1024 after minutes ("check node 0": its
    first LU allocation passes 2^31 units); refused before any work, with that reason.
    (spicebar's patched copy takes 1024x1024: tests/test_ngspice_patched.py.)"""
    from spicebar.engines.memory import ResourceError
    _stock_library(monkeypatch)
    spec = CrossbarSpec(np.full((1024, 1024), 1e-5), r_wl=1.0, r_bl=1.0)
    with pytest.raises(ResourceError, match=r"array size: 1024x1024 .* 2\^31 .*check node 0.*"
                       r"832x832 is the largest"):
        simulate(spec, np.full(1024, 0.1), "ngspice", workdir=tmp_path / "run")
    assert not (tmp_path / "run").exists()  # no run folder, no netlist


def test_ngspice_size_limit_is_the_largest_measured_square(monkeypatch):
    """Stock library: 832x832 (measured to run) passes the check; one more row is refused."""
    from spicebar.engines.memory import ResourceError
    from spicebar.engines.ngspice.engine import check_ngspice_size
    _stock_library(monkeypatch)
    check_ngspice_size(832, 832, memory=1e12)
    with pytest.raises(ResourceError, match="833x832"):
        check_ngspice_size(833, 832, memory=1e12)


def test_a_batch_transient_reports_which_vectors_are_solved(ngspice_ready, rng, tmp_path,
                                                            capsys):
    """The batch transient's job names the file where the worker writes ngspice's percent
    of simulated time (vector k at t = k, stop at the last vector; ngspice sends its status
    only on runs long enough to matter); the progress lines of a long run turn it into
    vectors solved."""
    import json

    from spicebar.engines.ngspice.engine import _progress_reporter, solve_ngspice
    ir = elaborate(CrossbarSpec(random_conductances(rng, 6, 5), r_wl=1.0, r_bl=1.0))
    res = solve_ngspice(ir, rng.uniform(0, 0.2, (9, 6)), workdir=tmp_path, progress=False)
    assert res.info["analysis"].startswith("one transient")
    job = json.loads((tmp_path / "job.json").read_text())   # what the worker ran
    assert job["analysis"] == "batch_tran" and job["t_stop"] == 8.0
    assert job["progress"] == str(tmp_path / "progress.txt")
    report = _progress_reporter(1024, 1024, 9, True)        # a run long enough to report
    report.seen(50.0)
    report(31.0)
    err = capsys.readouterr().err
    assert "9 input vectors" in err and "4 of 9 vectors solved" in err
