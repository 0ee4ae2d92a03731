"""Physical bounds on every quantity a user gives, chosen so the engines stay accurate.

One table (:data:`BOUNDS`, printed in the README's "When things go wrong" section by
:func:`format_bounds_table`); the specs call :func:`check` and the joint checks below,
so an out-of-range value is a :class:`~spicebar.errors.SpecError` naming the parameter
before anything is built, drawn or written.

Why these numbers: float64 carries 16 digits. A node's conductances are summed in the
nodal matrix, so a cell conductance ``G`` beside a wire of ``r`` ohm keeps the wire's
``1/r`` only if ``G * r`` stays well below ``1e16``; at ``G * r = 1e6`` about 1e-10 of
the wire's share is lost, still below the 1e-9 engine agreement. The sinh cells' currents
grow as ``exp(V / V_s)``: beyond ``V / V_s = 50`` (``sinh = 2.6e21``) Newton's steps and
ngspice's limiting part ways. Times, capacitances and converter ranges are bounded where
a transient's time step or an LSB would underflow or overflow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import SpecError


@dataclass(frozen=True)
class Bound:
    """``lo <= |x| <= hi`` (``zero_ok``: 0 is allowed too), in ``unit``; ``why`` for the table."""

    lo: float
    hi: float
    unit: str
    why: str
    zero_ok: bool = False

    def allowed(self) -> str:
        if math.isinf(self.hi):
            return f">= {self.lo:g} {self.unit}".rstrip()
        if self.lo == 0:
            return f"magnitude <= {self.hi:g} {self.unit}".rstrip()
        text = f"{self.lo:g} .. {self.hi:g} {self.unit}".rstrip()
        return f"0 or {text}" if self.zero_ok else text


#: quantity -> bound. The keys are the spec field names (or their families).
BOUNDS: dict[str, Bound] = {
    "conductances": Bound(1e-15, 1e3, "S", "1 mOhm .. 1 POhm cells; with the G*r bound below "
                          "the nodal matrix keeps every wire's share in float64"),
    "r_wl, r_bl, r_driver, r_sense": Bound(1e-9, 1e9, "ohm", "0 is an ideal wire (nodes merged); "
                                           "other values within 1 nOhm .. 1 GOhm", zero_ok=True),
    "G * r (largest cell conductance x largest wire resistance)": Bound(
        0.0, 1e6, "", "beyond it a node's sum loses the wire's share to rounding (the G = 1e30 S "
        "case returned negative currents)", zero_ok=True),
    "G * r (largest cell conductance x smallest non-zero resistance)": Bound(
        1e-12, math.inf, "", "below it a wire's current, a difference of nearly equal node "
        "voltages, drowns in rounding next to the outputs (use r = 0 for an ideal wire)"),
    "inputs": Bound(0.0, 1e3, "V", "1 kV covers every read and write scheme", zero_ok=True),
    "inputs / V_s (sinh cells)": Bound(0.0, 50.0, "", "sinh(50) = 2.6e21: Newton and ngspice "
                                      "agree below it; the sinh was clipped at 700", zero_ok=True),
    "readout.t_int_s, t_reset_s, t_settle_s, encoding.t_edge_s": Bound(
        1e-12, 1e-3, "s", "1 ps .. 1 ms per window (t_settle_s may be 0)", zero_ok=True),
    "readout.c_int_f, c_wl_f, c_bl_f": Bound(1e-18, 1e-6, "F", "1 aF .. 1 uF (wire "
                                             "capacitances may be 0)", zero_ok=True),
    "adc.x_min, adc.x_max, dac.v_min, dac.v_max": Bound(0.0, 1e6, "V or A", "the span and its "
                                                        "LSB stay finite (1e308 gave NaN)", zero_ok=True),
}


def check(name: str, value: float, key: str) -> float:
    """``value`` (a finite float) if ``|value|`` is inside ``BOUNDS[key]``; SpecError otherwise."""
    b = BOUNDS[key]
    x = float(value)
    a = abs(x)
    if not math.isfinite(x) or a > b.hi or (a < b.lo and not (b.zero_ok and a == 0.0)):
        raise SpecError(name, f"is {value!r} {b.unit}".rstrip(), b.allowed() + f" ({b.why})")
    return x


def check_array(name: str, values: np.ndarray, key: str) -> None:
    """:func:`check` on the largest and smallest magnitude of ``values`` (one pass each)."""
    a = np.abs(np.asarray(values, dtype=float))
    if a.size == 0:
        return
    b = BOUNDS[key]
    big = float(a.max())
    nz = a[a > 0] if b.zero_ok else a
    small = float(nz.min()) if nz.size else 0.0
    for x in (big, small):
        if x > b.hi or (x < b.lo and not (b.zero_ok and x == 0.0)):
            where = tuple(int(i) for i in np.argwhere(a == x)[0])
            raise SpecError(name, f"has {x!r} {b.unit} at index {where}".rstrip(),
                            b.allowed() + f" ({b.why})")


def check_g_times_r(g_max: float, resistances) -> None:
    """The joint bounds on ``max(G) * r`` over the non-zero resistances (see the module
    docstring and the table)."""
    r = np.concatenate([np.ravel(np.asarray(x, dtype=float)) for x in resistances])
    r = r[r > 0]
    if r.size == 0:
        return
    for key, rx, worst in (("G * r (largest cell conductance x largest wire resistance)",
                            float(r.max()), "largest"),
                           ("G * r (largest cell conductance x smallest non-zero resistance)",
                            float(r.min()), "smallest non-zero")):
        b, x = BOUNDS[key], g_max * rx
        if not b.lo <= x <= b.hi:
            raise SpecError("conductances", f"reach {g_max:g} S, and the {worst} wire, driver or "
                            f"sense resistance is {rx:g} ohm (G * r = {x:.3g})",
                            f"{b.lo:g} <= G * r <= {b.hi:g} ({b.why})")


def format_bounds_table() -> str:
    """The bounds as a Markdown table (the README's copy is checked against it)."""
    rows = ["| quantity | allowed | why |", "| --- | --- | --- |"]
    rows += [f"| `{k}` | {b.allowed()} | {b.why} |" for k, b in BOUNDS.items()]
    return "\n".join(rows)
