"""Code blocks of a markdown file, and a runner that executes them as a reader would.

The convention (also at the top of README.md, which is where writers see it):

* Fenced blocks tagged ``python``, ``sh``, ``bash`` or ``shell`` **run**, top to bottom,
  in one scratch folder per markdown file (the repository's ``notebooks``, ``benchmarks``,
  ``models``, ``docs`` and ``tools`` folders are linked into it, so paths read as from a
  clone's root). Python blocks share one namespace (like a
  notebook); shell blocks run in ``bash -eu -o pipefail`` with this environment's
  ``spicebar`` and ``python`` first on ``PATH``. Keep each to seconds (small arrays).
* A block whose first line is ``# not run: REASON`` is an illustration only; the reason
  is visible to every reader, and a block marked so must give one.
* A block of any language whose first line is ``# file: NAME`` is written to ``NAME``
  in the scratch folder (a sweep file, a module of your own) for the blocks after it.
* Blocks with no language or another one (``text``, ``toml``, tables, printed output)
  and MyST directives (```` ```{include} ````, ```` ```{toctree} ````) are text.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

RUN_LANGS = {"python": "python", "py": "python", "sh": "sh", "bash": "sh", "shell": "sh"}
NOT_RUN = re.compile(r"^#\s*not run:\s*(.*)$")
FILE = re.compile(r"^#\s*file:\s*([A-Za-z0-9_./-]+)\s*$")
#: An opening fence: a language (```python) or a MyST directive (```{include} FILE), which
#: is text here.
FENCE = re.compile(r"^```\s*(\{[^}]*\}|[A-Za-z0-9_+-]*)(?:\s+\S.*)?\s*$")
#: Wall-time allowance of one shell block, seconds: a block is meant to take seconds; the
#: allowance covers a busy 2-core machine shared with other jobs, not a slow example.
SHELL_TIMEOUT_S = 300


@dataclass(frozen=True)
class Block:
    """One fenced block: ``line`` is the 1-based line of its opening fence."""

    doc: Path
    line: int
    lang: str
    text: str
    name: str = ""  # how the document is named in ids (default: its file name)

    @property
    def first_line(self) -> str:
        return next((ln.strip() for ln in self.text.splitlines() if ln.strip()), "")

    @property
    def kind(self) -> str:
        """``python`` or ``sh`` (runs), ``file`` (written for later blocks), ``not run`` or ``text``."""
        if FILE.match(self.first_line):
            return "file"
        if self.lang not in RUN_LANGS:
            return "text"
        if NOT_RUN.match(self.first_line):
            return "not run"
        return RUN_LANGS[self.lang]

    @property
    def not_run_reason(self) -> str:
        m = NOT_RUN.match(self.first_line)
        return m.group(1).strip() if m else ""

    @property
    def file_name(self) -> str:
        m = FILE.match(self.first_line)
        return m.group(1) if m else ""

    @property
    def id(self) -> str:
        return f"{self.name or self.doc.name}:{self.line}:{self.kind}"


def read_blocks(doc: Path, name: str = "") -> list[Block]:
    """Every fenced block of ``doc`` in order (``name``: the document in ids). An unclosed
    fence is an error."""
    blocks, lines = [], doc.read_text().splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, body = i, []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise ValueError(f"{doc}:{start + 1}: unclosed code fence")
        blocks.append(Block(doc, start + 1, m.group(1).lower(), "\n".join(body) + "\n", name))
        i += 1
    return blocks


@dataclass
class DocRun:
    """Runs one document's blocks in order, each once, in its scratch folder ``cwd``."""

    blocks: list[Block]
    cwd: Path
    namespace: dict = field(default_factory=lambda: {"__name__": "__readme__"})
    done: dict = field(default_factory=dict)  # block index -> error text ("" if it passed)
    seconds: dict = field(default_factory=dict)

    def env(self) -> dict:
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env["MPLBACKEND"] = "Agg"
        return env

    def run_through(self, index: int) -> str:
        """Run blocks ``0..index`` not yet run; the error of block ``index`` (or of the
        first earlier block that failed), "" when all passed."""
        for k in range(index + 1):
            if k not in self.done:
                t0 = time.perf_counter()
                self.done[k] = self._run(self.blocks[k])
                self.seconds[k] = time.perf_counter() - t0
            if self.done[k] and k < index:
                return f"an earlier block ({self.blocks[k].id}) failed:\n{self.done[k]}"
        return self.done[index]

    def _run(self, block: Block) -> str:
        kind = block.kind
        if kind == "file":
            body = block.text.split("\n", 1)[1] if "\n" in block.text else ""
            target = self.cwd / block.file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body)
            return ""
        if kind == "python":
            return self._python(block)
        if kind == "sh":
            return self._shell(block)
        return ""

    def _python(self, block: Block) -> str:
        import traceback
        old = Path.cwd()
        os.chdir(self.cwd)
        sys.path.insert(0, str(self.cwd))  # modules written by `# file:` blocks import
        try:
            exec(compile(block.text, block.id, "exec"), self.namespace)
        except BaseException:  # noqa: BLE001 - any failure of the example is the test's answer
            return traceback.format_exc(limit=-4)
        finally:
            sys.path.remove(str(self.cwd))
            os.chdir(old)
            import matplotlib.pyplot as plt
            plt.close("all")
        return ""

    def _shell(self, block: Block) -> str:
        try:
            p = subprocess.run(["bash", "-eu", "-o", "pipefail", "-c", block.text], cwd=self.cwd,
                               env=self.env(), capture_output=True, text=True,
                               timeout=SHELL_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            return f"took over {SHELL_TIMEOUT_S} s:\n{exc.stdout or ''}{exc.stderr or ''}"
        if p.returncode:
            return f"exit code {p.returncode}\n--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}"
        return ""
