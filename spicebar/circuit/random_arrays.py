"""Random test arrays and inputs: conductances ``(rows, cols)`` S and read voltages ``(batch, rows)`` V.

One generator for every place that makes up an array (``spicebar array``, sweep points):
conductances are drawn first, then inputs, from ``numpy.random.default_rng(seed)``, so
the same seed gives the same arrays everywhere.

Conductance distributions (``g_dist``) over ``[g_min, g_max]`` siemens:

* ``loguniform``: ``exp(U(log g_min, log g_max))``, the usual RRAM/PCM spread;
* ``uniform``: ``U(g_min, g_max)``;
* ``binary``: ``g_max`` with probability ``g_density``, else ``g_min``.

Input distributions (``input_dist``) over ``[0, v_max]`` volts: ``uniform``, ``binary``
(``v_max`` with probability ``input_density``, else 0) and ``full`` (every row at ``v_max``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validate import choice, integer_in
from ..errors import SpecError

G_DISTS = ("loguniform", "uniform", "binary")
INPUT_DISTS = ("uniform", "binary", "full")


def draw_conductances(rng: np.random.Generator, rows: int, cols: int, g_min: float,
                      g_max: float, dist: str = "loguniform", density: float = 0.5) -> np.ndarray:
    """Conductances ``(rows, cols)`` S drawn from ``dist`` over ``[g_min, g_max]``."""
    if dist == "loguniform":
        return np.exp(rng.uniform(np.log(g_min), np.log(g_max), (rows, cols)))
    if dist == "uniform":
        return rng.uniform(g_min, g_max, (rows, cols))
    return np.where(rng.random((rows, cols)) < density, g_max, g_min)


def draw_inputs(rng: np.random.Generator, batch: int, rows: int, v_max: float,
                dist: str = "uniform", density: float = 0.5) -> np.ndarray:
    """Read voltages ``(batch, rows)`` V drawn from ``dist`` over ``[0, v_max]``."""
    if dist == "uniform":
        return rng.uniform(0.0, v_max, (batch, rows))
    if dist == "binary":
        return np.where(rng.random((batch, rows)) < density, v_max, 0.0)
    return np.full((batch, rows), float(v_max))


def _positive_int(name: str, value, upper: int) -> None:
    integer_in(name, value, 1, upper)


def _positive_float(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not value > 0:
        raise SpecError(name, f"is {value!r}", "a finite number > 0")


@dataclass(frozen=True)
class RandomArraySpec:
    """A random test array and its inputs (validated; draw with :func:`draw_random_array`).

    Shapes: conductances ``(rows, cols)`` S, inputs ``(batch, rows)`` V.
    """

    rows: int = 64
    cols: int = 64
    g_min_s: float = 2e-6
    g_max_s: float = 1e-4
    g_dist: str = "loguniform"
    g_density: float = 0.5
    batch: int = 4
    v_max_volt: float = 0.2
    input_dist: str = "uniform"
    input_density: float = 0.5
    seed: int = 0

    #: The largest side accepted (a 4096x4096 array is 16.8M cells, 134 MB as float64).
    MAX_SIDE = 4096
    MAX_BATCH = 100_000

    def __post_init__(self) -> None:
        _positive_int("rows", self.rows, self.MAX_SIDE)
        _positive_int("cols", self.cols, self.MAX_SIDE)
        _positive_int("batch", self.batch, self.MAX_BATCH)
        _positive_float("g_min", self.g_min_s)
        _positive_float("g_max", self.g_max_s)
        _positive_float("v_max", self.v_max_volt)
        if self.g_min_s > self.g_max_s:
            raise SpecError("g_min", f"is {self.g_min_s!r} S, above g_max = {self.g_max_s!r} S",
                            "0 < g_min <= g_max")
        choice("dist", self.g_dist, G_DISTS)
        choice("input_dist", self.input_dist, INPUT_DISTS)
        for name in ("g_density", "input_density"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise SpecError(name, f"is {value!r}", "a fraction 0..1")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) \
                or self.seed < 0:
            raise SpecError("seed", f"is {self.seed!r}", "an integer >= 0")

    def describe(self) -> str:
        g = {"loguniform": "log-uniform", "uniform": "uniform", "binary": "binary"}[self.g_dist]
        return (f"{self.rows}x{self.cols} {g} {self.g_min_s:g}..{self.g_max_s:g} S; "
                f"{self.batch} vector(s) {self.input_dist} 0..{self.v_max_volt:g} V; "
                f"seed {self.seed}")


def draw_random_array(spec: RandomArraySpec) -> tuple[np.ndarray, np.ndarray]:
    """Conductances ``(rows, cols)`` S and inputs ``(batch, rows)`` V of ``spec``."""
    rng = np.random.default_rng(spec.seed)
    g = draw_conductances(rng, spec.rows, spec.cols, spec.g_min_s, spec.g_max_s, spec.g_dist,
                          spec.g_density)
    v = draw_inputs(rng, spec.batch, spec.rows, spec.v_max_volt, spec.input_dist,
                    spec.input_density)
    return g, v


__all__ = ["G_DISTS", "INPUT_DISTS", "RandomArraySpec", "draw_conductances", "draw_inputs",
           "draw_random_array"]
