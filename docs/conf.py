"""Sphinx configuration of spicebar's documentation site (built by `make docs`).

Pages are MyST Markdown; the notebooks (notebooks/*.ipynb) are rendered from their stored
outputs by myst-nb, never executed here (`make notebooks` executes them, and
tests/test_notebooks.py checks that the stored outputs are current).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(DOCS / "_ext"))

import spicebar  # noqa: E402

project = "spicebar"
author = "the spicebar authors"
copyright = "the spicebar authors, MIT licence"
release = spicebar.__version__
version = release

extensions = [
    "myst_nb",                    # MyST Markdown pages and .ipynb notebooks (myst-parser inside)
    "sphinx.ext.autodoc",         # the Python API from the docstrings
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",        # the docstrings' "Attributes:" and "Args:" sections
    "sphinx.ext.mathjax",
]

# The notebooks live in notebooks/ (where users open them); a copy is rendered here.
NOTEBOOKS_OUT = DOCS / "notebooks"


def _copy_notebooks() -> None:
    NOTEBOOKS_OUT.mkdir(exist_ok=True)
    wanted = {p.name for p in (REPO / "notebooks").glob("*.ipynb")}
    for old in NOTEBOOKS_OUT.glob("*.ipynb"):
        if old.name not in wanted:
            old.unlink()
    for name in sorted(wanted):
        src, dst = REPO / "notebooks" / name, NOTEBOOKS_OUT / name
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dst)


_copy_notebooks()

nb_execution_mode = "off"         # rendered from the stored outputs, never executed at build
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3          # `page.md#a-heading` links are checked with -W
suppress_warnings = ["myst.header"]  # pages may start at '##' after an included title

exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints",
                    "ARCHITECTURE.md"]  # included in place by developers/architecture.md

html_theme = "furo"
html_title = f"spicebar {release}"
html_static_path: list[str] = []

autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_typehints = "signature"
napoleon_use_ivar = True          # "Attributes:" sections as fields, not a second description
autodoc_member_order = "bysource"
autodoc_mock_imports: list[str] = []
autosummary_generate = False

nitpicky = True
# The docstrings cross-reference spicebar's internal modules and classes (and numpy's,
# scipy's and the standard library's types; the build is offline, without intersphinx);
# the API page documents the public names only, so unresolved Python references are not
# errors. Every other reference (pages, headings, labels, terms) must resolve.
nitpick_ignore_regex = [(r"py:.*", r".*")]


# The Python API page lists every public name of `spicebar` (its __all__), so a name
# added to the package appears here without editing the docs.
API_GROUPS = (
    ("Specifications, cells and operating modes", ("spicebar.circuit",)),
    ("Simulation and results", ("spicebar.engines", "spicebar.results", "spicebar.netlist",
                                "spicebar.io")),
    ("Analysis", ("spicebar.analysis",)),
    ("Weights, devices and tiles", ("spicebar.hardware",)),
    ("Sweeps", ("spicebar.sweeps",)),
    ("Errors", ("spicebar.errors",)),
)


def _write_api_page() -> None:
    import inspect
    groups: dict[str, list[str]] = {title: [] for title, _ in API_GROUPS}
    groups["Other"] = []
    for name in spicebar.__all__:
        obj = getattr(spicebar, name)
        module = getattr(obj, "__module__", "") if (inspect.isclass(obj) or callable(obj)) else ""
        title = next((t for t, prefixes in API_GROUPS if module.startswith(prefixes)), "Other")
        if inspect.isclass(obj):
            directive = "autoclass"
        elif callable(obj):
            directive = "autofunction"
        else:  # a constant: its value's summary, not the docstring of its type
            what = sorted(obj) if isinstance(obj, dict) else obj
            groups[title].append(f"``spicebar.{name}``: ``{what!r}``\n")
            continue
        groups[title].append(f".. {directive}:: spicebar.{name}\n")
    lines = ["# Python API", "",
             "Every public name of the `spicebar` package (`spicebar.__all__`), from its docstrings.",
             "Import them from `spicebar` itself: `import spicebar as sb; sb.simulate(...)`.", ""]
    for title, directives in groups.items():
        if not directives:
            continue
        lines += [f"## {title}", "", "```{eval-rst}", *directives, "```", ""]
    text = "\n".join(lines)
    out = DOCS / "reference" / "api.md"
    if not out.exists() or out.read_text() != text:
        out.write_text(text)


_write_api_page()


def _write_cli_page() -> None:
    from cli_page import cli_markdown
    out = DOCS / "reference" / "cli.md"
    text = cli_markdown()
    if not out.exists() or out.read_text() != text:
        out.write_text(text)


_write_cli_page()
