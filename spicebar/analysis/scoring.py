"""Score fast models against an exact engine: relative errors and errors in ADC LSBs.

For a model's currents ``I`` and the reference ``I_ref`` (both ``(batch, cols)`` A):

* relative error ``|I - I_ref| / |I_ref|`` where ``I_ref != 0``: its max, mean and RMS;
  the signed mean ``(I - I_ref) / I_ref`` shows a bias (IR drop makes ``V @ G`` too high);
* error in output LSBs ``|I - I_ref| / lsb`` for an ADC spanning the array's
  full-scale current (:func:`default_adc`): its max and RMS, and the largest
  difference of the digital codes the two currents would give.

    >>> scores = score_models(["ideal", "first_order"], spec, V, reference="ngspice")
    >>> print(format_scores(scores))
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

from .._validate import choice
from ..circuit.converters import ADCSpec
from ..errors import SpecError
from .comparison import REL_FLOOR_FS
from .models import Model, resolve_model
from ..engines.simulation import full_scale_current, ideal_conductances, simulate
from ..circuit.spec import CrossbarSpec, validate_inputs

REFERENCES = ("ngspice", "nodal")

#: Statistic fields of a :class:`Score`, in table order.
STATS = ("max_rel", "mean_rel", "rms_rel", "mean_signed_rel", "max_abs_a", "max_lsb",
         "rms_lsb", "max_code_err")


@dataclass(frozen=True)
class Score:
    """Error of one model against a reference on one array and input batch.

    Relative errors are fractions of ``|reference|``, or of the ADC's full scale where
    ``|reference|`` is below ``REL_FLOOR_FS`` of it (see :mod:`spicebar.analysis.comparison`);
    ``max_abs_a`` amperes; ``*_lsb`` in ADC LSBs;
    ``max_code_err`` in codes; ``elapsed_s`` the model's wall time, seconds.
    ``status`` is ``ok`` or ``failed`` (then ``error`` says why and the stats are NaN).
    """

    model: str
    reference: str
    status: str
    max_rel: float
    mean_rel: float
    rms_rel: float
    mean_signed_rel: float
    max_abs_a: float
    max_lsb: float
    rms_lsb: float
    max_code_err: float
    elapsed_s: float
    error: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def default_adc(spec: CrossbarSpec, inputs, bits: int = 8,
                conductances: np.ndarray | None = None) -> ADCSpec:
    """An ADC spanning ``0 .. full scale`` (``-FS .. FS`` for inputs of both signs), amperes
    (full scale from ``G_ss``: :func:`~spicebar.engines.simulation.ideal_conductances`)."""
    v = validate_inputs(inputs, spec.rows)
    fs = full_scale_current(spec, v, conductances)
    if fs <= 0:
        raise SpecError("inputs", "are all zero: no full-scale current to size the ADC",
                        "at least one non-zero input")
    lo = -fs if np.any(v < 0) else 0.0
    return ADCSpec(bits, lo, fs)


def error_statistics(currents: np.ndarray, reference: np.ndarray, adc: ADCSpec) -> dict:
    """The :data:`STATS` of ``currents`` against ``reference`` (same shape, amperes)."""
    a = np.asarray(currents, float)
    b = np.asarray(reference, float)
    if a.shape != b.shape:
        raise SpecError("model output", f"has shape {a.shape}", f"the reference's {b.shape}")
    diff = a - b
    # below REL_FLOOR_FS of the ADC's full scale a current divides no error: the error is
    # a fraction of full scale there (as in spicebar.analysis.comparison)
    fs = max(abs(adc.x_min), abs(adc.x_max))
    denom = np.where(np.abs(b) < REL_FLOOR_FS * fs, fs, np.abs(b))
    nz = denom != 0
    if np.any(nz):
        rel = np.abs(diff[nz]) / denom[nz]
        stats = {"max_rel": float(rel.max()), "mean_rel": float(rel.mean()),
                 "rms_rel": float(np.sqrt(np.mean(rel ** 2))),
                 "mean_signed_rel": float(np.mean(diff[nz] * np.sign(b[nz] + (b[nz] == 0))
                                                  / denom[nz]))}
    else:
        stats = dict.fromkeys(("max_rel", "mean_rel", "rms_rel", "mean_signed_rel"), float("nan"))
    lsb = np.abs(diff) / adc.lsb
    stats.update(max_abs_a=float(np.abs(diff).max()), max_lsb=float(lsb.max()),
                 rms_lsb=float(np.sqrt(np.mean(lsb ** 2))),
                 max_code_err=float(np.abs(adc.codes(a) - adc.codes(b)).max()))
    return stats


def failed_score(model: str, reference: str, error: str, elapsed_s: float = float("nan")) -> Score:
    return Score(model, reference, "failed", *([float("nan")] * len(STATS)), elapsed_s, error)


def score_model(model: Model | str, spec: CrossbarSpec, inputs, reference: np.ndarray,
                adc: ADCSpec, *, name: str | None = None, reference_name: str = "reference",
                conductances: np.ndarray | None = None) -> Score:
    """Run ``model`` on ``spec`` and ``inputs`` and score it against ``reference`` currents.

    The model gets ``G = conductances`` (default ``G_ss``,
    :func:`~spicebar.engines.simulation.ideal_conductances`: for user devices the measured
    small-signal conductances, never the device parameter), so ``ideal`` scores ``V @ G_ss``.

    A model that raises is recorded as failed with its error (one line), never re-raised.
    """
    if isinstance(model, str):
        name = name or model
        model = resolve_model(model)
    name = name or getattr(model, "__name__", "model")
    v = validate_inputs(inputs, spec.rows)
    if conductances is None:
        conductances = ideal_conductances(spec, v)
    t0 = time.perf_counter()
    try:
        out = np.asarray(model(conductances, v, spec), float)
        if out.ndim == 1 and v.shape[0] == 1:
            out = out[None, :]
        elapsed = time.perf_counter() - t0
        stats = error_statistics(out, reference, adc)
    except SpecError as exc:
        return failed_score(name, reference_name, f"not applicable: {exc}",
                            time.perf_counter() - t0)
    except Exception as exc:  # a user's model may fail any way; record, go on
        return failed_score(name, reference_name, f"{type(exc).__name__}: {exc}".splitlines()[0],
                            time.perf_counter() - t0)
    return Score(name, reference_name, "ok", **stats, elapsed_s=elapsed)


def score_models(models: Sequence[Model | str], spec: CrossbarSpec, inputs,
                 reference: str = "ngspice", adc_bits: int = 8, **ngspice_options) -> list[Score]:
    """Score each model against ``reference`` (``ngspice`` or ``nodal``) on one array.

    ``ngspice_options`` go to :func:`spicebar.simulate` (``timeout_s``, ``workdir``).
    Simulation errors of the reference propagate (a sweep records them per point).
    """
    choice("reference", reference, REFERENCES)
    v = validate_inputs(inputs, spec.rows)
    ref = simulate(spec, v, reference, **(ngspice_options if reference == "ngspice" else {}))
    g_ss = ideal_conductances(spec, v)
    adc = default_adc(spec, v, adc_bits, g_ss)
    return [score_model(m, spec, v, ref.currents, adc, reference_name=reference,
                        name=m if isinstance(m, str) else None, conductances=g_ss)
            for m in models]


def format_scores(scores: Sequence[Score], title: str | None = None) -> str:
    """Scores as a fixed-width text table."""
    lines = [title] if title else []
    lines.append(f"{'model':<14} {'vs':<8} {'max rel':>10} {'mean rel':>10} {'rms rel':>10} "
                 f"{'max LSB':>9} {'rms LSB':>9} {'codes':>6} {'time s':>8}")
    for s in scores:
        if s.status != "ok":
            lines.append(f"{s.model:<14} {s.reference:<8} failed: {s.error}")
            continue
        lines.append(f"{s.model:<14} {s.reference:<8} {s.max_rel:>10.3e} {s.mean_rel:>10.3e} "
                     f"{s.rms_rel:>10.3e} {s.max_lsb:>9.3g} {s.rms_lsb:>9.3g} "
                     f"{s.max_code_err:>6.0f} {s.elapsed_s:>8.2g}")
    return "\n".join(lines)


__all__ = ["Score", "STATS", "REFERENCES", "default_adc", "error_statistics", "score_model",
           "score_models", "format_scores", "failed_score"]
