"""Device characterisation: the tables by which the nodal engine follows a device that
has no closed form in spicebar, measured in ngspice (the edge where it runs).

* A user device (:class:`~spicebar.circuit.devices.DeviceCell`): one DC sweep of its
  terminal voltage over ``[-R, R]`` (:data:`POINTS_1D` points), every distinct value of
  its cell parameter side by side in one netlist, each behind its own 0 V sense source.
* A MOSFET whose card is not level 1 (the BSIM4 1T1R), or a user device with a gate
  terminal: a 2-D DC sweep of its two other terminals' voltages (:data:`POINTS_2D` per
  axis) at each distinct (gate voltage, parameters), bulk at ground; the currents into
  both terminals are read.

``R`` and the 2-D range come from the fixed voltages of the circuit (inputs, readout
bias, ground; every node voltage lies between them), rounded up on :data:`RANGE_LADDER`, so that nearby inputs share one
table. Tables are cached on disk by the content hash of everything they depend on
(device file, parameters, card, grid): a second run reads them back.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..circuit.devices import cache_dir, content_hash
from ..circuit.ir import DEVICE, NMOS, CircuitIR, ElementGroup
from ..errors import SimulationError, SimulatorSetupError, SpecError
from ..io import atomic_output
from ..netlist.cards import comment_text
from ..netlist.writer import FORMATTERS, NGSPICE_OPTIONS, group_model_cards
from .nodal.stamps import mos_is_level1
from .nodal.tables import Level1StandIn, Table1D, Table2D
from .ngspice.engine import DEFAULT_TIMEOUT_S, run_folder, run_worker

#: Grid sizes: 1-D (odd, so every other point is a grid of its own for the error estimate)
#: and per axis of the 2-D grid.
POINTS_1D = 1001
POINTS_2D = 121
#: Voltage bounds of the tables are rounded up to one of these (volts).
RANGE_LADDER = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0,
                30.0, 50.0, 75.0, 100.0)
#: At most this many distinct parameter sets per device (one table each).
MAX_TABLES = 4096
#: Version of the table format and measurement: part of every cache key.
TABLE_VERSION = "1"


class ApproximationWarning(UserWarning):
    """A device was replaced by an approximation (only with ``allow_approximate_cells``)."""


def needs_tables(ir: CircuitIR) -> bool:
    """Whether the nodal engine needs measured tables for ``ir``."""
    return any(g.kind == DEVICE or (g.kind == NMOS and not mos_is_level1(g)) for g in ir.devices)


def _ladder(x: float) -> float:
    for r in RANGE_LADDER:
        if r >= x:  # every node lies between the held voltages: the grid covers them
            return r
    raise SpecError("inputs", f"reach {x:g} V", f"at most {RANGE_LADDER[-1]:g} V for "
                    "devices followed by a table")


def voltage_span(ir: CircuitIR, inputs: np.ndarray) -> tuple[float, float]:
    """Lowest and highest voltage held by a driver or a readout (and ground), volts."""
    held = np.concatenate([np.ravel(inputs), ir.senses.value, [0.0]])
    return float(held.min()), float(held.max())


def characterise(ir: CircuitIR, inputs: np.ndarray, *, allow_approximate_cells: bool = False,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> CircuitIR:
    """``ir`` with a table on every device that needs one (see the module docstring).

    Args:
        inputs: ``(batch, rows)`` volts, the voltages the tables must cover.
        allow_approximate_cells: where a MOSFET card cannot be measured (ngspice fails),
            stand in with the level-1 card and warn (:class:`ApproximationWarning`);
            otherwise the failure is raised. User devices have no stand-in.
    """
    if not needs_tables(ir):
        return ir
    lo, hi = voltage_span(ir, inputs)
    devices = []
    for g in ir.devices:
        if g.table is not None:
            pass  # measured already
        elif g.kind == DEVICE and g.node_g is not None:
            g = replace(g, table=gated_table(g, _gate_voltages(ir, g), -_ladder(-lo), _ladder(hi),
                                             timeout_s))
        elif g.kind == DEVICE:
            r = _ladder(hi - lo)
            g = replace(g, table=device_table(g, -r, r, timeout_s))
        elif g.kind == NMOS and not mos_is_level1(g):
            g = replace(g, table=_mos_or_stand_in(ir, g, -_ladder(-lo), _ladder(hi), timeout_s,
                                                  allow_approximate_cells))
        devices.append(g)
    return replace(ir, devices=tuple(devices))


def _mos_or_stand_in(ir, g, lo, hi, timeout_s, allow):
    try:
        return mos_table(g, _gate_voltages(ir, g), lo, hi, timeout_s)
    except (SimulatorSetupError, SimulationError) as exc:
        if not allow:
            raise
        from ..circuit.iv_models import MODELS_DIR
        card = str(MODELS_DIR / "nmos_level1.lib")
        warnings.warn(f"nodal engine: the MOSFET card {Path(str(g.model)).name} could not be "
                      f"measured ({exc}); it is REPLACED by the level-1 card {card} "
                      "(allow_approximate_cells)", ApproximationWarning, stacklevel=3)
        return Level1StandIn(card)


def _gate_voltages(ir: CircuitIR, g: ElementGroup) -> np.ndarray:
    held = {} if ir.gates is None else dict(zip(ir.gates.node_p.tolist(), ir.gates.value.tolist()))
    if not all(n in held for n in g.node_g.tolist()):
        raise SpecError("cell", "a MOSFET gate is not held by a source",
                        "gates on the 1T1R gate lines")
    return np.array([held[n] for n in g.node_g.tolist()])


def _cache_file(kind: str, key: str) -> Path:
    return cache_dir() / "tables" / f"{kind}-{key}.npz"


def _save(path: Path, **arrays) -> None:
    with atomic_output(path) as f:
        np.savez(f, **arrays)


def _run_sweep(lines: list[str], read: list[str], timeout_s: float) -> np.ndarray:
    """Run a ``.dc`` netlist; the read vectors, shape ``(len(read), n_points)``."""
    with run_folder(None) as wd:
        netlist = wd / "characterise.cir"
        netlist.write_text("\n".join(lines) + "\n")
        job = {"analysis": "dc", "netlist": str(netlist), "read": read,
               "result": str(wd / "result.npy"), "status": str(wd / "status.json")}
        values, _ = run_worker(job, wd, timeout_s)
    return values


def _options() -> str:
    return ".options klu " + " ".join(f"{k}={v}" for k, v in NGSPICE_OPTIONS.items())


def _temp(g: ElementGroup) -> list[str]:
    """``.temp`` of a group measured at another temperature than 27 C (none otherwise)."""
    from ..circuit.temperature import temp_cards
    return [] if g.temperature_k is None else temp_cards(g.temperature_k)


def _at(g: ElementGroup) -> str:
    return "" if g.temperature_k is None else f" at {g.temperature_k:g} K"


def _hot(g: ElementGroup) -> tuple:
    """The cache-key part of the temperature (nothing at 27 C: old tables stay valid)."""
    return () if g.temperature_k is None else (f"T={g.temperature_k!r}",)


def _grid_of(measured: np.ndarray, grid: np.ndarray, what: str) -> None:
    if measured.size < grid.size or np.abs(measured[:grid.size] - grid).max() > 1e-9 * (
            1 + np.abs(grid).max()):
        raise SimulationError(f"ngspice's {what} sweep did not land on the planned grid")


def device_table(g: ElementGroup, lo: float, hi: float,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> Table1D:
    """The 1-D table of a user-device group over ``[lo, hi]`` volts (cached)."""
    cell = g.model
    unique, which = np.unique(np.asarray(g.value, float) + 0.0, return_inverse=True)
    if unique.size > MAX_TABLES:
        raise SpecError("conductances", f"hold {unique.size} distinct values of the device "
                        f"parameter {cell.cell_param}", f"at most {MAX_TABLES} (one measured "
                        "table each): quantise G, or use the ngspice engine")
    grid = np.linspace(lo, hi, POINTS_1D)
    key = content_hash(TABLE_VERSION, cell.source_hash, cell.name, repr(cell.params),
                       cell.cell_param, unique.tobytes(), grid.tobytes(), *_hot(g))
    path = _cache_file("device", key)
    where = f"{POINTS_1D}-point ngspice DC sweep over [{lo:g}, {hi:g}] V, {unique.size} parameter set(s){_at(g)}"
    if path.is_file():
        with np.load(path) as data:
            return Table1D(data["v"], data["current"], which.ravel(), f"{where}; cached {path}")
    if cell.is_va:
        from .ngspice.openvaf import compile_va
        compile_va(cell.path)
    t = unique.size
    probe = replace(g, prefix=g.prefix, labels=np.arange(t), node_p=np.arange(2, 2 + t),
                    node_n=np.zeros(t, int), value=unique, table=None)
    names = np.array(["0", "a", *(f"t_{k}" for k in range(t))], dtype=object)
    lines = [f"* spicebar: characterisation of {cell.describe()}", _options(), *_temp(g),
             *group_model_cards([probe]), "vsweep a 0 dc 0",
             *(f"vm_{k} a t_{k} dc 0" for k in range(t)),
             *FORMATTERS[DEVICE](probe, names, unique),
             f".dc vsweep {lo!r} {hi!r} {(hi - lo) / (POINTS_1D - 1)!r}", ".end"]
    values = _run_sweep(lines, ["a", *(f"vm_{k}#branch" for k in range(t))], timeout_s)
    _grid_of(values[0], grid, "device")
    current = values[1:, :grid.size].T.copy()
    _save(path, v=grid, current=current)
    return Table1D(grid, current, which.ravel(), f"{where}; cached {path}")


def mos_table(g: ElementGroup, vg: np.ndarray, lo: float, hi: float,
              timeout_s: float = DEFAULT_TIMEOUT_S) -> Table2D:
    """The 2-D table of an NMOS group (see :func:`gated_table`)."""
    return gated_table(g, vg, lo, hi, timeout_s)


def gated_table(g: ElementGroup, vg: np.ndarray, lo: float, hi: float,
                timeout_s: float = DEFAULT_TIMEOUT_S) -> Table2D:
    """The 2-D table over ``(V_p, V_n)`` in ``[lo, hi]^2`` volts of a gated group (an NMOS:
    drain, source, bulk at ground; a user device with a gate terminal) at the gate
    voltages ``vg`` (one per element), per distinct (gate voltage, parameters) (cached)."""
    mos = g.kind == NMOS
    second = g.param if mos else np.zeros(len(g))
    sets = np.stack([vg, g.value, second], 1)
    unique, which = np.unique(sets, axis=0, return_inverse=True)
    grid = np.linspace(lo, hi, POINTS_2D)
    if mos:
        what = f"the MOSFET card {comment_text(Path(str(g.model)).name)}"
        key_of = getattr(g.model, "content_key", None)  # a PDK transistor: its files
        source = (key_of() if key_of else Path(str(g.model)).read_bytes(),)
    else:
        cell = g.model
        what = cell.describe()
        source = (cell.source_hash, cell.name, repr(cell.params), cell.cell_param)
        if cell.is_va:
            from .ngspice.openvaf import compile_va
            compile_va(cell.path)
    key = content_hash(TABLE_VERSION, g.kind, *source, unique.tobytes(), grid.tobytes(), *_hot(g))
    path = _cache_file("mos" if mos else "gated", key)
    where = (f"{POINTS_2D}x{POINTS_2D}-point ngspice DC sweep of V_p, V_n over [{lo:g}, {hi:g}] V, "
             f"{len(unique)} (V_g, parameters) set(s){_at(g)}")
    if path.is_file():
        with np.load(path) as data:
            return Table2D(grid, grid, data["i_drain"], data["i_source"], which.ravel(),
                           f"{where}; cached {path}")
    t = len(unique)
    probe = replace(g, prefix=g.prefix, labels=np.arange(t), node_p=np.arange(4, 4 + t),
                    node_n=np.arange(4 + t, 4 + 2 * t), node_g=np.arange(4 + 2 * t, 4 + 3 * t),
                    value=unique[:, 1], param=unique[:, 2] if mos else None, table=None)
    names = np.array(["0", "d", "s", "unused", *(f"d_{k}" for k in range(t)),
                      *(f"s_{k}" for k in range(t)), *(f"g_{k}" for k in range(t))], dtype=object)
    step = (hi - lo) / (POINTS_2D - 1)
    lines = [f"* spicebar: characterisation of {what}",
             _options(), *_temp(g), *group_model_cards([probe]), "vd d 0 dc 0", "vsrc s 0 dc 0",
             *(f"vg_{k} g_{k} 0 dc {float(unique[k, 0])!r}" for k in range(t)),
             *(f"vmd_{k} d d_{k} dc 0" for k in range(t)),
             *(f"vms_{k} s s_{k} dc 0" for k in range(t)),
             *FORMATTERS[g.kind](probe, names, probe.value),
             f".dc vd {lo!r} {hi!r} {step!r} vsrc {lo!r} {hi!r} {step!r}", ".end"]
    read = ["d", "s", *(f"vmd_{k}#branch" for k in range(t)), *(f"vms_{k}#branch" for k in range(t))]
    values = _run_sweep(lines, read, timeout_s)
    n = POINTS_2D
    if values.shape[1] < n * n:
        raise SimulationError(f"ngspice's 2-D sweep gave {values.shape[1]} points, not {n * n}")
    values = values[:, :n * n]
    # the first source (vd) is the inner loop: index [vs, vd]
    _grid_of(values[0, :n], grid, "first terminal")
    _grid_of(values[1, ::n], grid, "second terminal")
    i_drain = values[2:2 + t].reshape(t, n, n).transpose(0, 2, 1).copy()
    i_source = values[2 + t:].reshape(t, n, n).transpose(0, 2, 1).copy()
    _save(path, i_drain=i_drain, i_source=i_source)
    return Table2D(grid, grid, i_drain, i_source, which.ravel(), f"{where}; cached {path}")


def tables_info(ir: CircuitIR) -> dict:
    """``info["device_tables"]`` of an IR with tables (empty without)."""
    return {(g.prefix if isinstance(g.prefix, str) else g.kind): g.table.describe()
            for g in ir.devices if g.table is not None}


__all__ = ["characterise", "needs_tables", "device_table", "mos_table", "gated_table", "tables_info",
           "ApproximationWarning", "POINTS_1D", "POINTS_2D", "MAX_TABLES"]
