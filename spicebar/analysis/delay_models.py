"""Analytic delay estimates designers use, as idealised models scored against the exact answer.

Each built-in model looks at one line at a time (every word line and every bit line of the
array) and keeps the slowest:

* ``elmore``: the Elmore far-end delay of a distributed RC line, ``tau = R C / 2``.
* ``loaded_line``: the slowest mode of an RC line held at one end, open at the other and
  loaded by its cells' total conductance ``G_line`` to the crossing lines (taken as held):
  ``tau = R C / (pi^2 / 4 + R G_line)`` (``4 R C / pi^2`` without cells).
* ``neurosim``: NeuroSim's column delay ``0.2 x C_col x R_cell_avg`` times its 1.4
  calibration factor; it is a read latency, so it is scored as a settling time only.

Per line: ``R`` is the series resistance from the held end (segments plus driver or sense
resistance), ``C`` the line's wire capacitance (segments times ``c_wl_f`` / ``c_bl_f``);
a line driven or read at both ends counts as half its length. A time-constant model
predicts the settling time to half an LSB of ``N`` bits as a single pole would:
``tau (N + 1) ln 2``.

A user model is any callable ``f(spec) -> tau_s`` (seconds, > 0).
"""

from __future__ import annotations

import numpy as np

NEUROSIM_FACTOR = 0.2 * 1.4


def _lines(spec):
    """``(R (n,), C (n,), G (n,))`` of every word line then every bit line (ohm, F, S)."""
    ro = spec.readout
    g = spec.conductances
    r_wl = spec.wl_segments()
    r_bl = spec.bl_segments()
    if spec.drive == "right":
        rw = r_wl[:, 1:].sum(axis=1)
    else:
        rw = r_wl[:, :-1].sum(axis=1)
    rb = r_bl[1:, :].sum(axis=0) if spec.sense != "top" else r_bl[:-1, :].sum(axis=0)
    rw = rw + spec.r_driver
    rb = rb + spec.r_sense
    cw = np.full(spec.rows, spec.cols * getattr(ro, "c_wl_f", 0.0))
    cb = np.full(spec.cols, spec.rows * getattr(ro, "c_bl_f", 0.0))
    gw, gb = g.sum(axis=1), g.sum(axis=0)
    if spec.drive == "both":
        rw, cw, gw = rw / 2, cw / 2, gw / 2
    if spec.sense == "both":
        rb, cb, gb = rb / 2, cb / 2, gb / 2
    return (np.concatenate([rw, rb]), np.concatenate([cw, cb]), np.concatenate([gw, gb]))


def elmore(spec) -> float:
    """Elmore far-end delay ``R C / 2`` of the slowest line, s."""
    r, c, _ = _lines(spec)
    return float((r * c / 2).max())


def loaded_line(spec) -> float:
    """Slowest mode of the slowest cell-loaded line, ``R C / (pi^2/4 + R G)``, s."""
    r, c, g = _lines(spec)
    return float((r * c / (np.pi ** 2 / 4 + r * g)).max())


def neurosim(spec) -> float:
    """NeuroSim's column delay ``0.2 C_col R_cell_avg x 1.4``, s (a latency, not a tau)."""
    c_col = spec.rows * getattr(spec.readout, "c_bl_f", 0.0)
    return float(NEUROSIM_FACTOR * c_col * np.mean(1.0 / spec.conductances))


#: name -> (callable, kind): ``tau`` models predict a time constant, ``delay`` a latency.
DELAY_MODELS = {"elmore": (elmore, "tau"), "loaded_line": (loaded_line, "tau"),
                "neurosim": (neurosim, "delay")}


def _rel(est: float, exact: float) -> float:
    return float(est / exact - 1.0) if exact > 0 and np.isfinite(est) else float("nan")


def score_delay_models(spec, tau_s: float, t_settle_s: float, bits: int, user: dict) -> list[dict]:
    """One row per model: its tau and settling-time predictions and their errors against
    the exact ``tau_s`` and ``t_settle_s`` (relative, ``estimate / exact - 1``)."""
    rows = [{"model": "exact (nodal)", "tau_s": tau_s, "t_settle_s": t_settle_s,
             "tau_error": 0.0, "t_settle_error": 0.0}]
    one_pole = (bits + 1) * np.log(2.0)
    items = [(name, fn, kind) for name, (fn, kind) in DELAY_MODELS.items()]
    items += [(str(name), fn, "tau") for name, fn in user.items()]
    for name, fn, kind in items:
        try:
            value = float(fn(spec))
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"returned {value!r}, not a time >= 0 s")
        except Exception as exc:  # a user model's failure is its row, not the run's
            rows.append({"model": name, "error": f"{type(exc).__name__}: {exc}"})
            continue
        if kind == "tau":
            settle = value * one_pole
            rows.append({"model": name, "tau_s": value, "t_settle_s": settle,
                         "tau_error": _rel(value, tau_s),
                         "t_settle_error": _rel(settle, t_settle_s)})
        else:
            rows.append({"model": name, "tau_s": float("nan"), "t_settle_s": value,
                         "tau_error": float("nan"), "t_settle_error": _rel(value, t_settle_s)})
    return rows


def format_estimates(rows: list[dict]) -> str:
    """The estimates as a text table."""
    out = [f"{'model':<16} {'tau (s)':>11} {'off by':>8} {'t_settle (s)':>13} {'off by':>8}"]
    for r in rows:
        if "error" in r:
            out.append(f"{r['model']:<16} failed: {r['error']}")
            continue
        def pct(x):
            return "" if not np.isfinite(x) else f"{100 * x:+.1f}%"
        tau = "" if not np.isfinite(r["tau_s"]) else f"{r['tau_s']:.4g}"
        out.append(f"{r['model']:<16} {tau:>11} {pct(r['tau_error']):>8} "
                   f"{r['t_settle_s']:>13.4g} {pct(r['t_settle_error']):>8}")
    return "\n".join(out)
