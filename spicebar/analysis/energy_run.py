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
    ir = elaborate(spec, operation)
    check_itemised(ir)  # before any run
    if engine == "nodal":
        result, powers = _nodal_powers(ir, v, solver, memory_limit_bytes)
        source = "nodal: element laws at the solved node voltages"
        if operation is not None:
            result.info["operation"] = operation.describe()
    else:
        from ..engines.ngspice.power import measure_dc_powers
        result = simulate(spec, None if operation is not None and operation.mode == "read"
                          else inputs, engine="ngspice", ir=ir, operation=operation,
                          workdir=workdir, timeout_s=timeout_s, keep_files=keep_files,
                          memory_limit_bytes=memory_limit_bytes)
        powers, pinfo = measure_dc_powers(ir, v, None, timeout_s)
        source = pinfo["power_source"]
        result.info["energy_run_s"] = pinfo["power_run_s"]
    batch = v.shape[0]
    dt = np.full(batch, period)
    delivered, absorbed, columns = aggregate(ir, powers, dt, selected_cells(ir, operation), operation)
    read = getattr(operation, "mode", "") == "read"  # one cell: one conversion each way
    n_rows = 1 if read else np.unique(ir.driver_row).size
    n_adc = 1 if read else len(ir.senses)
    energy = EnergyBreakdown(
        engine=engine, mode="dc", period_s=dt, delivered=delivered, absorbed=absorbed,
        columns=columns, macs=1 if read else spec.rows * spec.cols,
        converters=converter_energy(conv, np.full(batch, n_adc), np.full(batch, n_rows)),
        ideal_wires=ideal_wire_energy(spec, v, operation, period) if ideal_wires else None,
        meta={"read_time_s": period, "power_source": source, "adc_bits": conv.adc_bits,
              "adc_fom_j_per_step": conv.adc_fom_j_per_step,
              "dac_j_per_conversion": conv.dac_j_per_conversion, "fom_sources": SOURCES})
    result.__dict__["energy"] = energy.to_record()
    return result, energy


def energy_breakdown(spec, inputs, engine: str = "nodal", **options) -> EnergyBreakdown:
    """The :class:`~spicebar.engines.energy.EnergyBreakdown` of DC reads (a readout
    transient's is :func:`spicebar.analysis.energy_transient.transient_energy`); options as
    :func:`simulate_with_energy`."""
    return simulate_with_energy(spec, inputs, engine, **options)[1]


def energy_of(result) -> EnergyBreakdown | None:
    """The breakdown a result (or a result file loaded) holds, or None."""
    rec = getattr(result, "energy", None)
    return None if rec is None else EnergyBreakdown.from_record(rec)
