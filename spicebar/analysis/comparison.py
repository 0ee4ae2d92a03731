"""Engine against engine: error statistics, a text table and a JSON form.

For an engine ``a`` against a reference ``b`` (both ``(batch, cols)`` amperes):

* absolute error ``|a - b|``;
* relative error ``|a - b| / |x|`` where ``x != 0`` (undefined where ``x == 0``), with ``x``
  the **exact** current of the pair: the engine's own for a pair against ``ideal`` (so the
  ideal model's error is relative to what the circuit really gives, the same definition as
  :mod:`spicebar.analysis.scoring`), the reference's otherwise; ``ErrorStats.relative_to``
  names it;
  where ``|x|`` is below :data:`REL_FLOOR_FS` of full scale (a near-zero exact current:
  selector cells, unselected columns) the error switches to a fraction of full scale,
  ``|a - b| / FS``, and ``ErrorStats.n_floored`` counts those outputs (the table says so);
* error relative to full scale ``|a - b| / FS`` (see ``full_scale_current``);
* signed per-column relative deviation ``(a - b) / x``, averaged over the batch;
* where it is worst: the output (vector, column) of the largest relative error and the
  column of the largest mean deviation.

``nodal`` or ``ngspice`` against ``ideal`` is the error of the ideal model (the
IR drop alone for passive cells in a plain VMM, see :func:`ideal_model_error`);
``ngspice`` against ``nodal`` is the agreement of the two exact engines. The
comparison also names the cell that loses the largest share of its input voltage
(:func:`worst_cell`).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field
from typing import Mapping

import numpy as np

from ..results import SimulationResult

#: Below this fraction of full scale an exact current no longer divides a relative error
#: (it would blow a 1 nA difference on a 1 pA current up to 1e5 %): the error of such an
#: output is a fraction of full scale instead, ``|dI| / FS``.
REL_FLOOR_FS = 1e-3

#: Which pairs a comparison reports, in order: (engine, reference).
PAIRS = (("nodal", "ideal"), ("ngspice", "ideal"), ("ngspice", "nodal"))


@dataclass(frozen=True)
class ErrorStats:
    """Error of ``engine`` against ``reference`` over a batch. Currents in amperes."""

    engine: str
    reference: str
    meaning: str
    max_abs_a: float
    max_rel: float
    mean_rel: float
    rms_rel: float
    max_rel_fs: float
    column_rel_signed: list = field(default_factory=list)  # (cols,), mean over batch
    column_rel_max: list = field(default_factory=list)  # (cols,), max over batch
    relative_to: str = ""      # the engine whose current divides the relative errors
    worst_vector: int = -1     # where max_rel is reached: input vector ...
    worst_output: int = -1     # ... and output column (-1: no finite relative error)
    worst_column: int = -1     # the column of the largest |column_rel_signed|
    n_floored: int = 0         # outputs whose |exact| < REL_FLOOR_FS * FS (divided by that)
    rel_floor_a: float = 0.0   # REL_FLOOR_FS * FS, amperes


def _nan_stat(f, x) -> float:
    return float(f(x)) if np.any(np.isfinite(x)) else float("nan")


def _argmax(x: np.ndarray) -> tuple[int, ...]:
    """Index of the largest finite entry, or -1s when there is none."""
    if not np.any(np.isfinite(x)):
        return (-1,) * x.ndim
    return tuple(int(i) for i in np.unravel_index(np.nanargmax(x), x.shape))


def error_stats(result: SimulationResult, reference: SimulationResult, full_scale_a: float,
                meaning: str = "", relative_to: str = "reference") -> ErrorStats:
    """Statistics of ``result - reference``; ``relative_to`` (``reference`` or ``engine``)
    says whose current divides the relative errors (:func:`compare` passes ``engine`` for
    pairs against ``ideal``: the exact current)."""
    a, b = result.currents, reference.currents
    x = {"reference": b, "engine": a}[relative_to]
    diff = a - b
    floor = REL_FLOOR_FS * full_scale_a if full_scale_a > 0 else 0.0
    small = np.abs(x) < floor
    denom = np.where(small, full_scale_a, np.abs(x))
    nz = denom != 0
    rel = np.full(b.shape, np.nan)
    np.divide(np.abs(diff), denom, out=rel, where=nz)
    signed = np.full(b.shape, np.nan)
    np.divide(diff, np.where(small, full_scale_a, x), out=signed, where=nz)
    with warnings.catch_warnings():  # all-NaN columns (zero reference current)
        warnings.simplefilter("ignore", RuntimeWarning)
        col_signed = np.nanmean(signed, axis=0)
        col_max = np.nanmax(rel, axis=0)
    worst_vector, worst_output = _argmax(rel)
    return ErrorStats(
        engine=result.engine, reference=reference.engine, meaning=meaning,
        max_abs_a=float(np.abs(diff).max()),
        max_rel=_nan_stat(np.nanmax, rel), mean_rel=_nan_stat(np.nanmean, rel),
        rms_rel=_nan_stat(lambda x: np.sqrt(np.nanmean(x ** 2)), rel),
        max_rel_fs=float(np.abs(diff).max() / full_scale_a) if full_scale_a > 0 else float("nan"),
        column_rel_signed=col_signed.tolist(), column_rel_max=col_max.tolist(),
        relative_to=(result if relative_to == "engine" else reference).engine,
        worst_vector=worst_vector, worst_output=worst_output,
        worst_column=_argmax(np.abs(col_signed))[0], n_floored=int(small.sum()),
        rel_floor_a=float(floor))


def worst_cell(result: SimulationResult, operation=None) -> dict | None:
    """The driven cell that loses the most voltage to the wires, from ``result``'s node
    voltages: ``V_in[i] - (v_wl - v_bl)[i, j]`` as a share of the vector's largest input
    ``max |V_in|``, over the cells the operation means to use only: rows driven with an
    intended input (``operation.intended_inputs``: floating, gated-off and half-selected
    rows are not driven inputs) and, for a read, the read column only. A floating row's
    cells or a half-selected cell are not "losing" voltage to the wires: they were never
    meant to see it.

    Returns ``{"engine", "vector", "row", "col", "voltage_loss_v", "voltage_loss_rel"}``
    (volts, fraction), or None when the result holds no node voltages or no cell is driven.
    """
    if result.engine == "ideal" or result.v_wl is None or np.isnan(result.v_wl).all():
        return None
    v = result.inputs if operation is None else operation.intended_inputs(result.inputs)
    v_in = v[:, :, None]
    scale = np.abs(v).max(axis=1)[:, None, None]
    driven = np.broadcast_to(v_in != 0, result.v_wl.shape).copy()
    if operation is not None and operation.mode == "read":
        keep = np.zeros(result.v_wl.shape[2], bool)
        keep[operation.col] = True
        driven &= keep[None, None, :]
    loss_v = np.where(driven, np.sign(v_in) * (v_in - (result.v_wl - result.v_bl)), np.nan)
    rel = np.full(loss_v.shape, np.nan)
    np.divide(loss_v, scale, out=rel, where=np.broadcast_to(scale > 0, rel.shape))
    b, i, j = _argmax(rel)
    if b < 0:
        return None
    return {"engine": result.engine, "vector": b, "row": i, "col": j,
            "voltage_loss_v": float(loss_v[b, i, j]), "voltage_loss_rel": float(rel[b, i, j])}


@dataclass(frozen=True)
class Comparison:
    """Every pair of :data:`PAIRS` whose two engines were run."""

    full_scale_a: float
    pairs: tuple[ErrorStats, ...]
    elapsed_s: dict
    shape: tuple[int, int, int]  # (batch, rows, cols)
    worst_cell: dict | None = None  # see :func:`worst_cell`
    operation: str = ""  # what the array did: "" for a plain VMM, else the operation's words

    def pair(self, engine: str, reference: str) -> ErrorStats:
        for p in self.pairs:
            if p.engine == engine and p.reference == reference:
                return p
        raise KeyError(f"no comparison of {engine} against {reference}")

    def to_dict(self) -> dict:
        return {"shape": {"batch": self.shape[0], "rows": self.shape[1], "cols": self.shape[2]},
                "full_scale_a": self.full_scale_a, "elapsed_s": self.elapsed_s,
                "pairs": [asdict(p) for p in self.pairs], "worst_cell": self.worst_cell,
                "operation": self.operation, "rel_floor_fs": REL_FLOOR_FS}

    def to_json(self) -> str:
        def clean(x):
            if isinstance(x, float) and not np.isfinite(x):
                return None
            if isinstance(x, dict):
                return {k: clean(v) for k, v in x.items()}
            if isinstance(x, list):
                return [clean(v) for v in x]
            return x
        return json.dumps(clean(self.to_dict()), indent=2)


def ideal_model_error(spec, operation=None) -> str:
    """What separates the exact engines from ``V @ G`` for ``spec`` under ``operation``."""
    from ..circuit.cells import PassiveCell
    causes = ["IR drop"]
    if operation is not None:
        causes.append("sneak paths")
    if not isinstance(spec.cell, PassiveCell):
        causes.append("cell I-V")
    return "IR-drop error" if len(causes) == 1 else f"ideal-model error ({', '.join(causes)})"


def compare(results: Mapping[str, SimulationResult], full_scale_a: float,
            ideal_meaning: str = "IR-drop error", operation=None) -> Comparison:
    """Compare the engines in ``results`` (keyed by engine name) pair by pair.

    ``ideal_meaning`` labels the exact engines against ``ideal``; pass
    :func:`ideal_model_error` of the spec where cells or the operation add to the IR drop.
    ``operation``: the read or VMM operation the results ran (reported as such; the worst
    cell is looked for among the cells it drives).
    """
    shapes = {r.currents.shape for r in results.values()}
    if len(shapes) != 1:
        raise ValueError(f"results have different shapes: {sorted(shapes)}")
    pairs = tuple(error_stats(results[e], results[r], full_scale_a,
                              ideal_meaning if r == "ideal" else "engine agreement",
                              relative_to="engine" if r == "ideal" else "reference")
                  for e, r in PAIRS if e in results and r in results)
    any_result = next(iter(results.values()))
    batch, rows = any_result.inputs.shape
    exact = results.get("ngspice") or results.get("nodal")
    return Comparison(full_scale_a, pairs, {k: r.elapsed_s for k, r in results.items()},
                      (batch, rows, any_result.currents.shape[1]),
                      worst_cell(exact, operation) if exact is not None else None,
                      "" if operation is None else operation.describe())


def format_table(comparison: Comparison) -> str:
    """The comparison as a fixed-width text table."""
    b, r, c = comparison.shape
    w = max([17, *(len(p.meaning) for p in comparison.pairs)])
    what = (f"operation: {comparison.operation}" if comparison.operation
            else f"{b} input vector(s)")
    lines = [f"{r}x{c} array, {what}, full scale {comparison.full_scale_a:.4g} A",
             "engine times: " + ", ".join(f"{k} {v:.3g} s" for k, v in comparison.elapsed_s.items()),
             "",
             f"{'engine':<8} {'vs':<6} {'what':<{w}} {'max|dI| A':>10} {'max rel':>10} "
             f"{'rms rel':>10} {'max/FS':>10}  where"]
    for p in comparison.pairs:
        lines.append(f"{p.engine:<8} {p.reference:<6} {p.meaning:<{w}} {p.max_abs_a:>10.3e} "
                     f"{p.max_rel:>10.3e} {p.rms_rel:>10.3e} {p.max_rel_fs:>10.3e}  "
                     f"{_where(p)}")
    lines.append("rel: |engine - vs| / |exact current| (the engine's against ideal, else vs's); "
                 "FS: full scale")
    floored = [p for p in comparison.pairs if p.n_floored]
    if floored:
        lines.append(f"  where |exact current| < {REL_FLOOR_FS:g} x FS "
                     f"({floored[0].rel_floor_a:.3g} A) rel is |dI| / FS instead: "
                     + ", ".join(f"{p.engine} vs {p.reference} {p.n_floored} output(s)"
                                 for p in floored))
    cell = comparison.worst_cell
    if cell is not None:
        lines.append(f"worst cell: row {cell['row']}, column {cell['col']} (vector "
                     f"{cell['vector']}) loses {1e3 * cell['voltage_loss_v']:.3g} mV to the wires, "
                     f"{100 * cell['voltage_loss_rel']:.3g} % of the largest input ({cell['engine']})")
    return "\n".join(lines)


def _where(p: ErrorStats) -> str:
    """Where a pair is worst: ``worst col J (mean -x %), max at vector B col J``."""
    if p.worst_output < 0:
        return ""
    mean = p.column_rel_signed[p.worst_column]
    return (f"worst col {p.worst_column} ({100 * mean:+.3g} % mean), max at vector "
            f"{p.worst_vector} col {p.worst_output}")
