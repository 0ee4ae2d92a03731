"""Temperature: one number on the spec that reaches every model that depends on it.

* The reference temperature is ngspice's default ``TEMP`` and ``TNOM``, 27 C = 300.15 K:
  at it every result is exactly what it was before temperature existed.
* Wires: from their geometry (:mod:`.wires`, the metal's own law), or given ohms (at
  300.15 K) scaled by ``1 + wire_tcr_per_k (T - 300.15 K)``.
* Memory elements (the linear element of every built-in cell kind, the nonlinear cell's
  ``G``): ``R(T) = R(300.15 K) (1 + cell_tcr_per_k (T - 300.15 K))``. User devices follow
  their own law at the simulator's temperature (``cell_tcr_per_k`` must then be 0).
* Transistors and user devices: the simulator's own temperature. spicebar writes
  ``.temp`` itself (user cards may not: :mod:`spicebar.netlist.cards`); the nodal engine
  applies ngspice's level-1 temperature law (``mos1temp.c``, :func:`mos1_at_temperature`)
  and measures its tables of other devices at that temperature.
* Thermal noise reads ``spec.temperature_k``.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..errors import SpecError

#: ngspice's default TEMP and TNOM (27 C), kelvin: the temperature of every result before.
T_REF_K = 300.15
#: 0 C in kelvin (``.temp`` takes Celsius).
ZERO_C_K = 273.15
#: Temperatures spicebar accepts, kelvin: the band-gap and mobility laws of the level-1
#: model and the linear resistance coefficients are stated for roughly 200 .. 450 K.
T_MIN_K, T_MAX_K = 150.0, 500.0
#: Temperature coefficient of resistance of given wire ohms by default: bulk copper near
#: 300 K, 1/K (see :data:`spicebar.circuit.wires.COPPER`).
COPPER_TCR_PER_K = 3.9e-3

#: ngspice's physical constants (``src/include/ngspice/const.h``: CODATA 2014).
CONST_BOLTZ = 1.38064852e-23
CHARGE = 1.6021766208e-19


def check_temperature(name: str, value) -> float:
    """``value`` as kelvin within :data:`T_MIN_K` .. :data:`T_MAX_K`, or SpecError naming ``name``."""
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise SpecError(name, f"is {value!r}", f"{T_MIN_K:g} .. {T_MAX_K:g} K") from None
    if isinstance(value, bool) or not math.isfinite(t) or not T_MIN_K <= t <= T_MAX_K:
        raise SpecError(name, f"is {value!r} K", f"{T_MIN_K:g} .. {T_MAX_K:g} K (the laws of "
                        "the wires, cells and level-1 transistors hold there)")
    return t


def check_tcr(name: str, value, temperature_k: float) -> float:
    """A linear temperature coefficient, 1/K, within -0.02 .. 0.02 and keeping ``1 + a dT > 0``."""
    try:
        a = float(value)
    except (TypeError, ValueError):
        raise SpecError(name, f"is {value!r}", "-0.02 .. 0.02 1/K") from None
    if isinstance(value, bool) or not math.isfinite(a) or abs(a) > 0.02:
        raise SpecError(name, f"is {value!r} 1/K", "-0.02 .. 0.02 1/K")
    if linear_factor(a, temperature_k) <= 0.05:
        raise SpecError(name, f"is {a!r} 1/K: at {temperature_k:g} K the resistance would be "
                        f"{linear_factor(a, temperature_k):.3g} of its 300.15 K value",
                        "a coefficient that keeps 1 + a (T - 300.15 K) above 0.05")
    return a


def linear_factor(tcr_per_k: float, temperature_k: float) -> float:
    """``1 + tcr (T - 300.15 K)``: a resistance at ``temperature_k`` over its 300.15 K value."""
    return 1.0 + tcr_per_k * (temperature_k - T_REF_K)


def temp_cards(temperature_k: float) -> list[str]:
    """The netlist lines that set ngspice's temperature (none at the reference: TNOM/TEMP
    default to 27 C, so netlists at the reference stay as they were)."""
    if temperature_k == T_REF_K:
        return []
    return [f".temp {round(temperature_k - ZERO_C_K, 9)!r}"]  # Celsius; ngspice adds 273.15


def at_temperature(spec):
    """``spec`` with its wires and memory elements at ``spec.temperature_k`` written into
    ``r_wl``, ``r_bl`` and ``conductances`` (and the geometry's capacitance into the readout);
    the result has no geometry and zero coefficients, so applying this twice changes nothing.
    At 300.15 K without a geometry ``spec`` itself is returned."""
    t = spec.temperature_k
    geo = spec.wire_geometry
    if geo is None and t == T_REF_K:
        return spec
    if geo is not None:
        r_wl = r_bl = geo.segment_ohm(t)
    else:
        f = linear_factor(spec.wire_tcr_per_k, t)
        r_wl = spec.r_wl * f if np.ndim(spec.r_wl) == 0 else np.asarray(spec.r_wl) * f
        r_bl = spec.r_bl * f if np.ndim(spec.r_bl) == 0 else np.asarray(spec.r_bl) * f
    g = spec.conductances / linear_factor(spec.cell_tcr_per_k, t)
    readout = spec.readout
    if geo is not None and readout is not None and hasattr(readout, "c_wl_f"):
        c = geo.segment_farad()
        readout = replace(readout, c_wl_f=c, c_bl_f=c) if c > 0 else readout
    return replace(spec, conductances=g, r_wl=r_wl, r_bl=r_bl, readout=readout,
                   wire_geometry=None, wire_tcr_per_k=0.0, cell_tcr_per_k=0.0)


def _range(x) -> float | list:
    arr = np.asarray(x, dtype=float)
    return float(arr) if arr.ndim == 0 else [float(arr.min()), float(arr.max())]


def wires_info(spec) -> dict | None:
    """``info["wires"]``: the temperature and the ohms and farads per segment the engines
    used (None for a spec at 300.15 K without a geometry: nothing was derived)."""
    if spec.wire_geometry is None and spec.temperature_k == T_REF_K:
        return None
    r = at_temperature(spec)
    out = {"temperature_k": spec.temperature_k, "r_wl_ohm": _range(r.r_wl),
           "r_bl_ohm": _range(r.r_bl), "c_wl_f": getattr(r.readout, "c_wl_f", None),
           "c_bl_f": getattr(r.readout, "c_bl_f", None),
           "cell_resistance_factor": linear_factor(spec.cell_tcr_per_k, spec.temperature_k)}
    if spec.wire_geometry is not None:
        out["geometry"] = spec.wire_geometry.summary(spec.temperature_k)
        out["c_wl_f"] = out["c_bl_f"] = spec.wire_geometry.segment_farad()
    else:
        out["wire_resistance_factor"] = linear_factor(spec.wire_tcr_per_k, spec.temperature_k)
    return out


def mos1_at_temperature(vto: float, phi: float, gamma: float, kp: float, tnom_k: float,
                        temperature_k: float) -> tuple[float, float, float]:
    """``(vto, phi, kp)`` of an NMOS level-1 card at ``temperature_k``: ngspice's
    ``mos1temp.c`` (band gap ``Eg(T) = 1.16 - 7.02e-4 T^2 / (T + 1108)``, mobility as
    ``(T / TNOM)^-1.5``), so the nodal engine and ngspice agree at every temperature.
    The junction terms are left out: spicebar's cards have ``IS = JS = 0``."""
    if temperature_k == tnom_k:
        return vto, phi, kp
    ref = T_REF_K  # ngspice's REFTEMP

    def pbfact(t):
        vt = t * CONST_BOLTZ / CHARGE
        eg = 1.16 - (7.02e-4 * t * t) / (t + 1108.0)
        arg = -eg / (2 * CONST_BOLTZ * t) + 1.1150877 / (CONST_BOLTZ * (ref + ref))
        return -2 * vt * (1.5 * math.log(t / ref) + CHARGE * arg), eg

    pbfact1, eg1 = pbfact(tnom_k)
    pbfact2, eg2 = pbfact(temperature_k)
    ratio = temperature_k / tnom_k
    phio = (phi - pbfact1) / (tnom_k / ref)
    t_phi = (temperature_k / ref) * phio + pbfact2
    t_vbi = vto - gamma * math.sqrt(phi) + 0.5 * (eg1 - eg2) + 0.5 * (t_phi - phi)
    t_vto = t_vbi + gamma * math.sqrt(t_phi)
    return t_vto, t_phi, kp / (ratio * math.sqrt(ratio))

