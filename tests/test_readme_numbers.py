"""The numbers README.md and the pages under docs/ quote from deterministic runs,
recomputed and compared.

Each test finds its sentence in README.md and every page under docs/ (wherever the text
has moved: the pages are found as tests/test_readme.py finds them), reads the quoted
figures from every place that quotes them (so an edit of any copy is checked too) and
recomputes them with the nodal engine. Where the README quotes ngspice,
the nodal engine stands in: the two agree to ~1e-13 relative on these linear arrays
(the README's own tables), far below the printed digits.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import spicebar as sb

from .test_readme import DOCS

#: Every document that may quote a checked number: README.md and the site's pages.
TEXTS = {str(d.relative_to(Path(__file__).resolve().parents[1])): d.read_text() for d in DOCS}

#: A quoted number is the true value rounded to its last printed digit, so the two differ
#: by at most half a unit of that digit; the factor covers the float64 rounding of the
#: recomputation and of the nodal-for-ngspice stand-in (~1e-13 relative).
HALF_UNIT_SLACK = 1.0 + 1e-9


def assert_quoted(value: float, text: str) -> None:
    """``value`` rounds to the docs' ``text`` (e.g. ``1.38e-02``, ``40.4``, ``0.057``)."""
    from decimal import Decimal
    unit = 10.0 ** Decimal(text).as_tuple().exponent
    assert abs(value - float(text)) <= 0.5 * unit * HALF_UNIT_SLACK, \
        f"the docs quote {text}, the run gives {value!r}"


def _find_all(pattern: str) -> list[re.Match]:
    """Every place the docs say ``pattern`` (at least one)."""
    found = [m for text in TEXTS.values() for m in re.finditer(pattern, text, re.S)]
    assert found, (f"neither README.md nor a page under docs/ says {pattern!r} any more; "
                   "update this test with the text")
    return found




def test_demo_table_and_worst_cell():
    from spicebar.analysis.comparison import compare
    from spicebar.cli.demo import demo_arrays
    g, v = demo_arrays(64, 64, 4, 0)
    spec = sb.CrossbarSpec(g, r_wl=2.0, r_bl=2.0)
    res = {e: sb.simulate(spec, v, e) for e in ("ideal", "nodal")}
    c = compare(res, sb.full_scale_current(spec, v))
    p = c.pair("nodal", "ideal")
    for m in _find_all(r"\nnodal +ideal +IR-drop error +(\S+) +(\S+) +(\S+) +(\S+) +worst col "
                       r"(\d+) \((\S+) % mean\), max at vector (\d+) col (\d+)"):
        for quoted, value in zip(m.groups()[:4],
                                 (p.max_abs_a, p.max_rel, p.rms_rel, p.max_rel_fs)):
            assert_quoted(value, quoted)
        assert (p.worst_column, p.worst_vector, p.worst_output) == tuple(
            int(x) for x in (m.group(5), m.group(7), m.group(8)))
        assert_quoted(100 * p.column_rel_signed[p.worst_column], m.group(6))
    cell = c.worst_cell
    for w in _find_all(r"worst cell: row (\d+), column (\d+) \(vector (\d+)\) loses (\S+) mV to "
                       r"the wires, (\S+) % of the largest input"):
        assert (cell["row"], cell["col"], cell["vector"]) == tuple(int(x) for x in w.groups()[:3])
        assert_quoted(1e3 * cell["voltage_loss_v"], w.group(4))
        assert_quoted(100 * cell["voltage_loss_rel"], w.group(5))
    # and the prose under the table
    for m in _find_all(r"overestimates column currents by up to (\d+) % of the true current"):
        assert int(m.group(1)) == round(100 * p.max_rel)


def test_design_questions_ir_drop_and_both_end_drive():
    from spicebar.analysis.comparison import compare
    from spicebar.circuit.random_arrays import RandomArraySpec, draw_random_array
    g, v = draw_random_array(RandomArraySpec(rows=128, cols=128))  # `spicebar array` defaults
    worst = []
    for ends in ({}, {"drive": "both", "sense": "both"}):
        spec = sb.CrossbarSpec(g, r_wl=1.0, r_bl=1.0, **ends)
        res = {e: sb.simulate(spec, v, e) for e in ("ideal", "nodal")}
        worst.append(compare(res, sb.full_scale_current(spec, v)))
    p = worst[0].pair("nodal", "ideal")
    for one in _find_all(r"the ideal model is off by up to (\S+) % of the true column current, "
                         r"on\s+the columns far from the drivers \(the table's `where` column "
                         r"names the worst, column (\d+)\),\s+and the worst cell loses (\S+) % "
                         r"of the largest input"):
        assert_quoted(100 * p.max_rel, one.group(1))
        assert p.worst_column == int(one.group(2))
        assert_quoted(100 * worst[0].worst_cell["voltage_loss_rel"], one.group(3))
    for m in _find_all(r"The worst error drops from (\S+) % to (\S+) %"):
        assert_quoted(100 * p.max_rel, m.group(1))
        assert_quoted(100 * worst[1].pair("nodal", "ideal").max_rel, m.group(2))


def test_design_questions_read_margins():
    got = []
    for cell in (sb.PassiveCell(), sb.SelectorCell(nonlinearity=1000)):
        got += [sb.read_margin(32, 32, cell=cell, scheme=s).margin for s in ("floating", "v3")]
    t = [sb.read_margin(32, 32, cell=sb.TransistorCell(vg_on_volt=1.8), scheme=s).margin
         for s in ("floating", "v3")]
    for m in _find_all(r"The passive array reads (\S+) \(floating\) and (\S+) \(V/3\).*?selector "
                       r"keeps (\S+) and (\S+), a transistor (\S+) either way"):
        for q, x in zip(m.groups()[:4], got):
            assert_quoted(x, q)
        for x in t:
            assert_quoted(x, m.group(5))


def test_passive_read_margin_figures():
    small, large = sb.read_margin(2, 2).margin, sb.read_margin(64, 64).margin
    for m in _find_all(r"\((\S+) at 2x2, (\S+) at 64x64 floating\)"):
        assert_quoted(small, m.group(1))
        assert_quoted(large, m.group(2))


def test_sneak_terms_of_the_32x32_example():
    from spicebar.analysis.sneak import decompose
    from spicebar.circuit.operation import VmmOperation
    rng = np.random.default_rng(3)  # as benchmarks/bench_cells.py sneak_figures()
    g = np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), (32, 32)))
    v = rng.uniform(0.0, 0.3, (1, 32))
    v[0, 8:16] = 0.0
    op = VmmOperation(floating_rows=tuple(range(20, 28)))
    spec = sb.CrossbarSpec(g, r_wl=2.0, r_bl=2.0)
    d = decompose(spec, sb.simulate(spec, v, "nodal", operation=op), op)
    scale = np.abs(d.ideal).max()
    for m in _find_all(r"the IR-drop term reaches (\S+) % of the largest\s+ideal column current "
                       r"and the sneak term (\S+) %"):
        assert_quoted(100 * np.abs(d.ir_drop).max() / scale, m.group(1))
        assert_quoted(100 * np.abs(d.sneak).max() / scale, m.group(2))


def test_sweep_table_small_sizes():
    """The passive rows of the benchmark sweep's table at N = 16 and 32 (median of the seeds)."""
    from spicebar.analysis.scoring import default_adc, score_model
    from spicebar.sweeps.definition import build_point, load_sweep
    tables = []
    for m in _find_all(r"cell passive: median max relative error over seeds, against ngspice\n"
                       r"model +r_wire +N=16 +N=32 +N=64 +N=128\n(.*?)\n```"):
        quoted = {}
        for line in m.group(1).splitlines():
            name, r, *vals = line.split()
            if name in ("ideal", "first_order"):
                quoted[name, float(r)] = vals[:2]
        assert len(quoted) == 6
        tables.append(quoted)
    sweep = load_sweep(Path(__file__).resolve().parents[1] / "benchmarks" / "sweep_ir_drop.toml")
    got: dict = {}
    for p in sweep.points:
        if p.params.get("cell") != "passive" or p.params["size"] not in (16, 32):
            continue
        spec, v = build_point(p.params)
        ref = sb.simulate(spec, v, "nodal").currents
        adc = default_adc(spec, v)
        for model in ("ideal", "first_order"):
            s = score_model(model, spec, v, ref, adc)
            got.setdefault((model, p.params["r_wire"], p.params["size"]), []).append(s.max_rel)
    for quoted in tables:
        for (model, r), (n16, n32) in quoted.items():
            assert_quoted(float(np.median(got[model, r, 16])), n16)
            assert_quoted(float(np.median(got[model, r, 32])), n32)
