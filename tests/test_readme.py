"""README.md and notebooks/README.md are tests: every python and shell block runs.

The convention is in :mod:`tests.markdown_blocks` and at the top of README.md: blocks tagged
``python``/``sh``/``bash`` run in order in one scratch folder per file; ``# not run: REASON``
as a block's first line marks an illustration; ``# file: NAME`` writes the block to NAME.
Blocks added later run under the same rules without any change here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .markdown_blocks import DocRun, read_blocks

REPO = Path(__file__).resolve().parents[1]
DOCS = (REPO / "README.md", REPO / "notebooks" / "README.md")
BLOCKS = [b for d in DOCS for b in read_blocks(d)]
RUNNABLE = [(i, b) for d in DOCS for i, b in enumerate(read_blocks(d)) if b.kind in ("python", "sh")]


@pytest.fixture(scope="module")
def doc_runs(tmp_path_factory):
    return {d: DocRun(read_blocks(d), tmp_path_factory.mktemp(d.parent.name + "_" + d.stem))
            for d in DOCS}


def test_the_convention_is_written_where_writers_see_it():
    head = DOCS[0].read_text()[:2000]
    for words in ("# not run:", "# file:", "tests/test_readme.py"):
        assert words in head, f"README.md's opening comment does not mention {words!r}"


def test_every_block_runs_or_says_why_not():
    assert len(RUNNABLE) >= 10, "the README's examples are tests; most of them should run"
    for b in BLOCKS:
        if b.kind == "not run":
            assert len(b.not_run_reason) >= 8, f"{b.id}: '# not run:' needs a reason"


@pytest.mark.ngspice
@pytest.mark.parametrize("index,block", RUNNABLE, ids=[b.id for _, b in RUNNABLE])
def test_block_runs(ngspice_ready, doc_runs, index, block):
    err = doc_runs[block.doc].run_through(index)
    assert not err, f"{block.id} failed:\n{block.text}\n{err}"
