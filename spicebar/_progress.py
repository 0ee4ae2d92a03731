"""One rule for progress bars: off when asked (``--no-progress``, ``SPICEBAR_PROGRESS=0``)
and off when stderr is not a terminal (a log file gets no ``\\r`` updates)."""

from __future__ import annotations

import os
import sys

#: Set to ``0`` (by ``--no-progress``, or by the user) to turn every progress bar off.
ENV = "SPICEBAR_PROGRESS"


def bar_disable(requested: bool = True):
    """tqdm's ``disable`` for a bar the caller wants (``requested``): True when progress is
    off, else None (tqdm's own rule: off when its stream, stderr, is not a terminal)."""
    if not requested or os.environ.get(ENV, "1") == "0":
        return True
    return None


def bars_on(requested: bool = True) -> bool:
    """Whether a bar the caller wants is drawn at all (progress on, stderr a terminal)."""
    return bar_disable(requested) is None and sys.stderr.isatty()
