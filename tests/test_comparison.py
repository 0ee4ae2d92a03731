"""Error statistics against hand-computed values."""

import json

import numpy as np
import pytest

from spicebar.analysis.comparison import compare, error_stats, format_table
from spicebar.results import SimulationResult


def fake(engine, currents):
    currents = np.asarray(currents, float)
    b, c = currents.shape
    z = np.zeros((b, 1, c))
    return SimulationResult(engine, np.ones((b, 1)), currents, z, z, np.zeros((b, 1)))


def test_error_stats_by_hand():
    ideal = fake("ideal", [[1.0, 2.0], [4.0, 0.0]])
    nodal = fake("nodal", [[0.9, 2.0], [3.0, 0.1]])
    s = error_stats(nodal, ideal, full_scale_a=10.0)
    assert s.max_abs_a == pytest.approx(1.0)
    assert s.max_rel == pytest.approx(0.25)  # |3-4|/4
    # the zero-reference entry (below REL_FLOOR_FS of full scale) is a fraction of FS: 0.1/10
    assert s.n_floored == 1
    assert s.mean_rel == pytest.approx((0.1 + 0 + 0.25 + 0.01) / 4)
    assert s.rms_rel == pytest.approx(np.sqrt((0.01 + 0 + 0.0625 + 1e-4) / 4))
    assert s.max_rel_fs == pytest.approx(0.1)
    assert s.column_rel_signed == pytest.approx([(-0.1 - 0.25) / 2, 0.01 / 2])


def test_compare_reports_the_pairs_present():
    r = {"ideal": fake("ideal", [[1.0]]), "nodal": fake("nodal", [[0.5]]),
         "ngspice": fake("ngspice", [[0.5]])}
    c = compare(r, 1.0)
    assert [(p.engine, p.reference) for p in c.pairs] == [
        ("nodal", "ideal"), ("ngspice", "ideal"), ("ngspice", "nodal")]
    assert c.pair("ngspice", "nodal").max_abs_a == 0.0
    assert "engine agreement" in format_table(c)
    json.loads(c.to_json())
    c = compare({"ideal": r["ideal"], "nodal": r["nodal"]}, 1.0)
    assert len(c.pairs) == 1


def test_the_ideal_rows_name_what_separates_them_from_v_at_g():
    from spicebar import CrossbarSpec
    from spicebar.circuit.cells import SelectorCell
    from spicebar.analysis.comparison import ideal_model_error
    from spicebar.circuit.operation import VmmOperation
    g = np.full((4, 4), 1e-5)
    assert ideal_model_error(CrossbarSpec(g)) == "IR-drop error"
    assert ideal_model_error(CrossbarSpec(g, cell=SelectorCell())) == \
        "ideal-model error (IR drop, cell I-V)"
    floating = VmmOperation(floating_rows=(1,))
    assert ideal_model_error(CrossbarSpec(g), floating) == "ideal-model error (IR drop, sneak paths)"
    r = {e: fake(e, np.full((2, 3), x)) for e, x in (("ideal", 1.0), ("nodal", 0.9))}
    assert compare(r, 1.0, "ideal-model error (IR drop, cell I-V)").pairs[0].meaning == \
        "ideal-model error (IR drop, cell I-V)"
