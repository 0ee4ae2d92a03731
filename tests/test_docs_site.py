"""The documentation site builds with warnings as errors, has no broken internal link or
anchor, documents every command, flag and public name, and renders in a real browser.

The site is built once for the module (tests/docs_site.py builds it as `make docs` does,
into a temporary folder); Chromium (Debian's `chromium`, installed by `make setup`) opens
the landing page and the command-line reference. Neither is skipped when missing: a
missing generator or browser is a failure that says how to install it.
"""

from __future__ import annotations

import argparse
import re

import pytest

from .docs_site import DOCS, broken_links, build, check_in_browser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    run = build(out)
    return out, run


def test_the_site_builds_without_warnings(site):
    out, run = site
    assert run.returncode == 0, f"sphinx -W failed:\n{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    assert not run.stderr.strip(), f"the build printed warnings:\n{run.stderr[-6000:]}"
    for page in ("index.html", "getting-started.html", "howto/simulate-and-compare.html",
                 "explanation/engines.html", "reference/api.html", "reference/cli.html",
                 "performance/index.html", "developers/architecture.html",
                 "notebooks/01_quickstart.html"):
        assert (out / page).exists(), f"{page} was not built"


def test_no_internal_link_or_anchor_is_broken(site):
    out, _ = site
    assert broken_links(out) == []


def test_the_link_checker_sees_a_missing_page_and_a_missing_anchor(tmp_path):
    (tmp_path / "a.html").write_text('<h1 id="top">A</h1><a href="b.html#there">b</a>'
                                     '<a href="#top">up</a><a href="gone.html">x</a>'
                                     '<img src="_static/missing.png">')
    (tmp_path / "b.html").write_text('<h1 id="here">B</h1><a href="a.html#top">a</a>')
    found = broken_links(tmp_path)
    assert sorted(found) == ["a.html -> _static/missing.png (no such file)",
                             "a.html -> b.html#there (no such anchor)",
                             "a.html -> gone.html (no such file)"]


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ("spicebar",)):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, path + (name,))


def test_the_cli_reference_has_every_command_and_flag(site):
    from spicebar.cli.main import build_parser
    out, _ = site
    text = (DOCS / "reference" / "cli.md").read_text()  # written from the parser by the build
    html = (out / "reference" / "cli.html").read_text()
    n_flags = 0
    for path, parser in _commands(build_parser()):
        title = " ".join(path)
        assert f"`{title}`" in text, f"the CLI reference has no section for {title!r}"
        assert title in html
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue  # -h/--help on every command: said once on the page, not per command
            for flag in action.option_strings:
                assert re.search(rf"(?:`|, ){re.escape(flag)}[ `,]", text), f"{title}: {flag} missing"
                n_flags += 1
    assert n_flags > 100


def test_the_api_reference_has_every_public_name(site):
    import inspect

    import spicebar
    out, _ = site
    html = (out / "reference" / "api.html").read_text()
    for name in spicebar.__all__:
        obj = getattr(spicebar, name)
        if inspect.isclass(obj) or callable(obj):
            assert f'id="spicebar.{name}"' in html, f"spicebar.{name} is not documented"
        else:
            assert f"spicebar.{name}" in html


def test_the_notebooks_render_with_their_stored_figures(site):
    out, _ = site
    pages = sorted((out / "notebooks").glob("*.html"))
    assert len(pages) >= 6
    with_figures = [p.name for p in pages if re.search(r'<img [^>]*src="[^"]*\.png"', p.read_text())]
    assert len(with_figures) >= 5, f"notebook pages with figures: {with_figures}"


def test_a_real_browser_renders_the_landing_page_and_a_reference_page(site, tmp_path):
    out, run = site
    assert run.returncode == 0
    assert check_in_browser(out, tmp_path) == []


def test_the_readme_is_a_front_door_whose_links_resolve():
    """The README stays short and every relative link in it names a file of the repository
    (it links into docs/ as GitHub shows it; the site itself is checked above)."""
    readme = (DOCS.parent / "README.md").read_text()
    assert len(readme.splitlines()) <= 220, "the README is the front door: move detail into docs/"
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [u for u in links if "://" not in u]
    assert len(local) >= 15
    missing = [u for u in local if not (DOCS.parent / u).exists()]
    assert not missing, f"README.md links to missing files: {missing}"


#: What belongs in docs/performance/, docs/developers/ or CHANGELOG.md, not in a user page:
#: the load a figure was measured at, issue numbers, and the history of a change.
NOT_IN_USER_PAGES = (r"load average", r"\bat load \d", r"\bissue #?\d+", r"\bSpeed II\b",
                     r"previous `?main`?", r"\bbefore \(")


def test_user_pages_state_what_is_true_now():
    user = [p for p in (DOCS.parent / "README.md", DOCS / "getting-started.md", *sorted(DOCS.glob("howto/*.md")),
                        *sorted(DOCS.glob("explanation/*.md")), *sorted(DOCS.glob("reference/*.md")))
            if p.exists()]
    assert len(user) >= 12
    found = [f"{p.relative_to(DOCS.parent)}: {m.group(0)!r}" for p in user for pattern in NOT_IN_USER_PAGES
             for m in re.finditer(pattern, p.read_text(), re.I)]
    assert not found, "move these to docs/performance/, docs/developers/ or CHANGELOG.md:\n" + \
        "\n".join(found)
