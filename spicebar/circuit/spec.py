"""The crossbar specification: a frozen, validated description of one array.

Conventions (see README, "Circuit conventions"):

* ``conductances`` has shape ``(rows, cols)`` in siemens: row ``i`` is word line
  ``i`` (0 at the top), column ``j`` is bit line ``j`` (0 at the left).
* Word lines are driven by ideal voltage sources (optionally through ``r_driver``)
  at the left end by default; bit lines are read at the bottom end by a readout
  that holds them at 0 V (optionally through ``r_sense``).
* ``r_wl`` / ``r_bl`` are wire segment resistances in ohms: a scalar for every
  segment, or one value per segment. Word line ``i`` has ``cols + 1`` segment
  slots: slot ``k`` lies to the LEFT of cell ``(i, k)``, slot ``cols`` right of
  the last cell. Bit line ``j`` has ``rows + 1`` slots: slot ``k`` lies ABOVE cell
  ``(k, j)``, slot ``rows`` below the last cell. End slots are used only where that
  end is driven or read; an undriven end is open.
* A resistance of exactly 0 is an ideal wire: its two nodes are merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

import numpy as np

from .. import _validate as v
from .cells import Cell, PassiveCell, validate_cell
from ..errors import SpecError
from . import bounds
from .readout import validate_readout

DRIVE_SIDES = ("left", "right", "both")
SENSE_SIDES = ("bottom", "top", "both")

# Arrays above this many cells are refused before anything is built: the nodal
# system alone would need tens of GB. Issue-level size guards refine this.
MAX_CELLS = 2048 * 2048

Resistance = Union[float, np.ndarray]


WIRES = "r_wl, r_bl, r_driver, r_sense"


def _wire(name: str, value, shape: tuple[int, int]) -> float | np.ndarray:
    if np.ndim(value) == 0:
        return bounds.check(name, v.nonnegative_scalar(name, value, "ohm"), WIRES)
    arr = v.real_array(name, value, 2)
    if arr.shape != shape:
        raise SpecError(name, f"has shape {arr.shape}",
                        f"a scalar or one value per segment, shape {shape}")
    if np.any(arr < 0):
        bad = tuple(int(b) for b in np.argwhere(arr < 0)[0])
        raise SpecError(name, f"has {float(arr[bad])!r} ohm at index {bad}", ">= 0 ohm")
    bounds.check_array(name, arr, WIRES)
    return v.frozen(arr)


@dataclass(frozen=True, eq=False)
class CrossbarSpec:
    """A passive crossbar with wire parasitics.

    Attributes:
        conductances: cell conductances, shape ``(rows, cols)``, siemens, > 0.
        r_wl: word-line segment resistance, ohm, >= 0 (scalar or ``(rows, cols+1)``).
        r_bl: bit-line segment resistance, ohm, >= 0 (scalar or ``(rows+1, cols)``).
        r_driver: output resistance of each word-line driver, ohm, >= 0.
        r_sense: input resistance of each bit-line readout, ohm, >= 0.
        drive: which end of the word lines is driven: ``left``, ``right`` or ``both``.
        sense: which end of the bit lines is read: ``bottom``, ``top`` or ``both``.
        cell: the cell kind (:mod:`spicebar.circuit.cells`); default passive linear.
        label: free text for netlist headers and reports (safe characters only, <= 80).
        readout: None (ideal virtual ground, the default) or a time-domain readout from
            :mod:`spicebar.circuit.readout` (``IntegratorSpec``, ``TIASpec``), used by
            :func:`spicebar.engines.transient.run.simulate_readout`; DC engines ignore it.
        temperature_k: the array's temperature, kelvin, 150..500; default 300.15 K (27 C,
            ngspice's default, where results are as without temperature). It reaches the
            wires, the memory elements, transistors and user devices (``.temp``) and thermal
            noise; see :mod:`spicebar.circuit.temperature`.
        wire_geometry: a :class:`~spicebar.circuit.wires.WireGeometry` (pitch, metal width and
            thickness, capacitance per length) from which the segment ohms and farads are
            derived; ``r_wl``/``r_bl`` must then be left at 0 (the other way in).
        wire_tcr_per_k: temperature coefficient of the given ``r_wl``/``r_bl`` (which hold
            at 300.15 K), 1/K; default bulk copper, 3.9e-3. Unused with a geometry.
        cell_tcr_per_k: temperature coefficient of the memory element's resistance, 1/K
            (``R(T) = R (1 + a (T - 300.15 K))``, ``G`` holds at 300.15 K); default 0.
    """

    conductances: np.ndarray
    r_wl: Resistance = 0.0
    r_bl: Resistance = 0.0
    r_driver: float = 0.0
    r_sense: float = 0.0
    drive: Literal["left", "right", "both"] = "left"
    sense: Literal["bottom", "top", "both"] = "bottom"
    cell: Cell = PassiveCell()
    label: str = ""
    readout: object = None
    temperature_k: float = 300.15
    wire_geometry: object = None
    wire_tcr_per_k: float = 3.9e-3
    cell_tcr_per_k: float = 0.0

    def __post_init__(self) -> None:
        shape = np.shape(self.conductances) if isinstance(self.conductances, np.ndarray) else ()
        if len(shape) == 2 and shape[0] * shape[1] > MAX_CELLS:  # before any copy is made
            raise SpecError("conductances", f"has {shape[0]}x{shape[1]} = {shape[0] * shape[1]} "
                            "cells", f"at most {MAX_CELLS} cells")
        g = v.positive_array("conductances", self.conductances, 2, "S")
        if g.size > MAX_CELLS:
            raise SpecError("conductances", f"has {g.shape[0]}x{g.shape[1]} = {g.size} cells",
                            f"at most {MAX_CELLS} cells")
        bounds.check_array("conductances", g, "conductances")
        rows, cols = g.shape
        object.__setattr__(self, "conductances", v.frozen(g))
        object.__setattr__(self, "r_wl", _wire("r_wl", self.r_wl, (rows, cols + 1)))
        object.__setattr__(self, "r_bl", _wire("r_bl", self.r_bl, (rows + 1, cols)))
        object.__setattr__(self, "r_driver", bounds.check(
            "r_driver", v.nonnegative_scalar("r_driver", self.r_driver, "ohm"), WIRES))
        object.__setattr__(self, "r_sense", bounds.check(
            "r_sense", v.nonnegative_scalar("r_sense", self.r_sense, "ohm"), WIRES))
        bounds.check_g_times_r(float(g.max()), (self.r_wl, self.r_bl, self.r_driver, self.r_sense))
        v.choice("drive", self.drive, DRIVE_SIDES)
        v.choice("sense", self.sense, SENSE_SIDES)
        validate_cell(self.cell)
        if hasattr(self.cell, "check_conductances"):  # 2T2R: pairs of columns
            self.cell.check_conductances(g)
        v.safe_label("label", self.label)
        validate_readout(self.readout)
        from .wires import check_environment
        check_environment(self)

    @property
    def rows(self) -> int:
        return int(self.conductances.shape[0])

    @property
    def cols(self) -> int:
        return int(self.conductances.shape[1])

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.cols)

    def wl_segments(self) -> np.ndarray:
        """Word-line segment resistances at the spec's temperature (from its geometry, if
        any), shape ``(rows, cols + 1)``, ohm."""
        from .temperature import at_temperature
        r = at_temperature(self).r_wl
        return np.broadcast_to(np.asarray(r, dtype=float), (self.rows, self.cols + 1))

    def bl_segments(self) -> np.ndarray:
        """Bit-line segment resistances at the spec's temperature (from its geometry, if
        any), shape ``(rows + 1, cols)``, ohm."""
        from .temperature import at_temperature
        r = at_temperature(self).r_bl
        return np.broadcast_to(np.asarray(r, dtype=float), (self.rows + 1, self.cols))

    def describe(self) -> str:
        """One line: size, wires and ends, for netlist headers and reports."""
        def r(x):
            return f"{x:g}" if np.ndim(x) == 0 else "per-segment"
        kind = "passive crossbar" if isinstance(self.cell, PassiveCell) else \
            f"crossbar of {self.cell.describe()}"
        head = f"{self.label}: " if self.label else ""
        r_wl, r_bl = r(self.r_wl), r(self.r_bl)
        if self.wire_geometry is not None:  # the ohms the geometry gives at the temperature
            r_wl = r_bl = f"{self.wire_geometry.segment_ohm(self.temperature_k):.6g}"
        return (f"{head}{self.rows}x{self.cols} {kind}, r_wl={r_wl} ohm, "
                f"r_bl={r_bl} ohm, r_driver={self.r_driver:g} ohm, "
                f"r_sense={self.r_sense:g} ohm, drive={self.drive}, sense={self.sense}"
                + self._describe_environment())

    def _describe_environment(self) -> str:
        """The temperature and wire geometry, where not the defaults ('' otherwise)."""
        out = "" if self.temperature_k == 300.15 else f", {self.temperature_k:g} K"
        if self.wire_geometry is not None:
            out += f", wires: {self.wire_geometry.describe(self.temperature_k)}"
        return out


def validate_inputs(inputs, rows: int, name: str = "inputs") -> np.ndarray:
    """Word-line input voltages as a float array of shape ``(batch, rows)``, volts.

    Accepts ``(rows,)`` for a single vector.
    """
    arr = v.real_array(name, inputs, (1, 2))
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.shape[1] != rows:
        raise SpecError(name, f"has shape {arr.shape}: {arr.shape[1]} values per vector "
                        f"but the array has {rows} rows", f"shape (batch, {rows}) or ({rows},)")
    bounds.check_array(name, arr, "inputs")
    return arr


def check_cell_voltages(spec: "CrossbarSpec", volts: np.ndarray, name: str = "inputs") -> None:
    """For sinh cells (nonlinear, 1S1R): ``max|V| / V_s`` within its bound, since no cell in
    a passive network sees more than the largest driver voltage."""
    scale = getattr(spec.cell, "v0_volt", None) or getattr(spec.cell, "v_s_volt", None)
    if scale is None or np.size(volts) == 0:
        return
    worst = float(np.abs(volts).max())
    key = "inputs / V_s (sinh cells)"
    if worst / scale > bounds.BOUNDS[key].hi:
        raise SpecError(name, f"reach {worst:g} V, {worst / scale:.3g} times the cells' voltage "
                        f"scale V_s = {scale:g} V", f"|V| <= {bounds.BOUNDS[key].hi:g} V_s = "
                        f"{bounds.BOUNDS[key].hi * scale:g} V ({bounds.BOUNDS[key].why})")
