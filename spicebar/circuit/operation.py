"""Operating modes: how the lines of the array are driven, left open or gated.

A mode is a frozen spec beside the :class:`~spicebar.circuit.spec.CrossbarSpec`; it decides
which drivers and readouts exist and at what voltage, so the same array can be
simulated as a VMM engine or as a memory.

* :class:`VmmOperation`: every bit line held at 0 V by its readout; word lines
  driven by the inputs, except ``floating_rows`` (no driver at all: the line floats)
  and, for 1T1R arrays, ``gated_off_rows`` (driven, but the gate line is at
  ``vg_off_volt``). A row with input 0 V is driven at 0 V.
* :class:`ReadOperation`: single-cell read of cell ``(row, col)`` at ``v_read_volt``:
  the selected word line at ``v_read``, the selected bit line sensed at 0 V, and the
  unselected lines by ``scheme``:

  ========== ======================= ==========================
  scheme     unselected word lines   unselected bit lines
  ========== ======================= ==========================
  floating   open                    open
  v2         ``v_read / 2``          ``v_read / 2``
  v3         ``v_read / 3``          ``2 v_read / 3``
  ========== ======================= ==========================

  In a 1T1R array the unselected rows are also gated off. The column currents of
  the biased unselected bit lines are reported too; the read current is the
  selected column's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate as v
from ..errors import SpecError

MODES = ("vmm", "read")
SCHEMES = ("floating", "v2", "v3")


def _rows_tuple(name: str, value) -> tuple[int, ...]:
    items = np.atleast_1d(np.asarray(value, dtype=object)).tolist()
    if any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) for x in items):
        raise SpecError(name, f"is {value!r}", "a sequence of integer row indices")
    return tuple(sorted({int(x) for x in items}))


@dataclass(frozen=True)
class VmmOperation:
    """Vector-matrix multiply with optional floating or gated-off rows (row indices)."""

    floating_rows: tuple = ()
    gated_off_rows: tuple = ()
    mode = "vmm"

    def __post_init__(self) -> None:
        object.__setattr__(self, "floating_rows", _rows_tuple("floating_rows", self.floating_rows))
        object.__setattr__(self, "gated_off_rows", _rows_tuple("gated_off_rows", self.gated_off_rows))

    def check(self, rows: int, cols: int, cell_kind: str) -> None:
        for name in ("floating_rows", "gated_off_rows"):
            bad = [r for r in getattr(self, name) if not 0 <= r < rows]
            if bad:
                raise SpecError(name, f"has row {bad[0]}", f"0..{rows - 1}")
        if self.gated_off_rows and cell_kind not in ("1t1r", "2t2r"):
            raise SpecError("gated_off_rows", f"needs a 1T1R array (the cells are {cell_kind})",
                            "only with cell=TransistorCell(...)")
        if len(self.floating_rows) == rows:
            raise SpecError("floating_rows", "leaves every row floating", "at least one driven row")

    def floating_row_mask(self, rows: int) -> np.ndarray:
        m = np.zeros(rows, bool)
        m[list(self.floating_rows)] = True
        return m

    def gated_off_mask(self, rows: int) -> np.ndarray:
        m = np.zeros(rows, bool)
        m[list(self.gated_off_rows)] = True
        return m

    def floating_col_mask(self, cols: int) -> np.ndarray:
        return np.zeros(cols, bool)

    def col_voltages(self, cols: int) -> np.ndarray:
        return np.zeros(cols)

    def intended_inputs(self, inputs: np.ndarray) -> np.ndarray:
        """Inputs that are meant to compute: floating and gated-off rows count as 0 V."""
        out = np.array(inputs, dtype=float, copy=True)
        out[:, list(self.floating_rows) + list(self.gated_off_rows)] = 0.0
        return out

    def describe(self) -> str:
        parts = ["VMM"]
        if self.floating_rows:
            parts.append(f"{len(self.floating_rows)} floating row(s)")
        if self.gated_off_rows:
            parts.append(f"{len(self.gated_off_rows)} gated-off row(s)")
        return ", ".join(parts)


@dataclass(frozen=True)
class ReadOperation:
    """Single-cell read of ``(row, col)`` at ``v_read_volt`` with a bias scheme."""

    row: int = 0
    col: int = 0
    v_read_volt: float = 0.2
    scheme: str = "v2"
    mode = "read"

    def __post_init__(self) -> None:
        v.choice("scheme", self.scheme, SCHEMES)
        x = v.positive_scalar("v_read_volt", self.v_read_volt, "V")
        if x > 10:
            raise SpecError("v_read_volt", f"is {x!r} V", "> 0 and <= 10 V")
        object.__setattr__(self, "v_read_volt", x)
        for name in ("row", "col"):
            val = getattr(self, name)
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 0:
                raise SpecError(name, f"is {val!r}", "an index >= 0")

    def check(self, rows: int, cols: int, cell_kind: str) -> None:
        if self.row >= rows:
            raise SpecError("row", f"is {self.row}", f"0..{rows - 1}")
        if self.col >= cols:
            raise SpecError("col", f"is {self.col}", f"0..{cols - 1}")

    @property
    def _unselected(self) -> tuple[float, float]:
        vr = self.v_read_volt
        return {"floating": (np.nan, np.nan), "v2": (vr / 2, vr / 2), "v3": (vr / 3, 2 * vr / 3)}[self.scheme]

    def floating_row_mask(self, rows: int) -> np.ndarray:
        m = np.full(rows, self.scheme == "floating")
        m[self.row] = False
        return m

    def gated_off_mask(self, rows: int) -> np.ndarray:
        m = np.ones(rows, bool)
        m[self.row] = False
        return m

    def floating_col_mask(self, cols: int) -> np.ndarray:
        m = np.full(cols, self.scheme == "floating")
        m[self.col] = False
        return m

    def col_voltages(self, cols: int) -> np.ndarray:
        out = np.full(cols, 0.0 if self.scheme == "floating" else self._unselected[1])
        out[self.col] = 0.0
        return out

    def row_voltages(self, rows: int) -> np.ndarray:
        """Driver voltages, shape ``(1, rows)`` volts (floating rows: 0, unused)."""
        out = np.full(rows, 0.0 if self.scheme == "floating" else self._unselected[0])
        out[self.row] = self.v_read_volt
        return out[None, :]

    def intended_inputs(self, inputs: np.ndarray) -> np.ndarray:
        out = np.zeros_like(inputs, dtype=float)
        out[:, self.row] = self.v_read_volt
        return out

    def describe(self) -> str:
        return f"read of cell ({self.row}, {self.col}) at {self.v_read_volt:g} V, {self.scheme} scheme"


Operation = VmmOperation | ReadOperation
