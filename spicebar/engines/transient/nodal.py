"""The nodal transient engine: the circuit ngspice simulates, integrated by TR-BDF2.

The same circuit as :mod:`spicebar.netlist.readout`: the array (any cell kind), wire
capacitance per segment, and per column the op-amp of ``models/opamp.lib`` (gain, pole,
soft rail clamp, anti-windup, offset, output resistance) with its integrator (capacitor
and reset switch ``rst(t) / r_reset``) or TIA. Nothing is left out:
``info["not_modelled"]`` is empty.

* Without wire capacitance the array is algebraic: it is reduced once per input vector
  to its currents and admittance at the bit-line ends (:class:`.boundary.AlgebraicArray`),
  and only the readout states (:mod:`.columns`, vectorised over columns) are stepped.
  Linear cells need the DC solve only at the stimulus breakpoints (the currents are
  linear in between); nonlinear cells are solved at every time point inside an edge.
  Large linear arrays (from 256x256, or where the LU does not fit) get the admittance
  by probing with the line solver along the directions the run needs (:mod:`.probing`).
* User devices (``DeviceCell``) are followed through their DC table (their I-V); a
  device with internal charge storage needs the ngspice engine. A MOSFET card other
  than level 1 (BSIM4) is refused: ngspice's transient integrates its charges.
* With wire capacitance (linear cells) every stage solves the array with ``C / (d h)``
  added, one LU per step size (:class:`.boundary.CapacitiveArray`); that LU also gives
  the exact admittance at the bit-line ends, so a stage is one solve for the readout's
  currents and one for the node voltages it leaves.

Integration: TR-BDF2 (a trapezoidal stage to ``t + gamma h``, then BDF2; the stages are
:mod:`.steppers`'), second order like ngspice's trapezoidal rule but L-stable, on the grid
of :mod:`.timegrid`, which lands on every breakpoint. Nonlinear cells with a virtual
ground that leaves ``v0`` by more than :data:`LINEARISATION_MAX_V` (a saturated op-amp)
are refused: the reduction linearises the cells at ``v0``.
"""

from __future__ import annotations

import numpy as np

from ...circuit.encoding import Schedule
from ...circuit.ir import NMOS, CircuitIR
from ...errors import SolverError, SpecError
from ...netlist.readout import TranSettings
from .boundary import CapacitiveArray, exact_column_currents
from .columns import Columns
from .energy_nodal import nodal_window_energies, wired_energy
from .gate_lines import (gate_lines_as_inputs, gate_step_cap, has_gate_dynamics,
                         ladder_time_constant_s, with_gate_corner)
from .probing import PROBE_REL, PROBE_ROUNDS
from .refine import DEFAULT_TRANSIENT_TOL, HALVING_SAFETY
from .result import RawTransient
from .steppers import (_C1, _C2, _D, DC_STAGE_S, DC_STAGES, WIRED_ATOL,  # noqa: F401
                       WIRED_MAX_ITER, WIRED_RTOL, _Algebraic, _AlgebraicStepper,
                       _WiredStepper)
from .timegrid import (ENERGY_FIRST_STEP_FRACTION, ENERGY_STEP_GROWTH, ENERGY_STEP_REPEAT,
                       FIRST_STEP_FRACTION, GAMMA, TRBDF2_LTE, reset_step, rows_at, step_grid)

#: With nonlinear cells the array is linearised at the virtual ground ``v0``; the error
#: is second order in the departure ``e``, bounded after the run (see
#: ``_check_linearisation``); a bound above this fraction of full scale (a tenth of the
#: agreement target) refuses the run. Only instants with the reset open fix the bound
#: (what flows while it is closed is discharged with the capacitor).
LINEARISATION_REL = 1e-5
#: The nodal grid's longest step is this many times ngspice's (``TranSettings``: t_int/100,
#: so t_int/20). Between breakpoints the readout's solution is a ramp plus decaying
#: exponentials that the small steps after each breakpoint follow; TR-BDF2 is exact on the
#: ramp. Measured against t_int/1000: < 7e-6 of full scale, saturating windows included.
NODAL_STEP_SCALE = 5.0
#: ``WIRED_RTOL`` is the agreement at the default accuracy goal; a run with another goal
#: (``transient_tol``) iterates to the same fraction of it (a thousandth: a column
#: current that far off moves a sample by about that much of full scale), so a looser
#: goal also spares the array solves that only move the currents below it.
WIRED_RTOL_SCALES = True
#: Local error control: after a run, the steps are split where the summed local error
#: estimates (on the states the samples are read from) pass the accuracy goal
#: (``transient_tol``, default :data:`.refine.DEFAULT_TRANSIENT_TOL`) over
#: :data:`.refine.HALVING_SAFETY`, per window length, of the output's full swing, and the
#: run repeated, up to ``MAX_REFINEMENTS`` times. ``LTE_REL`` is that budget at the default
#: goal. Fixed grids missed what the step count does not reach: a nonlinear cell's current
#: along a pulse edge (6e-5 of full scale on sinh cells, pulse-width inputs), the op-amp
#: loop after an edge (4.5e-6 with a 1 GHz macromodel). The sum is not a proven bound;
#: measured, halving every step moves the samples by 0.01-0.9 of it (refine.py).
LTE_REL = DEFAULT_TRANSIENT_TOL / HALVING_SAFETY
MAX_REFINEMENTS = 4
#: A split step gets ``2^k >= REFINE_SAFETY sqrt(ratio)`` parts, at most ``MAX_SPLIT``.
REFINE_SAFETY = 1.25
MAX_SPLIT = 64
#: ``budget``: split the fewest steps that bring the run's summed estimates within the
#: budget (``LTE_REL`` at the default goal) per window length (:mod:`.refine`); ``step``: every step past
#: its share of it.
REFINE_RULE = "budget"
#: Split a step whose error falls off from its start (at a stimulus corner, or past the
#: step before's error density) into parts that start short and grow (:mod:`.refine`).
GRADED_SPLITS = True
#: How the stages of an array with wire capacitance are solved: ``auto`` (the cost model of
#: :mod:`.stage_cg`, and conjugate gradients wherever the LU does not fit), ``lu`` or ``cg``.
STAGE_SOLVER = "auto"


def not_modelled(readout, ir: CircuitIR) -> list[str]:
    """What the nodal engine leaves out of the circuit: nothing (kept for the result key)."""
    return []


def check_supported(ir: CircuitIR) -> None:
    """Refuse the combinations the nodal transient does not reach, before any work."""
    from ..nodal.stamps import mos_is_level1
    for g in ir.devices:
        if g.kind == NMOS and not mos_is_level1(g):
            raise SpecError("cell", f"has the MOSFET card {g.model} (not level 1): the nodal "
                            "engine follows it through a DC table, but in a transient ngspice "
                            "also integrates the card's charges (gate and junction "
                            "capacitances), which a table does not hold",
                            "a level-1 card (TransistorCell(model='level1')), or engine='ngspice'")
    if any(g.prefix != "cgl" for g in ir.capacitors) and ir.nonlinear:
        raise SpecError("readout.c_wl_f/c_bl_f", "is set with nonlinear cells: the nodal "
                        "transient engine steps wire capacitance for linear (passive) arrays "
                        "only", "0 F with nonlinear/1S1R/1T1R cells, or engine='ngspice'")


def first_step(readout, t_edge: float, t_gate: float = 0.0) -> float:
    """Fastest time constant in play (edge, reset r C, op-amp pole, gate line), times the fraction."""
    taus = [t_edge] + ([t_gate] if t_gate > 0 else [])
    if readout.kind == "integrator":
        taus.append(readout.r_reset_ohm * readout.c_int_f)
    if readout.opamp.kind == "macro":
        taus.append(1.0 / (2 * np.pi * readout.opamp.gbw_hz))
    return FIRST_STEP_FRACTION * min(taus)


def reset_cap(readout, schedule: Schedule, t_edge: float):
    """The step cap while an integrator's reset switch conducts (None for a TIA)."""
    if readout.kind != "integrator":
        return None
    cap = reset_step(readout.r_reset_ohm * readout.c_int_f, readout.t_reset_s + t_edge)

    def h_cap(t0: float, t1: float) -> float:
        closed = np.interp(0.5 * (t0 + t1), schedule.reset_t, schedule.reset_v) > 0.0
        return cap if closed else np.inf
    return h_cap


def run_readout_nodal(ir: CircuitIR, readout, schedule: Schedule, t_edge: float,
                      settings: TranSettings = TranSettings(), memory=None, energy: bool = False,
                      transient_tol: float = DEFAULT_TRANSIENT_TOL):
    """Integrate the whole readout circuit; returns ``(raw, info)`` like the ngspice engine.

    The grid (:mod:`.timegrid`) is refined where TR-BDF2's local error estimate asks for it
    (``transient_tol``, the accuracy goal as a fraction of full scale, over
    :data:`.refine.HALVING_SAFETY` per window length; :func:`refine_grid`) and the run repeated; ``info`` reports the
    refinements and the remaining estimate (``lte_estimate_fs``: the largest sum of the
    local errors over the run, relative to the output's full swing).

    ``energy``: also the energy of every element in every window in ``raw.energies``
    (:mod:`.energy`; linear arrays only).

    Nonlinear cells take two passes: the first linearises the array at ``v0``, the second
    at each input vector's mean virtual ground of the first (the loop's steady error, mV
    with a finite-bandwidth op-amp), which leaves only the wobble around it to second order;
    a refined grid linearises at the previous grid's virtual grounds.
    """
    check_supported(ir)
    if energy and ir.nonlinear:
        raise SpecError("energy", "was asked of the nodal transient with nonlinear cells (its "
                        "array is linearised at the virtual ground, not solved at each node)",
                        "linear cells, or engine='ngspice'")
    cols = Columns(readout, ir.cols)
    h_max = settings.max_step(schedule.t_int) * NODAL_STEP_SCALE
    gated = has_gate_dynamics(ir)  # RC gate lines: solved apart, then held inputs
    tau_gate = ladder_time_constant_s(ir) if gated else 0.0
    breakpoints = (with_gate_corner(schedule, t_edge, tau_gate) if gated else schedule).breakpoints()
    if energy:  # a finer grid after each breakpoint: see ENERGY_STEP_GROWTH
        t_grid = step_grid(breakpoints, h_max,
                           first_step(readout, t_edge) * ENERGY_FIRST_STEP_FRACTION / FIRST_STEP_FRACTION,
                           reset_cap(readout, schedule, t_edge), ENERGY_STEP_GROWTH,
                           ENERGY_STEP_REPEAT)
    else:
        t_grid = step_grid(breakpoints, h_max, first_step(readout, t_edge, tau_gate),
                           gate_step_cap(schedule, t_edge, tau_gate, reset_cap(readout, schedule, t_edge))
                           if gated else reset_cap(readout, schedule, t_edge))
    rows = ir.rows
    regate = None
    if gated:  # the gates' exact ladder voltages at every time point of each grid
        ir0, schedule0 = ir, schedule

        def regate(grid):
            stages = grid[:-1] + GAMMA * np.diff(grid)
            return gate_lines_as_inputs(ir0, schedule0, t_edge, np.concatenate([grid, stages]))
        ir, schedule = regate(t_grid)
    g_of = (lambda t: float(np.interp(t, schedule.reset_t, schedule.reset_v)) / readout.r_reset_ohm) \
        if readout.kind == "integrator" else (lambda t: 0.0)
    info = {"max_step_s": h_max, "kcl_residual_rel": 0.0,
            "not_modelled": not_modelled(readout, ir)}
    lte_rel = transient_tol / HALVING_SAFETY
    info["transient_tol_fs"] = transient_tol
    wired_rtol = (WIRED_RTOL * transient_tol / DEFAULT_TRANSIENT_TOL if WIRED_RTOL_SCALES
                  else WIRED_RTOL)
    grid_run = _GridRun(ir, cols, schedule, g_of, memory, info, energy, regate, wired_rtol)
    for refinements in range(MAX_REFINEMENTS + 1):
        traces, worst, lte, src = grid_run(t_grid)
        scale = max(float(np.abs(traces[0] - cols.v0).max()), np.finfo(float).tiny)
        finer, n_split = refine_grid(t_grid, lte, lte_rel * scale / schedule.t_int,
                                     np.isin(t_grid[:-1], breakpoints))
        if n_split == 0 or refinements == MAX_REFINEMENTS:
            break
        grid_run.previous = (t_grid, traces[1] - cols.v0)
        t_grid = finer
    kept = grid_run.kept  # the wired stepper's node voltages and capacitor currents (energy)
    ir, schedule = grid_run.ir, grid_run.schedule  # (a gated run's: its last grid's)
    info.update(first_step_s=float(np.diff(t_grid).min()), timepoints=int(t_grid.size),
                refinements=refinements, lte_estimate_fs=float(lte.sum() / scale),
                lte_steps_over=int(n_split))
    vout, vg, i_col, i_drv = traces
    i_drv = i_drv[:rows]  # (the gate-line rows of a gated run deliver no current)
    info["virtual_ground_error_max_v"] = float(np.abs(vg - cols.v0).max())
    if ir.nonlinear:
        info["linearisation_error_fs"] = _check_linearisation(
            ir, schedule, cols, worst, t_grid, vg, i_col, readout, memory, src)
    energies = None
    if energy:
        energies = nodal_window_energies(ir, readout, schedule, t_grid, vout, vg, i_col, kept,
                                         info)
    return RawTransient(t_grid, vout, vg, i_col, i_drv, None, energies), info


class _GridRun:
    """One run of the readout on a given grid; what does not depend on the grid (the
    wired array's factorisations, a linear array's reduction) is kept across grids."""

    def __init__(self, ir, cols, schedule, g_of, memory, info, energy: bool = False,
                 regate=None, wired_rtol: float = WIRED_RTOL):
        """``regate(t_grid) -> (ir, schedule)``: the circuit and stimuli for a grid, where
        they depend on it (RC gate lines held at their ladder voltages at its time points);
        ``wired_rtol``: the array and readouts' current agreement (wire capacitance)."""
        self.ir, self.cols, self.schedule, self.g_of = ir, cols, schedule, g_of
        self.memory, self.info, self.energy, self.regate = memory, info, energy, regate
        self.previous = None   # (t_grid, virtual-ground errors (cols, n)) of the last grid
        self.kept = None       # the wired stepper's node voltages and currents (energy)
        self._array = None
        self._linear_src = None
        self.wired_rtol = wired_rtol

    def __call__(self, t_grid: np.ndarray):
        """``(traces, worst, lte, src)`` on ``t_grid`` (see :func:`_integrate`)."""
        if self.regate is not None and self.previous is not None:
            self.ir, self.schedule = self.regate(t_grid)
        ir, cols, schedule, g_of, memory = self.ir, self.cols, self.schedule, self.g_of, self.memory
        t_stage = t_grid[:-1] + GAMMA * np.diff(t_grid)
        if ir.capacitors:
            if self._array is None:
                self._array = CapacitiveArray(ir, memory, STAGE_SOLVER)
            array = self._array
            dhs, counts = np.unique([_dh(h) for h in np.diff(t_grid)], return_counts=True)
            array.plan(dict(zip(dhs.tolist(), (2 * counts).tolist())), own=(DC_STAGE_S,))
            stepper = _WiredStepper(ir, array, cols, schedule,
                                    np.concatenate([[0.0], t_grid, t_stage]), self.wired_rtol)
            stepper.kept = self.kept = (wired_energy(ir, schedule, t_grid) if self.energy
                                        else None)  # every element's energy, as it goes
            out = _integrate(stepper, cols, t_grid, t_stage, g_of, None,
                             cols.loop_weights(t_grid, schedule.t_sample))
            self.info["solver"] = f"TR-BDF2; array with wire capacitance: {array.describe()}"
            self.info["stage_solver"] = array.mode
            if array.mode == "cg":
                self.info["stage_cg_iterations"] = int(array.cg.iterations)
                self.info["stage_cg_solves"] = int(array.cg.solves)
            else:   # (a coarser grid may have run the line solver)
                self.info.pop("stage_cg_iterations", None)
                self.info.pop("stage_cg_solves", None)
            return (*out, None)
        times = np.concatenate([t_grid, t_stage])
        if not ir.nonlinear:
            if self._linear_src is None:  # its reduction is at the breakpoints, not the grid
                self._linear_src = _Algebraic(ir, schedule, times, cols.v0, memory)
            src = self._linear_src
            if getattr(src.arr, "probe", None) is not None:
                out = _probe_rounds(src, cols, t_grid, t_stage, g_of, self.info, schedule)
            else:
                out = _integrate(_AlgebraicStepper(ir, src, cols), cols, t_grid, t_stage, g_of,
                                 None, cols.loop_weights(t_grid, schedule.t_sample))
        else:
            if self.previous is None:   # first grid: linearise at v0 for a first pass
                src = _Algebraic(ir, schedule, times, cols.v0, memory)
                out = _integrate(_AlgebraicStepper(ir, src, cols), cols, t_grid, t_stage, g_of,
                                 src, cols.loop_weights(t_grid, schedule.t_sample))
                self.previous = (t_grid, out[0][1] - cols.v0)
            t_prev, e_prev = self.previous
            e_all = np.stack([np.interp(times, t_prev, row) for row in e_prev], 1)
            src = _Algebraic(ir, schedule, times, cols.v0, memory, e_all)
            out = _integrate(_AlgebraicStepper(ir, src, cols), cols, t_grid, t_stage, g_of, src,
                             cols.loop_weights(t_grid, schedule.t_sample))
        self.info["solver"] = f"TR-BDF2; array reduced to its bit-line ends ({src.solver})"
        return (*out, src)


def _probe_rounds(src, cols, t_grid, t_stage, g_of, info, schedule):
    """Run a linear array whose admittance is probed (:mod:`.probing`) until every
    virtual-ground error of the run lies in the probed directions (to the stated bound)."""
    arr = src.arr
    stepper = _AlgebraicStepper(src.ir, src, cols)
    j_scale, i_scale = np.abs(arr.j0).max(), np.abs(arr.i0).max()   # (check floors them)
    for rounds in range(1, PROBE_ROUNDS + 1):
        stepper.seen = []
        out = _integrate(stepper, cols, t_grid, t_stage, g_of, None,
                         cols.loop_weights(t_grid, schedule.t_sample))
        covered, bound = arr.probe.check(np.array(stepper.seen), j_scale, i_scale)
        if covered:
            info.update(probe_directions=int(arr.probe.u.shape[1]), probe_rounds=rounds,
                        probe_error_bound_rel=bound)
            return out
        arr.refresh()
    raise SolverError(f"the probed bit-line admittance did not cover the run's virtual-ground "
                      f"errors after {PROBE_ROUNDS} rounds (bound {bound:.2g} of the currents, "
                      f"> {PROBE_REL:g}); use a smaller array or tiles")


def _dh(h: float) -> float:
    """A step's stage coefficient ``d h``; steps of one length share one factorisation, so
    the length is taken to 10 digits (an interval's last step differs by rounding only)."""
    return _D * float(f"{h:.9e}")


def _integrate(stepper, cols, t_grid, t_stage, g_of, src, loop_weight=None):
    """Step the whole grid; returns ``((vout, vg, i_col, i_drv), worst, lte)``: ``worst``
    the largest departure from the linearisation point with the reset open
    (``(d, t, nodes)``), ``lte`` ``(n - 1,)`` V each step's local error estimate
    (:func:`local_errors`; 0 where the reset conducts): the larger of the integrator's
    states' and the op-amp loop states' times ``loop_weight`` ``(n - 1,)`` (what of them
    is left at the next sample: :meth:`.columns.Columns.loop_weights`)."""
    ir = stepper.ir
    n = t_grid.size
    h = np.diff(t_grid)
    vout = np.empty((ir.cols, n)); vg = np.empty((ir.cols, n))
    i_col = np.empty((ir.cols, n)); i_drv = np.empty((ir.rows, n))
    lte = np.zeros(n - 1)
    m = cols.mass
    watch = cols.output_states
    loop = cols.loop_states if loop_weight is not None else np.arange(0)
    x, f, nodes, extra = stepper.initial(np.zeros(cols.n_states), g_of(t_grid[0]))
    _record(0, nodes, extra["i_drv"], cols, vout, vg, i_col, i_drv)
    keep = getattr(stepper, "kept", None)  # node voltages and capacitor currents (energy)
    if keep is not None:
        keep.append((extra["v"], extra["f_nodes"]))
    worst = (0.0, t_grid[0], nodes)
    for k in range(n - 1):
        dh = _dh(h[k])
        tg, t1 = t_stage[k], t_grid[k + 1]
        xg, fg, nodes_g, ex_g = stepper.stage(x, tg, g_of(tg), dh, m * x + dh * f, extra, 1,
                                              f"at t={tg:.6g} s")
        x1, f1, nodes1, ex1 = stepper.stage(xg, t1, g_of(t1), dh, m * (_C1 * xg - _C2 * x),
                                            (extra, ex_g), 2, f"at t={t1:.6g} s")
        if (watch.size or loop.size) and g_of(t_grid[k]) == 0.0 and g_of(t1) == 0.0:
            lte[k] = local_errors(h[k], f[watch], fg[watch], f1[watch], m[watch])
            if loop.size and loop_weight[k] > 0.0:
                lte[k] = max(lte[k], loop_weight[k] * local_errors(h[k], f[loop], fg[loop],
                                                                   f1[loop], m[loop]))
        x, f, extra = x1, f1, ex1
        _record(k + 1, nodes1, ex1["i_drv"], cols, vout, vg, i_col, i_drv)
        if keep is not None:
            keep.append((ex1["v"], ex1["f_nodes"]))
        if src is None:
            continue
        for tt, nn in ((tg, nodes_g), (t1, nodes1)):
            d = float(np.abs(nn[0] - src.offset(tt)).max(initial=0.0))
            # while the reset is closed the column current is discharged with the
            # capacitor (exp(-t_reset / (r C)) of it stays): only open windows count
            if d > worst[0] and g_of(tt) == 0.0:
                worst = (d, tt, nn)
    return (vout, vg, i_col, i_drv), worst, lte


def local_errors(h: float, f0: np.ndarray, fg: np.ndarray, f1: np.ndarray,
                 mass: np.ndarray) -> float:
    """The largest local truncation error of one TR-BDF2 step over the states, V.

    TR-BDF2 is off by ``TRBDF2_LTE h^3 x^(3)`` a step; ``h^2 x^(3)`` is estimated from the
    slopes at the step's three points (``t``, ``t + gamma h``, ``t + h``) as their second
    divided difference: ``2 (f0 / g - fg / (g (1 - g)) + f1 / (1 - g)) / M``.
    """
    g = GAMMA
    d2 = 2.0 * (f0 / g - fg / (g * (1.0 - g)) + f1 / (1.0 - g)) / mass
    return float(TRBDF2_LTE * h * np.abs(d2).max(initial=0.0))


def refine_grid(t_grid: np.ndarray, lte: np.ndarray, tol_per_s: float, corner=None
                ) -> tuple[np.ndarray, int]:
    """The grid with steps split into ``2^k`` equal steps until the run's summed local error
    estimates meet ``tol_per_s`` times the run (:mod:`.refine`: the fewest steps, those of the
    highest error density; ``REFINE_RULE = "step"``: every step past ``tol_per_s * h``). A
    step's error falls as ``h^3``: ``m`` parts cut it by ``m^2``. Returns the new grid and
    how many steps were split. ``corner`` ``(n - 1,)`` bool: the steps that start at a
    stimulus corner; with :data:`GRADED_SPLITS`, those and the steps whose error density
    falls from the step before are split into graded parts (:func:`.refine.split_steps`)."""
    from .refine import decaying, parts_for_budget, split_parts, split_steps
    h = np.diff(t_grid)
    if REFINE_RULE == "step":
        parts = split_parts(lte / np.maximum(tol_per_s * h, np.finfo(float).tiny), 1.0,
                            REFINE_SAFETY, MAX_SPLIT)
    else:
        parts = parts_for_budget(lte, h, tol_per_s, REFINE_SAFETY, MAX_SPLIT)
    n_split = int(np.count_nonzero(parts > 1))
    if n_split == 0:
        return t_grid, 0
    graded = decaying(lte, h, np.zeros(h.size, bool) if corner is None else corner) \
        if GRADED_SPLITS else None
    return split_steps(t_grid, parts, graded), n_split


def _check_linearisation(ir, schedule, cols, worst, t_grid, vg, i_col, readout, memory, src) -> float:
    """Bound the error of linearising nonlinear cells at ``v0``; refuse a run beyond it.

    At the instant of the largest ``|e|`` (reset open) the array is solved again without
    linearising; the difference ``dJ`` there fixes the second-order coefficient
    ``k = |dJ| / e^2``. An integrator's sample then carries at most ``k * integral(e^2)``
    of charge error (over every open window of the run, an upper bound), a TIA's ``k e(t_sample)^2``;
    either is returned relative to the full-scale signal (largest current times ``t_int``).
    """
    e_max, t, (e, j_lin, _) = worst  # e_max: the largest departure from the linearisation
    if e_max == 0.0:
        return 0.0
    j = exact_column_currents(ir, rows_at(schedule, np.array([t]))[0],
                              cols.v0 + e[ir.sense_col], memory)
    d_w = e - src.offset(t)
    k = float(np.max(np.abs(j - j_lin) / np.maximum(d_w ** 2, np.finfo(float).tiny)))
    scale = max(float(np.abs(i_col).max()), np.finfo(float).tiny)
    d2 = (vg - cols.v0 - np.stack([src.offset(tt) for tt in t_grid], 1)) ** 2
    if readout.kind == "integrator":
        is_open = np.interp(t_grid, schedule.reset_t, schedule.reset_v) == 0.0
        dt = np.diff(t_grid) * (is_open[1:] & is_open[:-1])
        integral = np.sum(0.5 * (d2[:, 1:] + d2[:, :-1]) * dt, axis=1).max()
        rel = k * float(integral) / (scale * schedule.t_int)
    else:
        at = np.stack([np.interp(schedule.t_sample, t_grid, row) for row in d2])
        rel = k * float(at.max()) / scale
    if rel > LINEARISATION_REL:
        raise SolverError(f"the virtual ground left v_ref + v_os by up to {e_max:.3g} V (a "
                          "saturated op-amp?): the nodal transient linearises the nonlinear cells "
                          f"at the virtual ground, which may cost {rel:.2g} of full scale "
                          f"(> {LINEARISATION_REL:g}); use engine='ngspice' or a readout that "
                          "does not saturate (larger c_int, shorter t_int)")
    return rel


def _record(k, nodes, idrv, cols, vout, vg, i_col, i_drv):
    e, j, vo = nodes
    vout[:, k] = vo
    vg[:, k] = cols.v0 + e
    i_col[:, k] = j
    i_drv[:, k] = idrv
