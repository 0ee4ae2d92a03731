"""One version: pyproject.toml, spicebar.__version__, `spicebar --version` and the newest
heading of CHANGELOG.md agree, and the deprecated module paths name their removal version
where the changelog does."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import spicebar

REPO = Path(__file__).resolve().parents[1]


def _changelog_versions() -> list[str]:
    text = (REPO / "CHANGELOG.md").read_text()
    return re.findall(r"^## \[(\d+\.\d+\.\d+)\]", text, re.M)


def test_pyproject_package_cli_and_changelog_agree():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    cli = subprocess.run([sys.executable, "-m", "spicebar.cli", "--version"],
                         capture_output=True, text=True, cwd=REPO, check=True).stdout.split()
    newest = _changelog_versions()[0]
    assert pyproject == spicebar.__version__ == newest, (pyproject, spicebar.__version__, newest)
    assert cli == ["spicebar", newest]
    cff = (REPO / "CITATION.cff").read_text()
    assert re.search(rf"^version: {re.escape(newest)}$", cff, re.M)


def test_changelog_versions_are_newest_first():
    versions = [tuple(map(int, v.split("."))) for v in _changelog_versions()]
    assert len(versions) >= 2 and versions == sorted(versions, reverse=True)


def test_old_module_paths_state_their_removal_version():
    from spicebar import _moved
    text = (REPO / "CHANGELOG.md").read_text()
    assert f"removed in {_moved.REMOVED_IN}" in text
    assert tuple(map(int, _moved.REMOVED_IN.split("."))) > tuple(
        map(int, spicebar.__version__.split(".")))
    old = next(iter(_moved.MOVED))
    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        __import__(old)
    assert any(f"removed in spicebar {_moved.REMOVED_IN}" in str(w.message) for w in caught)
