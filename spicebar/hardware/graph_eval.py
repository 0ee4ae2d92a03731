"""An imported model (:class:`spicebar.hardware.graph.Graph`) through tiled crossbars.

Every crossbar layer (``Gemm``, ``MatMul``, ``Conv``; each group of a grouped
convolution is its own matrix) runs as ``spicebar mvm`` does, with its ranges fixed once
from a calibration set through the float model (:func:`spicebar.hardware.network_eval.calibrated_spec`);
a convolution's input vectors are the patches of every image. The digital operations
between them are exact.

Accuracy rows (:func:`evaluate_graph`): ``float``; ``ideal_quantised``; ``alone:<effect>``
for each configured effect; ``nodal`` (all effects); ``nodal_compensated``; and
``layer:<name>`` (all effects on that layer only, every other layer exact), which shows
which layer loses the accuracy. Per layer, the error budget (:mod:`spicebar.analysis.budget`)
at the layer's output on the budget samples, with the float inputs. The ngspice spot
check runs the first ``spot_layers`` layers' tiles for the first ``spot_samples``
images in ngspice and in the nodal engine, from the same float inputs.

Cost: a linear tile is ``V @ T(G)`` exactly, so without read noise each tile is solved
once per driven word line (its transfer matrix, cached across sample batches) and every
patch costs a matrix product; read noise makes every read its own circuit: one solve per
vector per tile (:func:`run_cost` states it before the run).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import SpecError
from ..engines.ngspice.limits import DEFAULT_TIMEOUT_S
from .graph import Graph
from .layer_config import check_layer_names
from .mvm import MVMSpec, prepare, run_effects
from .network_eval import calibrated_spec, check_network_spec
from .tiling import plan_tiles


@dataclass(frozen=True, eq=False)
class GraphSpec:
    """How an imported model is put on hardware.

    Attributes:
        hardware: every crossbar layer's tiles, mapping, devices, wires and ADC.
        layers: per-layer overrides ``{node name: LayerOverride}`` (:mod:`spicebar.hardware.layer_config`).
        headroom: ``w_max = headroom * max |W|`` per layer (>= 1).
        compensate: the ``nodal_compensated`` row's method (``none`` skips it).
        spot_samples: images through ngspice in the spot check (0: none).
        spot_layers: how many of the first crossbar layers the spot check covers (>= 1).
        budget_samples: images of the per-layer error budget (>= 1).
    """

    hardware: MVMSpec = field(default_factory=MVMSpec)
    layers: dict = field(default_factory=dict)
    headroom: float = 1.0
    compensate: str = "exact"
    spot_samples: int = 0
    spot_layers: int = 2
    budget_samples: int = 32

    def __post_init__(self) -> None:
        check_network_spec(self)
        for name, low in (("spot_samples", 0), ("spot_layers", 1), ("budget_samples", 1)):
            n = getattr(self, name)
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < low:
                raise SpecError(name, f"is {n!r}", f"an integer >= {low}")


def graph_specs(graph: Graph, x_cal: np.ndarray, spec: GraphSpec) -> list[list[MVMSpec]]:
    """``[[MVMSpec per group] per crossbar layer]``: overrides applied, ranges calibrated."""
    layers = graph.crossbars
    check_layer_names(spec.layers, [c.name for c in layers])
    acts = graph.layer_inputs(x_cal)
    out = []
    for k, layer in enumerate(layers):
        hw = spec.layers[layer.name].apply(spec.hardware) if layer.name in spec.layers else spec.hardware
        out.append([calibrated_spec(w, acts[k][g], replace(hw, compensate="none"), spec.headroom)
                    for g, w in enumerate(layer.weights)])
    return out


def configured_effects(specs) -> tuple[str, ...]:
    """The effects any layer has (a per-layer ADC or levels count too)."""
    from .mvm import EFFECTS
    on = {e for layer in specs for s in layer for e in s.configured_effects()}
    return tuple(e for e in EFFECTS if e in on)


def planned_rows(graph: Graph, specs, compensate: str) -> list[tuple[str, tuple, str, str, int | None]]:
    """``(row, effects, engine, compensate, only layer)`` for every hardware row."""
    effects = configured_effects(specs)
    rows = [("ideal_quantised", ("quantisation",), "ideal", "none", None)]
    rows += [(f"alone:{e}", (e,), "nodal", "none", None) for e in effects if e != "quantisation"]
    rows.append(("nodal", effects, "nodal", "none", None))
    if compensate != "none":
        rows.append(("nodal_compensated", effects, "nodal", compensate, None))
    rows += [(f"layer:{c.name}", effects, "nodal", "none", k) for k, c in enumerate(graph.crossbars)]
    return rows


def run_graph(graph: Graph, x: np.ndarray, specs, effects, engine: str, caches,
              compensate: str = "none", only: int | None = None, step=None,
              timeout_s: float = DEFAULT_TIMEOUT_S) -> np.ndarray:
    """Logits ``(samples, classes)`` with ``effects`` on every crossbar layer (or only
    layer ``only``); ``caches[k][g]``: dicts kept across calls (compensations, transfer matrices)."""
    layers = graph.crossbars

    def linear(k, g, a):
        w = layers[k].weights[g]
        if only is not None and k != only:
            return a @ w.T
        s = replace(specs[k][g], compensate=compensate)
        prep = prepare(w, a, s, cache=caches[k][g])
        z = run_effects(prep, effects, engine, None, progress=False, timeout_s=timeout_s,
                        force_circuit=engine == "ngspice")
        if step is not None:
            step(layers[k].name)
        return z
    return graph.logits(x, linear)


def _run_batch(task):
    graph, xs, specs, effects, engine, caches, comp, only, timeout_s = task
    return run_graph(graph, xs, specs, effects, engine, caches, comp, only, None, timeout_s)


def run_batches(graph: Graph, x: np.ndarray, specs, effects, engine: str, caches, compensate: str,
                only=None, batch_size: int = 256, executor=None, step=None,
                timeout_s: float = DEFAULT_TIMEOUT_S) -> np.ndarray:
    """:func:`run_graph` over sample batches of ``batch_size``, in this process or on
    ``executor`` (local processes or a Dask client's). The first sample fills the caches
    (compensations, transfer matrices) before any batch is shipped."""
    if executor is None:
        return np.vstack([run_graph(graph, x[i:i + batch_size], specs, effects, engine, caches,
                                    compensate, only, step, timeout_s)
                          for i in range(0, len(x), batch_size)])
    run_graph(graph, x[:1], specs, effects, engine, caches, compensate, only, None, timeout_s)
    futures = [executor.submit(_run_batch, (graph, x[i:i + batch_size], specs, effects, engine,
                                            caches, compensate, only, timeout_s))
               for i in range(0, len(x), batch_size)]
    out = []
    for f in futures:
        out.append(f.result())
        if step is not None:
            step("batch")
    return np.vstack(out)


def vectors_per_sample(graph: Graph, x: np.ndarray) -> list[int]:
    """Input vectors each crossbar layer reads per sample (a convolution: its output pixels)."""
    return [a[0].shape[0] for a in graph.layer_inputs(x[:1])] if len(x) else []


def run_cost(graph: Graph, specs, per_sample: list[int], n_samples: int, rows) -> list[dict]:
    """Per hardware row, the circuit solves it needs for ``n_samples`` samples:
    ``unit_solves`` (one per driven word line of every wired tile: its transfer matrix,
    once) and ``vector_solves`` (read noise with wires: one per read per tile)."""
    out = []
    for name, effects, engine, _, only in rows:
        unit = vec = 0
        for k, layer in enumerate(graph.crossbars):
            if only is not None and k != only:
                continue
            for g, w in enumerate(layer.weights):
                s = specs[k][g]
                if engine == "ideal" or "wires" not in effects or not s.has_wires:
                    continue
                tiles = plan_tiles(w.shape[0], w.shape[1], s.array_rows, s.array_cols,
                                   s.mapping.outputs_per_tile(s.array_cols))
                reads = n_samples * per_sample[k] * (2 if s.mapping.input_mode == "two_phase" else 1)
                if "noise" in effects and s.devices.has_read_noise:
                    vec += reads * len(tiles)
                else:
                    unit += sum(min(t.n_inputs, reads) for t in tiles)
        out.append({"row": name, "unit_solves": int(unit), "vector_solves": int(vec)})
    return out


def format_cost(cost: list[dict]) -> str:
    """One line per row that solves circuits."""
    lines = []
    for c in cost:
        if c["vector_solves"]:
            lines.append(f"  {c['row']}: {c['vector_solves']} per-vector nodal solves (read noise: "
                         "every read is its own circuit)")
        elif c["unit_solves"]:
            lines.append(f"  {c['row']}: {c['unit_solves']} unit solves (each tile's transfer "
                         "matrix), then matrix products")
    return "\n".join(["circuit cost:"] + lines) if lines else "circuit cost: no circuit solves (no wires)"


class _LayerRun:
    """A crossbar layer's groups as one prepared layer, for :func:`spicebar.analysis.budget.error_budget`."""

    def __init__(self, preps):
        self.preps = preps
        self.spec = preps[0].spec

    def ideal(self):
        return np.hstack([p.ideal() for p in self.preps])

    def run(self, effects, engine="nodal", workers=None, progress=False):
        return np.hstack([run_effects(p, effects, engine, workers, False) for p in self.preps])


def layer_budgets(graph: Graph, x: np.ndarray, specs, caches) -> list[dict]:
    """Per crossbar layer, the error budget at its output with its float inputs ``x``."""
    from ..analysis.budget import budget_dicts, error_budget
    acts = graph.layer_inputs(x)
    out = []
    for k, layer in enumerate(graph.crossbars):
        preps = [prepare(w, acts[k][g], specs[k][g], cache=caches[k][g]) for g, w in enumerate(layer.weights)]
        rows = error_budget(_LayerRun(preps), "nodal", progress=False)
        s = specs[k][0]
        out.append({"layer": layer.name, "describe": layer.describe(),
                    "array": [s.array_rows, s.array_cols], "levels": s.mapping.levels,
                    "adc_bits": s.adc_bits, "rows": budget_dicts(rows)})
    return out


def spot_check(graph: Graph, x: np.ndarray, specs, effects, compensate: str, n_layers: int, caches,
               workers=None, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[dict]:
    """The first ``n_layers`` crossbar layers' outputs for ``x`` (float inputs), every tile in
    ngspice and in the nodal engine: the largest difference relative to the largest output.

    The ADC is left out (its codes would hide the difference); repeated input vectors
    (blank patches) are run once."""
    acts = graph.layer_inputs(x)
    effects = tuple(e for e in effects if e != "adc")
    out = []
    for k, layer in enumerate(graph.crossbars[:n_layers]):
        zs, zn = [], []
        widths = np.cumsum([a.shape[1] for a in acts[k]])[:-1]
        unique = np.split(np.unique(np.hstack(acts[k]), axis=0), widths, axis=1)
        for g, w in enumerate(layer.weights):
            a = unique[g]
            prep = prepare(w, a, replace(specs[k][g], compensate=compensate), cache=caches[k][g])
            zn.append(run_effects(prep, effects, "nodal", progress=False, force_circuit=True))
            zs.append(run_effects(prep, effects, "ngspice", workers, progress=False, timeout_s=timeout_s,
                                  force_circuit=True))
        zn, zs = np.hstack(zn), np.hstack(zs)
        out.append({"layer": layer.name, "compensate": compensate, "vectors": int(zn.shape[0]),
                    "max_abs_diff": float(np.abs(zs - zn).max()),
                    "max_rel_diff": float(np.abs(zs - zn).max() / (np.abs(zn).max() or 1.0))})
    return out
