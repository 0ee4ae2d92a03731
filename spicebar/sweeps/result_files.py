"""Every file spicebar writes, opened as what it is, and written out again as CSV.

    >>> r = spicebar.load("r.npz")          # SimulationResult, TransientResult, MVMResult ...
    >>> spicebar.export_csv(r, "r_csv")     # one CSV per quantity, units in the header

:func:`load` tells the kinds apart by their content, never by trust in the name:

* a DC result (``simulate``, ``compare``'s ``result_*.npz``): :class:`~spicebar.results.SimulationResult`;
* a readout result (``simulate --readout``): :class:`~spicebar.engines.transient.result.TransientResult`;
* an ``mvm`` result: :class:`~spicebar.hardware.mvm.MVMResult`;
* a sweep folder or its ``results.npz``: the table as ``{column: array}``;
* an array (``.npy``/``.csv``: ``spicebar array``'s ``G.npy``, ``V.npy``): the array.

:func:`export_csv` writes, for a result: ``currents.csv`` (``vector`` and one column per
output, A), ``driver_currents.csv``, ``inputs.csv`` (V) and, where the result holds them,
``maps.csv`` (one line per vector and cell: ``v_wl``, ``v_bl`` V, ``cell_current`` A),
``samples.csv`` (V), ``codes.csv``, ``waveforms.csv`` (``time`` s, ``vout_j`` V) and the
mvm's ``outputs.csv`` and ``conductances.csv`` (S). Every header names its unit in
brackets: ``i_col_0 [A]``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from ..errors import SpecError
from ..io import write_text_atomic


def load(path: str | Path):
    """The result, table or array in ``path``, as the type spicebar wrote it (see the
    module docstring). SpecError naming ``path`` for a file spicebar did not write."""
    p = Path(path)
    if p.is_dir():
        from .table import TABLE_NPZ, read_table
        if (p / TABLE_NPZ).is_file():
            return read_table(p)
        raise SpecError("path", f"{str(p)!r} is a folder without a sweep table ({TABLE_NPZ})",
                        "a result .npz, an array .npy/.csv, or a sweep folder")
    if not p.is_file():
        raise SpecError("path", f"{str(p)!r} does not exist", "a file spicebar wrote")
    suffix = p.suffix.lower()
    if suffix in (".npy", ".csv"):
        from ..io import load_array
        return load_array(p, "path")
    if suffix != ".npz":
        raise SpecError("path", f"{str(p)!r} has suffix {p.suffix!r}", ".npz, .npy, .csv or a "
                        "sweep folder")
    try:
        with np.load(p, allow_pickle=False) as data:
            keys = set(data.files)
    except (OSError, ValueError) as exc:
        raise SpecError("path", f"{str(p)!r} is not a readable .npz ({exc})",
                        "a file spicebar wrote") from None
    if {"time", "currents", "engine"} <= keys:
        from ..engines.transient.result import TransientResult
        return TransientResult.load(p)
    if {"currents", "engine"} <= keys:
        from ..results import SimulationResult
        return SimulationResult.load(p)
    if {"y_ideal", "y_ideal_quantised"} <= keys:
        from ..hardware.mvm import load_mvm_result
        return load_mvm_result(p)
    if "status" in keys and "model" in keys:
        from .table import read_table
        return read_table(p)
    raise SpecError("path", f"{str(p)!r} holds {sorted(keys)[:8]}", "a result of simulate, "
                    "compare, mvm or sweep")


def _csv_text(header: list[str], rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _fmt(x) -> str:
    return repr(float(x)) if not isinstance(x, (int, np.integer)) else str(int(x))


def _per_vector(values: np.ndarray, index_name: str, prefix: str, unit: str) -> str:
    values = np.atleast_2d(np.asarray(values))
    header = [index_name] + [f"{prefix}_{j} [{unit}]" for j in range(values.shape[1])]
    return _csv_text(header, ([k, *map(_fmt, row)] for k, row in enumerate(values.tolist())))


def csv_tables(result) -> dict[str, str]:
    """``{file name: CSV text}`` of a result (see the module docstring)."""
    from ..hardware.mvm import MVMResult
    out = {}
    if isinstance(result, MVMResult):
        out["outputs.csv"] = _csv_text(
            ["vector", "output", "y_ideal", "y_ideal_quantised", *(f"y_{e}" for e in result.y)],
            ([b, j, _fmt(result.y_ideal[b, j]), _fmt(result.y_ideal_quantised[b, j]),
              *(_fmt(y[b, j]) for y in result.y.values())]
             for b in range(result.y_ideal.shape[0]) for j in range(result.y_ideal.shape[1])))
        if result.conductances is not None:
            g = result.conductances
            out["conductances.csv"] = _csv_text(
                ["tile", "row", "col", "g [S]"],
                ([t, i, j, _fmt(g[t, i, j])] for t in range(g.shape[0])
                 for i in range(g.shape[1]) for j in range(g.shape[2])))
        return out
    if isinstance(result, dict):  # a sweep table
        cols = list(result)
        n = len(result[cols[0]]) if cols else 0
        out["table.csv"] = _csv_text(cols, ([str(result[c][k]) for c in cols] for k in range(n)))
        return out
    out["inputs.csv"] = _per_vector(result.inputs, "vector", "v_row", "V")
    out["currents.csv"] = _per_vector(result.currents, "vector", "i_col", "A")
    out["driver_currents.csv"] = _per_vector(result.driver_currents, "vector", "i_drv", "A")
    maps = _maps(result)
    if maps is not None:
        v_wl, v_bl, i_cell = maps
        b, r, c = v_wl.shape
        out["maps.csv"] = _csv_text(
            ["vector", "row", "col", "v_wl [V]", "v_bl [V]", "cell_current [A]"],
            ([k, i, j, _fmt(v_wl[k, i, j]), _fmt(v_bl[k, i, j]),
              "" if i_cell is None else _fmt(i_cell[k, i, j])]
             for k in range(b) for i in range(r) for j in range(c)))
    if getattr(result, "time", None) is not None:
        out["samples.csv"] = _per_vector(result.samples, "window", "sample", "V")
        out["codes.csv"] = _per_vector(result.codes, "window", "code", "code")
        vout = np.asarray(result.vout)
        out["waveforms.csv"] = _csv_text(
            ["time [s]", *(f"vout_{j} [V]" for j in range(vout.shape[0]))],
            ([_fmt(t), *map(_fmt, vout[:, n])] for n, t in enumerate(result.time.tolist())))
        out["readout_currents.csv"] = _per_vector(result.readout_currents, "vector", "i_col", "A")
    return out


def _maps(result):
    """``(v_wl, v_bl, cell_currents or None)`` when the result holds node voltages."""
    from ..results import MapsNotSaved
    try:
        v_wl, v_bl = np.asarray(result.v_wl), np.asarray(result.v_bl)
    except MapsNotSaved:
        return None
    if v_wl.ndim != 3 or np.isnan(v_wl).all():
        return None
    try:
        cell = result.cell_currents
    except MapsNotSaved:
        cell = None
    return v_wl, v_bl, None if cell is None else np.asarray(cell)


def export_csv(result, folder: str | Path) -> list[Path]:
    """Write :func:`csv_tables` of ``result`` (or of the file it names) into ``folder``."""
    if isinstance(result, (str, Path)):
        result = load(result)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [write_text_atomic(folder / name, text) for name, text in csv_tables(result).items()]
