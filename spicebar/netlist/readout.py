"""The transient netlist: the array from the IR, PWL drivers, and a readout per column.

The readout topology lives here (the array's lives in :mod:`spicebar.circuit.elaboration`):

```
vin_i     src_i  0       pwl(...)        word-line driver i (the encoding's waveform)
vsense_k  sns_k  vgnd_j    dc 0            ammeter: its current is column j's current
xop_j     vref   vgnd_j    rdo_j  <opamp>  non-inverting input at v_ref
cint_j    vgnd_j   rdo_j   c_int           integrator (or rf_j vgnd_j rdo_j r_f for a TIA)
brst_j    vgnd_j   rdo_j   i = v(rst) * (v(vgnd_j) - v(rdo_j)) / r_reset   reset switch
(with an op-amp supply: xop_j's output at opo_j, ammeter vop_j opo_j rdo_j, rails vdd/vss
and per column bdd_j/bss_j drawing the output current from its rail; see supply_lines)
vg_i      gl_i   0       dc / pwl(...)   1T1R gate line i (ramped on when it has capacitance)
vref      vref   0       dc v_ref
vrst      rst    0       pwl(...)        reset pulses
vsmp      smp    0       pwl(...)        marks the sampling instants (forces time points)
```

The reset switch is a conductance ``v(rst) / r_reset``: ``rst`` ramps between 1 (closed) and
0 (open, exactly no leakage) over the pulse edge. ngspice's ``sw`` element was tried first:
its abrupt state change made the timestep control stall on the macromodel.

Timestep settings (:data:`TRAN_OPTIONS`): trapezoidal integration, the maximum step is
``t_int / steps_per_window`` and every PWL corner, reset edge and sampling instant is a
breakpoint ngspice lands on exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import integer_in
from ..circuit.encoding import Schedule
from ..circuit.ir import CircuitIR
from ..circuit.names import branch_name
from .cards import comment_text
from ..circuit.temperature import temp_cards
from .writer import FORMATTERS, model_cards

#: Transient options. reltol 1e-6 keeps the integrated charge within ~5e-6 of exact (the
#: 0.1 % target with room); abstol suits nA..mA currents. chgtol stays at ngspice's 1e-14 C:
#: smaller values make the truncation-error control chase femtofarad wire capacitances
#: and abort with "timestep too small".
TRAN_OPTIONS = {"method": "trap", "reltol": "1e-6", "abstol": "1e-14", "vntol": "1e-9",
                "chgtol": "1e-14"}
#: With the energy asked for: Newton's tolerance ``reltol`` is this many times tighter and
#: ``trtol`` (ngspice's truncation-error factor, default 7) this many times looser, so the
#: time step control (``trtol * reltol * ...``) and hence the time points stay (nearly) those
#: of the plain run while every accepted point takes the Newton iteration that brings the
#: capacitors' state (charge and current, evaluated at the iterate before the last) to the
#: final node voltages. With reltol 1e-6 a reset edge of an ideal (1e9) op-amp's integrator
#: left its capacitor's reported current 4e-4 off KCL at one time point (a window's energy
#: balance 9.3e-7 off); with 1e-7 the balance closes to 2e-10 (measured, ideal and macro
#: op-amps). A factor of 100 (reltol 1e-8) stalled ngspice's Newton on the macro op-amp.
ENERGY_NEWTON_FACTOR = 10


def tran_options(energy: bool = False) -> dict[str, str]:
    """The ``.options`` of the readout transient (:data:`TRAN_OPTIONS`; with ``energy``
    the tighter Newton tolerance of :data:`ENERGY_NEWTON_FACTOR`)."""
    if not energy:
        return dict(TRAN_OPTIONS)
    f = ENERGY_NEWTON_FACTOR
    return dict(TRAN_OPTIONS, reltol=f"{float(TRAN_OPTIONS['reltol']) / f:g}", trtol=f"{7 * f:g}")
PAIRS_PER_LINE = 6
#: Allowed ``TranSettings.steps_per_window``: coarser than ``t_int / 10`` leaves the readout's
#: settling to ngspice's error control alone (20 is already 1.3e-4 off, see TranSettings);
#: 1e5 points a window is more than any check needs.
MIN_STEPS_PER_WINDOW, MAX_STEPS_PER_WINDOW = 10, 100_000


@dataclass(frozen=True)
class TranSettings:
    """Timestep control: ``max_step = t_int / steps_per_window``.

    ngspice's own error control sets most steps; this cap sets its accuracy on fast
    readout dynamics (measured, finite-gain integrator with A = 10 against its closed
    form: 2e-6 relative at 100, 5e-5 at 33, 1.3e-4 at 20). The nodal engine's largest
    step scales with it.
    """

    steps_per_window: int = 100

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps_per_window", integer_in(
            "steps_per_window", self.steps_per_window, MIN_STEPS_PER_WINDOW, MAX_STEPS_PER_WINDOW))

    def max_step(self, t_int: float) -> float:
        return t_int / self.steps_per_window


def _pwl(name: str, p: str, n: str, t: np.ndarray, v: np.ndarray) -> list[str]:
    pairs = [f"{a!r} {b!r}" for a, b in zip(np.asarray(t, float).tolist(),
                                             (np.asarray(v, float) + 0.0).tolist())]
    lines = [f"{name} {p} {n} pwl("]
    for k in range(0, len(pairs), PAIRS_PER_LINE):
        lines.append("+ " + " ".join(pairs[k:k + PAIRS_PER_LINE]))
    lines[-1] += ")"
    return lines


def sample_marker(schedule: Schedule, t_edge: float) -> tuple[np.ndarray, np.ndarray]:
    """A PWL with a corner at every sampling instant (a breakpoint ngspice must hit)."""
    ts = schedule.t_sample
    t = np.concatenate([[0.0], np.stack([ts, ts + 0.5 * t_edge, ts + t_edge], 1).ravel()])
    v = np.concatenate([[0.0], np.tile([0.0, 1.0, 0.0], ts.size)])
    t, first = np.unique(t, return_index=True)
    return t, v[first]


def supply_lines(supply, cols: int) -> list[str]:
    """The op-amps' rails: sources ``vdd``/``vss`` and per column two behavioural current
    sources drawing the quiescent current plus the output current (``i(vop_j)``, positive
    when sourced) from the rail it flows from. Beside the signal path: no node of it changes."""
    iq = f"{supply.i_q_a!r}"
    lines = [f"* op-amp supply: rails and what each op-amp draws (quiescent {iq} A + output current)",
             f"vdd spdd 0 dc {supply.v_dd!r}", f"vss spss 0 dc {supply.v_ss!r}"]
    for j in range(cols):
        lines.append(f"bdd_{j} spdd 0 i = {iq} + max(i(vop_{j}), 0)")
        lines.append(f"bss_{j} 0 spss i = {iq} + max(-i(vop_{j}), 0)")
    return lines


def has_gate_dynamics(ir: CircuitIR) -> bool:
    """True when the cells' gate lines have capacitance: the readout then ramps the gates on."""
    return float(getattr(ir.cell, "c_gl_f", 0.0) or 0.0) > 0.0 and ir.gates is not None


def gate_ramp(ir: CircuitIR, schedule: Schedule, t_edge: float) -> tuple[np.ndarray, np.ndarray]:
    """``(t (3,), v (n_gates, 3))``: each gate source at ``vg_off_volt`` until the first window
    opens, then ramped to its value over ``t_edge`` (the rows turn on as the integration
    starts, so a late gate costs charge; both engines use this ramp)."""
    off = float(ir.cell.vg_off_volt)
    t_on = float(schedule.t_open[0])
    v = np.stack([np.full(len(ir.gates), off), np.full(len(ir.gates), off), ir.gates.value], 1)
    return np.array([0.0, t_on, t_on + t_edge]), v


def readout_vectors(ir: CircuitIR) -> list[str]:
    """Vectors the transient saves and reads: outputs, virtual grounds, sense and driver currents."""
    cols = range(ir.cols)
    return ([f"rdo_{j}" for j in cols] + [f"vgnd_{j}" for j in cols]
            + [branch_name(n) for n in ir.senses.names] + [branch_name(n) for n in ir.drivers.names])


def format_readout_netlist(ir: CircuitIR, readout, schedule: Schedule, t_edge: float,
                           opamp_library: str, settings: TranSettings = TranSettings(),
                           extra_saves: tuple[str, ...] = (), energy: bool = False) -> str:
    """The whole transient netlist as text (see the module docstring for the topology).

    ``extra_saves``: ``.save`` lines of further vectors (the energy's power vectors);
    ``energy``: the options of :func:`tran_options` for an energy run."""
    names = ir.node_names
    lines = [f"* spicebar readout transient: {comment_text(ir.title)}; "
             f"{comment_text(readout.describe())}",
             "* column j: output rdo_j, virtual ground vgnd_j, current i(vsense_j); see "
             "spicebar.netlist.readout",
             ".options klu " + " ".join(f"{k}={v}" for k, v in tran_options(energy).items()),
             *temp_cards(ir.temperature_k),
             opamp_library.strip(),
             *model_cards(ir),
             "* word-line drivers (the encoded inputs)"]
    d = ir.drivers
    for name, p, n, row in zip(d.names, names[d.node_p].tolist(), names[d.node_n].tolist(),
                               ir.driver_row.tolist()):
        lines += _pwl(name, p, n, schedule.row_t[row], schedule.row_v[row])
    gates = () if getattr(ir, "gates", None) is None else (ir.gates,)
    if gates and has_gate_dynamics(ir):  # RC gate lines: the rows are turned on (a ramp)
        t_g, v_g = gate_ramp(ir, schedule, t_edge)
        lines.append(f"* {comment_text(ir.gates.comment)}: ramped on from vg_off as the first window opens")
        for name, p, v in zip(ir.gates.names, names[ir.gates.node_p].tolist(), v_g):
            lines += _pwl(name, p, "0", t_g, v)
        gates = ()
    for group in (*gates, *ir.resistors, *getattr(ir, "devices", ()), *ir.capacitors):
        lines.append(f"* {comment_text(group.comment)}")
        lines.extend(FORMATTERS[group.kind](group, names, group.value))
    lines.append("* readout: ammeters into the op-amp virtual grounds")
    s = ir.senses
    for name, p, col in zip(s.names, names[s.node_p].tolist(), ir.sense_col.tolist()):
        lines.append(f"{name} {p} vgnd_{col} dc 0")
    lines.append(f"* readout per column: {comment_text(readout.describe())}")
    op = readout.opamp
    for j in range(ir.cols):
        out = f"opo_{j}" if op.supply is not None else f"rdo_{j}"
        lines.append(f"xop_{j} vref vgnd_{j} {out} {op.subckt} {op.instance_params()}")
        if op.supply is not None:  # the output current, for the rail it is drawn from
            lines.append(f"vop_{j} opo_{j} rdo_{j} dc 0")
        if readout.kind == "integrator":
            lines.append(f"cint_{j} vgnd_{j} rdo_{j} {readout.c_int_f!r}")
            lines.append(f"brst_{j} vgnd_{j} rdo_{j} i = v(rst)*(v(vgnd_{j})-v(rdo_{j}))"
                         f"*{1.0 / readout.r_reset_ohm!r}")
        else:
            lines.append(f"rf_{j} vgnd_{j} rdo_{j} {readout.r_f_ohm!r}")
    if op.supply is not None:
        lines += supply_lines(op.supply, ir.cols)
    lines.append(f"vref vref 0 dc {readout.v_ref!r}")
    lines += _pwl("vrst", "rst", "0", schedule.reset_t, schedule.reset_v)
    lines += _pwl("vsmp", "smp", "0", *sample_marker(schedule, t_edge))
    lines.append(".save " + " ".join(readout_vectors(ir)))
    lines += list(extra_saves)
    t_max = settings.max_step(schedule.t_int)
    lines += [f".tran {t_max!r} {schedule.t_stop!r} 0 {t_max!r}", ".end", ""]
    return "\n".join(lines)
