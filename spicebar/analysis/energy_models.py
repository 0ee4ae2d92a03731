"""Idealised energy models, scored against the exact itemised energy of the same reads.

An energy model is any callable ``model(G, V, spec, read_time_s) -> E`` with ``G``
``(rows, cols)`` S, ``V`` ``(batch, rows)`` V, the :class:`~spicebar.circuit.spec.CrossbarSpec`
and the read time (s); it returns ``(batch,)`` J, the energy of each read it estimates.

Shipped models (:data:`ENERGY_MODELS`):

* ``mnsim``: MNSIM's read energy, ``sum_ij G_ij V_i^2`` times the read time (cells at the
  full input voltage: no wires, no sneak paths, no readout).
* ``neurosim_lines``: NeuroSim's line energy, ``C_line V^2`` for every driven word line
  (its cells' conduction is folded into the ADC there, so not counted), with
  ``C_line = cols x`` the wire capacitance per cell: the spec's readout ``c_wl_f`` where
  it has one, else :data:`NEUROSIM_C_PER_CELL_F`.
* ``cells_and_lines``: the two together (the sum a careful hand estimate gives).

:func:`score_energy_models` compares each with an :class:`~spicebar.engines.energy.EnergyBreakdown`'s
total (what the sources delivered): relative error per read, its max and mean, and the
signed mean (a bias).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from ..errors import SpecError
from ..engines.energy import EnergyBreakdown

EnergyModel = Callable[[np.ndarray, np.ndarray, object, float], np.ndarray]

#: NeuroSim's wire capacitance per cell of a line, F: 0.2 fF/um (NeuroSim's default for
#: its interconnect) over a 10 um cell pitch (the pitch is an assumption of this default:
#: pass ``c_line_f`` for your layout).
NEUROSIM_C_PER_CELL_F = 0.2e-15 * 10


def mnsim(G: np.ndarray, V: np.ndarray, spec, read_time_s: float) -> np.ndarray:
    """``sum_ij G_ij V_i^2 T``: every cell at its full input voltage, ``(batch,)`` J."""
    return np.einsum("bi,ij->b", np.asarray(V, float) ** 2, np.asarray(G, float)) * read_time_s


def _c_line(spec) -> float:
    c = getattr(spec.readout, "c_wl_f", 0.0) or NEUROSIM_C_PER_CELL_F
    return c * spec.cols


def neurosim_lines(G: np.ndarray, V: np.ndarray, spec, read_time_s: float) -> np.ndarray:
    """``sum_i C_line V_i^2``: charging every word line once per read, ``(batch,)`` J."""
    return _c_line(spec) * (np.asarray(V, float) ** 2).sum(axis=1)


def cells_and_lines(G: np.ndarray, V: np.ndarray, spec, read_time_s: float) -> np.ndarray:
    """:func:`mnsim` plus :func:`neurosim_lines`, ``(batch,)`` J."""
    return mnsim(G, V, spec, read_time_s) + neurosim_lines(G, V, spec, read_time_s)


ENERGY_MODELS: dict[str, EnergyModel] = {"mnsim": mnsim, "neurosim_lines": neurosim_lines,
                                         "cells_and_lines": cells_and_lines}


@dataclass(frozen=True)
class EnergyScore:
    """One model against the exact energy: relative errors over the reads."""

    model: str
    max_rel: float
    mean_rel: float
    mean_signed_rel: float
    total_model_j: float
    total_exact_j: float

    def as_dict(self) -> dict:
        return asdict(self)


def score_energy_models(spec, inputs, energy: EnergyBreakdown, models=None) -> list[EnergyScore]:
    """Score ``models`` (names of :data:`ENERGY_MODELS` or ``(name, callable)`` pairs;
    default all shipped) against ``energy``, the exact breakdown of the DC reads of
    ``inputs`` ``(batch, rows)`` V on ``spec``."""
    if energy.mode != "dc":
        raise SpecError("energy", f"is a {energy.mode} breakdown", "a DC breakdown (one read per vector)")
    v = np.atleast_2d(np.asarray(inputs, float))
    if v.shape[0] != energy.n:
        raise SpecError("inputs", f"have {v.shape[0]} vectors", f"{energy.n}, the breakdown's reads")
    exact = energy.total_delivered
    out = []
    for item in models if models is not None else list(ENERGY_MODELS):
        if isinstance(item, str):
            if item not in ENERGY_MODELS:
                raise SpecError("models", f"names {item!r}", ", ".join(ENERGY_MODELS))
            name, fn = item, ENERGY_MODELS[item]
        else:
            name, fn = item
        est = np.asarray(fn(spec.conductances, v, spec, float(energy.period_s[0])), float)
        if est.shape != exact.shape:
            raise SpecError(f"model {name!r}", f"returned shape {est.shape}", f"{exact.shape} J")
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.where(exact != 0, (est - exact) / np.abs(exact), 0.0)
        out.append(EnergyScore(name, float(np.abs(rel).max()), float(np.abs(rel).mean()),
                               float(rel.mean()), float(est.sum()), float(exact.sum())))
    return out


def format_energy_scores(scores: list[EnergyScore]) -> str:
    lines = [f"{'energy model':18s} {'max |rel|':>10s} {'mean |rel|':>10s} {'bias':>10s} "
             f"{'model J':>12s} {'exact J':>12s}"]
    for s in scores:
        lines.append(f"{s.model:18s} {s.max_rel:10.3g} {s.mean_rel:10.3g} {s.mean_signed_rel:+10.3g} "
                     f"{s.total_model_j:12.5g} {s.total_exact_j:12.5g}")
    return "\n".join(lines)
