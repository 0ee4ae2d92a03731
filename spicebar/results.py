"""The result every engine returns, and its .npz form."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import SpicebarError

#: Arrays written to and read from a result file.
RESULT_ARRAYS = ("inputs", "currents", "v_wl", "v_bl", "driver_currents")

#: Per-cell maps an engine may hand over as :class:`Deferred` (computed on first access).
DEFERRABLE_ARRAYS = ("v_wl", "v_bl", "cell_currents")

#: The ``(batch, rows, cols)`` maps a result file holds only when asked (``save(maps=True)``,
#: ``spicebar simulate --maps``); the other arrays are ``(batch, rows)`` or ``(batch, cols)``.
MAP_ARRAYS = ("v_wl", "v_bl", "cell_currents")


#: Result-file keys of the energy record (``energy.delivered_j``, ...).
ENERGY_PREFIX = "energy."


class MapsNotSaved(SpicebarError, AttributeError):
    """A per-cell map was read from a result file written without maps."""


def _not_saved(result, name: str, path: str):
    raise MapsNotSaved(f"{path!r} holds no per-cell map {name!r}: it was written without maps "
                       "(write it with `spicebar simulate --maps`, or save(maps=True))")


class Deferred:
    """A per-cell map a result builds on first access: ``fn(result, *args)``.

    The maps are ``(batch, rows, cols)``: for 1,000 vectors on a 256x256 array each
    is 0.5 GB and costs more to build than the solve itself, while most callers only
    read the output currents. ``fn`` is a module-level function so results pickle.
    """

    __slots__ = ("fn", "args")

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __call__(self, result) -> np.ndarray:
        return self.fn(result, *self.args)


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
        energy: the itemised energy record (``EnergyBreakdown.to_record()``, arrays keyed by
            name; :func:`spicebar.analysis.energy_run.energy_of` reads it), or None when no
            energy was asked for. A result file keeps it under ``energy.<name>`` keys.

    An engine may pass ``v_wl``, ``v_bl`` or ``cell_currents`` as :class:`Deferred`:
    the array is then built on first access and kept (``deferred`` names those not
    built yet). The values are the same either way.
    """

    engine: str
    inputs: np.ndarray
    currents: np.ndarray
    v_wl: np.ndarray = field(repr=False)
    v_bl: np.ndarray = field(repr=False)
    driver_currents: np.ndarray = field(repr=False)
    elapsed_s: float = 0.0
    info: dict = field(default_factory=dict)
    cell_currents: np.ndarray | None = field(default=None, repr=False)
    energy: dict | None = field(default=None, repr=False)

    #: Arrays every file of this class holds, and arrays written only when present.
    SAVED_ARRAYS = RESULT_ARRAYS
    OPTIONAL_ARRAYS = ("cell_currents",)

    def __post_init__(self):
        deferred = {k: v for k in DEFERRABLE_ARRAYS
                    if isinstance(v := self.__dict__[k], Deferred)}
        for k in deferred:  # attribute lookup now falls through to __getattr__
            del self.__dict__[k]
        self.__dict__["_deferred"] = deferred

    def __getattr__(self, name: str):
        build = self.__dict__.get("_deferred", {}).get(name)
        if build is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        value = build(self)  # two threads may both build it: the same array, no error
        self.keep_built(name, value)  # and frees what only the builder needed
        return value

    def keep_built(self, name: str, value: np.ndarray) -> None:
        """Keep ``value`` as the deferred map ``name``, if it is not built yet: for a builder
        that makes two maps at once (``v_wl`` and ``v_bl`` from one solve)."""
        if name in self.deferred:
            self.__dict__[name] = value
            self.__dict__["_deferred"].pop(name, None)

    def __copy__(self) -> "SimulationResult":
        """A shallow copy with its own list of maps still to build."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__["_deferred"] = dict(self.__dict__.get("_deferred", {}))
        return new

    @property
    def deferred(self) -> tuple[str, ...]:
        """Names of the maps not built yet (built on first access)."""
        return tuple(self.__dict__.get("_deferred", ()))

    @property
    def batch(self) -> int:
        return int(self.currents.shape[0])

    def save(self, path: str | Path, maps: bool = True) -> Path:
        """Write an ``.npz`` with the arrays above plus ``engine`` and ``info`` (JSON).

        ``maps=False`` leaves out the per-cell maps (:data:`MAP_ARRAYS`, each
        ``(batch, rows, cols)``: most of the file for large batches) and does not build
        those still :class:`Deferred`; :meth:`load` then raises :class:`MapsNotSaved`
        on reading one.
        """
        from .io import atomic_output
        path = Path(path)
        skip = () if maps else MAP_ARRAYS
        arrays = {k: getattr(self, k) for k in self.SAVED_ARRAYS if k not in skip}
        arrays.update({k: getattr(self, k) for k in self.OPTIONAL_ARRAYS
                       if k not in skip and getattr(self, k) is not None})
        if self.energy is not None:
            arrays.update({f"{ENERGY_PREFIX}{k}": x for k, x in self.energy.items()})
        with atomic_output(path) as f:  # all or nothing; the name as given (no .npz added)
            np.savez(f, **arrays, engine=np.array(self.engine),
                     elapsed_s=np.array(self.elapsed_s),
                     info=np.array(json.dumps(self.info, default=str)))
        return path

    @classmethod
    def check_file(cls, data, path: str | Path) -> None:
        """Raise if the opened ``.npz`` is not a result of this class (subclasses refine)."""

    @classmethod
    def load(cls, path: str | Path) -> "SimulationResult":
        """The result in ``path`` (written by :meth:`save`); InputFileError (naming the file)
        for anything else. A readout file read as a plain ``SimulationResult`` warns that its
        transient fields are left out (``spicebar.load`` returns them all)."""
        from .errors import InputFileError
        from .io import read_npz
        data = read_npz(path, "result")
        cls.check_file(data, path)
        needed = ("engine", "elapsed_s", "info",
                  *(k for k in cls.SAVED_ARRAYS if k not in MAP_ARRAYS))
        missing = [k for k in needed if k not in data]
        if missing:
            raise InputFileError("result", f"{str(path)!r} has no {missing[0]!r} array",
                                 "a result file written by spicebar")
        try:
            info = json.loads(str(data["info"]))
            elapsed = float(data["elapsed_s"])
        except (ValueError, TypeError) as exc:
            raise InputFileError("result", f"{str(path)!r} has a damaged 'info' or "
                                 f"'elapsed_s' ({exc})", "a result file written by spicebar") from None
        if "time" in data and "time" not in cls.SAVED_ARRAYS:
            import warnings
            warnings.warn(f"{str(path)!r} holds a readout transient; {cls.__name__}.load "
                          "leaves out its waveforms, samples and codes: use "
                          "spicebar.load(path) (or TransientResult.load)", UserWarning,
                          stacklevel=2)
        arrays = {k: data[k] if k in data or k not in MAP_ARRAYS
                  else Deferred(_not_saved, k, str(path)) for k in cls.SAVED_ARRAYS}
        arrays.update({k: data[k] for k in cls.OPTIONAL_ARRAYS if k in data})
        energy = {k[len(ENERGY_PREFIX):]: data[k] for k in data if k.startswith(ENERGY_PREFIX)}
        if energy:
            arrays["energy"] = energy
        return cls(engine=str(data["engine"]), elapsed_s=elapsed, info=info, **arrays)


# The dataclass keeps each default as a class attribute too, which would answer for a
# deferred ``cell_currents`` before ``__getattr__`` is asked; ``__init__`` has its own copy.
del SimulationResult.cell_currents
