"""Build the documentation site, check its links, and open it in a real browser.

Used by tests/test_docs_site.py and, from the command line, by
tools/check_docs_browser.sh (`make docs-check`):

    python -m tests.docs_site browser docs/_build/html

The browser is headless Chromium from Debian's packages (`chromium`, installed by
tools/install_browser.sh, part of `make setup`).
"""

from __future__ import annotations

import html.parser
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"

#: Chromium's flags for a headless run that contacts nothing but the file it is given.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars")
#: Wall-time allowance of one Chromium run, seconds: it takes 1-6 s on the 2-core machine
#: under load; the allowance covers a busy machine, not a slow page.
BROWSER_TIMEOUT_S = 120
#: Wall-time allowance of one site build, seconds (about 20-45 s under load).
BUILD_TIMEOUT_S = 600
#: Furo's sidebar background (its light theme's --color-sidebar-background, #f8f9fb): a
#: screenshot shows it only where the theme's stylesheet loaded and laid the page out.
SIDEBAR_RGB = (248, 249, 251)
#: The share of the sidebar's area (left 300 px below the title) that must be that colour:
#: measured 0.93 with the links and the search box drawn on it; an unstyled page has none.
SIDEBAR_SHARE_MIN = 0.5


def build(out: Path) -> subprocess.CompletedProcess:
    """Build the site into ``out`` as `make docs` does: warnings are errors, every page
    read afresh (its own doctree cache)."""
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-E",
         "-d", str(out / ".doctrees"), str(DOCS), str(out)],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, cwd=REPO)


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str]] = []  # (tag, url)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and a.get("rel") in ("canonical",)):
                self.refs.append((tag, a[key]))


def broken_links(site: Path) -> list[str]:
    """Every internal link, image or asset of the built ``site`` that points at a missing
    file, or at an anchor its page does not have: ``["page.html -> target", ...]``."""
    site = site.resolve()
    pages = {p: _parse(p) for p in site.rglob("*.html") if ".doctrees" not in p.parts}
    broken = []
    for page, parsed in pages.items():
        for tag, url in parsed.refs:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or url.startswith(("mailto:", "javascript:", "data:")):
                continue
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {url} (no such file)")
                continue
            if parts.fragment and target.suffix == ".html":
                if target not in pages:
                    pages[target] = _parse(target)
                ids = pages[target].ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(site)} -> {url} (no such anchor)")
    return broken


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(errors="replace"))
    return p


def chromium() -> str:
    exe = shutil.which("chromium")
    if not exe:
        raise RuntimeError("no `chromium` on PATH: `make setup` installs it "
                           "(tools/install_browser.sh; Debian: apt-get install chromium)")
    return exe


def open_page(page: Path, workdir: Path) -> tuple[str, Path]:
    """Open ``page`` in headless Chromium with a new empty profile: its DOM after load
    (scripts run) and a 1280x900 screenshot."""
    profile = Path(tempfile.mkdtemp(prefix="profile_", dir=workdir))
    shot = workdir / (page.stem + ".png")
    url = page.resolve().as_uri()
    base = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,900"]
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True,
                         timeout=BROWSER_TIMEOUT_S, env=env)
    if dom.returncode:
        raise RuntimeError(f"chromium --dump-dom {url} exited {dom.returncode}:\n{dom.stderr[-2000:]}")
    shot_run = subprocess.run([*base, f"--screenshot={shot}", url], capture_output=True,
                              text=True, timeout=BROWSER_TIMEOUT_S, env=env)
    if shot_run.returncode or not shot.exists():
        raise RuntimeError(f"chromium --screenshot {url} failed:\n{shot_run.stderr[-2000:]}")
    return dom.stdout, shot


def sidebar_share(png: Path) -> float:
    """The share of the screenshot's sidebar area drawn in the theme's sidebar colour."""
    from PIL import Image
    with Image.open(png) as im:
        rgb = im.convert("RGB")
        px = rgb.load()
        points = [(x, y) for x in range(10, 300, 3) for y in range(150, min(850, rgb.height), 3)]
        return sum(px[x, y] == SIDEBAR_RGB for x, y in points) / len(points)


def check_in_browser(site: Path, workdir: Path) -> list[str]:
    """Open the landing page and the command-line reference; what is wrong (empty: all well)."""
    problems = []
    for rel, must_show in (("index.html", ("spicebar", "Getting started", "How-to guides")),
                           ("reference/cli.html", ("spicebar simulate", "--engine", "--r-wl"))):
        dom, shot = open_page(site / rel, workdir)
        for words in must_show:
            if words not in dom:
                problems.append(f"{rel}: the rendered page does not show {words!r}")
        if "sidebar-tree" not in dom:
            problems.append(f"{rel}: no navigation sidebar in the rendered page")
        share = sidebar_share(shot)
        if share < SIDEBAR_SHARE_MIN:
            problems.append(f"{rel}: the theme's stylesheet did not apply (sidebar colour on "
                            f"{share:.0%} of its area, at least {SIDEBAR_SHARE_MIN:.0%} expected; "
                            f"screenshot {shot})")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "browser":
        print("usage: python -m tests.docs_site browser SITE_DIR", file=sys.stderr)
        return 2
    site = Path(argv[1])
    if not (site / "index.html").exists():
        print(f"{site}/index.html not found: build the site first (make docs)", file=sys.stderr)
        return 2
    broken = broken_links(site)
    with tempfile.TemporaryDirectory() as tmp:
        problems = broken + check_in_browser(site, Path(tmp))
    for p in problems:
        print(p)
    print("docs check: " + ("failed" if problems else
                            "the landing page and the CLI reference render with the theme; no broken links"))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
