"""Whole jobs as standalone netlists: what ``spicebar generate`` writes.

:func:`write_job` writes the netlist of a DC batch (every input vector), a read, or a
readout transient, in the form of :mod:`spicebar.netlist.standalone`: ``ngspice -b``
runs it as it is, in its folder, and writes the answers to the ``.dat`` file of the same
name. A Verilog-A device travels with it: its ``.va`` source and compiled ``.osdi``
library are copied beside the netlist, which loads the library by a path relative to
itself (ngspice resolves ``pre_osdi`` paths from the netlist's folder).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from ...circuit.elaboration import elaborate
from ...circuit.spec import CrossbarSpec
from ...errors import SpecError
from ...netlist.readout import TranSettings
from ...netlist.standalone import data_file_for, format_dc_job, format_readout_job


def job_text(spec: CrossbarSpec, inputs, data_file: str, *, encoding=None, operation=None,
             settings: TranSettings = TranSettings()) -> tuple[str, object]:
    """``(netlist text, ir)`` of the job (see :func:`write_job`); ``data_file`` as named
    in the netlist."""
    from ..simulation import operation_inputs
    v = operation_inputs(spec, inputs, operation)
    readout = spec.readout
    if getattr(readout, "kind", None) not in ("integrator", "tia"):
        if encoding is not None:
            raise SpecError("encoding", "was given without a time-domain readout",
                            "a spec with an IntegratorSpec or TIASpec readout")
        ir = elaborate(spec, operation)
        return format_dc_job(ir, v, data_file), ir
    if operation is not None and operation.mode == "read":
        raise SpecError("operation", "is a read with a time-domain readout", "a VMM operation")
    from ...circuit.encoding import EncodingSpec, build_schedule
    from ...circuit.readout import opamp_library_text
    from ...netlist.readout import format_readout_netlist
    encoding = encoding if encoding is not None else EncodingSpec()
    schedule = build_schedule(encoding, v, readout.t_int_s, readout.t_reset_s,
                              readout.t_settle_s, sample_flat_end=readout.kind == "tia")
    ir = elaborate(spec, operation)
    text = format_readout_netlist(ir, readout, schedule, encoding.t_edge_s,
                                  opamp_library_text(), settings)
    return format_readout_job(text, ir, readout, schedule.t_sample, data_file), ir


def write_job(path: str | Path, spec: CrossbarSpec, inputs=None, *, encoding=None,
              operation=None, settings: TranSettings = TranSettings()) -> Path:
    """Write the standalone netlist of a whole job to ``path``; returns the path.

    Args:
        spec: the array; with an ``IntegratorSpec``/``TIASpec`` readout the job is the
            readout transient (answers: samples and ADC codes per window and column),
            otherwise a DC batch (answers: column and driver currents per vector).
        inputs: ``(batch, rows)`` or ``(rows,)`` V; None for a read (``operation``).
        encoding: the readout's input encoding (default amplitude).
        operation: a read or VMM operation (floating, gated-off rows).
    """
    from ...io import write_text_atomic
    path = Path(path)
    text, ir = job_text(spec, inputs, data_file_for(path).name, encoding=encoding,
                        operation=operation, settings=settings)
    text = _carry_devices(text, ir, path.parent)
    return write_text_atomic(path, text)


def _carry_devices(text: str, ir, folder: Path) -> str:
    """Copy each Verilog-A device's source and OSDI library into ``folder`` and load the
    library by its name there (no cache path in the netlist)."""
    from ...circuit.devices import DeviceCell
    from ..ngspice.openvaf import compile_va
    cells = {g.model.path: g.model for g in ir.devices
             if isinstance(g.model, DeviceCell) and g.model.is_va}
    for va in cells:
        lib = compile_va(va)
        name = Path(va).stem + ".osdi"
        folder.mkdir(parents=True, exist_ok=True)
        for src, dst in ((lib, folder / name), (Path(va), folder / Path(va).name)):
            if not dst.exists() or not _same(src, dst):
                shutil.copyfile(src, dst)
        text = text.replace(f"pre_osdi {lib}", f"pre_osdi {name}")
    return text


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def read_job_answers(path: str | Path) -> dict[str, np.ndarray]:
    """The answers ``ngspice -b`` wrote for the netlist ``path`` (its ``.dat`` file)."""
    from ...netlist.standalone import read_data_file
    return read_data_file(data_file_for(path))
