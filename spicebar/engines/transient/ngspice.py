"""ngspice transient of the array with its readout (``.tran``, KLU), in the worker process."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ...circuit.encoding import Schedule
from ...circuit.ir import CircuitIR
from ...circuit.readout import opamp_library_text
from ...netlist.readout import TranSettings, format_readout_netlist, readout_vectors
from ..ngspice.engine import DEFAULT_TIMEOUT_S, run_folder, run_worker
from .result import RawTransient


def run_readout_ngspice(ir: CircuitIR, readout, schedule: Schedule, t_edge: float,
                        workdir: str | Path | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                        keep_files: bool = False, settings: TranSettings = TranSettings()):
    """Run the transient; return ``(raw, info)`` with ``raw`` a :class:`~spicebar.engines.transient.result.RawTransient`."""
    own_dir = workdir is None
    from ..ngspice.openvaf import compile_devices
    compile_devices(ir)  # Verilog-A devices: their OSDI libraries (cached)
    with run_folder(workdir, keep_files) as wd:
        netlist = wd / "readout.cir"
        t0 = time.perf_counter()
        netlist.write_text(format_readout_netlist(ir, readout, schedule, t_edge,
                                                  opamp_library_text(), settings))
        read = ["time"] + readout_vectors(ir)
        t_emit = time.perf_counter() - t0
        job = {"analysis": "tran", "netlist": str(netlist), "read": read,
               "result": str(wd / "result.npy"), "status": str(wd / "status.json")}
        values, status = run_worker(job, wd, timeout_s)
    cols, n_s, n_d = ir.cols, len(ir.senses), len(ir.drivers)
    t = values[0]
    vout = values[1:1 + cols]
    vg = values[1 + cols:1 + 2 * cols]
    sen = values[1 + 2 * cols:1 + 2 * cols + n_s]
    drv = -values[1 + 2 * cols + n_s:]  # i(v) flows into the + terminal: minus what it delivers
    i_col = np.zeros((cols, t.size))
    np.add.at(i_col, ir.sense_col, sen)
    i_drv = np.zeros((ir.rows, t.size))
    np.add.at(i_drv, ir.driver_row, drv)
    info = {"ngspice_version": status["ngspice_version"],
            "timings": dict(status["timings"], emit_s=t_emit), "timepoints": int(t.size),
            "max_step_s": settings.max_step(schedule.t_int),
            "netlist": str(netlist) if (keep_files or not own_dir) else None,
            "warnings": status["warnings"]}
    return RawTransient(t, vout, vg, i_col, i_drv), info
