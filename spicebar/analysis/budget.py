"""The error budget of a mapped layer: each effect alone, then all together.

Errors are in output (weight x input) units against the exact ``W x``: RMS, max
and RMS relative to the RMS of ``W x``. Effects rarely add up: the ``all`` row is a
simulation with every effect on, not a sum.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

#: Budget rows: label -> the effects switched on.
ROWS = (("mapping + quantisation", ("quantisation",)),
        ("programming variability", ("variability",)),
        ("stuck-at cells", ("stuck",)),
        ("drift", ("drift",)),
        ("read noise", ("noise",)),
        ("IR drop + sneak paths", ("wires",)),
        ("readout / ADC", ("adc",)))


@dataclass(frozen=True)
class BudgetRow:
    label: str
    effects: tuple[str, ...]
    configured: bool
    rms: float
    max_abs: float
    rel_rms: float


def error_row(label, effects, configured, y, y_ideal) -> BudgetRow:
    err = y - y_ideal
    scale = float(np.sqrt(np.mean(y_ideal ** 2))) or 1.0
    rms = float(np.sqrt(np.mean(err ** 2)))
    return BudgetRow(label, tuple(effects), configured, rms, float(np.abs(err).max()), rms / scale)


def error_budget(prep, engine: str = "nodal", progress: bool = True, workers=None,
                 y_all: np.ndarray | None = None) -> list[BudgetRow]:
    """One row per effect alone (only configured effects are simulated) and ``all``.

    ``prep``: a prepared layer (:class:`spicebar.hardware.mvm.Prepared`); the budget only
    asks it for ``spec.configured_effects()``, ``ideal()`` and ``run(effects, ...)``, so
    this module needs nothing from the hardware layer above it.
    """
    y_ideal = prep.ideal()
    configured = prep.spec.configured_effects()
    rows = []
    for label, effects in ROWS:
        on = all(e in configured for e in effects)
        y = prep.run(effects, engine, workers, progress) if on else y_ideal
        rows.append(error_row(label, effects, on, y, y_ideal))
    if y_all is None:
        y_all = prep.run(configured, engine, workers, progress)
    rows.append(error_row(f"all together ({engine})", configured, True, y_all, y_ideal))
    return rows


def format_budget(rows: list[BudgetRow]) -> str:
    """A text table of the budget."""
    lines = [f"{'effect':<32}{'rms error':>12}{'max |error|':>13}{'rms / rms(Wx)':>15}"]
    for r in rows:
        if not r.configured:
            lines.append(f"{r.label:<32}{'off':>12}")
            continue
        lines.append(f"{r.label:<32}{r.rms:>12.4g}{r.max_abs:>13.4g}{100 * r.rel_rms:>14.3f}%")
    return "\n".join(lines)


def budget_dicts(rows: list[BudgetRow]) -> list[dict]:
    return [asdict(r) for r in rows]
