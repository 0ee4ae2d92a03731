"""Device tables: how the nodal engine follows a device that has no closed form in
spicebar (a user's Verilog-A or subcircuit device, a BSIM4 or other non-level-1 MOSFET).

The device is measured in ngspice (:mod:`spicebar.engines.characterise`) on a uniform
grid of terminal voltages, once per distinct parameter set, and interpolated here by
cubic splines: C2 functions whose derivatives are the exact derivatives of the
interpolant, so Newton sees a consistent Jacobian and converges quadratically to the
interpolant's solution. Outside the grid each table continues linearly (value and
slope of its edge), which keeps Newton's first iterates safe; a converged solution
outside the grid is reported (``outside_grid``).

* :class:`Table1D`: a two-terminal device, current ``I(V)`` from its first terminal
  through it to its second, ``V = V(p) - V(n)``.
* :class:`Table2D`: a MOSFET whose gate sits at a fixed voltage (the 1T1R gate lines),
  currents into its drain and into its source as functions of ``(V(d), V(s))``
  (bulk at ground; ngspice's junction ``gmin`` is part of the measured currents).

The interpolation error is estimated by fitting the same spline to every other grid
point and comparing it with the measured points in between; the full-grid spline's
error is smaller (about 16x for a smooth cubic), so the figure is conservative.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# scipy.interpolate (~0.1 s to import) loads where a table is built, not with every
# nodal solve that merely imports the stamps.


def _spline_1d(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Piecewise-cubic coefficients ``(4, n-1, T)`` of not-a-knot splines through ``y (n, T)``."""
    from scipy.interpolate import CubicSpline
    return CubicSpline(x, y, axis=0).c


def _eval_1d(c: np.ndarray, x0: float, h: float, n: int, which: np.ndarray, v: np.ndarray):
    """Values and slopes of splines ``c[:, :, which]`` at ``v`` (uniform knots), linear outside."""
    lo, hi = x0, x0 + h * (n - 1)
    vc = np.clip(v, lo, hi)
    k = np.clip(((vc - lo) / h).astype(np.int64), 0, n - 2)
    dx = vc - (lo + k * h)
    c3, c2, c1, c0 = (c[m, k, which] for m in range(4))
    i = ((c3 * dx + c2) * dx + c1) * dx + c0
    di = (3 * c3 * dx + 2 * c2) * dx + c1
    return i + di * (v - vc), di


@dataclass(frozen=True, eq=False)
class Table1D:
    """Two-terminal device tables on one uniform voltage grid.

    Attributes:
        v: grid, shape ``(n,)`` volts (uniform).
        current: measured currents, shape ``(n, T)`` amperes, one column per parameter set.
        which: shape ``(n_elements,)`` int, the table of each element of the group.
        source: one line: what was measured, where.
        error_abs: per table, the interpolation error estimate, amperes (module docstring).
    """

    v: np.ndarray
    current: np.ndarray
    which: np.ndarray
    source: str = ""
    coef: np.ndarray = field(init=False, repr=False)
    error_abs: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "coef", _spline_1d(self.v, self.current))
        half = _spline_1d(self.v[::2], self.current[::2])
        n2 = self.v[::2].size
        mid = self.v[1::2][: n2 - 1]
        est, _ = _eval_1d(half, self.v[0], self.v[2] - self.v[0], n2,
                          np.arange(self.current.shape[1])[None, :], mid[:, None])
        err = np.abs(est - self.current[1::2][: mid.size]).max(axis=0)
        object.__setattr__(self, "error_abs", err)

    @property
    def n_tables(self) -> int:
        return int(self.current.shape[1])

    def evaluate(self, v: np.ndarray, which: np.ndarray | None = None):
        """``(I, dI/dV)`` at ``v`` (shape of ``which``, default every element), A and S."""
        which = self.which if which is None else which
        return _eval_1d(self.coef, float(self.v[0]), float(self.v[1] - self.v[0]), self.v.size,
                        which, v)

    def small_signal_conductance(self) -> np.ndarray:
        """``dI/dV`` at 0 V of every element, siemens."""
        return self.evaluate(np.zeros(self.which.shape))[1]

    def error_rel(self) -> float:
        """Largest interpolation error estimate relative to its table's largest current."""
        scale = np.maximum(np.abs(self.current).max(axis=0), np.finfo(float).tiny)
        return float((self.error_abs / scale).max())

    def outside(self, v: np.ndarray) -> bool:
        return bool(np.any(v < self.v[0]) or np.any(v > self.v[-1]))

    def describe(self) -> dict:
        return {"kind": "1-D cubic spline of I(V)", "tables": self.n_tables,
                "points": int(self.v.size), "range_v": [float(self.v[0]), float(self.v[-1])],
                "interpolation_error_a": float(self.error_abs.max()),
                "interpolation_error_rel": self.error_rel(), "measured": self.source}


@dataclass(frozen=True, eq=False)
class Table2D:
    """Tables of a device with a gate at a fixed voltage (a MOSFET, a user device with a
    gate terminal): currents into its first (drain) and second (source) terminal over
    ``(V(d), V(s))``.

    Attributes:
        vd, vs: grids, shapes ``(nd,)``, ``(ns,)`` volts.
        i_drain, i_source: shape ``(T, nd, ns)`` amperes, the current INTO each terminal.
        which: shape ``(n_elements,)`` int, the table of each element (the last axis of
            the voltages :meth:`evaluate` takes).
        source: one line: what was measured, where.
    """

    vd: np.ndarray
    vs: np.ndarray
    i_drain: np.ndarray
    i_source: np.ndarray
    which: np.ndarray
    source: str = ""
    splines: list = field(init=False, repr=False)
    error_abs: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from scipy.interpolate import RectBivariateSpline
        sp = [(RectBivariateSpline(self.vd, self.vs, d, s=0), RectBivariateSpline(
            self.vd, self.vs, s_, s=0)) for d, s_ in zip(self.i_drain, self.i_source)]
        object.__setattr__(self, "splines", sp)
        errs = []
        for d in self.i_drain:
            half = RectBivariateSpline(self.vd[::2], self.vs[::2], d[::2, ::2], s=0)
            xd, xs = self.vd[1:-1:2], self.vs[1:-1:2]
            errs.append(float(np.abs(half(xd, xs) - d[1:-1:2, 1:-1:2]).max()))
        object.__setattr__(self, "error_abs", np.array(errs))

    @property
    def n_tables(self) -> int:
        return int(self.i_drain.shape[0])

    def evaluate(self, vd: np.ndarray, vs: np.ndarray):
        """Currents into drain and source and their derivatives, per element (last axis):
        ``(i_d, di_d/dvd, di_d/dvs, i_s, di_s/dvd, di_s/dvs)``; linear outside the grid."""
        vd, vs = np.broadcast_arrays(np.asarray(vd, float), np.asarray(vs, float))
        cd = np.clip(vd, self.vd[0], self.vd[-1])
        cs = np.clip(vs, self.vs[0], self.vs[-1])
        out = [np.zeros(vd.shape) for _ in range(6)]
        for t, pair in enumerate(self.splines):
            m = self.which == t
            if not np.any(m):
                continue
            x, y = cd[..., m], cs[..., m]
            for k, spl in enumerate(pair):
                val = spl.ev(x, y)
                gx = spl.ev(x, y, dx=1)
                gy = spl.ev(x, y, dy=1)
                out[3 * k][..., m] = val + gx * (vd[..., m] - x) + gy * (vs[..., m] - y)
                out[3 * k + 1][..., m] = gx
                out[3 * k + 2][..., m] = gy
        return tuple(out)

    def small_signal_conductance(self) -> np.ndarray:
        """``d i_d / d V(d)`` at ``V(d) = V(s) = 0`` of every element, siemens."""
        zero = np.zeros(self.which.shape)
        return self.evaluate(zero, zero)[1]

    def error_rel(self) -> float:
        scale = np.maximum(np.abs(self.i_drain).max(axis=(1, 2)), np.finfo(float).tiny)
        return float((self.error_abs / scale).max())

    def outside(self, vd: np.ndarray, vs: np.ndarray) -> bool:
        return bool(np.any((vd < self.vd[0]) | (vd > self.vd[-1]) | (vs < self.vs[0])
                           | (vs > self.vs[-1])))

    def describe(self) -> dict:
        return {"kind": "2-D bicubic spline of the terminal currents over (V_p, V_n) at fixed "
                        "gate voltage",
                "tables": self.n_tables, "points": [int(self.vd.size), int(self.vs.size)],
                "range_v": [float(self.vd[0]), float(self.vd[-1])],
                "interpolation_error_a": float(self.error_abs.max()),
                "interpolation_error_rel": self.error_rel(), "measured": self.source}


@dataclass(frozen=True)
class Level1StandIn:
    """A MOSFET of another level evaluated with the level-1 card of the same process:
    an approximation, only where the caller allowed it (``allow_approximate_cells``)."""

    card: str

    def describe(self) -> dict:
        return {"kind": "APPROXIMATE: level-1 stand-in", "card": self.card}
