"""One analysis in an open ngspice, and reading its vectors back (the worker's runners).

:func:`run_tran` runs a netlist's own ``.tran`` or ``.dc`` once and saves each vector
asked for; :func:`run_batch_tran` runs a whole batch of input vectors as one transient
(see :mod:`spicebar.netlist.batch`). Split from :mod:`.worker`, which owns the process,
the library and the job protocol; like it, this imports nothing of spicebar above the
netlist layer.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ...netlist.batch import vector_at
from .messages import classify

EXIT_OK, EXIT_SIM_ERROR, EXIT_SETUP_ERROR = 0, 2, 3


class Failure(Exception):
    """kind: ``rejected`` (netlist), ``convergence``, ``error`` or ``setup``."""

    def __init__(self, summary: str, code: int = EXIT_SIM_ERROR, kind: str = "error"):
        super().__init__(summary)
        self.summary = summary
        self.code = code
        self.kind = "setup" if code == EXIT_SETUP_ERROR else kind


def run_command(ng, messages: list[str], command: str) -> list[str]:
    """Run one ngspice command; return the error lines it printed."""
    start = len(messages)
    rc = ng._ngspice_shared.ngSpice_Command(command.encode("ascii"))
    new = messages[start:]
    errors = [m for m in new if classify(m) == "error"]
    if rc != 0 and not errors:
        errors = [f"ngSpice_Command({command!r}) returned {rc}"]
    return errors


def current_plot(ng, ffi) -> str:
    return ffi.string(ng._ngspice_shared.ngSpice_CurPlot()).decode()


def run_tran(ng, ffi, job: dict, messages: list[str], timings: dict, version: str) -> dict:
    """Run the netlist's transient (DC sweep, noise analysis) once; save each ``read``
    vector whole (a noise analysis: from its spectra plot)."""
    t0 = time.perf_counter()
    type(ng).progress_path = job.get("progress")
    try:
        errors = run_command(ng, messages, "run")
    finally:
        type(ng).progress_path = None
    plot = current_plot(ng, ffi)
    kind = job["analysis"]
    what = {"tran": "transient analysis", "dc": "DC sweep", "noise": "noise analysis"}[kind]
    if errors or not plot.startswith(kind):
        raise Failure(f"ngspice {what} failed")
    totals = None
    if kind == "noise":  # two plots: the spectra (noiseN), then the totals (noiseN+1, current)
        totals, plot = plot, f"noise{int(plot[5:]) - 1}"
    timings["run_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    columns = []
    read = job["read"] if "read" in job else Path(job["read_file"]).read_text().split("\n")
    for name in read:
        columns.append(read_vector(ng, ffi, plot, name).copy())
    if len({c.size for c in columns}) > 1:
        raise Failure("ngspice returned transient vectors of different lengths")
    np.save(job["result"], np.stack(columns))
    run_command(ng, messages, f"destroy {plot}")
    if totals is not None:
        run_command(ng, messages, f"destroy {totals}")
    timings["read_s"] = time.perf_counter() - t0
    return {"status": "ok", "ngspice_version": version, "timings": timings,
            "warnings": [m for m in messages if classify(m) == "warning"][:50]}


def run_batch_tran(ng, ffi, job: dict, messages: list[str], timings: dict, version: str) -> dict:
    """One transient for a whole batch (see :mod:`spicebar.netlist.batch`): the drivers
    take vector ``k`` on ``k <= t < k + 1``; the answer to vector ``k`` is its last time
    point. Result shape ``(batch, len(read))``, like the ``.op`` loop's."""
    with np.load(job["values"]) as data:
        values = np.asarray(data["driver_values"], dtype=float)
    n = values.shape[0]
    index = {name.lower().encode(): k for k, name in enumerate(job["driver_names"])}
    read = job["read"] if "read" in job else Path(job["read_file"]).read_text().split("\n")
    t0 = time.perf_counter()
    type(ng).sources = (values, index, n)
    type(ng).progress_path = job.get("progress")
    try:
        errors = run_command(ng, messages, "run")
    finally:
        type(ng).sources = None
        type(ng).progress_path = None
    plot = current_plot(ng, ffi)
    if errors or not plot.startswith("tran"):
        raise Failure(f"ngspice batch transient of {n} input vectors failed")
    timings["run_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    t = read_vector(ng, ffi, plot, "time")
    k = np.array([vector_at(x, n) for x in t.tolist()])
    last = np.full(n, -1)
    last[k] = np.arange(k.size)  # later points overwrite: the last one per vector
    if np.any(last < 0):
        raise Failure(f"ngspice's transient has no time point for input vector "
                       f"{int(np.flatnonzero(last < 0)[0])}")
    out = np.empty((n, len(read)))
    for j, name in enumerate(read):
        out[:, j] = read_vector(ng, ffi, plot, name)[last]
    np.save(job["result"], out)
    run_command(ng, messages, f"destroy {plot}")
    timings["read_s"] = time.perf_counter() - t0
    timings["time_points"] = int(t.size)
    return {"status": "ok", "ngspice_version": version, "timings": timings,
            "warnings": [m for m in messages if classify(m) == "warning"][:50]}


def read_vector(ng, ffi, plot: str, name: str) -> np.ndarray:
    """A real vector of ``plot``, as a view of ngspice's memory (copy what you keep)."""
    info = ng._ngspice_shared.ngGet_Vec_Info(f"{plot}.{name}".encode())
    if info == ffi.NULL or info.v_realdata == ffi.NULL or info.v_length < 1:
        raise Failure(f"ngspice has no vector {name!r} in plot {plot}")
    return np.frombuffer(ffi.buffer(info.v_realdata, 8 * info.v_length), dtype=np.float64)
