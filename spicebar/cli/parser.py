"""The argument parser of the ``spicebar`` command: a usage error is one line (exit code 2)
like every other bad input, pointing at the help of the command that was typed, with a
"did you mean" for a mistyped flag or command; ``--no-progress`` on every command."""

from __future__ import annotations

import argparse

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit code 2) like every other bad input,
    pointing at the help of the command that was typed, with a "did you mean" for a
    mistyped flag or command."""

    def error(self, message: str):
        import re
        bad = re.match(r"argument (?:COMMAND|KIND|\S+): invalid choice: '([^']*)' \(choose from (.*)\)",
                       message)
        if bad:
            choices = re.findall(r"'([^']*)'", bad.group(2)) or bad.group(2).split(", ")
            message += _did_you_mean(bad.group(1), choices)
        self.exit(EXIT_BAD_INPUT, f"spicebar: error: {message} (see `{self.prog} --help`)\n")

    def parse_args(self, args=None, namespace=None):
        known, extras = self.parse_known_args(args, namespace)
        if extras:
            sub = _chosen_parser(self, known)
            options = [o for a in sub._actions for o in a.option_strings]
            hints = "".join(_did_you_mean(e.split("=")[0], options)
                            for e in extras if e.startswith("-"))
            sub.error(f"unrecognized arguments: {' '.join(extras)}{hints}")
        return known


def _did_you_mean(word: str, choices) -> str:
    import difflib
    close = difflib.get_close_matches(word, list(choices), n=2, cutoff=0.6)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def _subparsers(parser):
    return [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]


def _chosen_parser(parser, args):
    """The (sub)parser of the command the user typed (``plot maps``: the ``maps`` parser)."""
    for action in _subparsers(parser):
        name = getattr(args, action.dest, None)
        if name in action.choices:
            return _chosen_parser(action.choices[name], args)
    return parser


def every_parser(parser):
    yield parser
    for action in _subparsers(parser):
        for sub in dict.fromkeys(action.choices.values()):
            yield from every_parser(sub)


def add_no_progress(parser) -> None:
    """``--no-progress`` on every command (progress bars are also off when stderr is not a
    terminal)."""
    for p in every_parser(parser):
        if p is parser or _subparsers(p):
            continue
        if not any("--no-progress" in a.option_strings for a in p._actions):
            p.add_argument("--no-progress", action="store_true",
                           help="no progress bars (they are also off when stderr is not a "
                                "terminal)")
