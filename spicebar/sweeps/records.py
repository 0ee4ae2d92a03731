"""Where a sweep keeps its finished points: one JSON record per point, written atomically.

Shared by the runner (:mod:`.run`, which writes them) and the table (:mod:`.table`,
which reads them), so neither imports the other.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..io import write_text_atomic

#: Sub-folder of a sweep's ``--out`` that holds one ``KEY.json`` per finished point.
POINTS_DIR = "points"


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` as JSON, atomically: a kill leaves the old file or the new, never half."""
    write_text_atomic(path, json.dumps(data, indent=1))


def load_record(out_dir: str | Path, key: str) -> dict | None:
    """The stored record of a point, or None if missing or unreadable."""
    p = Path(out_dir) / POINTS_DIR / f"{key}.json"
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return None
