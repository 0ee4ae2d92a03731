"""Newton-Raphson nodal solver for IRs with nonlinear cells (sinh elements, MOSFETs).

Unknowns are the node voltages not held by a source. Per input vector it solves
``F(v) = L v + i_dev(v) = 0`` at the unknown nodes, where ``L`` is the resistor
Laplacian (plus ngspice's ``gmin`` from every MOSFET drain and source to ground,
see :mod:`spicebar.circuit.iv_models`) and ``i_dev`` the current each device draws out of a
node. Each iteration stamps the device conductances vectorised into a Jacobian of fixed
sparsity pattern (:mod:`.pattern`) and solves it with SuperLU, or dense LAPACK for small
systems (:data:`DENSE_LU_MAX`).

Convergence aids, as in SPICE: each sinh device is linearised at a *limited*
voltage (an increase of ``|V|`` beyond the device's voltage scale ``b`` is cut to
``b ln(1 + dV/b)``, so its current can grow at most by a factor ``1 + dV/b`` per
iteration), and no node moves more than :data:`MAX_STEP_V` per iteration.
Converged means: no limiting active, the last step below
``VNTOL + RELTOL * max|v|`` (or stagnating below :data:`STAGNATION_V`) and the KCL
residual below :data:`KCL_TOL_REL` of the largest device/resistor current, or below
float64's floor for evaluating it (:data:`KCL_ROUNDING_UNITS` rounding units of the largest
conductance times the largest voltage), whichever is larger; ``info["kcl_residual_rel"]``
is relative to that same scale. Otherwise :class:`~spicebar.errors.SolverError`.
"""

from __future__ import annotations

from ..._progress import bar_disable

import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ...circuit.iv_models import NGSPICE_GMIN
from ...errors import SolverError
from ...circuit.ir import DEVICE, NMOS, SINH, CircuitIR
from ...results import SimulationResult
from .stamps import conductance_matrix, fixed_voltages, singular_reason
from .pattern import DeviceStamps, JacobianPattern
from .tables import Level1StandIn, Table2D

MAX_ITER = 200
MAX_STEP_V = 1.0
VNTOL = 1e-12  # volts; with RELTOL: the last Newton step must be below VNTOL + RELTOL*max|v|
RELTOL = 1e-9   # (Newton converges quadratically, so the error left is far below the last step)
KCL_TOL_REL = 1e-9  # KCL residual at every node, relative to the largest element current
#: ...or to float64's floor for it, if that is larger: evaluating ``L v`` at a node rounds
#: to a few units of the largest conductance times the largest voltage (a 1 ohm wire at
#: 0.1 V: ~2e-17 A x 64), while selector cells at low bias may carry only ~1e-8 A in all.
#: Below that floor no step can lower the residual (measured: a default 1S1R array at
#: 0.1 V stalled at 4e-9..7e-9 of its largest current with steps of 7e-18 V).
KCL_ROUNDING_UNITS = 64.0
#: Nodes joined to the rest only through selectors at low bias (~1e-9 S) have voltages that
#: float64 fixes to ~1e-9 V only; there the step stagnates instead of shrinking. A step that
#: no longer halves, below this, with KCL met, is accepted (the currents are then exact to
#: KCL_TOL_REL; the floating node voltages to about the step).
STAGNATION_V = 1e-6
#: Step halvings of the damped Newton for tabled devices (see ``_damped``).
MAX_HALVINGS = 12


def _limit_sinh(v_new: np.ndarray, v_old: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SPICE-style limiting of an exponential device's voltage (see module docstring)."""
    dv = v_new - v_old
    grow = (np.abs(v_new) > np.abs(v_old)) & (np.abs(v_new) > 2 * b) & (np.abs(dv) > 2 * b)
    lim = v_old + np.sign(dv) * b * np.log1p(np.abs(dv) / b)
    return np.where(grow, lim, v_new)


class _System:
    """The parts of the Newton system that do not change between iterations: the unknowns,
    the devices' positions and the Jacobian's sparsity pattern (:mod:`.pattern`), so an
    evaluation computes only values."""

    def __init__(self, ir: CircuitIR, lap: sp.csr_matrix, fixed: np.ndarray):
        self.ir = ir
        n = ir.n_nodes
        gmin = np.zeros(n)
        for g in ir.devices:
            if g.kind == NMOS and not isinstance(g.table, Table2D):  # tables hold gmin
                np.add.at(gmin, g.node_p, NGSPICE_GMIN)
                np.add.at(gmin, g.node_n, NGSPICE_GMIN)
        self.lap = (lap + sp.diags(gmin)).tocsr()
        is_fixed = np.zeros(n, bool)
        is_fixed[fixed] = True
        self.unknown = np.flatnonzero(~is_fixed)
        self.uidx = np.full(n, -1)
        self.uidx[self.unknown] = np.arange(self.unknown.size)
        coo = self.lap.tocoo()
        keep = (self.uidx[coo.row] >= 0) & (self.uidx[coo.col] >= 0)
        self.l_rows, self.l_cols = self.uidx[coo.row[keep]], self.uidx[coo.col[keep]]
        self.l_vals = coo.data[keep]
        off = coo.row != coo.col  # current_scale's branches
        self._br_r, self._br_c, self._br_g = coo.row[off], coo.col[off], coo.data[off]
        self._g_max = float(np.abs(self.lap.data).max(initial=0.0))
        self.stamps = DeviceStamps(ir)
        self.sinh, self.nmos, self.tabled = self.stamps.sinh, self.stamps.nmos, self.stamps.tabled
        self.pattern = JacobianPattern(
            np.concatenate([self.l_rows, self.uidx[self.stamps.rows]]),
            np.concatenate([self.l_cols, self.uidx[self.stamps.cols]]),
            self.unknown.size, self.l_vals)
        # Resistors and sinh devices give a symmetric, diagonally dominant Jacobian (an
        # M-matrix): SuperLU may then keep the diagonal pivots (about 2x faster). MOSFETs
        # make it unsymmetric: keep partial pivoting.
        self.lu_options = dict(permc_spec="MMD_AT_PLUS_A")
        if not self.nmos and not any(g.node_g is not None for g in self.tabled):
            self.lu_options.update(diag_pivot_thresh=0.0, options=dict(SymmetricMode=True))

    def residual(self, v: np.ndarray, v_lim: list[np.ndarray] | None, jacobian: bool = True):
        """``(inj (n,) A, device currents (k,) A, Jacobian data (nnz,) S or None)``: the
        injected node currents of the linearised system, the devices' own currents, and the
        values of :attr:`pattern` (the Jacobian on the unknowns)."""
        cur, vals = self.stamps.evaluate(v, v_lim, jacobian)
        inj = self.lap @ v
        if cur.size:
            inj += np.bincount(self.stamps.inj_nodes, cur, minlength=inj.size)
        return inj, cur, (self.pattern.data(vals) if jacobian else None)

    def evaluate(self, v: np.ndarray, v_lim: list[np.ndarray] | None, jacobian: bool = True):
        """Injected node currents ``(n,)`` of the linearised system, Jacobian on the unknowns
        (CSC; None without ``jacobian``: the line solver builds its own from the devices)."""
        inj, _, data = self.residual(v, v_lim, jacobian)
        return inj, (self.pattern.csc(data) if jacobian else None)

    def current_scale(self, v: np.ndarray, cur: np.ndarray | None = None) -> float:
        """Largest current through any element, amperes (the scale of the KCL residual),
        floored at float64's rounding of ``L v`` over :data:`KCL_TOL_REL` (see
        :data:`KCL_ROUNDING_UNITS`). ``cur``: the devices' currents at ``v`` (unlimited), if
        already evaluated."""
        s = float(np.abs(self._br_g * (v[self._br_r] - v[self._br_c])).max(initial=0.0))
        if cur is None:
            cur, _ = self.stamps.evaluate(v, None, jacobian=False)
        s = max(s, float(np.abs(cur).max(initial=0.0)))
        floor = KCL_ROUNDING_UNITS * np.finfo(float).eps * self._g_max * float(np.abs(v).max(initial=0.0))
        return max(s, floor / KCL_TOL_REL, np.finfo(float).tiny)


def _damped(system: _System, v: np.ndarray, dv: np.ndarray, alpha: float, r0: float) -> float:
    """Backtracking on the KCL residual for tabled devices (which have no voltage limiting,
    unlike sinh devices): halve the step until the residual's 2-norm falls (Armijo, 1e-4),
    at most :data:`MAX_HALVINGS` times. A full step that reduces it is kept as it is; where
    no step lowers it (the residual is at rounding level) the full step is taken too."""
    u = system.unknown
    full = alpha
    for _ in range(MAX_HALVINGS):
        trial = v.copy()
        trial[u] += alpha * dv
        r1 = float(np.linalg.norm(system.evaluate(trial, None, jacobian=False)[0][u]))
        if r1 <= (1.0 - 1e-4 * alpha) * r0:
            return alpha
        alpha *= 0.5
    return full


#: Up to this many unknowns a Newton Jacobian is factorised dense (LAPACK, partial pivoting):
#: there SuperLU's set-up costs more than the arithmetic (a nonlinear readout factorises
#: one per iteration at every time point).
DENSE_LU_MAX = 300


class _DenseLU:
    """A dense LU (LAPACK ``getrf`` output) with ``.solve(b)`` (``getrs``, called directly:
    scipy's wrappers cost more than the solve at these sizes)."""

    def __init__(self, lu: np.ndarray, piv: np.ndarray):
        from scipy.linalg.lapack import dgetrs
        self.lu, self.piv, self._getrs = lu, piv, dgetrs

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        if self.lu.shape[0] == 0:  # every node held: nothing to solve
            return np.array(rhs, float)
        x, _ = self._getrs(self.lu, self.piv, rhs)
        return x


def factorise(system: _System, data: np.ndarray, it: int = 0, vector: int = 0):
    """An LU of the Jacobian with values ``data`` (``system.pattern``'s), with ``.solve(b)``:
    dense LAPACK up to :data:`DENSE_LU_MAX` unknowns, SuperLU beyond. A singular Jacobian
    raises :class:`~spicebar.errors.SolverError` naming the iteration and input vector."""
    pat = system.pattern
    why = None
    if pat.m <= DENSE_LU_MAX:
        from scipy.linalg.lapack import dgetrf
        a = pat.dense(data)
        if pat.m == 0:
            return _DenseLU(a, np.zeros(0, np.int32))
        if np.all(np.isfinite(a)):
            lu, piv, info = dgetrf(a, overwrite_a=True)
            if info == 0:
                return _DenseLU(lu, piv)
        why = "matrix is exactly singular"
    else:
        try:
            return spla.splu(pat.csc(data), **system.lu_options)
        except RuntimeError as exc:
            why = str(exc)
    jac = pat.csc(data)
    raise SolverError(f"Newton Jacobian is singular at iteration {it} of input "
                      f"vector {vector} ({why}): {singular_reason(jac)}") from None


def newton_solve(system: _System, v0: np.ndarray, vector: int = 0,
                 line=None) -> tuple[np.ndarray, dict]:
    """Solve one operating point from ``v0`` (``(n_nodes,)``, fixed nodes set); returns v, report.

    ``line``: a :class:`~.newton_lines.LineStep` that solves each Newton step on the
    lines; None: an LU of the Jacobian per iteration (:func:`factorise`)."""
    v = v0.copy()
    u = system.unknown
    v_lim = [v[g.node_p] - v[g.node_n] for g in system.sinh]
    vmax = max(float(np.abs(v).max()), 1e-3)
    step = np.inf
    prev_step = np.inf
    for it in range(1, MAX_ITER + 1):
        inj, _, data = system.residual(v, v_lim, jacobian=line is None)
        if line is not None:
            dv = line.solve(v_lim[0], inj[u])
        else:
            dv = -factorise(system, data, it, vector).solve(inj[u])
        if not np.all(np.isfinite(dv)):
            why = "" if line is not None else f": {singular_reason(system.pattern.csc(data))}"
            raise SolverError(f"Newton step is not finite at iteration {it} of input vector "
                              f"{vector}{why}")
        big = float(np.abs(dv).max(initial=0.0))
        alpha = min(1.0, MAX_STEP_V / big) if big > 0 else 1.0
        if system.tabled and not system.sinh:
            alpha = _damped(system, v, dv, alpha, float(np.linalg.norm(inj[u])))
        v[u] += alpha * dv
        prev_step, step = step, alpha * big
        limited = False
        new_lim = []
        for k, g in enumerate(system.sinh):
            vdev = v[g.node_p] - v[g.node_n]
            vl = _limit_sinh(vdev, v_lim[k], g.param)
            limited |= bool(np.any(vl != vdev))
            new_lim.append(vl)
        v_lim = new_lim
        small = step <= VNTOL + RELTOL * vmax
        stagnant = step <= STAGNATION_V and step > 0.5 * prev_step
        if not limited and alpha == 1.0 and (small or stagnant):
            inj, cur, _ = system.residual(v, None, jacobian=False)
            kcl = float(np.abs(inj[u]).max(initial=0.0)) / system.current_scale(v, cur)
            if kcl <= KCL_TOL_REL:
                return v, {"iterations": it, "last_step_v": step, "kcl_residual_rel": kcl}
    inj, _ = system.evaluate(v, None, jacobian=False)
    kcl = float(np.abs(inj[u]).max(initial=0.0)) / system.current_scale(v)
    raise SolverError(f"Newton did not converge for input vector {vector} in {MAX_ITER} iterations: "
                      f"last step {step:.3g} V, KCL residual {kcl:.3g} of the largest current "
                      "(strongly nonlinear cells at large voltages? lower the inputs or the "
                      "nonlinearity, or use the ngspice engine)")


def _outside(g, v_all: np.ndarray) -> bool:
    """Whether a converged solution left the measured grid of ``g``'s table."""
    if isinstance(g.table, Table2D):
        return g.table.outside(v_all[:, g.node_p], v_all[:, g.node_n])
    if g.kind == DEVICE:  # a two-terminal table (gated ones are Table2D, above)
        return g.table.outside(v_all[:, g.node_p] - v_all[:, g.node_n])
    return False


def solve_newton(ir: CircuitIR, inputs: np.ndarray, spec=None,
                 solver: str = "direct") -> SimulationResult:
    """Solve the nonlinear IR for ``inputs`` of shape ``(batch, rows)`` volts.

    ``spec`` (the spec ``ir`` was elaborated from, without an operation) and ``solver``
    ``auto`` or ``iterative``: each Newton step on the line solver where the IR allows
    (:func:`.newton_lines.line_step`; ``info["newton_steps"]`` says which ran and why)."""
    from tqdm import tqdm

    from ..cell_currents import deferred_cell_currents
    t0 = time.perf_counter()
    batch = inputs.shape[0]
    fixed, v_fixed = fixed_voltages(ir, inputs)
    system = _System(ir, conductance_matrix(ir), fixed)
    step, why = None, "sparse LU (solver='direct')"
    if spec is not None and solver != "direct":
        from .newton_lines import line_step
        step = line_step(spec, ir, system.unknown)
        if isinstance(step, str):
            step, why = None, f"sparse LU (line solver not applicable: {step})"
        else:
            why = "line-preconditioned conjugate gradients on the grid (middle nodes eliminated)"
    v_all = np.zeros((batch, ir.n_nodes))
    reports = []
    v = np.zeros(ir.n_nodes)
    show = batch > 1 and batch * ir.n_nodes > 200_000
    for b in tqdm(range(batch), desc="newton", disable=bar_disable(show), leave=False):
        v[fixed] = v_fixed[:, b]
        v, rep = newton_solve(system, v, b, step)
        v_all[b] = v
        reports.append(rep)
    inj = np.stack([system.evaluate(v_all[b], None, jacobian=False)[0] for b in range(batch)])
    drv = inj[:, ir.drivers.node_p]
    sen = -inj[:, ir.senses.node_p]
    currents = np.zeros((batch, ir.cols))
    np.add.at(currents, (slice(None), ir.sense_col), sen)
    driver_currents = np.zeros((batch, ir.rows))
    np.add.at(driver_currents, (slice(None), ir.driver_row), drv)
    its = [r["iterations"] for r in reports]
    mos = [g for g in ir.devices if g.kind == NMOS]
    info = {"solver": ("Newton-Raphson, each step by the line solver" if step is not None else
                       "Newton-Raphson, dense LU (LAPACK) per iteration"
                       if system.unknown.size <= DENSE_LU_MAX else
                       "Newton-Raphson, scipy splu (SuperLU, MMD_AT_PLUS_A"
                       + (", symmetric mode" if not mos else "") + ") per iteration"),
            "newton_steps": why,
            "unknowns": int(system.unknown.size), "converged": True,
            "iterations": its, "max_iterations": int(max(its)),
            "kcl_residual_rel": float(max(r["kcl_residual_rel"] for r in reports)),
            "last_step_v": float(max(r["last_step_v"] for r in reports))}
    if step is not None:
        info["cg_iterations"] = step.iterations
    for g in mos:
        if isinstance(g.table, Table2D):
            info["mos_model"] = f"the card {g.model} itself, through a table measured in ngspice"
        elif isinstance(g.table, Level1StandIn):
            info["mos_model"] = (f"APPROXIMATE: the card {g.model} replaced by the level-1 card "
                                 f"{g.table.card} (allow_approximate_cells)")
        else:
            info["mos_model"] = ("ngspice level-1 (Shichman-Hodges) equations with the "
                                 f"parameters of {g.model}")
    tabled = [(g.prefix if isinstance(g.prefix, str) else g.kind, g) for g in ir.devices
              if g.table is not None]
    if tabled:
        info["device_tables"] = {name: g.table.describe() for name, g in tabled}
        outside = [name for name, g in tabled if _outside(g, v_all)]
        if outside:
            info["outside_grid"] = outside
    return SimulationResult("nodal", inputs, currents, v_all[:, ir.wl_node], v_all[:, ir.bl_node],
                            driver_currents, time.perf_counter() - t0, info,
                            cell_currents=deferred_cell_currents(ir, v_all))
