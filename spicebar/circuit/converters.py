"""Data converters: a DAC for input voltages and an ADC for readout values.

Both are uniform mid-tread quantisers with clipping, pure functions on arrays:

* ``DACSpec(bits, v_min, v_max)``: ``2**bits`` levels from ``v_min`` to ``v_max``
  inclusive, step ``(v_max - v_min) / (2**bits - 1)``; inputs outside the range clip.
* ``ADCSpec(bits, x_min, x_max)``: codes ``0 .. 2**bits - 1``, code ``k`` stands for
  ``x_min + k * lsb`` with ``lsb = (x_max - x_min) / (2**bits - 1)``; values round to
  the nearest code and clip at the ends (reported, never hidden).

The ADC works on whatever quantity the readout delivers (volts at an integrator
output, amperes from a TIA or a virtual ground); ``x_min``/``x_max`` carry that unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate as v
from ..errors import SpecError
from . import bounds

MAX_BITS = 24


def _bits(name: str, bits) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= MAX_BITS:
        raise SpecError(name, f"is {bits!r}", f"an integer 1..{MAX_BITS}")
    return int(bits)


def _range(lo_name: str, lo, hi_name: str, hi) -> tuple[float, float]:
    lo = float(v.real_array(lo_name, lo, 0)) if np.ndim(lo) == 0 else lo
    hi = float(v.real_array(hi_name, hi, 0)) if np.ndim(hi) == 0 else hi
    key = "adc.x_min, adc.x_max, dac.v_min, dac.v_max"
    bounds.check(lo_name, lo, key)
    bounds.check(hi_name, hi, key)
    if not hi > lo:
        raise SpecError(hi_name, f"is {hi!r}, not above {lo_name}={lo!r}", f"> {lo!r}")
    return lo, hi


@dataclass(frozen=True)
class DACSpec:
    """Input DAC. Attributes: bits (1..24), v_min and v_max in volts (v_max > v_min)."""

    bits: int
    v_min: float
    v_max: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "bits", _bits("dac.bits", self.bits))
        lo, hi = _range("dac.v_min", self.v_min, "dac.v_max", self.v_max)
        object.__setattr__(self, "v_min", lo)
        object.__setattr__(self, "v_max", hi)

    @property
    def lsb(self) -> float:
        """Step between levels, volts."""
        return (self.v_max - self.v_min) / (2 ** self.bits - 1)

    def codes(self, volts: np.ndarray) -> np.ndarray:
        """Nearest level index ``0 .. 2**bits - 1`` for each voltage (clipped)."""
        k = np.rint((np.asarray(volts, float) - self.v_min) / self.lsb)
        return np.clip(k, 0, 2 ** self.bits - 1).astype(np.int64)

    def convert(self, volts: np.ndarray) -> np.ndarray:
        """The voltage the DAC actually puts out for each requested voltage."""
        return self.v_min + self.codes(volts) * self.lsb


@dataclass(frozen=True)
class ADCSpec:
    """Readout ADC. Attributes: bits (1..24), x_min and x_max (the readout's unit)."""

    bits: int
    x_min: float
    x_max: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "bits", _bits("adc.bits", self.bits))
        lo, hi = _range("adc.x_min", self.x_min, "adc.x_max", self.x_max)
        object.__setattr__(self, "x_min", lo)
        object.__setattr__(self, "x_max", hi)

    @property
    def lsb(self) -> float:
        return (self.x_max - self.x_min) / (2 ** self.bits - 1)

    def codes(self, x: np.ndarray) -> np.ndarray:
        """Digital output codes ``0 .. 2**bits - 1`` (int64), rounded and clipped."""
        k = np.rint((np.asarray(x, float) - self.x_min) / self.lsb)
        return np.clip(k, 0, 2 ** self.bits - 1).astype(np.int64)

    def value(self, codes: np.ndarray) -> np.ndarray:
        """The analog value each code stands for."""
        return self.x_min + np.asarray(codes, float) * self.lsb

    def convert(self, x: np.ndarray) -> np.ndarray:
        """Quantised values, in the input's unit."""
        return self.value(self.codes(x))

    def clipped(self, x: np.ndarray) -> np.ndarray:
        """True where the input lies outside the range by more than half an LSB."""
        x = np.asarray(x, float)
        half = 0.5 * self.lsb
        return (x < self.x_min - half) | (x > self.x_max + half)
