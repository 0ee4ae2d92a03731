"""The result every engine returns, and its .npz form."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Arrays written to and read from a result file.
RESULT_ARRAYS = ("inputs", "currents", "v_wl", "v_bl", "driver_currents")


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """Output of one engine for a batch of input vectors.

    Attributes:
        engine: ``ideal``, ``nodal`` or ``ngspice``.
        inputs: shape ``(batch, rows)``, volts.
        currents: shape ``(batch, cols)``, amperes into the readout (positive for
            positive inputs).
        v_wl: shape ``(batch, rows, cols)``, volts at each cell's word-line node.
        v_bl: shape ``(batch, rows, cols)``, volts at each cell's bit-line node.
        driver_currents: shape ``(batch, rows)``, amperes each word line's drivers deliver.
        elapsed_s: wall time of the engine, seconds.
        info: engine details (solver, residual, ngspice version, netlist path), JSON-able.
        cell_currents: shape ``(batch, rows, cols)``, amperes each cell delivers into its
            bit-line node (from the node voltages and the cell's I-V), or None.
    """

    engine: str
    inputs: np.ndarray
    currents: np.ndarray
    v_wl: np.ndarray
    v_bl: np.ndarray
    driver_currents: np.ndarray
    elapsed_s: float = 0.0
    info: dict = field(default_factory=dict)
    cell_currents: np.ndarray | None = None

    #: Arrays every file of this class holds, and arrays written only when present.
    SAVED_ARRAYS = RESULT_ARRAYS
    OPTIONAL_ARRAYS = ("cell_currents",)

    @property
    def batch(self) -> int:
        return int(self.currents.shape[0])

    def save(self, path: str | Path) -> Path:
        """Write an ``.npz`` with the arrays above plus ``engine`` and ``info`` (JSON)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {k: getattr(self, k) for k in self.SAVED_ARRAYS}
        arrays.update({k: getattr(self, k) for k in self.OPTIONAL_ARRAYS
                       if getattr(self, k) is not None})
        np.savez(path, **arrays, engine=np.array(self.engine),
                 elapsed_s=np.array(self.elapsed_s),
                 info=np.array(json.dumps(self.info, default=str)))
        return path

    @classmethod
    def check_file(cls, data, path: str | Path) -> None:
        """Raise if the opened ``.npz`` is not a result of this class (subclasses refine)."""

    @classmethod
    def load(cls, path: str | Path) -> "SimulationResult":
        with np.load(path, allow_pickle=False) as data:
            cls.check_file(data, path)
            arrays = {k: np.asarray(data[k]) for k in cls.SAVED_ARRAYS}
            arrays.update({k: np.asarray(data[k]) for k in cls.OPTIONAL_ARRAYS
                           if k in data.files})
            return cls(engine=str(data["engine"]), elapsed_s=float(data["elapsed_s"]),
                       info=json.loads(str(data["info"])), **arrays)
