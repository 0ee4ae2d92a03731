"""Weights to siemens and back: differential pairs, a reference column, levels, input volts.

A layer holds signed weights ``W`` of shape ``(outputs, inputs)`` and computes
``y = W x``. On a crossbar, input ``i`` drives word line (row) ``i`` and each output
is read from bit lines (columns), so a tile's conductances have shape
``(inputs, physical columns)``.

Schemes (``MappingSpec.scheme``):

* ``differential``: each weight uses two cells on two ADJACENT COLUMNS of the same
  row, ``G+`` in column ``2o`` and ``G-`` in column ``2o + 1``:
  ``G+ = g_min + k * max(w, 0)``, ``G- = g_min + k * max(-w, 0)``, so
  ``w = (G+ - G-) / k`` with ``k = (g_max - g_min) / w_max`` siemens per weight unit.
  Both columns are read (and converted) separately and subtracted digitally. A 2T2R
  array (:class:`~spicebar.circuit.differential_cells.DifferentialTransistorCell`) holds
  each such pair as one cell: two access transistors on one gate.
* ``reference``: one cell per weight, ``G = g_ref + k * w`` with
  ``g_ref = (g_min + g_max) / 2`` and ``k = (g_max - g_min) / (2 w_max)``; one shared
  reference column (the LAST physical column of every tile) holds ``g_ref`` in every
  row, and ``y_o`` comes from ``I_o - I_ref``. Reference cells are programmed to the
  exact midpoint (a trimmed reference, not snapped to the level grid) but suffer the
  same variability, drift, noise and stuck faults as every other cell.

Levels: ``levels = L`` programmable conductances evenly spaced from ``g_min`` to
``g_max`` (``None``: analog, any value in the window). Snapping to the nearest level
errs by at most half a level step, i.e. ``w_max / (L - 1) / 2`` in weight units for
the differential scheme and ``w_max / (L - 1)`` for the reference scheme (its level
step spans twice the weight per siemens).

Inputs: ``x`` in input units becomes word-line volts ``V = x * v_read / x_max``
(``x_max`` defaults to ``max |X|``). Signed inputs either drive signed voltages in
one read (``input_mode="bipolar"``), or two reads with non-negative voltages, the
positive part then the negative part, subtracted digitally (``"two_phase"``).
The output of a read in weight units is ``y = I / (k * v_read / x_max)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate as v
from ..errors import SpecError

SCHEMES = ("differential", "reference")
INPUT_MODES = ("bipolar", "two_phase")
MAX_LEVELS = 4096


@dataclass(frozen=True)
class MappingSpec:
    """How weights become conductances and inputs become volts.

    Attributes:
        scheme: ``differential`` (two columns per weight) or ``reference`` (one
            column per weight, one shared reference column per tile).
        g_max_s: top of the conductance window (LRS), siemens.
        on_off: ``g_max / g_min`` (> 1; RRAM 10-50 is typical).
        levels: programmable conductance levels, 2..4096, or None for analog.
        w_max: weight magnitude mapped to the full window; None: ``max |W|``.
            Larger weights are clipped to ``+-w_max``.
        v_read: word-line voltage of the largest input magnitude, volts (> 0).
        x_max: input magnitude mapped to ``v_read``; None: ``max |X|``.
        input_mode: ``bipolar`` or ``two_phase`` (see module notes).
    """

    scheme: str = "differential"
    g_max_s: float = 1e-4
    on_off: float = 50.0
    levels: int | None = None
    w_max: float | None = None
    v_read: float = 0.2
    x_max: float | None = None
    input_mode: str = "bipolar"

    def __post_init__(self) -> None:
        v.choice("mapping.scheme", self.scheme, SCHEMES)
        v.choice("mapping.input_mode", self.input_mode, INPUT_MODES)
        object.__setattr__(self, "g_max_s", v.positive_scalar("mapping.g_max_s", self.g_max_s, "S"))
        on_off = v.positive_scalar("mapping.on_off", self.on_off, "")
        if on_off <= 1:
            raise SpecError("mapping.on_off", f"is {self.on_off!r}", "a ratio > 1")
        object.__setattr__(self, "on_off", on_off)
        if self.levels is not None:
            if (isinstance(self.levels, bool) or not isinstance(self.levels, (int, np.integer))
                    or not 2 <= self.levels <= MAX_LEVELS):
                raise SpecError("mapping.levels", f"is {self.levels!r}",
                                f"an integer 2..{MAX_LEVELS}, or None for analog")
            object.__setattr__(self, "levels", int(self.levels))
        for name in ("w_max", "x_max"):
            val = getattr(self, name)
            if val is not None:
                object.__setattr__(self, name, v.positive_scalar(f"mapping.{name}", val, ""))
        object.__setattr__(self, "v_read", v.positive_scalar("mapping.v_read", self.v_read, "V"))

    @property
    def g_min_s(self) -> float:
        return self.g_max_s / self.on_off

    @property
    def g_ref_s(self) -> float:
        """Reference-column conductance (window midpoint), siemens."""
        return 0.5 * (self.g_min_s + self.g_max_s)

    def columns_per_output(self) -> int:
        return 2 if self.scheme == "differential" else 1

    def outputs_per_tile(self, array_cols: int) -> int:
        """How many outputs fit on an array with ``array_cols`` physical columns."""
        n = array_cols // 2 if self.scheme == "differential" else array_cols - 1
        if n < 1:
            need = 2 if self.scheme == "differential" else "2 (one output and the reference)"
            raise SpecError("array_cols", f"is {array_cols}", f">= {need} for the {self.scheme} scheme")
        return n

    def physical_columns(self, outputs: int) -> int:
        """Physical columns used by ``outputs`` outputs (reference column included)."""
        return 2 * outputs if self.scheme == "differential" else outputs + 1

    def resolve(self, weights: np.ndarray, inputs: np.ndarray) -> "Scaling":
        """Fix ``w_max`` and ``x_max`` from the data where they were left None."""
        w_max = self.w_max or float(np.abs(weights).max()) or 1.0
        x_max = self.x_max or float(np.abs(inputs).max()) or 1.0
        return Scaling(self, w_max, x_max)


@dataclass(frozen=True)
class Scaling:
    """A mapping with its weight and input ranges fixed.

    Attributes: ``mapping``; ``w_max`` (weight units); ``x_max`` (input units).
    """

    mapping: MappingSpec
    w_max: float
    x_max: float

    @property
    def siemens_per_weight(self) -> float:
        """``k``: siemens per weight unit (see module notes)."""
        m = self.mapping
        span = m.g_max_s - m.g_min_s
        return span / self.w_max if m.scheme == "differential" else span / (2 * self.w_max)

    @property
    def volts_per_input(self) -> float:
        return self.mapping.v_read / self.x_max

    @property
    def amperes_per_output(self) -> float:
        """Column current (difference) per unit of ``y = W x``, amperes."""
        return self.siemens_per_weight * self.volts_per_input

    def level_step_weight(self) -> float | None:
        """One conductance level step in weight units (None when analog)."""
        m = self.mapping
        if m.levels is None:
            return None
        return (m.g_max_s - m.g_min_s) / (m.levels - 1) / self.siemens_per_weight

    def target_conductances(self, weights: np.ndarray) -> np.ndarray:
        """Analog targets for ``weights`` ``(outputs, inputs)`` -> ``(inputs, physical cols)`` S."""
        m = self.mapping
        w = np.clip(np.asarray(weights, float), -self.w_max, self.w_max).T  # (inputs, outputs)
        k = self.siemens_per_weight
        if m.scheme == "differential":
            g = np.empty((w.shape[0], 2 * w.shape[1]))
            g[:, 0::2] = m.g_min_s + k * np.maximum(w, 0.0)
            g[:, 1::2] = m.g_min_s + k * np.maximum(-w, 0.0)
            return np.clip(g, m.g_min_s, m.g_max_s)
        g = np.empty((w.shape[0], w.shape[1] + 1))
        g[:, :-1] = np.clip(m.g_ref_s + k * w, m.g_min_s, m.g_max_s)
        g[:, -1] = m.g_ref_s
        return g

    def weight_cells(self, n_cols: int) -> np.ndarray:
        """Mask over ``n_cols`` physical columns: True for weight cells, False for reference."""
        mask = np.ones(n_cols, dtype=bool)
        if self.mapping.scheme == "reference":
            mask[-1] = False
        return mask

    def quantise(self, g: np.ndarray) -> np.ndarray:
        """Snap weight cells (not the reference column) to the nearest level."""
        m = self.mapping
        if m.levels is None:
            return np.array(g, float)
        step = (m.g_max_s - m.g_min_s) / (m.levels - 1)
        q = m.g_min_s + np.clip(np.rint((g - m.g_min_s) / step), 0, m.levels - 1) * step
        mask = self.weight_cells(g.shape[1])
        return np.where(mask[None, :], q, g)

    def weights_from_conductances(self, g: np.ndarray) -> np.ndarray:
        """The weights a programmed array holds: ``(inputs, cols)`` S -> ``(outputs, inputs)``."""
        k = self.siemens_per_weight
        if self.mapping.scheme == "differential":
            n = 2 * (g.shape[1] // 2)  # an odd last column of an array is unused
            return ((g[:, 0:n:2] - g[:, 1:n:2]) / k).T
        return ((g[:, :-1] - g[:, -1:]) / k).T

    def outputs_from_currents(self, currents: np.ndarray) -> np.ndarray:
        """Column currents ``(reads, cols)`` A -> outputs ``(reads, outputs)`` in weight units."""
        if self.mapping.scheme == "differential":
            n = 2 * (currents.shape[1] // 2)  # an odd last column of an array is unused
            diff = currents[:, 0:n:2] - currents[:, 1:n:2]
        else:
            diff = currents[:, :-1] - currents[:, -1:]
        return diff / self.amperes_per_output

    def input_reads(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Word-line volts for every read.

        Args:
            inputs: ``(batch, n_inputs)`` in input units.
        Returns:
            volts ``(reads, n_inputs)``, the vector each read belongs to ``(reads,)``
            and its sign ``(reads,)`` (+1, or -1 for the negative phase):
            ``y[b] = sum over reads r of vector b of sign[r] * y_read[r]``.
        """
        x = np.clip(np.asarray(inputs, float), -self.x_max, self.x_max) * self.volts_per_input
        batch = x.shape[0]
        idx = np.arange(batch)
        if self.mapping.input_mode == "bipolar":
            return x, idx, np.ones(batch)
        neg = np.maximum(-x, 0.0)
        if not np.any(neg):
            return np.maximum(x, 0.0), idx, np.ones(batch)
        return (np.concatenate([np.maximum(x, 0.0), neg]), np.concatenate([idx, idx]),
                np.concatenate([np.ones(batch), -np.ones(batch)]))
