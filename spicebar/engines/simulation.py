"""One entry point for every engine: ``simulate(spec, inputs, engine=...)``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._validate import choice, time_limit_s
from ..circuit.elaboration import elaborate
from ..errors import SpecError
from ..circuit.ir import CircuitIR
from .memory import MemoryGuard, check_memory
from ..results import SimulationResult
from ..circuit.spec import CrossbarSpec, check_cell_voltages, validate_inputs
from .ngspice.limits import DEFAULT_TIMEOUT_S

ENGINES = ("ideal", "nodal", "ngspice")


def simulate(spec: CrossbarSpec, inputs, engine: str = "nodal", *,
             ir: CircuitIR | None = None, workdir: str | Path | None = None,
             timeout_s: float = DEFAULT_TIMEOUT_S, keep_files: bool = False,
             memory_limit_bytes: int | None = None, operation=None,
             solver: str = "auto", session=None,
             allow_approximate_cells: bool = False) -> SimulationResult:
    """Simulate ``spec`` for ``inputs`` (``(batch, rows)`` or ``(rows,)`` volts).

    Args:
        engine: ``ideal`` (V @ G), ``nodal`` (exact sparse solve) or ``ngspice``.
        ir: a ready elaboration of ``spec`` (saves elaborating twice).
        workdir: ngspice only: where the netlist and run files go (kept).
        timeout_s: ngspice only: wall-time limit of the simulator process, seconds.
        keep_files: ngspice only: keep the temporary work directory after success.
        memory_limit_bytes: refuse (ResourceError) a run whose estimated peak memory
            exceeds this; default 80 % of the memory available now.
        session: ngspice only: an ``NgspiceSession`` whose worker process is reused
            (no start-up per call); default a fresh process per call.
        operation: a :mod:`spicebar.circuit.operation` mode (default plain VMM). A
            ``ReadOperation`` sets the word-line voltages itself: pass ``inputs=None``.
            The ideal engine gets the intended inputs only (floating, gated-off and
            unselected rows at 0 V; for a read, the selected column only).
        solver: nodal only: ``auto`` (the line solver from 128x128 cells on), ``direct``
            (sparse LU) or ``iterative`` (line-preconditioned conjugate gradients); see
            :mod:`spicebar.engines.nodal.solvers`.
        allow_approximate_cells: where a cell cannot be followed exactly nor by a table
            measured in ngspice, permit a stand-in (with a warning naming it); default: refuse.

    Cells with no closed form in spicebar (user devices, MOSFET cards other than level 1)
    are measured in ngspice first (:mod:`spicebar.engines.characterise`, cached); the nodal
    engine follows their tables, and ``info["device_tables"]`` reports the interpolation
    error. The ideal engine uses the measured small-signal conductance of user devices.
    """
    from ..circuit.temperature import at_temperature, wires_info
    wires = wires_info(spec)  # the ohms and farads derived from geometry and temperature
    result = _simulate(at_temperature(spec), inputs, engine, ir=ir, workdir=workdir,
                       timeout_s=timeout_s, keep_files=keep_files,
                       memory_limit_bytes=memory_limit_bytes, operation=operation, solver=solver,
                       session=session, allow_approximate_cells=allow_approximate_cells)
    if wires is not None:
        result.info["wires"] = wires
    return result


def _simulate(spec, inputs, engine, *, ir, workdir, timeout_s, keep_files, memory_limit_bytes,
              operation, solver, session, allow_approximate_cells) -> SimulationResult:
    """:func:`simulate` of a spec already at its temperature."""
    choice("engine", engine, ENGINES)
    choice("solver", solver, ("auto", "direct", "iterative"))
    timeout_s = time_limit_s("timeout_s", timeout_s)
    if workdir is not None:
        from .ngspice.engine import check_workdir
        check_workdir(workdir)
    if session is not None:
        from .ngspice.session import NgspiceSession
        if not isinstance(session, NgspiceSession):
            raise SpecError("session", f"is {type(session).__name__}", "an NgspiceSession or None")
        if session.closed:
            raise SpecError("session", "is closed", "an open NgspiceSession (or None)")
    memory = MemoryGuard.resolve(memory_limit_bytes)  # once per call; a bad limit is named here
    v = operation_inputs(spec, inputs, operation)
    if engine == "ngspice":  # before the elaboration, which takes seconds at this size
        from .ngspice.engine import check_ngspice_size
        check_ngspice_size(spec.rows, spec.cols, v.shape[0], memory)  # index limit and memory
    if engine == "ideal":  # the nodal solver that runs checks its own estimate
        check_memory(spec.rows, spec.cols, v.shape[0], engine, memory)
    if _measured_cells(spec, engine):
        from .characterise import characterise
        ir = characterise(ir if ir is not None else elaborate(spec, operation), v,
                          allow_approximate_cells=allow_approximate_cells, timeout_s=timeout_s)
        if engine == "ideal":
            return _ideal_measured(spec, v, operation, ir)
    if engine == "ideal":
        return solve_ideal_for(spec, v, operation)
    if engine == "nodal":
        from .nodal.solvers import solve_nodal_spec
        return solve_nodal_spec(spec, v, solver, ir=ir, operation=operation, memory=memory)
    ir = ir if ir is not None else elaborate(spec, operation)
    from .ngspice.engine import solve_ngspice
    result = solve_ngspice(ir, v, workdir=workdir, timeout_s=timeout_s, keep_files=keep_files,
                           session=session, memory=memory, _checked=True)
    if any(g.table is not None for g in ir.devices):
        from .characterise import tables_info
        result.info["device_tables"] = tables_info(ir)  # the cell currents' I-V
    return result


def _measured_cells(spec: CrossbarSpec, engine: str) -> bool:
    """Whether ``engine`` needs the cells measured: user devices (every engine: the cell
    currents and the ideal reference use the table), other MOSFET cards (nodal)."""
    from ..circuit.cells import DeviceCell, TransistorCell
    if isinstance(spec.cell, DeviceCell):
        return True
    return engine == "nodal" and isinstance(spec.cell, TransistorCell) and spec.cell.level != 1


def _ideal_measured(spec: CrossbarSpec, v: np.ndarray, operation, ir: CircuitIR) -> SimulationResult:
    """The ideal engine for user devices: ``V @ G_ss`` (see :func:`small_signal_conductances`)."""
    from dataclasses import replace
    linear = replace(spec, conductances=small_signal_conductances(spec, ir))
    r = solve_ideal_for(linear, v, operation)
    r.info["model"] = ("I = V @ G_ss, G_ss the small-signal conductance at 0 V of each cell, "
                       "measured in ngspice (device table)")
    return r


def small_signal_conductances(spec: CrossbarSpec, ir: CircuitIR) -> np.ndarray:
    """``G_ss`` ``(rows, cols)`` S of user devices from the measured tables of ``ir``: each
    cell's small-signal conductance at 0 V (the device parameter ``G[i, j]`` need not be a
    conductance: a gap in metres, a state in 0..1); a selector and a memory device in series
    combine as ``1 / (1/g_sel + 1/g_mem)``."""
    from ..circuit.ir import DEVICE
    resistance = np.zeros((spec.rows, spec.cols))
    for g in ir.devices:
        if g.kind == DEVICE:
            with np.errstate(divide="ignore"):
                resistance[g.labels[:, 0], g.labels[:, 1]] += 1.0 / g.table.small_signal_conductance()
    with np.errstate(divide="ignore"):
        gss = 1.0 / resistance
    if not np.all(gss > 0):
        raise SpecError("cell", "has a cell whose measured small-signal conductance at 0 V is "
                        f"{gss.min():g} S", "devices that conduct at 0 V (the ideal reference "
                        "is V @ G_ss)")
    return gss


def ideal_conductances(spec: CrossbarSpec, inputs=None, operation=None,
                       ir: CircuitIR | None = None,
                       timeout_s: float = DEFAULT_TIMEOUT_S) -> np.ndarray:
    """The one notion of the ideal array: ``G_ss`` ``(rows, cols)`` S, so that the ideal
    answer is ``V @ G_ss`` for any cell.

    Built-in cells: ``spec.conductances`` (their nominal, small-signal conductance). User
    devices: each cell's measured small-signal conductance at 0 V
    (:func:`small_signal_conductances`; the tables are measured in ngspice once and cached,
    over the voltages of ``inputs``). The ideal engine, the full scale, the column-current
    decomposition, the model scorer and the readout's ``ideal_currents`` all use it.
    """
    from ..circuit.cells import DeviceCell
    if not isinstance(spec.cell, DeviceCell):
        return spec.conductances
    if ir is None or not all(g.table is not None for g in ir.devices):
        from .characterise import characterise
        v = np.ones((1, spec.rows)) if inputs is None else operation_inputs(spec, inputs, operation)
        ir = characterise(ir if ir is not None else elaborate(spec, operation), v,
                          timeout_s=timeout_s)
    return small_signal_conductances(spec, ir)


def solve_ideal_for(spec: CrossbarSpec, v: np.ndarray, operation) -> SimulationResult:
    """The ideal engine on ``spec`` under ``operation`` (None: plain VMM)."""
    from .ideal import solve_ideal
    return solve_ideal(spec, v) if operation is None else _ideal_for(spec, v, operation)


def simulate_all(spec: CrossbarSpec, inputs, engines=ENGINES, operation=None, **ngspice_options
                 ) -> dict[str, SimulationResult]:
    """Run several engines on the same spec and inputs, elaborating once."""
    for e in engines:
        choice("engine", e, ENGINES)
    # the nodal line solver works from the spec itself: elaborate only where needed
    ir = elaborate(spec, operation) if "ngspice" in engines or operation is not None else None
    if any(_measured_cells(spec, e) for e in engines):  # measure once for every engine
        from .characterise import characterise
        ir = characterise(ir if ir is not None else elaborate(spec, operation),
                          operation_inputs(spec, inputs, operation),
                          allow_approximate_cells=ngspice_options.get("allow_approximate_cells",
                                                                      False),
                          timeout_s=ngspice_options.get("timeout_s", DEFAULT_TIMEOUT_S))
    return {e: simulate(spec, inputs, e, ir=ir, operation=operation, **ngspice_options)
            for e in engines}


def operation_inputs(spec: CrossbarSpec, inputs, operation) -> np.ndarray:
    """The driver voltages ``(batch, rows)`` of ``inputs`` under ``operation``."""
    if operation is not None and operation.mode == "read":
        if inputs is not None:
            raise SpecError("inputs", "were given for a read", "none: the read operation sets "
                            "the word-line voltages (v_read_volt and the scheme)")
        operation.check(spec.rows, spec.cols, spec.cell.kind)
        v = operation.row_voltages(spec.rows)
        check_cell_voltages(spec, v, "v_read_volt")
        return v
    if inputs is None:
        raise SpecError("inputs", "are missing", f"shape (batch, {spec.rows}) or ({spec.rows},) volts")
    v = validate_inputs(inputs, spec.rows)
    check_cell_voltages(spec, v)
    return v


def _ideal_for(spec: CrossbarSpec, v: np.ndarray, operation) -> SimulationResult:
    """The ideal engine on the intended inputs of ``operation`` (see :func:`simulate`)."""
    from dataclasses import replace

    from .ideal import solve_ideal
    operation.check(spec.rows, spec.cols, spec.cell.kind)
    r = solve_ideal(spec, operation.intended_inputs(v))
    currents = r.currents
    if operation.mode == "read":
        currents = np.zeros_like(currents)
        currents[:, operation.col] = r.currents[:, operation.col]
    return replace(r, inputs=v, currents=currents, info={**r.info, "operation": operation.describe()},
                   cell_currents=operation.intended_inputs(v)[:, :, None] * spec.conductances)


def full_scale_current(spec: CrossbarSpec, inputs, conductances: np.ndarray | None = None
                       ) -> float:
    """Largest ideal column current the input range allows, amperes.

    ``max |V| * max_j sum_i G_ss[i, j]``: the current of the most conductive column
    with every row at the largest input magnitude, ``G_ss`` from
    :func:`ideal_conductances` (or ``conductances``, S, when the caller has them). Errors
    "relative to full scale" divide by this.
    """
    v = validate_inputs(inputs, spec.rows)
    g = ideal_conductances(spec, v) if conductances is None else np.asarray(conductances, float)
    return float(np.abs(v).max() * g.sum(axis=0).max())
