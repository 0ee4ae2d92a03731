"""The command-line reference page, written from spicebar's own argparse parser.

Every command, sub-command and flag of ``spicebar.cli.main.build_parser()`` becomes a
section of ``reference/cli.md`` at each build, so the reference and ``spicebar --help``
cannot drift apart. (sphinx-argparse does the same job but breaks on Sphinx 9 with the
reST roles in spicebar's help texts; this writer keeps the texts literal.)
"""

from __future__ import annotations

import argparse
import re

_ESCAPE = re.compile(r"([\\`*_\[\]<>|{}#$~^])")


def _md(text: str) -> str:
    """Plain text, shown as written: Markdown's special characters escaped, one line."""
    return _ESCAPE.sub(r"\\\1", " ".join(str(text).split()))


def _wrapped(text: str, width: int = 88) -> str:
    """A help text for a ```text block: long unindented lines wrapped, indented ones
    (examples) kept as they are."""
    import textwrap
    return "\n".join(textwrap.fill(ln, width) if len(ln) > width and not ln.startswith(" ")
                     else ln for ln in text.strip("\n").splitlines())


def _option_line(action: argparse.Action) -> str:
    if action.option_strings:
        names = ", ".join(action.option_strings)
        if action.nargs != 0:
            metavar = action.metavar or (action.dest.upper() if not action.choices else
                                         "{" + ",".join(map(str, action.choices)) + "}")
            names += f" {metavar}"
    else:
        names = action.metavar or action.dest
    parts = []
    if action.help and action.help != argparse.SUPPRESS:
        parts.append(_md(action.help % {"default": action.default, "prog": ""}
                         if "%(" in action.help else action.help))
    if action.choices and not isinstance(action, argparse._SubParsersAction):
        parts.append("choices: " + ", ".join(f"`{c}`" for c in action.choices))
    if action.required and action.option_strings:
        parts.append("required")
    if (action.option_strings and action.nargs != 0 and action.default not in (None, False)
            and action.default != argparse.SUPPRESS):
        parts.append(f"default: `{action.default}`")
    return f"- `{names}`" + (": " + "; ".join(parts) if parts else "")


def _command(parser: argparse.ArgumentParser, path: list[str], level: int, out: list[str],
             summary: str = "") -> None:
    title = " ".join(path)
    out += [f"{'#' * level} `{title}`", ""]
    if summary:
        out += [_md(summary), ""]
    out += ["```text", parser.format_usage().strip(), "```", ""]
    if parser.description:
        out += ["```text", _wrapped(parser.description), "```", ""]
    subs = None
    lines = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            subs = action
            continue
        if isinstance(action, argparse._HelpAction):
            continue
        lines.append(_option_line(action))
    if lines:
        out += lines + [""]
    if parser.epilog:
        out += ["```text", _wrapped(parser.epilog), "```", ""]
    if subs is not None:
        helps = {a.dest: a.help or "" for a in subs._choices_actions}
        for name, sub in subs.choices.items():
            _command(sub, path + [name], min(level + 1, 4), out, helps.get(name, ""))


def cli_markdown() -> str:
    from spicebar.cli.main import build_parser
    out = ["# Command line", "",
           "Every command and flag of `spicebar`, written from its own argument parser at each",
           "build of this site, so this page and `spicebar --help` cannot drift apart. Bad input",
           "exits with code 2 and one line naming the flag and what is allowed; see",
           "[when things go wrong](../howto/when-things-go-wrong.md). Every command also takes",
           "`-h`/`--help`.", ""]
    _command(build_parser(), ["spicebar"], 2, out)
    return "\n".join(out) + "\n"
