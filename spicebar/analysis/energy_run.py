"""The energy of DC reads from an engine: run it, take every element's power, itemise.

    >>> result, energy = simulate_with_energy(spec, V, engine="ngspice", read_time_s=100e-9)
    >>> print(energy.table())

* nodal: the element laws at the solved node voltages (every node, not only the cells');
  each source's current is what KCL leaves at its node.
* ngspice: ngspice's own instance power ``@x[p]`` of every element, from one more ``.op``
  per vector with those vectors saved (:mod:`spicebar.engines.ngspice.power`).

A DC read's energy is its power times ``read_time_s`` (default: the readout's window
``spec.readout.t_int_s`` when the spec has a readout, else :data:`DEFAULT_READ_TIME_S`).
Nothing here runs unless asked: :func:`spicebar.simulate` computes no energy.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from .._validate import choice, positive_scalar
from ..circuit.cells import PassiveCell
from ..circuit.elaboration import elaborate
from ..engines.ngspice.limits import DEFAULT_TIMEOUT_S
from ..errors import SpecError
from ..engines.energy import (SOURCES, ConverterEnergy, EnergyBreakdown, aggregate, check_itemised,
                     converter_energy, dc_powers, selected_cells)

#: Read time of a DC read without a readout spec, s (the integrator's default window).
DEFAULT_READ_TIME_S = 100e-9
ENERGY_ENGINES = ("nodal", "ngspice")


def read_time(spec, read_time_s: float | None) -> float:
    """The period a DC read's power is multiplied by, s."""
    if read_time_s is not None:
        return positive_scalar("read_time_s", read_time_s, "s")
    return float(getattr(spec.readout, "t_int_s", DEFAULT_READ_TIME_S))


def default_converters(spec) -> ConverterEnergy:
    """The default figures of merit, with the spec's ADC resolution where it has an ADC."""
    adc = getattr(spec.readout, "adc", None)
    return ConverterEnergy(adc_bits=adc.bits) if adc is not None else ConverterEnergy()


def _nodal_powers(ir, v, solver, memory):
    from ..engines.cell_currents import node_voltages
    from ..engines.memory import MemoryGuard
    from ..engines.nodal.solvers import solve_nodal
    result = solve_nodal(ir, v, solver, MemoryGuard.resolve(memory))
    nodes = node_voltages(result)
    return result, dc_powers(ir, nodes)


def completed_node_voltages(ir, result, v: np.ndarray) -> np.ndarray | None:
    """Every node's voltage ``(batch, n_nodes)`` from a result's maps (``v_wl``, ``v_bl``), the
    sources' values and, for the nodes between them joined by resistors only (a driver's
    or readout's series resistance), the small linear system they obey given the rest.
    None where such a node touches a nonlinear element (then the solve is redone)."""
    import scipy.sparse.linalg as spla

    from ..engines.nodal.stamps import conductance_matrix, fixed_voltages
    batch = v.shape[0]
    nodes = np.zeros((batch, ir.n_nodes))
    fixed, values = fixed_voltages(ir, v)
    nodes[:, fixed] = values.T
    nodes[:, ir.wl_node.ravel()] = np.asarray(result.v_wl).reshape(batch, -1)
    nodes[:, ir.bl_node.ravel()] = np.asarray(result.v_bl).reshape(batch, -1)
    known = np.zeros(ir.n_nodes, bool)
    known[fixed] = known[ir.wl_node.ravel()] = known[ir.bl_node.ravel()] = True
    other = np.flatnonzero(~known)
    if other.size == 0:
        return nodes
    touched = np.zeros(ir.n_nodes, bool)
    for g in ir.devices:
        touched[g.node_p] = touched[g.node_n] = True
        if g.node_g is not None:
            touched[g.node_g] = True
    if touched[other].any():
        return None
    lap = conductance_matrix(ir).tocsr()
    k = np.flatnonzero(known)
    rhs = -(lap[other][:, k] @ nodes[:, k].T)
    nodes[:, other] = np.atleast_2d(spla.spsolve(lap[other][:, other].tocsc(), rhs).T
                                    ).reshape(batch, other.size)
    return nodes


def ideal_wire_energy(spec, v: np.ndarray, operation, period_s: float) -> np.ndarray:
    """``(batch,)`` J the same array absorbs with ideal word and bit lines (``r_wl = r_bl
    = 0``; driver and sense resistances kept): ``sum G (V_i - V_j)^2 T`` for a passive VMM
    without driver or sense resistance, else the nodal solve of that array."""
    if isinstance(spec.cell, PassiveCell) and operation is None and spec.r_driver == 0 \
            and spec.r_sense == 0:
        return np.einsum("bi,ij->b", v ** 2, spec.conductances) * period_s
    ideal = replace(spec, r_wl=0.0, r_bl=0.0)
    ir = elaborate(ideal, operation)
    _, powers = _nodal_powers(ir, v, "direct", None)
    total = sum(p.sum(axis=1) for g, p in zip(ir.groups, powers) if g.kind != "vsource")
    return total * period_s


def _grid_case(spec, operation) -> bool:
    """The plain passive grid (left drivers, bottom readouts, no series resistance, every
    segment resistive): its energy is read off the maps without the IR."""
    return (isinstance(spec.cell, PassiveCell) and operation is None and spec.drive == "left"
            and spec.sense == "bottom" and spec.r_driver == 0 and spec.r_sense == 0
            and bool(np.all(spec.wl_segments()[:, :spec.cols] > 0))
            and bool(np.all(spec.bl_segments()[1:] > 0)))


def grid_energy(spec, result, v: np.ndarray, period: float):
    """``(delivered, absorbed, columns)`` J of the plain passive grid from its maps (the
    elements of :func:`spicebar.circuit.elaboration.elaborate`, by index): cells
    ``G (v_wl - v_bl)^2``, word-line slots ``0..cols-1`` (slot 0 from the driver at
    ``V_i``), bit-line slots ``1..rows`` (the last into the readout at 0 V); each driver
    delivers ``V_i`` times its first segment's current (KCL at its node)."""
    wl, bl = np.asarray(result.v_wl), np.asarray(result.v_bl)
    r_wl = spec.wl_segments()[:, :spec.cols]
    r_bl = spec.bl_segments()[1:]
    left = np.concatenate([v[:, :, None], wl[:, :, :-1]], axis=2)
    below = np.concatenate([bl[:, 1:, :], np.zeros_like(bl[:, :1, :])], axis=1)
    cells = spec.conductances * (wl - bl) ** 2
    p_bl = (bl - below) ** 2 / r_bl
    delivered = {"drivers": np.einsum("bi,bi->b", v, (v - wl[:, :, 0]) / r_wl[:, 0]) * period}
    absorbed = {"memory": cells.sum(axis=(1, 2)) * period,
                "wl_wire": ((left - wl) ** 2 / r_wl).sum(axis=(1, 2)) * period,
                "bl_wire": p_bl.sum(axis=(1, 2)) * period}
    return delivered, absorbed, (cells + p_bl).sum(axis=1) * period


def simulate_with_energy(spec, inputs, engine: str = "nodal", *, read_time_s: float | None = None,
                         operation=None, converters: ConverterEnergy | None = None,
                         ideal_wires: bool = True, workdir: str | Path | None = None,
                         timeout_s: float = DEFAULT_TIMEOUT_S, keep_files: bool = False,
                         solver: str = "auto", memory_limit_bytes: int | None = None):
    """Simulate ``spec`` (DC) and itemise the energy of every input vector.

    Args as :func:`spicebar.simulate`, plus ``read_time_s`` (s), ``converters`` (figures of
    merit, default :func:`default_converters`) and ``ideal_wires`` (also compute the same
    array's energy with ideal wires, for the IR-drop cost). Returns ``(result, energy)``:
    the :class:`~spicebar.results.SimulationResult` (its ``energy`` holds the record a
    result file keeps) and the :class:`~spicebar.engines.energy.EnergyBreakdown`.
    """
    choice("engine", engine, ENERGY_ENGINES)
    from ..engines.simulation import operation_inputs, simulate
    period = read_time(spec, read_time_s)
    if converters is not None and not isinstance(converters, ConverterEnergy):
        raise SpecError("converters", f"is {type(converters).__name__}", "a ConverterEnergy or None")
    conv = converters if converters is not None else default_converters(spec)
    v = operation_inputs(spec, inputs, operation)
    batch = v.shape[0]
    dt = np.full(batch, period)
    if engine == "nodal" and _grid_case(spec, operation):  # no IR: the maps are the circuit
        result = simulate(spec, inputs, engine="nodal", solver=solver,
                          memory_limit_bytes=memory_limit_bytes)
        delivered, absorbed, columns = grid_energy(spec, result, v, period)
        return result, _breakdown(spec, result, v, operation, engine, dt, delivered, absorbed,
                                  columns, conv, ideal_wires, len(spec.conductances[0]),
                                  spec.rows, "nodal: element laws at the solved node voltages")
    ir = elaborate(spec, operation)
    check_itemised(ir)  # before any run
    if engine == "nodal":
        result = simulate(spec, None if operation is not None and operation.mode == "read"
                          else inputs, engine="nodal", ir=ir, operation=operation,
                          solver=solver, memory_limit_bytes=memory_limit_bytes)
        from ..engines.cell_currents import node_voltages
        nodes = node_voltages(result)
        if nodes is None:
            nodes = completed_node_voltages(ir, result, v)
        if nodes is None:  # a series node at a nonlinear element: the IR solve keeps them all
            _, powers = _nodal_powers(ir, v, "direct" if solver == "auto" else solver,
                                      memory_limit_bytes)
        else:
            powers = dc_powers(ir, nodes)
        source = "nodal: element laws at the solved node voltages"
    else:
        from ..engines.ngspice.power import measure_dc_powers
        result = simulate(spec, None if operation is not None and operation.mode == "read"
                          else inputs, engine="ngspice", ir=ir, operation=operation,
                          workdir=workdir, timeout_s=timeout_s, keep_files=keep_files,
                          memory_limit_bytes=memory_limit_bytes)
        powers, pinfo = measure_dc_powers(ir, v, None, timeout_s)
        source = pinfo["power_source"]
        result.info["energy_run_s"] = pinfo["power_run_s"]
    delivered, absorbed, columns = aggregate(ir, powers, dt, selected_cells(ir, operation), operation)
    read = getattr(operation, "mode", "") == "read"  # one cell: one conversion each way
    return result, _breakdown(spec, result, v, operation, engine, dt, delivered, absorbed,
                              columns, conv, ideal_wires, 1 if read else len(ir.senses),
                              1 if read else np.unique(ir.driver_row).size, source)


def _breakdown(spec, result, v, operation, engine, dt, delivered, absorbed, columns, conv,
               ideal_wires, n_adc, n_dac, source) -> EnergyBreakdown:
    period = float(dt[0])
    batch = dt.size
    read = getattr(operation, "mode", "") == "read"
    energy = EnergyBreakdown(
        engine=engine, mode="dc", period_s=dt, delivered=delivered, absorbed=absorbed,
        columns=columns, macs=1 if read else spec.rows * spec.cols,
        converters=converter_energy(conv, np.full(batch, n_adc), np.full(batch, n_dac)),
        ideal_wires=ideal_wire_energy(spec, v, operation, period) if ideal_wires else None,
        meta={"read_time_s": period, "power_source": source, "adc_bits": conv.adc_bits,
              "adc_fom_j_per_step": conv.adc_fom_j_per_step,
              "dac_j_per_conversion": conv.dac_j_per_conversion, "fom_sources": SOURCES})
    result.__dict__["energy"] = energy.to_record()
    return energy


def energy_breakdown(spec, inputs, engine: str = "nodal", **options) -> EnergyBreakdown:
    """The :class:`~spicebar.engines.energy.EnergyBreakdown` of DC reads (a readout
    transient's: ``simulate_readout(..., energy=True)`` and :func:`energy_of`); options as
    :func:`simulate_with_energy`."""
    return simulate_with_energy(spec, inputs, engine, **options)[1]


def energy_of(result) -> EnergyBreakdown | None:
    """The breakdown a result (or a result file loaded) holds, or None."""
    rec = getattr(result, "energy", None)
    return None if rec is None else EnergyBreakdown.from_record(rec)
