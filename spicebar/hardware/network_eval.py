"""A network layer by layer through tiled crossbars: classification accuracy per non-ideality.

Each layer runs as ``spicebar mvm`` does (:mod:`spicebar.hardware.mvm`): inputs -> DAC
volts -> tiles -> column readout/ADC -> digital partial sums, then the bias and the
activation digitally, then the next layer. One :class:`NetworkSpec` gives the hardware
(every ``MVMSpec`` option, the same on every layer) and each layer's ranges are fixed
once from a calibration set through the float network (``w_max = headroom * max|W_k|``,
``x_max = max |a_k|``), as a real DAC and mapping would be, so every row below sees the
same mapping.

Rows (:func:`evaluate_network`): ``float``; ``ideal_quantised`` (levels only, ideal
circuit); ``alone:<effect>`` for each configured effect; ``nodal`` (all effects, the exact
nodal engine); ``nodal_compensated`` (the same with the conductances compensated for the
wires, :mod:`spicebar.hardware.compensation`); and an ngspice spot check of the first
``spot_samples`` samples through every tile, with its logit agreement against nodal.

Batching: a nodal tile with more samples than driven word lines is solved once per
driven word line (its exact transfer matrix) and then applied to every sample at once
(:func:`spicebar.engines.nodal.transfer.transfer_matrix`). Read noise makes every read a
circuit of its own: with wires on, that is one solve per sample per tile.
"""

from __future__ import annotations

from .._progress import bar_disable

from dataclasses import dataclass, field, replace

import numpy as np

from .. import _validate as v
from ..errors import SpecError
from .compensation import COMPENSATIONS
from .mvm import MVMSpec, prepare, run_effects
from .network import Network, accuracy, activate
from ..engines.ngspice.limits import DEFAULT_TIMEOUT_S

ENGINE_ROWS = ("nodal", "nodal_compensated")


@dataclass(frozen=True)
class NetworkSpec:
    """How a network is put on hardware.

    Attributes:
        hardware: every layer's tiles, mapping, devices, wires and ADC (:class:`MVMSpec`;
            its ``mapping.w_max``/``x_max``, when set, apply to every layer).
        headroom: ``w_max = headroom * max |W_k|`` per layer (>= 1): the window left free
            so that compensation can raise conductances the wires attenuate.
        compensate: the method of the ``nodal_compensated`` row (``none`` skips the row).
        spot_samples: samples run through ngspice as well (0: none).
    """

    hardware: MVMSpec = field(default_factory=MVMSpec)
    headroom: float = 1.0
    compensate: str = "exact"
    spot_samples: int = 0

    def __post_init__(self) -> None:
        check_network_spec(self)
        n = self.spot_samples
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise SpecError("spot_samples", f"is {n!r}", "an integer >= 0")


def check_network_spec(spec) -> None:
    """The checks a network's and an imported model's spec share: ``headroom`` >= 1
    (stored as a float), a known ``compensate`` method, forward hardware."""
    h = v.positive_scalar("headroom", spec.headroom, "")
    if h < 1:
        raise SpecError("headroom", f"is {spec.headroom!r}", "a factor >= 1")
    object.__setattr__(spec, "headroom", h)
    v.choice("compensate", spec.compensate, COMPENSATIONS)
    if spec.hardware.direction != "forward":
        raise SpecError("hardware.direction", f"is {spec.hardware.direction!r}", "forward")


#: A calibrated ADC range is this factor above the largest ideal column current seen on
#: the calibration set (room for currents the calibration set did not reach).
ADC_MARGIN = 1.25


def calibrated_spec(weights: np.ndarray, inputs: np.ndarray, hardware: MVMSpec,
                    headroom: float) -> MVMSpec:
    """``hardware`` with one layer's ranges fixed from its calibration inputs.

    ``weights`` ``(outputs, inputs)``; ``inputs`` ``(vectors, inputs)``: the layer's float
    inputs on the calibration set. ``w_max = headroom * max|W|`` and ``x_max = max |inputs|``
    (unless the mapping sets them); with an ADC and no ``adc_full_scale_a``, the range is
    :data:`ADC_MARGIN` times the largest ideal column current of the calibration set.
    """
    m = hardware.mapping
    w_max = m.w_max or headroom * (float(np.abs(weights).max()) or 1.0)
    x_max = m.x_max or float(np.abs(inputs).max()) or 1.0
    s = replace(hardware, mapping=replace(m, w_max=w_max, x_max=x_max))
    if s.adc_bits is not None and s.adc_full_scale_a is None:
        prep = prepare(weights, inputs, s)
        peak = max(float(np.abs(prep.volts[:, t.inputs] @ g[:t.n_inputs]).max())
                   for t, g in zip(prep.tiles, prep.targets))
        s = replace(s, adc_full_scale_a=ADC_MARGIN * peak if peak > 0 else None)
    return s


def layer_specs(net: Network, x_cal: np.ndarray, spec: NetworkSpec) -> list[MVMSpec]:
    """One :class:`MVMSpec` per layer with its weight, input and ADC ranges fixed
    (:func:`calibrated_spec` on each layer's float inputs over the calibration set)."""
    acts = net.layer_inputs(x_cal)
    return [calibrated_spec(layer.weights, acts[k], spec.hardware, spec.headroom)
            for k, layer in enumerate(net.layers)]


def run_layers(net: Network, x: np.ndarray, specs: list[MVMSpec], effects, engine: str,
               caches: list[dict], compensate: str = "none", workers: int | None = None,
               step=None, timeout_s: float = DEFAULT_TIMEOUT_S) -> np.ndarray:
    """Logits ``(samples, classes)`` with ``effects`` on, every layer on ``engine``.

    ``caches``: one dict per layer, kept across calls (compensations are computed once).
    ``step``: called with a short label after each layer.
    """
    a = np.asarray(x, float)
    for k, (layer, s) in enumerate(zip(net.layers, specs)):
        s = replace(s, compensate=compensate)
        prep = prepare(layer.weights, a, s, cache=caches[k])
        z = run_effects(prep, effects, engine, workers, progress=False, timeout_s=timeout_s,
                        force_circuit=engine == "ngspice")
        a = activate(layer.activation, z + layer.bias)
        if step is not None:
            step(f"layer {k}")
    return a


def _run_batch(task: tuple) -> np.ndarray:
    """One sample batch through every layer, in an executor's worker (picklable task)."""
    net, xs, specs, effects, engine, caches, comp, timeout_s = task
    return run_layers(net, xs, specs, effects, engine, caches, comp, None, None, timeout_s)


def run_batched(net: Network, x: np.ndarray, specs: list[MVMSpec], effects, engine: str,
                caches: list[dict], compensate: str, executor, batch_size: int,
                timeout_s: float = DEFAULT_TIMEOUT_S) -> np.ndarray:
    """:func:`run_layers` with the samples split into batches on ``executor`` (any
    ``concurrent.futures`` executor: local processes, or a Dask client's executor).

    The compensations are computed here first, once (they do not depend on the inputs),
    and shipped with each batch; each worker then solves its own tiles. Read noise is
    drawn per batch (the same statistics, other draws than one unbatched run).
    """
    if compensate != "none":  # one sample fills the caches of every tile of every layer
        run_layers(net, x[:1], specs, effects, engine if engine != "ngspice" else "nodal",
                   caches, compensate, timeout_s=timeout_s)
    futures = [executor.submit(_run_batch, (net, x[i:i + batch_size], specs, effects, engine,
                                            caches, compensate, timeout_s))
               for i in range(0, len(x), batch_size)]
    return np.vstack([f.result() for f in futures])


@dataclass(frozen=True, eq=False)
class NetworkResult:
    """Accuracy per row (each in [0, 1]), the logits behind it, the spot check and facts."""

    accuracy: dict
    logits: dict
    spot: dict
    info: dict

    def to_dict(self) -> dict:
        return {**self.accuracy, "spot_check": self.spot, "info": self.info}


def planned_rows(spec: NetworkSpec) -> list[tuple[str, tuple, str, str]]:
    """``(row, effects, engine, compensate)`` for every hardware row of :func:`evaluate_network`."""
    effects = spec.hardware.configured_effects()
    rows = [("ideal_quantised", ("quantisation",), "ideal", "none")]
    rows += [(f"alone:{e}", (e,), "nodal", "none") for e in effects if e != "quantisation"]
    rows.append(("nodal", effects, "nodal", "none"))
    if spec.compensate != "none":
        rows.append(("nodal_compensated", effects, "nodal", spec.compensate))
    return rows


def evaluate_network(net: Network, x: np.ndarray, y: np.ndarray, spec: NetworkSpec,
                     x_cal: np.ndarray | None = None, caches: list | None = None,
                     workers: int | None = None, progress: bool = True,
                     timeout_s: float = DEFAULT_TIMEOUT_S, rows=None, executor=None,
                     batch_size: int = 256) -> NetworkResult:
    """Accuracy of ``net`` on ``(x, y)`` for every row (module notes).

    ``x_cal``: the calibration set that fixes each layer's ranges (default ``x``).
    ``caches``: one dict per layer to reuse compensations across calls.
    ``rows``: names of the hardware rows to run (default all; ``float`` always runs).
    ``executor``: run sample batches of ``batch_size`` on it (:func:`run_batched`); the
    progress bar then advances per row.
    """
    from tqdm import tqdm
    timeout_s = v.time_limit_s("timeout_s", timeout_s)  # before any layer runs
    x_cal = x if x_cal is None else x_cal
    specs = layer_specs(net, x_cal, spec)
    caches = caches if caches is not None else [{} for _ in net.layers]
    rows = [r for r in planned_rows(spec) if rows is None or r[0] in rows]
    n_spot = min(spec.spot_samples, len(y))
    spot_rows = [r for r in rows if r[0] in ENGINE_ROWS] if n_spot else []
    total = len(net.layers) * (len(rows) + len(spot_rows))
    logits = {"float": net.forward(x)}
    with tqdm(total=total, desc="network", unit="layer", disable=bar_disable(progress)) as bar:
        def run(name, xs, effects, engine, comp):
            def step(label):
                bar.set_postfix_str(f"{name} {label}")
                bar.update()
            if executor is not None and engine != "ideal":
                out = run_batched(net, xs, specs, effects, engine, caches, comp, executor,
                                  batch_size, timeout_s)
                for k in range(len(net.layers)):
                    step(f"layer {k}")
                return out
            return run_layers(net, xs, specs, effects, engine, caches, comp, workers, step, timeout_s)
        for name, effects, engine, comp in rows:
            logits[name] = run(name, x, effects, engine, comp)
        spot = {"samples": n_spot}
        for name, effects, _, comp in spot_rows:
            ng = run(f"ngspice:{name}", x[:n_spot], effects, "ngspice", comp)
            ref = logits[name][:n_spot]
            spot[name] = {"max_abs_logit_diff": float(np.abs(ng - ref).max()),
                          "max_rel_logit_diff": float(np.abs(ng - ref).max()
                                                      / (np.abs(ref).max() or 1.0)),
                          "argmax_agreement": float(np.mean(ng.argmax(1) == ref.argmax(1))),
                          "accuracy_ngspice": accuracy(ng, y[:n_spot]),
                          "accuracy_nodal": accuracy(ref, y[:n_spot])}
            logits[f"ngspice:{name}"] = ng
    acc = {name: accuracy(z, y) for name, z in logits.items() if not name.startswith("ngspice:")}
    comp_info = []
    for k, cache in enumerate(caches):
        for (tile, _), ci in sorted(cache.get("info", {}).items()):
            comp_info.append({"layer": k, "tile": tile, **ci})
    s = spec.hardware
    info = {"network": net.describe(), "samples": int(len(y)), "array": [s.array_rows, s.array_cols],
            "r_wl": s.r_wl, "r_bl": s.r_bl, "effects": list(s.configured_effects()),
            "headroom": spec.headroom, "compensate": spec.compensate,
            "w_max": [sp.mapping.w_max for sp in specs], "x_max": [sp.mapping.x_max for sp in specs],
            "compensation": comp_info}
    return NetworkResult(acc, logits, spot, info)


def format_accuracy(result: NetworkResult) -> str:
    """The console table: one row per evaluation, accuracy in percent."""
    lines = [f"{'row':<28} {'accuracy':>9}"]
    for name, a in result.accuracy.items():
        lines.append(f"{name:<28} {100 * a:>8.2f}%")
    for name, d in result.spot.items():
        if isinstance(d, dict):
            lines.append(f"ngspice spot check ({result.spot['samples']} samples, {name}): max |dlogit| "
                         f"{d['max_abs_logit_diff']:.3g} ({d['max_rel_logit_diff']:.2g} of max), "
                         f"argmax agreement {100 * d['argmax_agreement']:.0f}%")
    return "\n".join(lines)
