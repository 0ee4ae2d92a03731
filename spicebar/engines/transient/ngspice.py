"""ngspice transient of the array with its readout (``.tran``, KLU), in the worker process."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ...circuit.encoding import Schedule
from ...circuit.ir import CircuitIR
from ...circuit.readout import opamp_library_text
from ...netlist.power_vectors import array_recipe, readout_recipe, save_cards
from ...netlist.readout import TranSettings, format_readout_netlist, readout_vectors
from ..ngspice.engine import DEFAULT_TIMEOUT_S, run_folder, run_worker
from ...errors import SimulationError
from ...netlist.standalone import data_file_for, format_readout_job
from .result import RawTransient

#: The readout netlist a kept run folder holds: it runs as it is in ``ngspice -b`` and
#: writes each window's samples (and ADC codes) to ``readout.dat``.
RUNNABLE_READOUT = "readout.cir"


def run_readout_ngspice(ir: CircuitIR, readout, schedule: Schedule, t_edge: float,
                        workdir: str | Path | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                        keep_files: bool = False, settings: TranSettings = TranSettings(),
                        progress: bool = False, energy: bool = False):
    """Run the transient; return ``(raw, info)`` with ``raw`` a :class:`~spicebar.engines.transient.result.RawTransient`.

    ``progress``: draw a bar of simulated time over the stop time on stderr (ngspice
    reports its percent through the shared library's status callback). ``energy``: also
    save ngspice's power of every element (:mod:`spicebar.netlist.power_vectors`) into
    ``raw.powers``."""
    own_dir = workdir is None
    from ..ngspice.openvaf import compile_devices
    compile_devices(ir)  # Verilog-A devices: their OSDI libraries (cached)
    keep = keep_files or not own_dir
    with run_folder(workdir, keep_files) as wd:
        netlist = wd / "readout_shared.cir"  # what the worker runs
        runnable = wd / RUNNABLE_READOUT
        t0 = time.perf_counter()
        recipe = readout_recipe(array_recipe(ir), readout, ir.cols) if energy else None
        power_read = recipe.vectors() if energy else []
        text = format_readout_netlist(ir, readout, schedule, t_edge, opamp_library_text(),
                                      settings, tuple(save_cards(power_read)), energy)
        netlist.write_text(text)
        job_text = format_readout_job(text, ir, readout, schedule.t_sample,
                                      data_file_for(runnable).name)
        if keep:
            runnable.write_text(job_text)
        read = ["time"] + readout_vectors(ir) + power_read
        t_emit = time.perf_counter() - t0
        job = {"analysis": "tran", "netlist": str(netlist), "read": read,
               "result": str(wd / "result.npy"), "status": str(wd / "status.json"),
               "progress": str(wd / "progress.txt"), "t_stop": float(schedule.t_stop)}
        bar = None
        from ..._progress import bars_on
        if bars_on(progress):
            from tqdm import tqdm
            bar = tqdm(total=100.0, desc="ngspice transient", unit="%", leave=False,
                       bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} elapsed")

        def report(pct: float) -> None:
            bar.update(max(0.0, pct - bar.n))

        try:
            values, status = run_worker(job, wd, timeout_s, on_progress=report if bar else None)
        except SimulationError as exc:
            if not keep:
                runnable.write_text(job_text)
            raise type(exc)(exc.summary + f" (the shared-library twin that ran: "
                            f"{exc.netlist_path})", str(runnable), exc.ngspice_messages,
                            exc.cause) from None
        finally:
            if bar is not None:
                bar.close()
    cols, n_s, n_d = ir.cols, len(ir.senses), len(ir.drivers)
    t = values[0]
    vout = values[1:1 + cols]
    vg = values[1 + cols:1 + 2 * cols]
    sen = values[1 + 2 * cols:1 + 2 * cols + n_s]
    n_base = 1 + 2 * cols + n_s + n_d
    powers = recipe.powers(values[n_base:].T, power_read) if energy else None
    drv = -values[1 + 2 * cols + n_s:n_base]  # i(v) flows into the + terminal: minus what it delivers
    i_col = np.zeros((cols, t.size))
    np.add.at(i_col, ir.sense_col, sen)
    i_drv = np.zeros((ir.rows, t.size))
    np.add.at(i_drv, ir.driver_row, drv)
    info = {"ngspice_version": status["ngspice_version"], "ngspice_library": status.get("library"),
            "timings": dict(status["timings"], emit_s=t_emit), "timepoints": int(t.size),
            "max_step_s": settings.max_step(schedule.t_int),
            "netlist": str(runnable) if keep else None,
            "warnings": status["warnings"]}
    return RawTransient(t, vout, vg, i_col, i_drv, powers), info
