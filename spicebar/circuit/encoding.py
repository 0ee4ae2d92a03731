"""Input encodings as transient stimuli, and the time schedule of a readout run.

An input voltage ``V`` becomes a signed integer code ``x = sign(V) * dac.codes(|V|)`` with
``dac = DACSpec(bits, 0, v_read)``; ``x * dac.lsb`` is its *equivalent voltage*, the DC
input every encoding reproduces in charge over one window of length ``T`` (``t_int_s``):

* ``amplitude``: one pulse of height ``x * lsb`` and width ``T``          (area ``x lsb T``)
* ``pulse_width``: one pulse of height ``v_read`` and width ``|x| T / (2**bits - 1)``
* ``bit_serial``: one window per bit ``k`` (MSB first), pulse height ``v_read * bit_k(|x|)``,
  width ``T``; the window outputs are combined by shift-and-add, ``sum_k 2**k out_k``,
  divided by ``2**bits - 1``.

Pulses are trapezoids with edges ``t_edge_s``, widths measured between the edge midpoints,
so their area is exactly height x width.

Signed inputs (``signed=True``): **two phases** per window, no reset between them: rows
with ``x > 0`` are pulsed positive in phase 1, rows with ``x < 0`` are pulsed negative in
phase 2; the integrator adds both charges. A driver is only ever active with one polarity
at a time; with an unsigned encoding, negative inputs are refused.

Schedule of one window: reset high for ``t_reset_s`` (it rises at the previous sample and
falls over ``t_edge_s``), then the phases (each ``t_int_s + t_edge_s``), then
``t_settle_s``, then the sample. A TIA is sampled at the end of a pulse's flat part
instead. Input vectors follow each other in one transient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate as v
from .converters import DACSpec, _bits
from ..errors import SpecError
from . import bounds

ENCODINGS = ("amplitude", "pulse_width", "bit_serial")


@dataclass(frozen=True)
class EncodingSpec:
    """How inputs become word-line waveforms.

    Attributes:
        kind: ``amplitude``, ``pulse_width`` or ``bit_serial``.
        bits: input resolution, 1..16 bits (magnitude bits when signed).
        v_read: full-scale input magnitude, V, > 0 (the DAC range, the pulse height).
        signed: accept negative inputs (two phases per window).
        t_edge_s: rise and fall time of every pulse, s, > 0.
    """

    kind: str = "amplitude"
    bits: int = 4
    v_read: float = 0.2
    signed: bool = False
    t_edge_s: float = 0.1e-9

    def __post_init__(self) -> None:
        v.choice("encoding.kind", self.kind, ENCODINGS)
        b = _bits("encoding.bits", self.bits)
        if b > 16:
            raise SpecError("encoding.bits", f"is {b}", "an integer 1..16")
        object.__setattr__(self, "bits", b)
        object.__setattr__(self, "v_read", v.positive_scalar("encoding.v_read", self.v_read, "V"))
        object.__setattr__(self, "t_edge_s", bounds.check("encoding.t_edge_s", v.positive_scalar(
            "encoding.t_edge_s", self.t_edge_s, "s"), "readout.t_int_s, t_reset_s, t_settle_s, "
            "encoding.t_edge_s"))
        if not isinstance(self.signed, (bool, np.bool_)):
            raise SpecError("encoding.signed", f"is {self.signed!r}", "True or False")

    @property
    def dac(self) -> DACSpec:
        return DACSpec(self.bits, 0.0, self.v_read)

    @property
    def levels(self) -> int:
        """Largest code magnitude, ``2**bits - 1``."""
        return 2 ** self.bits - 1

    def codes(self, inputs: np.ndarray) -> np.ndarray:
        """Signed integer codes of ``inputs`` (volts, any shape); refuses unsigned negatives."""
        x = np.asarray(inputs, float)
        if not self.signed and np.any(x < 0):
            raise SpecError("inputs", f"has a negative value ({x.min()!r} V) for an unsigned "
                            "encoding", "values >= 0 V, or EncodingSpec(signed=True)")
        return np.sign(x).astype(np.int64) * self.dac.codes(np.abs(x))

    def equivalent_voltages(self, inputs: np.ndarray) -> np.ndarray:
        """The DC inputs the encoded waveforms reproduce in charge, volts."""
        return self.codes(inputs) * self.dac.lsb


@dataclass(frozen=True, eq=False)
class Schedule:
    """The stimuli and windows of one readout transient.

    Attributes:
        t_stop: end of the transient, s.
        row_t, row_v: per input row, the PWL breakpoints (s) and values (V), each ``(n_k,)``.
        reset_t, reset_v: PWL of the reset control (1 = switch closed).
        vector: shape ``(n_windows,)``, the input vector of each window.
        weight: shape ``(n_windows,)``, the factor its output enters the result with
            (shift-and-add weight over ``2**bits - 1`` for bit-serial, else 1).
        t_open: shape ``(n_windows,)``, when the reset has opened (integration starts), s.
        t_sample: shape ``(n_windows,)``, the sampling instant, s.
        area: shape ``(n_windows, rows)``, volt-seconds each row applies in the window.
        t_int: the window length ``T`` the equivalent DC input is referred to, s.
    """

    t_stop: float
    row_t: tuple
    row_v: tuple
    reset_t: np.ndarray
    reset_v: np.ndarray
    vector: np.ndarray
    weight: np.ndarray
    t_open: np.ndarray
    t_sample: np.ndarray
    area: np.ndarray
    t_int: float

    @property
    def n_windows(self) -> int:
        return int(self.vector.shape[0])

    def breakpoints(self) -> np.ndarray:
        """Every breakpoint of every stimulus, sorted, unique, s."""
        return np.unique(np.concatenate([*self.row_t, self.reset_t, self.t_sample, [self.t_stop]]))

    def cumulative_area(self, t: np.ndarray) -> np.ndarray:
        """Volt-seconds each row has applied from 0 to each ``t`` (a breakpoint superset), ``(n_t, rows)``."""
        out = np.empty((t.size, len(self.row_t)))
        for i, (rt, rv) in enumerate(zip(self.row_t, self.row_v)):
            vv = np.interp(t, rt, rv)
            out[:, i] = np.concatenate([[0.0], np.cumsum(0.5 * (vv[1:] + vv[:-1]) * np.diff(t))])
        return out


def build_schedule(encoding: EncodingSpec, inputs: np.ndarray, t_int: float, t_reset: float,
                   t_settle: float, sample_flat_end: bool = False) -> Schedule:
    """Stimuli for ``inputs`` of shape ``(batch, rows)`` volts.

    Args:
        t_int, t_reset, t_settle: window, reset and settling times, s.
        sample_flat_end: sample at the end of the pulse's flat part (a TIA) instead of after
            the last edge; needs a single-phase amplitude or bit-serial encoding.
    """
    e = encoding
    te = e.t_edge_s
    if t_reset <= te:
        raise SpecError("readout.t_reset_s", f"is {t_reset!r} s, not above the pulse edge "
                        f"{te!r} s", f"> encoding.t_edge_s = {te!r} s")
    if e.kind == "pulse_width" and t_int / e.levels < te:
        raise SpecError("encoding.t_edge_s", f"is {te!r} s, longer than one pulse-width step "
                        f"T/(2**bits-1) = {t_int / e.levels!r} s", f"<= {t_int / e.levels!r} s")
    if sample_flat_end and (e.kind == "pulse_width" or e.signed):
        raise SpecError("encoding", f"{e.kind}{' signed' if e.signed else ''} cannot be read "
                        "by a TIA (no charge is integrated)", "amplitude or bit_serial, unsigned")
    if t_int <= te:
        raise SpecError("readout.t_int_s", f"is {t_int!r} s", f"> encoding.t_edge_s = {te!r} s")
    codes = e.codes(inputs)
    batch, rows = codes.shape
    lsb = e.dac.lsb
    bit_list = list(range(e.bits - 1, -1, -1)) if e.kind == "bit_serial" else [None]
    phases = (1, -1) if e.signed else (1,)
    row_t = [[0.0] for _ in range(rows)]
    row_v = [[0.0] for _ in range(rows)]
    reset_t, reset_v = [0.0], [1.0]
    vec, weight, t_open, t_sample, areas = [], [], [], [], []
    cursor = 0.0
    for b in range(batch):
        for k in bit_list:
            opened = cursor + t_reset + te
            reset_t += [cursor + t_reset, opened]
            reset_v += [1.0, 0.0]
            area = np.zeros(rows)
            p = opened
            for sgn in phases:
                for i in range(rows):
                    x = codes[b, i]
                    if x == 0 or np.sign(x) != sgn:
                        continue
                    if e.kind == "amplitude":
                        height, width = x * lsb, t_int
                    elif e.kind == "pulse_width":
                        height, width = sgn * e.v_read, abs(x) * t_int / e.levels
                    else:
                        if not (abs(x) >> k) & 1:
                            continue
                        height, width = sgn * e.v_read, t_int
                    row_t[i] += [p, p + te, p + width, p + width + te]
                    row_v[i] += [0.0, height, height, 0.0]
                    area[i] += height * width
                p += t_int + te
            ts = opened + t_int if sample_flat_end else p + t_settle
            vec.append(b)
            weight.append(1.0 if k is None else 2.0 ** k / e.levels)
            t_open.append(opened)
            t_sample.append(ts)
            areas.append(area)
            cursor = max(ts, p)
            reset_t += [cursor, cursor + te]
            reset_v += [0.0, 1.0]
            cursor += te
    t_stop = max(t_sample)
    # the reset after the last sample is not needed; end every waveform at t_stop
    keep = np.asarray(reset_t) <= t_stop
    rt = np.asarray(reset_t)[keep]
    rv = np.asarray(reset_v)[keep]
    rows_t, rows_v = [], []
    for t_list, v_list in zip(row_t, row_v):
        t_arr = np.asarray(t_list + [max(t_stop, t_list[-1])])
        v_arr = np.asarray(v_list + [0.0])
        t_arr, first = np.unique(t_arr, return_index=True)
        rows_t.append(t_arr)
        rows_v.append(v_arr[first])
    return Schedule(t_stop=t_stop, row_t=tuple(rows_t), row_v=tuple(rows_v), reset_t=rt, reset_v=rv,
                    vector=np.asarray(vec), weight=np.asarray(weight), t_open=np.asarray(t_open),
                    t_sample=np.asarray(t_sample), area=np.asarray(areas), t_int=t_int)
