"""IR-drop compensation: programme conductances so the real array returns the target ``W x``.

A passive tile is linear, so what it computes is exactly ``I = V @ T(G)`` with ``T`` its
transfer matrix (:func:`spicebar.engines.nodal.transfer.transfer_matrix`): wire drops and
sneak currents make ``T(G) != G``. Compensation looks for programmed conductances ``G``
in the device window with ``T(G) = G_t``, the target (after the levels, when the
mapping has levels); then every input vector sees the target matrix, so a calibration
on the unit basis of the word lines holds for any input (held-out inputs included).

``first_order`` (closed form, no solve). Perturb the nodal equations to first order in
the wire resistances: the zeroth-order cell currents ``G[i, l] V[i]`` flow through the
wires. Word-line segment ``s`` of row ``i`` (``s = 0`` next to the driver) carries
``V[i] sum_{l >= s} G[i, l]``, so the word line at cell ``(i, j)`` sits
``r_wl V[i] sum_{s <= j} sum_{l >= s} G[i, l]`` below ``V[i]`` (plus ``r_driver V[i]
sum_l G[i, l]``). Bit-line segment ``k`` of column ``j`` (below row ``k``) carries
``sum_{m <= k} G[m, j] V[m]``, so the bit line at cell ``(i, j)`` sits at ``r_bl
sum_{k >= i} sum_{m <= k} G[m, j] V[m]`` (plus ``r_sense sum_m G[m, j] V[m]``). The column
current ``sum_i G[i, j] (V[i] - drop_wl[i, j] - v_bl[i, j])``, collected by input,
gives ``T = G * (1 - a(G)) + O(r^2)`` with

    a[m, j] = r_wl sum_{s<=j} sum_{l>=s} G[m, l] + r_driver sum_l G[m, l]
            + r_bl sum_{k>=m} sum_{i<=k} G[i, j] + r_sense sum_i G[i, j]

(the word-line term is the distributed-load ladder of each row, the bit-line term the
same for each column; the same linearised superposition underlies the analytic IR-drop
models of the crossbar literature, e.g. Lepri et al., IEEE TED 2022). Inverting the
attenuation at the target, ``G = G_t / (1 - a(G_t))``, is exact to first order; the
error left is ``O((r G n^2)^2)``, so it serves small arrays and low wire resistance.

``exact``: a fixed-point iteration on the exact nodal model, in log conductance,
``log G <- clip(log G + log G_t - log T(G))`` (the multiplicative update ``G <- G G_t / T``,
which would be exact in one step if the attenuation ``T / G`` of every cell did not
depend on ``G``), accelerated by Anderson mixing and projected onto the window
``[g_min, g_max]``; started from the first-order solution. It stops when
``max |T(G) - G_t|`` is below a tolerance of the window span. The result is then
quantised to the levels (nearest level, as the mapping does).

What is left (reported per tile in ``info``): the iteration's residual (tolerance),
the quantisation of the compensated conductances (half a level step per cell, the
same order as the quantised ideal's own error), and nothing input-dependent in a
linear array. Targets that would need a conductance outside the window are refused
(:class:`~spicebar.errors.SpecError` naming the cells and how far short they fall):
leave headroom in the mapping (a ``w_max`` above ``max |W|``), use smaller tiles or
lower wire resistance.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from ..errors import SolverError, SpecError

COMPENSATIONS = ("none", "first_order", "exact")

#: The exact iteration stops when ``max |T(G) - G_t| <= EXACT_TOL * (g_max - g_min)``
#: (analog cells), or below ``LEVEL_TOL`` of a level step (finer is lost when the
#: result is snapped to the levels).
EXACT_TOL = 1e-6
LEVEL_TOL = 1e-2
#: Iterations before the exact compensation gives up (it converges linearly, by
#: about 3x per iteration at 256x256 and 2 ohm with Anderson mixing).
EXACT_MAX_ITER = 40
#: Anderson mixing depth (previous iterates combined).
ANDERSON_DEPTH = 4
#: A cell pinned at the window's edge counts as short of its target when the
#: shortfall exceeds this fraction of the window span beyond the tolerance (analog
#: cells; with levels, half a level step).
REACH_TOL = 1e-3


@dataclass(frozen=True)
class Wires:
    """The resistances of one tile, ohm (as in :class:`spicebar.hardware.mvm.MVMSpec`)."""

    r_wl: float = 0.0
    r_bl: float = 0.0
    r_driver: float = 0.0
    r_sense: float = 0.0

    @property
    def any(self) -> bool:
        return any(r > 0 for r in (self.r_wl, self.r_bl, self.r_driver, self.r_sense))


def attenuation_first_order(g: np.ndarray, wires: Wires) -> np.ndarray:
    """``a`` ``(rows, cols)`` with ``T = G * (1 - a) + O(r^2)`` (module notes), dimensionless."""
    g = np.asarray(g, float)
    a = wires.r_wl * np.cumsum(np.cumsum(g[:, ::-1], axis=1)[:, ::-1], axis=1)
    a = a + wires.r_driver * g.sum(axis=1, keepdims=True)
    a = a + wires.r_bl * np.cumsum(np.cumsum(g, axis=0)[::-1], axis=0)[::-1]
    return a + wires.r_sense * g.sum(axis=0, keepdims=True)


def transfer_first_order(g: np.ndarray, wires: Wires) -> np.ndarray:
    """The first-order transfer matrix ``G * (1 - a(G))`` ``(rows, cols)`` S."""
    return np.asarray(g, float) * (1.0 - attenuation_first_order(g, wires))


def _refuse_unreachable(method: str, short: np.ndarray, need: np.ndarray, g_min: float,
                        g_max: float, detail: str) -> None:
    n = int(short.sum())
    worst = float(need[short].max()) if n else 0.0
    raise SpecError("compensate", f"{method}: {n} cell(s) would need a conductance outside "
                    f"the window [{g_min:.3g}, {g_max:.3g}] S ({detail}; worst "
                    f"{worst:.3g} S): the target is unreachable",
                    "a mapping with headroom (w_max above max|W|: --w-max for spicebar mvm, "
                    "--headroom for spicebar network), smaller tiles or lower wire resistance")


def compensate_first_order(g_target: np.ndarray, wires: Wires, g_min: float, g_max: float,
                           n_rows: int | None = None) -> np.ndarray:
    """``G = G_t / (1 - a(G_t))`` on word lines ``:n_rows`` (the others keep ``G_t``).

    Raises :class:`SpecError` where the linearisation breaks down (``a >= 1``) or a
    cell would leave the window.
    """
    g_t = np.array(g_target, float)
    n = g_t.shape[0] if n_rows is None else n_rows
    a = attenuation_first_order(g_t, wires)[:n]
    if np.any(a >= 1.0):
        raise SpecError("compensate", f"first_order: the linearised wire drop reaches "
                        f"{a.max():.3g} of the cell voltage (>= 1: the first-order model "
                        "does not hold)", "compensate='exact', smaller tiles or lower "
                        "wire resistance")
    need = g_t[:n] / (1.0 - a)
    span = g_max - g_min
    short = (need > g_max + REACH_TOL * span) | (need < g_min - REACH_TOL * span)
    if np.any(short):
        _refuse_unreachable("first_order", short, need, g_min, g_max,
                            f"first-order estimate, largest attenuation {a.max():.3g}")
    g_t[:n] = np.clip(need, g_min, g_max)
    return g_t


@dataclass(frozen=True)
class ExactCompensation:
    """What :func:`compensate_exact` found.

    Attributes:
        g: programmed conductances ``(rows, cols)`` S, inside the window (not quantised).
        iterations: exact transfer-matrix solves made.
        residual_rel: ``max |T(G) - G_t| / (g_max - g_min)`` at ``g``.
        history: that residual after each solve.
        clipped: cells held at the window's edge, short of their target by less than
            the reach tolerance (included in ``residual_rel``).
    """

    g: np.ndarray
    iterations: int
    residual_rel: float
    history: tuple
    clipped: int = 0


def compensate_exact(g_target: np.ndarray, tile_spec, g_min: float, g_max: float,
                     n_rows: int | None = None, tol: float = EXACT_TOL,
                     max_iter: int = EXACT_MAX_ITER, progress=None,
                     reach_tol: float = REACH_TOL) -> ExactCompensation:
    """Solve ``T(G) = G_t`` on word lines ``:n_rows`` (module notes).

    Args:
        g_target: ``(rows, cols)`` S, inside the window.
        tile_spec: ``G -> CrossbarSpec`` of the tile with these conductances.
        n_rows: driven word lines (the others are held at 0 V; their cells keep ``G_t``).
        tol: stop at ``max |T - G_t| <= tol * (g_max - g_min)``.
        progress: called with ``(iteration, residual_rel)`` after each solve.
        reach_tol: a cell held at the window's edge may fall short of its target by this
            fraction of the window (beyond ``tol``) before the target counts as unreachable.
    Raises:
        SpecError: the target needs conductances outside the window (unreachable).
        SolverError: no convergence within ``max_iter`` solves.
    """
    from ..engines.nodal.transfer import transfer_matrix
    g_t = np.array(g_target, float)
    n = g_t.shape[0] if n_rows is None else int(n_rows)
    span = g_max - g_min
    lo, hi = np.log(g_min), np.log(g_max)
    target = g_t[:n]
    wires = Wires(*(getattr(tile_spec(g_t), f) for f in ("r_wl", "r_bl", "r_driver", "r_sense")))
    a = np.clip(attenuation_first_order(g_t, wires)[:n], 0.0, 0.5)
    x = np.clip(np.log(target / (1.0 - a)), lo, hi)
    xs, fs, history = [], [], []
    pinned, edges = 0, []
    g = g_t.copy()
    for it in range(1, max_iter + 1):
        g[:n] = np.exp(x)
        t = transfer_matrix(tile_spec(g), n)
        err = t - target
        # cells held at the window's edge that want to go further out
        at_edge = (((x >= hi - 1e-12) & (err < -tol * span))
                   | ((x <= lo + 1e-12) & (err > tol * span)))
        free_res = float(np.abs(err[~at_edge]).max(initial=0.0) / span)
        edge_res = float(np.abs(err[at_edge]).max(initial=0.0) / span)
        res = float(np.abs(err).max() / span)
        history.append(res)
        if progress is not None:
            progress(it, res)
        if free_res <= tol and edge_res <= tol + reach_tol:
            return ExactCompensation(g, it, res, tuple(history), int(at_edge.sum()))
        short = at_edge & (np.abs(err) > (tol + reach_tol) * span)
        pinned = pinned + 1 if short.any() and free_res < edge_res else 0
        edges.append(edge_res)
        if pinned >= 3 and edge_res > 0.9 * edges[-3]:
            # the edge cells stay short, by as much as before, while the rest converges
            need = g[:n] * target / np.maximum(t, 1e-30)
            _refuse_unreachable("exact", short, need, g_min, g_max,
                                f"up to {edge_res:.3g} of the window short at the edge, "
                                f"{free_res:.2g} elsewhere, after {it} exact solve(s)")
        ratio = np.log(target) - np.log(np.maximum(t, 1e-3 * target))
        xs.append(x.ravel().copy())
        fs.append(ratio.ravel())
        xs, fs = xs[-(ANDERSON_DEPTH + 1):], fs[-(ANDERSON_DEPTH + 1):]
        x = np.clip(_anderson(xs, fs).reshape(x.shape), lo, hi)
    raise SolverError(f"exact compensation did not converge in {max_iter} solves "
                      f"(residual {history[-1]:.3g} of the window, tolerance {tol:.3g}; "
                      f"history {', '.join(f'{h:.2g}' for h in history[-5:])})")


def _anderson(xs: list, fs: list) -> np.ndarray:
    """Anderson mixing (type II) of the fixed point ``x -> x + f(x)`` over the history."""
    x, f = xs[-1], fs[-1]
    if len(xs) == 1:
        return x + f
    dx = np.stack([xs[i + 1] - xs[i] for i in range(len(xs) - 1)], axis=1)
    df = np.stack([fs[i + 1] - fs[i] for i in range(len(fs) - 1)], axis=1)
    gamma, *_ = np.linalg.lstsq(df, f, rcond=None)
    return x + f - (dx + df) @ gamma


def target_key(method: str, g_target: np.ndarray, n_rows: int, wires: Wires,
               window: tuple[float, float]) -> tuple:
    """A cache key for one tile's compensation (the target's bytes, hashed)."""
    digest = hashlib.sha1(np.ascontiguousarray(g_target, float).tobytes()).hexdigest()
    return (method, digest, int(n_rows), wires, window)


def compensate_tile(method: str, g_target: np.ndarray, wires: Wires, tile_spec, g_min: float,
                    g_max: float, n_rows: int, quantise=None, level_step: float | None = None,
                    tol: float | None = None) -> tuple[np.ndarray, dict]:
    """Compensated conductances of one tile, quantised when ``quantise`` is given.

    Returns ``(g, info)``; ``info`` is JSON-able (method, solves, residuals).
    """
    if method not in COMPENSATIONS:
        raise SpecError("compensate", f"is {method!r}", ", ".join(COMPENSATIONS))
    info: dict = {"method": method, "driven_rows": int(n_rows)}
    if method == "none" or not wires.any:
        return np.array(g_target, float), info
    if method == "first_order":
        g = compensate_first_order(g_target, wires, g_min, g_max, n_rows)
    else:
        if tol is None:
            tol = EXACT_TOL if level_step is None else max(EXACT_TOL, LEVEL_TOL * level_step
                                                           / (g_max - g_min))
        # with levels, a cell short by under half a level step at the window's edge is
        # indistinguishable from the rounding every cell gets
        reach = REACH_TOL if level_step is None else 0.5 * level_step / (g_max - g_min)
        r = compensate_exact(g_target, tile_spec, g_min, g_max, n_rows, tol, reach_tol=reach)
        g = r.g
        info.update(solves=r.iterations, residual_rel=r.residual_rel, tolerance_rel=tol,
                    history=list(r.history), clipped_cells=r.clipped)
    info["g_range_s"] = [float(g[:n_rows].min()), float(g[:n_rows].max())]
    info["at_g_max"] = int(np.sum(g[:n_rows] >= g_max * (1 - 1e-12)))
    if quantise is not None:
        g = quantise(g)
    return g, info


def compensating(spec, effects) -> bool:
    """Whether an ``MVMSpec``'s conductances are compensated for these effects (wires on
    and resistive)."""
    return spec.compensate != "none" and "wires" in effects and spec.has_wires


def compensated_conductances(prep, k: int, g_target: np.ndarray, quantised: bool) -> np.ndarray:
    """Tile ``k`` of a prepared layer (:class:`spicebar.hardware.mvm.Prepared`), its
    conductances compensated for its wires; cached in ``prep.cache`` by target."""
    s, m = prep.spec, prep.spec.mapping
    n_rows = prep.tiles[k].n_inputs
    key = target_key(s.compensate, g_target, n_rows, s.wires, (m.g_min_s, m.g_max_s)) + (quantised,)
    if key not in prep.cache:
        step = (m.g_max_s - m.g_min_s) / (m.levels - 1) if quantised and m.levels else None
        prep.cache[key] = compensate_tile(
            s.compensate, g_target, s.wires, s.tile_spec, m.g_min_s, m.g_max_s, n_rows,
            quantise=prep.scaling.quantise if quantised else None, level_step=step)
    g, info = prep.cache[key]
    prep.cache.setdefault("info", {})[(k, quantised)] = info
    return g
