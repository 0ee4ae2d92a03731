"""Every answer about an imported model on crossbars, in one run: :func:`evaluate_graph`.

Rows, per-layer budgets, the spot check and the cost are defined in
:mod:`spicebar.hardware.graph_eval`; this module runs them in order with a progress bar
over rows, layers and batches, and formats the tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engines.ngspice.limits import DEFAULT_TIMEOUT_S
from ..errors import SpecError
from .graph import Graph
from .graph_eval import (GraphSpec, configured_effects, format_cost, graph_specs, layer_budgets,
                         planned_rows, run_batches, run_cost, spot_check, vectors_per_sample)
from .network import accuracy


@dataclass(frozen=True, eq=False)
class GraphResult:
    """Accuracy per row (in [0, 1]), the logits, per-layer budgets, the spot check, the
    planned cost and facts (JSON-able apart from ``logits``)."""

    accuracy: dict
    logits: dict
    budgets: list
    spot: list
    cost: list
    info: dict

    def to_dict(self) -> dict:
        return {"accuracy": self.accuracy, "layer_budgets": self.budgets, "spot_check": self.spot,
                "cost": self.cost, "info": self.info}


def prepare_run(graph: Graph, x_cal: np.ndarray, spec: GraphSpec, n_samples: int, rows=None):
    """``(specs, rows, cost)``: the calibrated specs, the rows to run and their circuit cost,
    known before anything is solved (so the cost can be stated first)."""
    specs = graph_specs(graph, x_cal, spec)
    planned = [r for r in planned_rows(graph, specs, spec.compensate) if rows is None or r[0] in rows]
    return specs, planned, run_cost(graph, specs, vectors_per_sample(graph, x_cal), n_samples, planned)


def evaluate_graph(graph: Graph, x: np.ndarray, y: np.ndarray, spec: GraphSpec,
                   x_cal: np.ndarray | None = None, rows=None, budget: bool = True,
                   progress: bool = True, executor=None, batch_size: int = 256, workers=None,
                   timeout_s: float = DEFAULT_TIMEOUT_S, echo=None, caches=None) -> GraphResult:
    """Accuracy of ``graph`` on ``(x, y)`` for every row, per-layer budgets and the spot check.

    ``x_cal``: calibration samples (default ``x``); ``rows``: the hardware rows to run
    (default all; ``float`` always); ``echo``: called with the cost statement before any
    circuit is solved; ``caches``: ``[[dict per group] per layer]`` kept across calls.
    """
    from tqdm import tqdm
    x_cal = x if x_cal is None else x_cal
    specs, planned, cost = prepare_run(graph, x_cal, spec, len(x), rows)
    if echo is not None:
        echo(format_cost(cost))
    layers = graph.crossbars
    caches = caches if caches is not None else [[{} for _ in c.weights] for c in layers]
    batches = -(-len(x) // batch_size)
    per_row = batches if executor is not None else batches * len(layers)
    logits = {"float": graph.logits(x)}
    refused = {}
    with tqdm(total=len(planned) * per_row, desc="layers", unit="step", disable=not progress) as bar:
        for name, effects, engine, comp, only in planned:
            def step(label, name=name):
                bar.set_postfix_str(f"{name} {label}")
                bar.update()
            if only is not None and executor is None:   # layers left exact still count as steps
                def step(label, name=name):  # noqa: F811
                    bar.set_postfix_str(f"{name} {label}")
                    bar.update(len(layers))
            try:
                logits[name] = run_batches(graph, x, specs, effects, engine, caches, comp, only,
                                           batch_size, executor, step, timeout_s)
            except SpecError as exc:  # compensation refused: the window has no room for it
                if comp == "none":
                    raise
                refused[name] = str(exc)
                bar.update(per_row)
    effects = configured_effects(specs)
    n_budget = min(spec.budget_samples, len(x))
    budgets = layer_budgets(graph, x[:n_budget], specs, caches) if budget else []
    spot = []
    n_spot = min(spec.spot_samples, len(x))
    if n_spot:
        comps = ("none",) + ((spec.compensate,) if spec.compensate != "none" and not refused else ())
        for comp in comps:
            spot += spot_check(graph, x[:n_spot], specs, effects, comp, spec.spot_layers, caches,
                               workers, timeout_s)
    acc = {name: accuracy(z, y) for name, z in logits.items()}
    s = spec.hardware
    info = {"model": graph.describe(), "samples": int(len(y)), "calibration_samples": int(len(x_cal)),
            "budget_samples": n_budget, "spot_samples": n_spot, "effects": list(effects),
            "r_wl": s.r_wl, "r_bl": s.r_bl, "headroom": spec.headroom, "compensate": spec.compensate,
            "compensation_refused": refused,
            "layers": [{"name": c.name, "op": c.describe(), "groups": len(c.weights),
                        "array": [specs[k][0].array_rows, specs[k][0].array_cols],
                        "levels": specs[k][0].mapping.levels, "adc_bits": specs[k][0].adc_bits,
                        "w_max": [sp.mapping.w_max for sp in specs[k]],
                        "x_max": [sp.mapping.x_max for sp in specs[k]]} for k, c in enumerate(layers)]}
    return GraphResult(acc, logits, budgets, spot, cost, info)


def format_graph_result(r: GraphResult) -> str:
    """The accuracy table, the per-layer budgets (rms error relative to the layer's rms
    output, percent) and the spot check."""
    lines = [f"{'row':<32} {'accuracy':>9}"]
    lines += [f"{name:<32} {100 * a:>8.2f}%" for name, a in r.accuracy.items()]
    lines += [f"{name:<32} refused: {why}" for name, why in r.info.get("compensation_refused", {}).items()]
    if r.budgets:
        short = ["+".join(row["effects"]) if not row["label"].startswith("all") else "all"
                 for row in r.budgets[0]["rows"]]
        lines.append("\nerror budget at each layer's output (rms error / rms output, %):")
        lines.append(f"{'layer':<26}" + "".join(f"{s:>12}" for s in short))
        for b in r.budgets:
            cells = [f"{100 * row['rel_rms']:>12.3f}" if row["configured"] else f"{'off':>12}"
                     for row in b["rows"]]
            lines.append(f"{(b['layer'] + ' ' + b['describe'])[:25]:<26}" + "".join(cells))
    for s in r.spot:
        lines.append(f"ngspice spot check {s['layer']} ({s['vectors']} vectors, compensate "
                     f"{s['compensate']}): max |ngspice - nodal| {s['max_rel_diff']:.2g} of the largest output")
    return "\n".join(lines)
