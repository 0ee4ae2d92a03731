"""The tidy table of a sweep: one row per point and model, as CSV and ``.npz``.

Columns: ``index``, ``key``, ``status`` (``ok`` / ``failed`` / ``missing``), one column
per point parameter (the swept ones first), ``rows``, ``cols``, ``cells``, ``model``,
``reference`` (the engine the model is scored against: ``ngspice``, or ``nodal`` where
ngspice would be too slow, with ``note`` saying so), the statistics of
:data:`spicebar.analysis.scoring.STATS`, ``model_status``, ``model_s`` and ``reference_s``
(wall times, s), ``full_scale_a`` and ``lsb_a`` (A), ``reason``, ``message``,
``netlist`` (kept for failed points) and ``note``.

The ``.npz`` holds the same columns as arrays (numbers as float64, text as str),
read back with :func:`read_table`. No pandas or pyarrow needed; a user with pandas
can ``pandas.read_csv`` the CSV.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from ..analysis.scoring import STATS
from ..io import atomic_output, write_text_atomic
from .records import load_record

TABLE_CSV = "results.csv"
TABLE_NPZ = "results.npz"
TEXT_COLUMNS = ("key", "status", "model", "reference", "model_status", "reason", "message",
                "netlist", "note", "model_error")


def _cell(value):
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return value


def table_rows(out_dir: str | Path, sweep, keys) -> tuple[list[str], list[dict]]:
    """Column names and rows of the table from the stored point records."""
    param_cols = list(sweep.swept) + [k for k in dict.fromkeys(
        k for p in sweep.points for k in p.params) if k not in sweep.swept]
    cols = (["index", "key", "status"] + param_cols
            + ["rows", "cols", "cells", "model", "reference", *STATS, "model_status", "model_s",
               "reference_s", "full_scale_a", "lsb_a", "reason", "message", "netlist", "note",
               "model_error"])
    rows = []
    for p, k in zip(sweep.points, keys):
        rec = load_record(out_dir, k)
        base = {"index": p.index, "key": k, **{c: _cell(p.params.get(c, "")) for c in param_cols}}
        if rec is None:
            for m in sweep.options.models:
                rows.append({**base, "status": "missing", "model": m})
            continue
        base.update(status=rec["status"], rows=rec["rows"], cols=rec["cols"],
                    cells=rec["rows"] * rec["cols"], reference=rec["reference"],
                    reference_s=rec.get("reference_s", float("nan")),
                    full_scale_a=rec.get("full_scale_a"), lsb_a=rec.get("lsb_a"),
                    reason=rec.get("reason", ""), message=rec.get("message", ""),
                    netlist=rec.get("netlist", ""), note=rec.get("note", ""))
        for s in rec["models"]:
            rows.append({**base, "model": s["model"], **{st: s[st] for st in STATS},
                         "model_status": s["status"], "model_s": s["elapsed_s"],
                         "model_error": s.get("error", "")})
    return cols, rows


def write_table(out_dir: str | Path, sweep, keys) -> Path:
    """Write ``results.csv`` and ``results.npz`` into ``out_dir``; returns the CSV path."""
    out = Path(out_dir)
    cols, rows = table_rows(out, sweep, keys)
    path = out / TABLE_CSV
    text = io.StringIO(newline="")
    w = csv.DictWriter(text, fieldnames=cols, restval="")
    w.writeheader()
    for r in rows:
        w.writerow({c: ("" if r.get(c) is None else r.get(c, "")) for c in cols})
    write_text_atomic(path, text.getvalue())
    arrays = {}
    for c in cols:
        values = [r.get(c, "") for r in rows]
        arrays[c] = _column_array(c, values)
    with atomic_output(out / TABLE_NPZ) as f:
        np.savez(f, **arrays)
    return path


def _column_array(name: str, values: list) -> np.ndarray:
    if name not in TEXT_COLUMNS:
        try:
            return np.array([np.nan if v in ("", None) else float(v) for v in values], dtype=float)
        except (TypeError, ValueError):
            pass
    return np.array(["" if v is None else str(v) for v in values], dtype=str)


def read_table(path: str | Path) -> dict[str, np.ndarray]:
    """A sweep table as ``{column: array}``, from a sweep folder or its ``results.npz``."""
    p = Path(path)
    if p.is_dir():
        p = p / TABLE_NPZ
    from ..io import read_npz
    return read_npz(p, "DIR")


def select(table: dict[str, np.ndarray], **where) -> dict[str, np.ndarray]:
    """Rows where every ``column == value``."""
    n = len(next(iter(table.values())))
    mask = np.ones(n, dtype=bool)
    for k, v in where.items():
        mask &= table[k] == v
    return {k: a[mask] for k, a in table.items()}


def format_summary(table: dict[str, np.ndarray]) -> str:
    """Per model and reference: points scored, median and worst max relative error and LSBs."""
    lines = [f"{'model':<24} {'vs':<8} {'scored':>7} {'median max rel':>15} {'worst max rel':>14} "
             f"{'worst LSB':>10}"]
    pairs = dict.fromkeys(zip(table["model"].tolist(), table["reference"].tolist()))
    for model, ref in pairs:
        if not ref:
            continue
        sel = (table["model"] == model) & (table["reference"] == ref)
        ok = sel & (table["status"] == "ok") & (table["model_status"] == "ok")
        rel, lsb = table["max_rel"][ok], table["max_lsb"][ok]
        if not ok.any():
            lines.append(f"{model:<24} {ref:<8} {0:>3}/{int(sel.sum()):<3}")
            continue
        lines.append(f"{model:<24} {ref:<8} {int(ok.sum()):>3}/{int(sel.sum()):<3} "
                     f"{np.median(rel):>15.3e} {rel.max():>14.3e} {lsb.max():>10.3g}")
    return "\n".join(lines)
