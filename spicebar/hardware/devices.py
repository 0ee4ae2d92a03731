"""Device non-idealities: programming variability, stuck cells, drift and read noise.

Everything is seeded: the random numbers of a tile are drawn in full whether or not
an effect is switched on (:class:`TileDraws`), so switching one effect off never
changes the draws of another, and an error budget compares like with like.

Order of events for one cell, conductances in siemens:

1. target ``G_t`` (from the mapping, snapped to a level when levels are set);
2. programming: ``G_p = clip(G_t * (1 + prog_sigma_rel * n1) + prog_sigma_abs_s * n2,
   g_min, g_max)`` (write-verify ends inside the window);
3. stuck faults: with probability ``stuck_on_rate`` a cell is ``g_max``, with
   ``stuck_off_rate`` it is ``g_min``, whatever was programmed; stuck cells do not drift;
4. drift (PCM): ``G(t) = G_p * (t_read_s / t0_s) ** (-nu)``, ``nu`` per cell drawn
   from ``N(drift_nu, drift_nu_std)`` clipped at 0;
5. read noise, a fresh draw for every read (every input vector and phase):
   ``G_r = G(t) * (1 + read_sigma_rel * n3) + read_sigma_abs_s * n4``, floored at
   ``1e-6 * g_min`` so a cell never reaches 0 S or below.

In the circuit engines a read with noise is its own circuit: the nodal engine
factorises, and ngspice runs, one netlist per read with that read's conductances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate as v
from ..errors import SpecError

NOISE_FLOOR_REL = 1e-6


@dataclass(frozen=True)
class DeviceSpec:
    """Device non-idealities; all default to off.

    Attributes:
        prog_sigma_rel: relative programming error (std of ``G_p / G_t - 1``).
        prog_sigma_abs_s: absolute programming error std, siemens.
        read_sigma_rel: relative read noise std per read.
        read_sigma_abs_s: absolute read noise std per read, siemens.
        drift_nu: mean drift exponent ``nu`` (PCM: about 0.005-0.1).
        drift_nu_std: std of ``nu`` across cells.
        t0_s: time of programming-verify reference, seconds (> 0).
        t_read_s: read time, seconds (>= t0_s).
        stuck_on_rate, stuck_off_rate: fraction of cells stuck at g_max / g_min.
    """

    prog_sigma_rel: float = 0.0
    prog_sigma_abs_s: float = 0.0
    read_sigma_rel: float = 0.0
    read_sigma_abs_s: float = 0.0
    drift_nu: float = 0.0
    drift_nu_std: float = 0.0
    t0_s: float = 1.0
    t_read_s: float = 1.0
    stuck_on_rate: float = 0.0
    stuck_off_rate: float = 0.0

    def __post_init__(self) -> None:
        for name in ("prog_sigma_rel", "prog_sigma_abs_s", "read_sigma_rel", "read_sigma_abs_s",
                     "drift_nu", "drift_nu_std"):
            object.__setattr__(self, name, v.nonnegative_scalar(f"devices.{name}", getattr(self, name), ""))
        object.__setattr__(self, "t0_s", v.positive_scalar("devices.t0_s", self.t0_s, "s"))
        t = v.positive_scalar("devices.t_read_s", self.t_read_s, "s")
        if t < self.t0_s:
            raise SpecError("devices.t_read_s", f"is {t!r} s, before t0_s={self.t0_s!r} s", f">= {self.t0_s!r} s")
        object.__setattr__(self, "t_read_s", t)
        for name in ("stuck_on_rate", "stuck_off_rate"):
            r = v.nonnegative_scalar(f"devices.{name}", getattr(self, name), "")
            if r > 1:
                raise SpecError(f"devices.{name}", f"is {r!r}", "a fraction 0..1")
            object.__setattr__(self, name, r)
        if self.stuck_on_rate + self.stuck_off_rate > 1:
            raise SpecError("devices.stuck_off_rate", "plus stuck_on_rate exceeds 1", "a total <= 1")

    @property
    def has_read_noise(self) -> bool:
        return self.read_sigma_rel > 0 or self.read_sigma_abs_s > 0

    def drift_factor(self) -> float:
        """Global drift compensation: ``(t_read / t0) ** drift_nu`` (multiply outputs by it)."""
        return float((self.t_read_s / self.t0_s) ** self.drift_nu)


@dataclass(frozen=True, eq=False)
class TileDraws:
    """The static random numbers of one tile (shape ``(rows, cols)`` each) and its read stream.

    ``read_seed`` seeds the per-read noise; read ``r`` always gets the same numbers.
    """

    prog_rel: np.ndarray
    prog_abs: np.ndarray
    stuck_u: np.ndarray
    nu_n: np.ndarray
    read_seed: np.random.SeedSequence

    @classmethod
    def draw(cls, seed: np.random.SeedSequence, shape: tuple[int, int]) -> "TileDraws":
        static, reads = seed.spawn(2)
        rng = np.random.default_rng(static)
        return cls(rng.standard_normal(shape), rng.standard_normal(shape), rng.random(shape),
                   rng.standard_normal(shape), reads)

    def read_noise(self, read_index: int) -> np.ndarray:
        """Standard normals of read ``read_index``, shape ``(2, rows, cols)``.

        Each read has its own child seed, so reads can be drawn in any order, lazily.
        """
        seq = np.random.SeedSequence(self.read_seed.entropy,
                                     spawn_key=(*self.read_seed.spawn_key, int(read_index)))
        return np.random.default_rng(seq).standard_normal((2, *self.prog_rel.shape))


def program(g_target: np.ndarray, dev: DeviceSpec, draws: TileDraws, g_min: float, g_max: float,
            variability: bool = True, stuck: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Programmed conductances and the stuck mask (steps 2-3), both ``(rows, cols)``."""
    g = np.array(g_target, float)
    if variability:
        g = g * (1 + dev.prog_sigma_rel * draws.prog_rel) + dev.prog_sigma_abs_s * draws.prog_abs
        g = np.clip(g, g_min, g_max)
    stuck_mask = np.zeros(g.shape, dtype=bool)
    if stuck:
        on = draws.stuck_u < dev.stuck_on_rate
        off = (draws.stuck_u >= dev.stuck_on_rate) & (draws.stuck_u < dev.stuck_on_rate + dev.stuck_off_rate)
        g = np.where(on, g_max, np.where(off, g_min, g))
        stuck_mask = on | off
    return g, stuck_mask


def drift(g: np.ndarray, dev: DeviceSpec, draws: TileDraws, frozen_mask: np.ndarray | None = None
          ) -> np.ndarray:
    """Conductances at ``t_read_s`` (step 4); cells in ``frozen_mask`` keep their value."""
    nu = np.maximum(dev.drift_nu + dev.drift_nu_std * draws.nu_n, 0.0)
    out = g * (dev.t_read_s / dev.t0_s) ** (-nu)
    return out if frozen_mask is None else np.where(frozen_mask, g, out)


def read(g: np.ndarray, dev: DeviceSpec, noise: np.ndarray, g_min: float) -> np.ndarray:
    """One noisy read (step 5): ``noise`` is ``(2, rows, cols)`` standard normals."""
    out = g * (1 + dev.read_sigma_rel * noise[0]) + dev.read_sigma_abs_s * noise[1]
    return np.maximum(out, NOISE_FLOOR_REL * g_min)
