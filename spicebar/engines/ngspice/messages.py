"""ngspice's messages: which lines are errors, and what of them a status file keeps.

Kept apart from the worker (which loads libngspice) so the caller and the tests can
classify lines without it.
"""

from __future__ import annotations

import re

#: ngspice lines that mean the run failed. Everything else it prints (banners,
#: "Note:", "Using KLU", "Warning:") is information and never an error by itself.
ERROR_PATTERN = re.compile(
    r"(^|\s)error\b|circuit not parsed|singular matrix|simulation\(s\) aborted|"
    r"doanalyses|timestep too small|no convergence|iteration limit reached|"
    r"unknown (parameter|subckt|model|device)|can't find|could not find|fatal",
    re.IGNORECASE)


def classify(message: str) -> str:
    """``error``, ``warning`` or ``info`` for one line ngspice printed."""
    text = message.partition(" ")[2] if message.startswith(("stdout ", "stderr ")) else message
    if text.lstrip().lower().startswith("warning"):
        return "warning"
    if ERROR_PATTERN.search(text):
        return "error"
    return "info"


#: Lines that say Newton (and its fall-backs) gave up, rather than that the input was bad.
CONVERGENCE_PATTERN = re.compile(
    r"timestep too small|iteration limit|could not be simulated|no convergence|"
    r"gmin stepping failed|source stepping failed", re.IGNORECASE)


#: A status file keeps ngspice's first and last lines only: a failing large run can print
#: millions (a node-voltage dump per gmin step), which made a 160 MB status file.
MESSAGES_HEAD, MESSAGES_TAIL = 200, 100
#: ngspice's first error lines kept as the failure's cause.
CAUSE_LINES = 10


def _clean(m: str) -> str:
    return m.partition(" ")[2] if m.startswith(("stdout ", "stderr ")) else m


def status_messages(messages: list[str]) -> list[str]:
    """The messages for a status file: all of them up to ``MESSAGES_HEAD + MESSAGES_TAIL``,
    else the first and last lines with a count of those left out between."""
    if len(messages) <= MESSAGES_HEAD + MESSAGES_TAIL:
        return [_clean(m) for m in messages]
    left_out = len(messages) - MESSAGES_HEAD - MESSAGES_TAIL
    return ([_clean(m) for m in messages[:MESSAGES_HEAD]]
            + [f"[spicebar: {left_out} ngspice lines left out]"]
            + [_clean(m) for m in messages[-MESSAGES_TAIL:]])


#: ngspice's line when KLU stops without a singular column (its ``singular_col + 1`` is 0):
#: not a singular circuit but a KLU status such as ``KLU_OUT_OF_MEMORY``.
KLU_NO_COLUMN = re.compile(r"singular matrix:\s+check node 0\s*$", re.IGNORECASE)
KLU_NO_COLUMN_NOTE = (
    "ngspice's KLU stopped without naming a singular column (\"check node 0\"): it refused "
    "its first LU allocation, 10x AMD's fill estimate, past 2^31 8-byte units; this happens "
    "on large arrays (from about 848x848 cells), not on a singular circuit")


def explained(summary: str, cause: list[str]) -> str:
    """``summary``, with what ngspice's cause means where it is known to mislead."""
    if any(KLU_NO_COLUMN.search(line) for line in cause):
        return f"{summary}: {KLU_NO_COLUMN_NOTE}"
    return summary


#: Warnings that name a failure's cause: ngspice prints "singular matrix" as a warning
#: before it tries gmin and source stepping, whose failures come after it.
CAUSE_WARNING = re.compile(r"singular matrix", re.IGNORECASE)


def first_errors(messages: list[str], limit: int = CAUSE_LINES) -> list[str]:
    """ngspice's first ``limit`` distinct error lines (see :func:`classify`) and "singular
    matrix" warnings, in order: the likely cause."""
    out = []
    for m in messages:
        if classify(m) == "error" or CAUSE_WARNING.search(m):
            line = _clean(m)
            if line not in out:
                out.append(line)
                if len(out) == limit:
                    break
    return out


#: Lines that open a Python traceback block in a worker's log.
TRACEBACK_START = ("Traceback (most recent call last):", "Exception ignored ")


def without_tracebacks(lines: list[str]) -> list[str]:
    """``lines`` of a worker's log with every Python traceback block left out (its frames
    and the code they quote); the exception's own last line stays, marked as the worker's.
    A user reads these lines in an error: ngspice's words and the worker's one-line
    reasons, never a traceback."""
    out, inside = [], False
    for line in lines:
        if line.startswith(TRACEBACK_START):
            inside = True
            continue
        if inside and (line.startswith((" ", "\t")) or not line.strip()):
            continue
        if inside:
            inside = False
            line = f"(worker) {line}"
        out.append(line)
    return out
