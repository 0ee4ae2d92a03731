"""Netlists that run as they are in ``ngspice -b`` and write their answers to a data file.

Every analysis spicebar runs is written as one plain netlist (no shared-library
``external`` sources) with a ``.control`` block that spicebar writes itself (never user
text); run it in the netlist's folder::

    ngspice -b crossbar.cir        # writes crossbar.dat next to it

* A DC job (:func:`format_dc_job`): every input vector of a batch (or the one vector of a
  read) as one ``.dc`` sweep of a counter source ``vjob_vector`` over ``0 .. batch - 1``.
  A driver whose voltage changes between vectors becomes its ammeter (the IR's source at
  0 V, so ``i(vin_i)`` is still the driver's current) in series with a behavioural source
  ``v = pwl(v(job_vector), 0, V0, 1, V1, ...)``, exact at every integer sweep point. The
  data file has one line per vector: ``vector``, ``i_col_j`` (column ``j``'s current, A,
  into the readout) and ``i_drv_i`` (the current row ``i``'s drivers deliver, A).
* A readout job (:func:`format_readout_job`): the readout transient of
  :mod:`spicebar.netlist.readout`, then each output ``rdo_j`` interpolated linearly at each
  window's sampling instant (a breakpoint ngspice lands on; ``meas`` would round to 7
  digits). One line per window: ``window``, ``sample_j`` (the signal ``v_ref - v_out`` at
  the sampling instant, V) and, with an ADC, ``code_j`` (rounded half up, clipped to
  ``0 .. 2**bits - 1``).

Numbers are written with 16 significant digits (``numdgt``). The data file is named in
the netlist relative to the folder ngspice runs in, so the pair travels together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..circuit.ir import CircuitIR
from .cards import comment_text
from .writer import format_netlist

#: The counter source of a DC job and its node (names no array element takes).
VECTOR_SOURCE, VECTOR_NODE = "vjob_vector", "job_vector"
#: Numbers per continuation line of a driver's pwl table.
PAIRS_PER_LINE = 8
#: Significant digits of the data file.
DATA_DIGITS = 16


def data_file_for(netlist: str | Path) -> Path:
    """The data file a standalone netlist writes: its own name with ``.dat``."""
    return Path(netlist).with_suffix(".dat")


def _safe_file_name(name: str) -> str:
    """A file name fit for a ``wrdata`` line (letters, digits, ``._-+``)."""
    import re
    if not re.fullmatch(r"[\w.+-]+", name):
        from ..errors import SpecError
        raise SpecError("--out", f"gives the data file name {name!r}", "a name of letters, "
                        "digits and ._-+ (ngspice would split it)")
    return name


def _control(lines: list[str]) -> list[str]:
    return [".control", "set wr_vecnames", "set wr_singlescale", f"set numdgt={DATA_DIGITS}",
            *lines, ".endc"]


def _pwl_lines(values: Sequence[float]) -> list[str]:
    pairs = [f"{k}, {v!r}" for k, v in enumerate(values)]
    out = []
    for k in range(0, len(pairs), PAIRS_PER_LINE):
        out.append("+ " + ", ".join(pairs[k:k + PAIRS_PER_LINE])
                   + ("," if k + PAIRS_PER_LINE < len(pairs) else ")"))
    return out


def column_current_names(ir: CircuitIR) -> list[tuple[str, str]]:
    """``(data column, ngspice expression)`` of each column current, A (both sense ends added)."""
    parts: dict[int, list[str]] = {j: [] for j in range(ir.cols)}
    for name, col in zip(ir.senses.names, ir.sense_col.tolist()):
        parts[col].append(f"i({name})")
    return [(f"i_col_{j}", " + ".join(p) if p else "0") for j, p in parts.items()]


def driver_current_names(ir: CircuitIR) -> list[tuple[str, str]]:
    """``(data column, expression)`` of each row's delivered driver current, A
    (``i(v)`` flows into the source's + terminal: the driver delivers minus that)."""
    parts: dict[int, list[str]] = {i: [] for i in range(ir.rows)}
    for name, row in zip(ir.drivers.names, ir.driver_row.tolist()):
        parts[row].append(f"i({name})")
    return [(f"i_drv_{i}", "-(" + " + ".join(p) + ")" if p else "0") for i, p in parts.items()]


def format_dc_job(ir: CircuitIR, inputs: np.ndarray, data_file: str,
                  extra_cards: Sequence[str] = ()) -> str:
    """A DC job of every vector of ``inputs`` ``(batch, rows)`` V (see the module docstring).

    ``data_file``: the file name ``wrdata`` writes (relative to ngspice's folder)."""
    inputs = np.atleast_2d(np.asarray(inputs, dtype=float))
    n = inputs.shape[0]
    values = ir.driver_voltages(inputs) + 0.0  # (batch, n_drivers), no -0.0
    text = format_netlist(ir, inputs[0], analysis=f".dc {VECTOR_SOURCE} 0 {n - 1} 1",
                          extra_cards=extra_cards)
    lines = text.split("\n")
    lines.insert(2, f"* a job of {n} input vector(s): run `ngspice -b` here; answers in "
                    f"{comment_text(data_file)} (see spicebar.netlist.standalone)")
    column = {name: k for k, name in enumerate(ir.drivers.names)}
    out = []
    for line in lines:
        name, _, rest = line.partition(" ")
        k = column.get(name)
        if k is None or np.all(values[:, k] == values[0, k]):
            out.append(line)
            continue
        p, m = rest.split(" ")[:2]
        out.append(f"{name} {p} job_drv_{k} dc 0")
        out.append(f"bjob_drv_{k} job_drv_{k} {m} v = pwl(v({VECTOR_NODE}),")
        out.extend(_pwl_lines(values[:, k].tolist()))
    end = out.index(".end")
    answers = column_current_names(ir) + driver_current_names(ir)
    control = _control(["run", *(f"let {c} = {e}" for c, e in answers), "setplot new",
                        f"let vector = vector({n})",
                        *(f"let {c} = dc1.{c}" for c, _ in answers),
                        "wrdata " + " ".join([_safe_file_name(data_file), *(c for c, _ in answers)])])
    out[end:end] = [f"{VECTOR_SOURCE} {VECTOR_NODE} 0 dc 0", *control]
    return "\n".join(out)


def format_readout_job(readout_netlist: str, ir: CircuitIR, readout, t_sample: np.ndarray,
                       data_file: str) -> str:
    """The readout transient ``readout_netlist`` (from
    :func:`spicebar.netlist.readout.format_readout_netlist`) as a job that writes each
    window's samples (and ADC codes) to ``data_file`` (see the module docstring)."""
    t_sample = np.asarray(t_sample, dtype=float).ravel()
    w = t_sample.size
    body = ["run"]
    # linear interpolation at each sampling instant (a breakpoint: usually a time point
    # itself); `meas` would round its result to 7 digits
    for k, t in enumerate(t_sample.tolist()):
        body += [f"let k_{k} = floor(mean(time le {t!r}) * length(time) + 0.5) - 1",
                 f"let k_{k} = k_{k} - (k_{k} gt length(time) - 2)",
                 f"let f_{k} = ({t!r} - time[k_{k}]) / (time[k_{k} + 1] - time[k_{k}])"]
    for j in range(ir.cols):
        body.append(f"let sample_{j} = vector({w})")
        body += [f"let sample_{j}[{k}] = {readout.v_ref!r} - (rdo_{j}[k_{k}] + f_{k} * "
                 f"(rdo_{j}[k_{k} + 1] - rdo_{j}[k_{k}]))" for k in range(w)]
    names = [f"sample_{j}" for j in range(ir.cols)]
    adc = readout.adc
    if adc is not None:
        top = 2 ** adc.bits - 1
        for j in range(ir.cols):
            body += [f"let code_{j} = floor((sample_{j} - {adc.x_min!r}) / {adc.lsb!r} + 0.5)",
                     f"let code_{j} = code_{j} * (code_{j} gt 0)",
                     f"let code_{j} = code_{j} - (code_{j} - {top}) * (code_{j} gt {top})"]
        names += [f"code_{j}" for j in range(ir.cols)]
    body += ["setplot new", f"let window = vector({w})", *(f"let {c} = tran1.{c}" for c in names),
             "wrdata " + " ".join([_safe_file_name(data_file), *names])]
    lines = readout_netlist.rstrip("\n").split("\n")
    end = len(lines) - 1 - lines[::-1].index(".end")
    lines[1:1] = [f"* a readout job of {w} window(s): run `ngspice -b` here; answers in "
                  f"{comment_text(data_file)} (see spicebar.netlist.standalone)"]
    end += 1
    lines[end:end] = _control(body)
    return "\n".join(lines) + "\n"


def read_data_file(path: str | Path) -> dict[str, np.ndarray]:
    """A data file ``wrdata`` wrote: ``{column name: values}`` (the header names them)."""
    text = Path(path).read_text().split("\n")
    names = text[0].split()
    rows = [ln.split() for ln in text[1:] if ln.strip()]
    data = np.array(rows, dtype=float).reshape(len(rows), len(names))
    return {name: data[:, k] for k, name in enumerate(names)}
