"""ngspice netlists for the noise and settling checks, written here (not by the code under
test): the array's elements through the netlist writer's formatters, the readout by hand
from ``models/opamp.lib``, and the noise realised as ngspice makes it:

* ``.noise``: resistors are noisy by themselves; the op-amp's input voltage noise is a
  resistor ``e_n^2 / 4kT`` in series with its non-inverting input, its current noise a
  resistor ``4kT / i_n^2`` shorted by a 0 V source whose current an F source copies into
  the inverting input (controlled sources are noiseless).
* ``.tran`` Monte Carlo: resistors are noiseless, so a ``TRNOISE`` current source sits
  beside every resistor with ``NA = sqrt(2 k T G / NT)`` (one-sided ``S_I = 4 k T G``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from spicebar.analysis.noise_network import K_BOLTZMANN
from spicebar.circuit.elaboration import elaborate
from spicebar.circuit.readout import opamp_library_text
from spicebar.engines.ngspice.engine import run_netlist
from spicebar.netlist.writer import FORMATTERS, model_cards

#: ngspice's default temperature, K.
T_NGSPICE = 300.15


def _body(spec, ac_source: bool, trnoise_nt: float | None, seed_offset: int = 0,
          step_inputs=None, dc_inputs=None) -> list[str]:
    """``dc_inputs``: ``(rows,)`` V, the word lines' DC values (the operating point of
    nonlinear cells, whose devices and model cards are then written too); default 0."""
    ir = elaborate(spec)
    ro = spec.readout
    names = ir.node_names
    # ngspice 46 runs .noise only with its Sparse solver ("not (yet) supported with KLU")
    solver = "sparse" if ac_source else "klu"
    tol = "reltol=1e-6 abstol=1e-15 vntol=1e-9" if dc_inputs is None else \
        "reltol=1e-10 abstol=1e-18 vntol=1e-12"  # an operating point to 1e-10
    lines = [f".options {solver} {tol}", opamp_library_text().strip(), *model_cards(ir)]
    d = ir.drivers
    for k, (name, p, n) in enumerate(zip(d.names, names[d.node_p].tolist(),
                                         names[d.node_n].tolist())):
        if step_inputs is not None:
            v = float(step_inputs[ir.driver_row[k]])
            lines.append(f"{name} {p} {n} pwl(0 0 1e-15 {v!r})")
        else:
            dc = 0.0 if dc_inputs is None else float(dc_inputs[ir.driver_row[k]])
            lines.append(f"{name} {p} {n} dc {dc!r}" + (" ac 1" if ac_source and k == 0 else ""))
    gates = () if ir.gates is None else (ir.gates,)
    for group in (*gates, *ir.resistors, *ir.devices, *ir.capacitors):
        lines.extend(FORMATTERS[group.kind](group, names, group.value))
    if trnoise_nt is not None:
        k = 0
        for group in ir.resistors:
            for p, n, r in zip(names[group.node_p].tolist(), names[group.node_n].tolist(),
                               group.value.tolist()):
                na = float(np.sqrt(2 * K_BOLTZMANN * T_NGSPICE / r / trnoise_nt))
                lines.append(f"inz{k} {p} {n} dc 0 trnoise({na!r} {trnoise_nt!r} 0 0)")
                k += 1
    s = ir.senses
    for name, p, col in zip(s.names, names[s.node_p].tolist(), ir.sense_col.tolist()):
        lines.append(f"{name} {p} vgnd_{col} dc 0")
    op = ro.opamp
    four_kt = 4 * K_BOLTZMANN * T_NGSPICE
    for j in range(ir.cols):
        plus = "vref"
        if op.en_v_rthz > 0:
            plus = f"enp_{j}"
            lines.append(f"ren_{j} vref enp_{j} {op.en_v_rthz ** 2 / four_kt!r}")
        if op.in_a_rthz > 0:
            lines += [f"rni_{j} ni_{j} 0 {four_kt / op.in_a_rthz ** 2!r}",
                      f"vni_{j} ni_{j} 0 dc 0", f"fni_{j} vgnd_{j} 0 vni_{j} 1"]
        lines.append(f"xop_{j} {plus} vgnd_{j} rdo_{j} {op.subckt} {op.instance_params()}")
        if ro.kind == "integrator":
            lines.append(f"cint_{j} vgnd_{j} rdo_{j} {ro.c_int_f!r}")
        else:
            lines.append(f"rf_{j} vgnd_{j} rdo_{j} {ro.r_f_ohm!r}")
    lines.append("vref vref 0 dc 0")
    return lines


def ngspice_noise_spectrum(spec, column: int, f_lo: float, f_hi: float, per_decade: int,
                           dc_inputs=None):
    """``(freqs (n,), S_out (n,) V^2/Hz)`` of column ``column``'s output, ngspice ``.noise``
    (at the operating point of word lines at ``dc_inputs`` V, default 0)."""
    lines = ["* spicebar noise check (.noise)", *_body(spec, True, None, dc_inputs=dc_inputs),
             f".noise v(rdo_{column}) vin_0 dec {per_decade} {f_lo!r} {f_hi!r}", ".end", ""]
    with tempfile.TemporaryDirectory(prefix="spicebar-noise-") as wd:
        path = Path(wd) / "noise.cir"
        path.write_text("\n".join(lines))
        data, _ = run_netlist(path, ["frequency", "onoise_spectrum"], wd, timeout_s=120,
                              analysis="noise")
    return data[0], data[1] ** 2


def ngspice_trnoise_windows(spec, column: int, t_window: float, n_windows: int,
                            steps_per_window: int):
    """Output changes of column ``column`` over ``n_windows`` consecutive windows of length
    ``t_window`` in one noisy transient (no reset: an integrator's output increments),
    V, shape ``(n_windows,)``. The first window is dropped as the start-up."""
    nt = float(t_window) / steps_per_window
    t_stop = (n_windows + 1) * t_window
    lines = ["* spicebar noise check (TRNOISE Monte Carlo)", *_body(spec, False, nt),
             f".tran {nt!r} {t_stop!r} 0 {nt!r}", f".save rdo_{column}", ".end", ""]
    with tempfile.TemporaryDirectory(prefix="spicebar-trnoise-") as wd:
        path = Path(wd) / "trnoise.cir"
        path.write_text("\n".join(lines))
        data, _ = run_netlist(path, ["time", f"rdo_{column}"], wd, timeout_s=300,
                              analysis="tran")
    t, v = data
    edges = np.interp(t_window * np.arange(1, n_windows + 2), t, v)
    return np.diff(edges)


def ngspice_step(spec, inputs, t_stop: float, t_step: float):
    t_stop, t_step = float(t_stop), float(t_step)
    """Column currents ``(cols, n_t)`` A after the word lines step to ``inputs`` at t = 0
    (an ideal virtual ground: the bit-line ends held by the 0 V ammeters), and the times."""
    ir = elaborate(spec)
    names = ir.node_names
    lines = ["* spicebar settling check (step response)",
             f".options klu reltol=1e-7 abstol=1e-16 vntol=1e-10 chgtol=1e-18"]
    d = ir.drivers
    for k, (name, p, n) in enumerate(zip(d.names, names[d.node_p].tolist(),
                                         names[d.node_n].tolist())):
        v = float(inputs[ir.driver_row[k]])
        lines.append(f"{name} {p} {n} pwl(0 0 {t_step / 1000!r} {v!r})")  # a 1/1000-step rise
    for group in (*ir.resistors, *ir.capacitors):
        lines.extend(FORMATTERS[group.kind](group, names, group.value))
    s = ir.senses
    for name, p in zip(s.names, names[s.node_p].tolist()):
        lines.append(f"{name} {p} 0 dc 0")
    read = [f"{name}#branch" for name in s.names]
    lines += [f".tran {t_step!r} {t_stop!r} 0 {t_step!r}", ".save " + " ".join(read),
              ".end", ""]
    with tempfile.TemporaryDirectory(prefix="spicebar-step-") as wd:
        path = Path(wd) / "step.cir"
        path.write_text("\n".join(lines))
        data, _ = run_netlist(path, ["time", *read], wd, timeout_s=300, analysis="tran")
    cur = np.zeros((ir.cols, data.shape[1]))
    np.add.at(cur, ir.sense_col, data[1:])
    return data[0], cur
