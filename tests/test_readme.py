"""README.md, every page under docs/ and notebooks/README.md are tests: every python and
shell block runs.

The convention is in :mod:`tests.markdown_blocks` and at the top of README.md: blocks tagged
``python``/``sh``/``bash`` run in order in one scratch folder per file; ``# not run: REASON``
as a block's first line marks an illustration; ``# file: NAME`` writes the block to NAME.
Blocks added later, and pages added under docs/ (found recursively, the site's build output
excluded), run under the same rules without any change here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .markdown_blocks import DocRun, read_blocks

REPO = Path(__file__).resolve().parents[1]
#: Folders under docs/ that hold no pages of their own: the build output, the site's
#: Sphinx extensions, the notebooks copied in at build time.
NOT_PAGES = ("_build", "_ext", "notebooks")


def doc_pages() -> list[Path]:
    """Every Markdown page under docs/ (recursively), in a stable order."""
    root = REPO / "docs"
    return sorted(p for p in root.rglob("*.md")
                  if p.relative_to(root).parts[0] not in NOT_PAGES)


DOCS = (REPO / "README.md", REPO / "notebooks" / "README.md", *doc_pages())


def _blocks(doc: Path):
    return read_blocks(doc, str(doc.relative_to(REPO)))


BLOCKS = [b for d in DOCS for b in _blocks(d)]
RUNNABLE = [(i, b) for d in DOCS for i, b in enumerate(_blocks(d)) if b.kind in ("python", "sh")]


#: The repository's folders a block may name as from a clone's root (linked, not copied).
LINKED = ("notebooks", "benchmarks", "models", "docs", "tools")


@pytest.fixture(scope="module")
def doc_runs(tmp_path_factory):
    runs = {}
    for d in DOCS:
        cwd = tmp_path_factory.mktemp(d.parent.name + "_" + d.stem.replace("-", "_"))
        for name in LINKED:
            (cwd / name).symlink_to(REPO / name, target_is_directory=True)
        runs[d] = DocRun(_blocks(d), cwd)
    return runs


def test_the_convention_is_written_where_writers_see_it():
    head = DOCS[0].read_text()[:2000]
    for words in ("# not run:", "# file:", "tests/test_readme.py"):
        assert words in head, f"README.md's opening comment does not mention {words!r}"


def test_every_block_runs_or_says_why_not():
    assert len(RUNNABLE) >= 10, "the README's examples are tests; most of them should run"
    readme = [b for _, b in RUNNABLE if b.doc == DOCS[0]]
    assert len(readme) >= 4, "the README's own examples run"
    for b in BLOCKS:
        if b.kind == "not run":
            assert len(b.not_run_reason) >= 8, f"{b.id}: '# not run:' needs a reason"


@pytest.mark.ngspice
@pytest.mark.parametrize("index,block", RUNNABLE, ids=[b.id for _, b in RUNNABLE])
def test_block_runs(ngspice_ready, doc_runs, index, block):
    err = doc_runs[block.doc].run_through(index)
    assert not err, f"{block.id} failed:\n{block.text}\n{err}"


def test_the_notebooks_readme_lists_exactly_the_notebooks_there_are():
    import re
    text = DOCS[1].read_text()
    listed = set(re.findall(r"`(\d\d_[A-Za-z0-9_]+\.ipynb)`", text))
    present = {p.name for p in (REPO / "notebooks").glob("*.ipynb")}
    assert listed == present, f"listed but missing: {listed - present}; not listed: {present - listed}"
    assert "will come" not in text


def test_the_pages_under_docs_are_collected():
    """The collector finds the site's pages by itself, sub-folders included."""
    names = {str(p.relative_to(REPO)) for p in doc_pages()}
    for page in ("docs/index.md", "docs/getting-started.md", "docs/howto/simulate-and-compare.md",
                 "docs/developers/writing-docs.md"):
        assert page in names
    assert not any("_build" in n for n in names)
    pages_with_code = {b.doc for _, b in RUNNABLE} - {DOCS[0], DOCS[1]}
    assert len(pages_with_code) >= 8, "most guide pages carry examples that run"
