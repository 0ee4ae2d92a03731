"""The readout of a tile's column currents, where a converter plugs into the MVM pipeline.

A readout takes the currents of one tile's read lines, ``(reads, lines)`` amperes,
and returns what the digital side sees, in amperes (so the mapping can turn it into
weight units). Today: :class:`CurrentADC`, an ADC straight on the current (a
transimpedance stage of exact gain folded into its range). An integrator readout
(charge over a read window, then an ADC on volts) fits the same ``convert`` method.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..circuit.converters import ADCSpec


@dataclass(frozen=True)
class CurrentADC:
    """Quantise each line current with ``adc`` (its range in amperes)."""

    adc: ADCSpec

    def convert(self, currents: np.ndarray) -> np.ndarray:
        return self.adc.convert(currents)


def make_readout(spec, lines: int) -> CurrentADC:
    """The ADC of ``spec`` (an ``MVMSpec``) for arrays whose summed lines hold ``lines`` cells.

    Range: ``spec.adc_full_scale_a``, or by default the largest possible line current
    ``v_read * lines * g_max``; ``[-fs, fs]`` for bipolar inputs, ``[0, fs]`` for two-phase.
    """
    m = spec.mapping
    fs = spec.adc_full_scale_a or m.v_read * lines * m.g_max_s
    lo = -fs if m.input_mode == "bipolar" else 0.0
    return CurrentADC(ADCSpec(spec.adc_bits, lo, fs))
