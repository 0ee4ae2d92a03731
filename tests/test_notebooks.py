"""Every notebook runs from a clean kernel, shows its plots, and its stored outputs are
current: the numbers a fresh run prints equal the numbers stored in the .ipynb (within the
tolerances below), so a notebook stored before a change that moved a number fails here.
Regenerate with `make notebooks` (tools/make_notebooks.py --execute) and commit."""

import os
import re
from pathlib import Path

import nbclient  # dev extra, with nbformat and ipykernel
import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))

#: A number in a printed output (integers, decimals, scientific notation).
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")
#: Fresh and stored runs execute the same seeded code on the same engines; what may differ
#: is float64 rounding in another order (BLAS threads, ngspice's KLU on another machine),
#: about 1e-13 relative for these small arrays (the engines agree to that), far below this.
STORED_REL = 1e-6
#: ... except where that rounding flips the last printed digit: a number may move by one
#: unit of its last printed digit (e.g. 0.1234 -> 0.1235), and no more.
LAST_DIGITS = 1.0


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 3


def _printed(cell) -> str:
    """A code cell's printed text: its stream output and its results' plain text."""
    parts = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream" and o.get("name") == "stdout":
            parts.append(o.get("text", ""))
        elif o.get("output_type") in ("execute_result", "display_data"):
            data = o.get("data", {})
            if "text/plain" in data and "image/png" not in data:
                parts.append(data["text/plain"])
    return re.sub(r" at 0x[0-9a-f]+", "", "".join(parts))  # object addresses differ run to run


#: A duration as the notebooks print it ("2.8 s wall", "ngspice 1.51 s", "12 ms"): wall
#: and CPU times move with the machine's load, so they are not compared.
DURATION = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?\s*(?:s|ms|us)\b")
#: A table whose last column is a time (its header ends in "time s", "wall s", "cpu s").
TIME_COLUMN = re.compile(r"\b(?:time|wall|cpu) s\s*$", re.I)
#: A file path ("/root/.cache/spicebar/tables/device-3e2f....npz"): where a cache or a
#: temporary folder lives differs between machines and runs, so its digits are not compared.
FILE_PATH = re.compile(r"(?:/[\w.+-]+){2,}/?")


#: A line reporting how closely two exact computations agree (an engine agreement row, a
#: residual, a difference to a reference, a score of one exact engine against the other).
#: Where every number in it in scientific notation is below :data:`ROUNDING_LEVEL` it
#: reports float64 rounding, whose digits (and which column is worst) depend on the CPU's
#: order of operations (seen: AMD EPYC and Intel Xeon machines print 7.0e-19 and 7.3e-19
#: A for the same agreement): such a line is compared as "agrees to rounding" only, so a
#: fresh run must still print it there, still at rounding level.
AGREEMENT_LINE = re.compile(r"engine agreement|difference to|residual|"
                            r"^\s*(?:nodal|ngspice)\s+(?:nodal|ngspice)\s")
SCIENTIFIC = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)[eE][-+]?\d+(?![\w.])")
#: Relative agreement at rounding level is 1e-16..1e-11 here, absolute 1e-19..1e-15 A.
ROUNDING_LEVEL = 1e-9


def _rounding_level(line: str) -> bool:
    sci = [abs(float(x)) for x in SCIENTIFIC.findall(line)]
    return bool(AGREEMENT_LINE.search(line)) and bool(sci) and max(sci) < ROUNDING_LEVEL


def compared_text(text: str) -> str:
    """``text`` without its durations (numbers with a time unit, and the values of a table
    column headed as a time: the last column, to the table's end at a blank line), without
    file paths, and with rounding-level agreement lines reduced to a marker."""
    out, in_timed_table = [], False
    for line in FILE_PATH.sub("<path>", text).splitlines():
        if _rounding_level(line):
            out.append("<agrees to rounding>")
            continue
        if TIME_COLUMN.search(line):
            in_timed_table = True
            out.append(TIME_COLUMN.sub("", line))
            continue
        if not line.strip():
            in_timed_table = False
        elif in_timed_table:
            line = line.rstrip().rsplit(None, 1)[0] if len(line.split()) > 1 else line
        out.append(DURATION.sub("<duration>", line))
    return "\n".join(out)


def _images(cell) -> int:
    return sum("image/png" in o.get("data", {}) for o in cell.get("outputs", []))


def _unit(token: str) -> float:
    """One unit of ``token``'s last printed digit (``0.1234`` -> 1e-4, ``3e-05`` -> 1e-5)."""
    from decimal import Decimal
    return float(10.0 ** Decimal(token.lstrip("+")).as_tuple().exponent)


def stale_numbers(stored_nb, fresh_nb) -> list[str]:
    """Where a fresh run's printed numbers or figure count differ from the stored ones."""
    problems = []
    stored = [c for c in stored_nb.cells if c.cell_type == "code"]
    fresh = [c for c in fresh_nb.cells if c.cell_type == "code"]
    if len(stored) != len(fresh):
        return [f"{len(stored)} code cells stored, {len(fresh)} in the notebook"]
    for k, (s, f) in enumerate(zip(stored, fresh)):
        if s.source != f.source:
            problems.append(f"cell {k}: the stored source differs from the generator's")
            continue
        if _images(s) != _images(f):
            problems.append(f"cell {k}: {_images(s)} figure(s) stored, {_images(f)} drawn now")
        a = NUMBER.findall(compared_text(_printed(s)))
        b = NUMBER.findall(compared_text(_printed(f)))
        if len(a) != len(b):
            problems.append(f"cell {k}: {len(a)} numbers stored, {len(b)} printed now:\n"
                            f"stored: {_printed(s)[:500]}\nnow:    {_printed(f)[:500]}")
            continue
        for x, y in zip(a, b):
            fx, fy = float(x), float(y)
            allowed = max(STORED_REL * abs(fy), LAST_DIGITS * max(_unit(x), _unit(y)))
            if abs(fx - fy) > allowed * (1 + 1e-9):
                problems.append(f"cell {k}: stored {x}, now {y}")
    return problems


def test_the_staleness_check_sees_a_moved_number_and_a_lost_figure():
    def nb(text, images=0):
        cell = nbformat.v4.new_code_cell("print(x)")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        cell.outputs += [nbformat.v4.new_output("display_data", data={"image/png": ""})] * images
        out = nbformat.v4.new_notebook()
        out.cells = [cell]
        return out
    assert stale_numbers(nb("max rel 1.234e-02, 64 cells\n", 1),
                         nb("max rel 1.235e-02, 64 cells\n", 1)) == []
    assert stale_numbers(nb("max rel 1.234e-02\n"), nb("max rel 1.240e-02\n")) == [
        "cell 0: stored 1.234e-02, now 1.240e-02"]
    assert stale_numbers(nb("a\n", 1), nb("a\n", 0)) == [
        "cell 0: 1 figure(s) stored, 0 drawn now"]
    # wall and CPU times are not compared; every other number is
    timed = ("model  max rel  time s\nideal  2.5e-02  7.7e-05\n\n"
             "sweep: 6 run, 2.8 s wall, CPU 0.2 s; nodal 0.0195 s, ngspice 1.6 s\n")
    assert stale_numbers(nb(timed), nb(timed.replace("7.7e-05", "1.1").replace("2.8 s", "9 s")
                                        .replace("0.0195 s", "3 ms"))) == []
    cached = "measured; cached /root/.cache/spicebar/tables/device-3e2f0.npz\n"
    assert stale_numbers(nb(cached), nb(cached.replace("/root", "/tmp/pytest-7/c0"))) == []
    assert stale_numbers(nb(timed), nb(timed.replace("2.5e-02", "2.7e-02"))) == [
        "cell 0: stored 2.5e-02, now 2.7e-02"]
    # engines agreeing to rounding: the digits (and the worst column) are the CPU's
    agree = ("ngspice  nodal  engine agreement   7.047e-19  1.159e-14  worst col 0 "
             "(+1.09e-12 % mean)\nfull scale 1.2e-04 A\n")
    assert stale_numbers(nb(agree), nb(agree.replace("7.047e-19", "7.318e-19")
                                       .replace("col 0", "col 3"))) == []
    lost = agree.replace("1.159e-14", "3.0e-06")
    assert stale_numbers(nb(agree), nb(lost)) != []
    assert stale_numbers(nb(agree), nb(agree.replace("1.2e-04", "1.5e-04"))) == [
        "cell 0: stored 1.2e-04, now 1.5e-04"]


@pytest.mark.ngspice
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_shows_plots_and_its_stored_outputs_are_current(
        ngspice_ready, path, tmp_path, monkeypatch):
    # The kernel imports this checkout's spicebar, whatever is installed.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]))
    stored = nbformat.read(path, as_version=4)
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # a clean run: no stored outputs count
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.get("output_type") == "error"]
    assert not errors
    assert images, f"{path.name} shows no plot"
    stale = stale_numbers(stored, nb)
    assert not stale, (f"{path.name}'s stored outputs are not what the code prints now "
                       "(run `make notebooks` and commit):\n" + "\n".join(stale[:20]))


def test_the_stored_notebooks_are_the_generators_and_executed():
    """Each .ipynb holds the cells tools/make_notebooks.py writes, every code cell executed."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_notebooks", REPO / "tools" / "make_notebooks.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert sorted(gen.ALL) == [p.name for p in NOTEBOOKS]
    for path in NOTEBOOKS:
        stored = nbformat.read(path, as_version=4)
        built = gen.build(gen.ALL[path.name])
        assert [c.source for c in stored.cells] == [c.source for c in built.cells], \
            f"{path.name} differs from tools/make_notebooks.py: run `make notebooks`"
        code = [c for c in stored.cells if c.cell_type == "code"]
        assert all(c.execution_count for c in code), f"{path.name} is stored unexecuted"
        assert any(_images(c) for c in code), f"{path.name} is stored without figures"
