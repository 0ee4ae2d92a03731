"""ngspice's own power of every element: instance parameter ``p`` (``@name[p]``).

For resistors, voltage sources, capacitors and controlled sources ngspice computes the
instantaneous power itself (absorbed positive: a source that delivers reads negative).
Behavioural current sources (spicebar's sinh cells and selectors) have no ``p``: their
power is ngspice's own current ``@name[i]`` (from ``p`` through the source to ``n``) times
ngspice's node voltages, nothing spicebar solves itself.

:func:`measure_dc_powers` runs the IR's ``.op`` netlist once per input vector with those
vectors saved (one more ngspice run beside the simulation it annotates).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np  # noqa: F401 (array types in the docstrings)

from ...circuit.ir import CircuitIR
from ...netlist.power_vectors import array_recipe, save_cards
from ...netlist.writer import write_netlist
from .engine import check_ngspice_size, run_folder, run_netlist, start_worker, stop_worker
from .limits import DEFAULT_TIMEOUT_S


def measure_dc_powers(ir: CircuitIR, inputs: np.ndarray, workdir: str | Path | None = None,
                      timeout_s: float = DEFAULT_TIMEOUT_S, keep_files: bool = False
                      ) -> tuple[list[np.ndarray], dict]:
    """ngspice's power of every element of ``ir`` at each input vector.

    Returns one ``(batch, len(group))`` array per group of ``ir.groups`` (W absorbed) and
    an info dict (timings, version)."""
    check_ngspice_size(ir.rows, ir.cols)
    t0 = time.perf_counter()
    recipe = array_recipe(ir)
    wanted = recipe.vectors()
    with run_folder(workdir, keep_files) as wd:
        proc = start_worker(wd)
        try:
            path = wd / "power.cir"
            write_netlist(path, ir, inputs[0], extra_cards=save_cards(wanted))
            values, status = run_netlist(path, wanted, wd, timeout_s, ir.drivers.names,
                                         ir.driver_voltages(inputs) + 0.0, proc=proc)
        except BaseException:
            stop_worker(proc)
            raise
    info = {"power_source": "ngspice instance power @x[p] (sinh elements: @x[i] times the "
                            "node voltages)", "power_run_s": time.perf_counter() - t0,
            "ngspice_version": status["ngspice_version"]}
    return [p for _, p in recipe.powers(values, wanted)], info
