"""Engine against engine: error statistics, a text table and a JSON form.

For an engine ``a`` against a reference ``b`` (both ``(batch, cols)`` amperes):

* absolute error ``|a - b|``;
* relative error ``|a - b| / |b|`` where ``b != 0`` (undefined where ``b == 0``);
* error relative to full scale ``|a - b| / FS`` (see ``full_scale_current``);
* signed per-column relative deviation ``(a - b) / b``, averaged over the batch.

``nodal`` or ``ngspice`` against ``ideal`` is the error of the ideal model (the
IR drop alone for passive cells in a plain VMM, see :func:`ideal_model_error`);
``ngspice`` against ``nodal`` is the agreement of the two exact engines.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field
from typing import Mapping

import numpy as np

from ..results import SimulationResult

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


def _nan_stat(f, x) -> float:
    return float(f(x)) if np.any(np.isfinite(x)) else float("nan")


def error_stats(result: SimulationResult, reference: SimulationResult, full_scale_a: float,
                meaning: str = "") -> ErrorStats:
    a, b = result.currents, reference.currents
    diff = a - b
    nz = b != 0
    rel = np.full(b.shape, np.nan)
    np.divide(np.abs(diff), np.abs(b), out=rel, where=nz)
    signed = np.full(b.shape, np.nan)
    np.divide(diff, b, out=signed, where=nz)
    with warnings.catch_warnings():  # all-NaN columns (zero reference current)
        warnings.simplefilter("ignore", RuntimeWarning)
        col_signed = np.nanmean(signed, axis=0)
        col_max = np.nanmax(rel, axis=0)
    return ErrorStats(
        engine=result.engine, reference=reference.engine, meaning=meaning,
        max_abs_a=float(np.abs(diff).max()),
        max_rel=_nan_stat(np.nanmax, rel), mean_rel=_nan_stat(np.nanmean, rel),
        rms_rel=_nan_stat(lambda x: np.sqrt(np.nanmean(x ** 2)), rel),
        max_rel_fs=float(np.abs(diff).max() / full_scale_a) if full_scale_a > 0 else float("nan"),
        column_rel_signed=col_signed.tolist(), column_rel_max=col_max.tolist())


@dataclass(frozen=True)
class Comparison:
    """Every pair of :data:`PAIRS` whose two engines were run."""

    full_scale_a: float
    pairs: tuple[ErrorStats, ...]
    elapsed_s: dict
    shape: tuple[int, int, int]  # (batch, rows, cols)

    def pair(self, engine: str, reference: str) -> ErrorStats:
        for p in self.pairs:
            if p.engine == engine and p.reference == reference:
                return p
        raise KeyError(f"no comparison of {engine} against {reference}")

    def to_dict(self) -> dict:
        return {"shape": {"batch": self.shape[0], "rows": self.shape[1], "cols": self.shape[2]},
                "full_scale_a": self.full_scale_a, "elapsed_s": self.elapsed_s,
                "pairs": [asdict(p) for p in self.pairs]}

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
            ideal_meaning: str = "IR-drop error") -> Comparison:
    """Compare the engines in ``results`` (keyed by engine name) pair by pair.

    ``ideal_meaning`` labels the exact engines against ``ideal``; pass
    :func:`ideal_model_error` of the spec where cells or the operation add to the IR drop.
    """
    shapes = {r.currents.shape for r in results.values()}
    if len(shapes) != 1:
        raise ValueError(f"results have different shapes: {sorted(shapes)}")
    pairs = tuple(error_stats(results[e], results[r], full_scale_a,
                              ideal_meaning if r == "ideal" else "engine agreement")
                  for e, r in PAIRS if e in results and r in results)
    any_result = next(iter(results.values()))
    batch, rows = any_result.inputs.shape
    return Comparison(full_scale_a, pairs, {k: r.elapsed_s for k, r in results.items()},
                      (batch, rows, any_result.currents.shape[1]))


def format_table(comparison: Comparison) -> str:
    """The comparison as a fixed-width text table."""
    b, r, c = comparison.shape
    w = max([17, *(len(p.meaning) for p in comparison.pairs)])
    lines = [f"{r}x{c} array, {b} input vector(s), full scale {comparison.full_scale_a:.4g} A",
             "engine times: " + ", ".join(f"{k} {v:.3g} s" for k, v in comparison.elapsed_s.items()),
             "",
             f"{'engine':<8} {'vs':<6} {'what':<{w}} {'max|dI| A':>10} {'max rel':>10} "
             f"{'rms rel':>10} {'max/FS':>10}"]
    for p in comparison.pairs:
        lines.append(f"{p.engine:<8} {p.reference:<6} {p.meaning:<{w}} {p.max_abs_a:>10.3e} "
                     f"{p.max_rel:>10.3e} {p.rms_rel:>10.3e} {p.max_rel_fs:>10.3e}")
    return "\n".join(lines)
