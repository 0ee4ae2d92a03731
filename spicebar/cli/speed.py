"""The ``--threads`` flag: how many threads the nodal engine's compiled kernels use."""

from __future__ import annotations

import argparse


def add_threads_flag(p: argparse.ArgumentParser, default=None) -> None:
    """``--threads N`` on ``p`` (on a subcommand pass ``argparse.SUPPRESS`` so the
    top-level value is kept when the subcommand does not repeat it)."""
    p.add_argument("--threads", default=default, metavar="N",
                   help="threads of the nodal line solver's kernels, 1 to the cores (default: "
                        "SPICEBAR_THREADS, else every core; two threads are used only on "
                        "arrays of a million cells and more, where they were measured to pay)")


def apply_threads(args: argparse.Namespace) -> None:
    """Set the thread count of ``args.threads``, else check ``SPICEBAR_THREADS`` (SpecError
    naming the one that is bad, before any work)."""
    from ..engines.nodal.threads import set_threads, threads
    if getattr(args, "threads", None) is not None:
        set_threads(args.threads)
    else:
        threads()
