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

import numpy as np

from ...circuit.ir import SINH, CircuitIR
from ...netlist.writer import write_netlist
from .engine import check_ngspice_size, run_folder, run_netlist, start_worker, stop_worker
from .limits import DEFAULT_TIMEOUT_S

#: Names on one ``.save`` line (ngspice takes continuation lines; this keeps them short).
SAVE_PER_LINE = 40


def power_vectors(groups, node_names: np.ndarray, prefix: str = "") -> tuple[list[str], list]:
    """The vectors that give each group's power: ``@x[p]``, or ``@x[i]`` and the two node
    voltages of behavioural sources; returns (names, per-group recipe ``(kind, slice)``).
    ``prefix``: a subcircuit path (``e.xop_0.``-style names are given whole by the caller)."""
    names, recipe = [], []
    for g in groups:
        start = len(names)
        if g.kind == SINH:
            names += [f"@{prefix}{n}[i]" for n in g.names]
            names += node_names[g.node_p].tolist() + node_names[g.node_n].tolist()
            recipe.append(("iv", slice(start, len(names)), len(g)))
        else:
            names += [f"@{prefix}{n}[p]" for n in g.names]
            recipe.append(("p", slice(start, len(names)), len(g)))
    return names, recipe


def powers_from(values: np.ndarray, recipe) -> list[np.ndarray]:
    """Per-group ``(n_points, len(group))`` W absorbed, from the saved vectors ``values``
    ``(n_points, n_vectors)`` (ground reads as 0 V)."""
    out = []
    for kind, sl, n in recipe:
        x = values[:, sl]
        if kind == "p":
            out.append(x)
        else:
            i, vp, vn = x[:, :n], x[:, n:2 * n], x[:, 2 * n:]
            out.append(i * (vp - vn))
    return out


def save_cards(names: list[str]) -> list[str]:
    """``.save`` lines for ``names`` (ground, ``0``, is not a vector: left out)."""
    names = [n for n in dict.fromkeys(names) if n != "0"]
    return [".save " + " ".join(names[k:k + SAVE_PER_LINE])
            for k in range(0, len(names), SAVE_PER_LINE)]


def measure_dc_powers(ir: CircuitIR, inputs: np.ndarray, workdir: str | Path | None = None,
                      timeout_s: float = DEFAULT_TIMEOUT_S, keep_files: bool = False
                      ) -> tuple[list[np.ndarray], dict]:
    """ngspice's power of every element of ``ir`` at each input vector.

    Returns one ``(batch, len(group))`` array per group of ``ir.groups`` (W absorbed) and
    an info dict (timings, version)."""
    check_ngspice_size(ir.rows, ir.cols)
    t0 = time.perf_counter()
    names, recipe = power_vectors(ir.groups, ir.node_names.astype(object))
    read = [n if n != "0" else None for n in names]
    with run_folder(workdir, keep_files) as wd:
        proc = start_worker(wd)
        try:
            path = wd / "power.cir"
            write_netlist(path, ir, inputs[0], extra_cards=save_cards(names))
            wanted = [n for n in dict.fromkeys(r for r in read if r is not None)]
            values, status = run_netlist(path, wanted, wd, timeout_s, ir.drivers.names,
                                         ir.driver_voltages(inputs) + 0.0, proc=proc)
        except BaseException:
            stop_worker(proc)
            raise
    col = {n: k for k, n in enumerate(wanted)}
    full = np.zeros((values.shape[0], len(read)))
    for k, r in enumerate(read):
        if r is not None:
            full[:, k] = values[:, col[r]]
    info = {"power_source": "ngspice instance power @x[p] (sinh elements: @x[i] times the "
                            "node voltages)", "power_run_s": time.perf_counter() - t0,
            "ngspice_version": status["ngspice_version"]}
    return powers_from(full, recipe), info
