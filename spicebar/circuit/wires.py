"""Wire parasitics from geometry: ohms and farads per segment from the cell pitch and the metal.

A segment of a word or bit line is one cell pitch of metal of width ``w`` and thickness
``h``. Its resistance is ``rho(w, h, T) * pitch / (w h)`` with the resistivity of a narrow
polycrystalline wire (size effects, the combined form of Steinhoegl et al. 2002):

    rho / rho_0 = MS(alpha) + (3/8) C (1 - p) lambda (1/w + 1/h)

* ``MS(alpha) = 1 / (3 [1/3 - alpha/2 + alpha^2 - alpha^3 ln(1 + 1/alpha)])``: grain-boundary
  scattering (Mayadas and Shatzkes 1970), ``alpha = (lambda / d) R / (1 - R)``, grain size
  ``d`` (the wire width unless stated), reflection coefficient ``R``;
* the second term: surface scattering (Fuchs 1938, Sondheimer 1952) in its thick-wire
  limit, specularity ``p``, ``C = 1.2`` for a rectangular section (Steinhoegl et al.);
* ``rho_0(T) = rho_0 (1 + alpha_0 (T - T_ref))`` and ``lambda(T) = lambda rho_0 / rho_0(T)``
  (the product ``rho_0 lambda`` is a constant of the metal), so a narrow wire's temperature
  coefficient is its own law: smaller than the bulk metal's.

The capacitance of a segment is the capacitance per length times the pitch. The numbers
and their sources are in :data:`METALS` and :mod:`spicebar.circuit.technology`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _validate as v
from ..errors import SpecError
from .temperature import T_REF_K, check_temperature

#: Surface-scattering factor of a rectangular wire (Steinhoegl et al., Phys. Rev. B 66,
#: 075414 (2002)).
FS_WIRE_FACTOR = 1.2


@dataclass(frozen=True)
class Metal:
    """A line metal's bulk and scattering constants (SI units, at ``T_REF_K``).

    Attributes:
        name: short name.
        rho_ohm_m: bulk resistivity at 300.15 K, ohm m.
        mean_free_path_m: electron mean free path at 300.15 K, metres.
        tcr_per_k: bulk temperature coefficient of resistivity near 300 K, 1/K.
        specularity: Fuchs-Sondheimer ``p``, 0 (diffuse) .. 1 (specular).
        reflection: Mayadas-Shatzkes grain-boundary reflection coefficient ``R``, 0 .. <1.
    """

    name: str
    rho_ohm_m: float
    mean_free_path_m: float
    tcr_per_k: float
    specularity: float
    reflection: float

    def __post_init__(self) -> None:
        v.positive_scalar("rho_ohm_m", self.rho_ohm_m, "ohm m")
        v.positive_scalar("mean_free_path_m", self.mean_free_path_m, "m")
        a = float(self.tcr_per_k)
        if not (math.isfinite(a) and 0 <= a <= 0.01):
            raise SpecError("tcr_per_k", f"is {self.tcr_per_k!r} 1/K", "0 .. 0.01 1/K")
        if not 0 <= float(self.specularity) <= 1:
            raise SpecError("specularity", f"is {self.specularity!r}", "0 .. 1")
        if not 0 <= float(self.reflection) < 1:
            raise SpecError("reflection", f"is {self.reflection!r}", "0 .. < 1")


#: Copper: rho_0 = 1.725 uohm cm at 300 K (Matula, J. Phys. Chem. Ref. Data 8, 1147 (1979));
#: lambda = 39.9 nm (Gall, J. Appl. Phys. 119, 085101 (2016)); TCR 3.9e-3 /K (the same
#: table: 1.725 -> 2.063 uohm cm from 300 to 350 K, 3.92e-3 /K); p = 0.52, R = 0.43
#: (Sun et al., Phys. Rev. B 81, 155454 (2010), fitted to nanometric Cu films).
COPPER = Metal("Cu", 1.725e-8, 39.9e-9, 3.9e-3, 0.52, 0.43)
METALS = {"cu": COPPER}


def mayadas_shatzkes(lam_m: float, grain_m: float, reflection: float) -> float:
    """Grain-boundary factor ``rho_MS / rho_0`` (Mayadas and Shatzkes 1970), >= 1."""
    if reflection == 0:
        return 1.0
    a = lam_m / grain_m * reflection / (1.0 - reflection)
    return 1.0 / (3.0 * (1.0 / 3.0 - a / 2.0 + a * a - a ** 3 * math.log1p(1.0 / a)))


def fuchs_sondheimer_excess(lam_m: float, width_m: float, thickness_m: float,
                            specularity: float) -> float:
    """Surface-scattering excess ``(rho_FS - rho_0) / rho_0`` of a rectangular wire (the
    thick-wire limit, with Steinhoegl's factor :data:`FS_WIRE_FACTOR`)."""
    return 0.375 * FS_WIRE_FACTOR * (1.0 - specularity) * lam_m * (1.0 / width_m + 1.0 / thickness_m)


def resistivity(metal: Metal, width_m: float, thickness_m: float, temperature_k: float = T_REF_K,
                grain_m: float | None = None, size_effects: bool = True) -> float:
    """Resistivity of a ``width_m x thickness_m`` wire of ``metal`` at ``temperature_k``, ohm m."""
    rho0 = metal.rho_ohm_m * (1.0 + metal.tcr_per_k * (temperature_k - T_REF_K))
    if not size_effects:
        return rho0
    lam = metal.mean_free_path_m * metal.rho_ohm_m / rho0
    d = width_m if grain_m is None else grain_m
    return rho0 * (mayadas_shatzkes(lam, d, metal.reflection)
                   + fuchs_sondheimer_excess(lam, width_m, thickness_m, metal.specularity))


def _nm(name: str, value, lo: float, hi: float) -> float:
    x = v.positive_scalar(name, value, "nm")
    if not lo <= x <= hi:
        raise SpecError(name, f"is {value!r} nm", f"{lo:g} .. {hi:g} nm")
    return x


@dataclass(frozen=True)
class WireGeometry:
    """The lines of an array as drawn: both word and bit lines of one metal.

    Attributes:
        pitch_nm: cell pitch, nm (one line segment per cell), 2 .. 1e6.
        width_nm: metal line width, nm, 1 .. 1e5, at most ``pitch_nm``.
        thickness_nm: metal thickness, nm, 1 .. 1e5.
        metal: a :class:`Metal` or the name of one in :data:`METALS` (``cu``).
        c_per_m: line capacitance per length, F/m (0.2 fF/um = 2e-10 F/m), >= 0.
        grain_nm: mean grain size, nm; None: the line width.
        size_effects: False uses the bulk resistivity (no surface or grain scattering).
        technology: the preset it came from (:mod:`.technology`), for reports.
    """

    pitch_nm: float
    width_nm: float
    thickness_nm: float
    metal: Metal | str = "cu"
    c_per_m: float = 2e-10
    grain_nm: float | None = None
    size_effects: bool = True
    technology: str = ""

    def __post_init__(self) -> None:
        pitch = _nm("pitch_nm", self.pitch_nm, 2.0, 1e6)
        width = _nm("width_nm", self.width_nm, 1.0, 1e5)
        if width > pitch:
            raise SpecError("width_nm", f"is {width:g} nm, wider than the pitch {pitch:g} nm",
                            f"<= pitch_nm = {pitch:g} nm")
        object.__setattr__(self, "pitch_nm", pitch)
        object.__setattr__(self, "width_nm", width)
        object.__setattr__(self, "thickness_nm", _nm("thickness_nm", self.thickness_nm, 1.0, 1e5))
        if isinstance(self.metal, str):
            if self.metal.lower() not in METALS:
                raise SpecError("metal", f"is {self.metal!r}", ", ".join(METALS) + " or a Metal(...)")
            object.__setattr__(self, "metal", METALS[self.metal.lower()])
        elif not isinstance(self.metal, Metal):
            raise SpecError("metal", f"is {self.metal!r}", ", ".join(METALS) + " or a Metal(...)")
        c = v.nonnegative_scalar("c_per_m", self.c_per_m, "F/m")
        if c > 1e-8:
            raise SpecError("c_per_m", f"is {c!r} F/m", "0 .. 1e-8 F/m (10 fF/um)")
        object.__setattr__(self, "c_per_m", c)
        if self.grain_nm is not None:
            object.__setattr__(self, "grain_nm", _nm("grain_nm", self.grain_nm, 1.0, 1e6))
        if not isinstance(self.size_effects, bool):
            raise SpecError("size_effects", f"is {self.size_effects!r}", "True or False")
        v.safe_label("technology", self.technology)

    def resistivity_ohm_m(self, temperature_k: float = T_REF_K) -> float:
        """The line's resistivity at ``temperature_k``, ohm m."""
        check_temperature("temperature_k", temperature_k)
        return resistivity(self.metal, self.width_nm * 1e-9, self.thickness_nm * 1e-9,
                           temperature_k, None if self.grain_nm is None else self.grain_nm * 1e-9,
                           self.size_effects)

    def segment_ohm(self, temperature_k: float = T_REF_K) -> float:
        """Resistance of one segment (one pitch of line), ohm."""
        return (self.resistivity_ohm_m(temperature_k) * self.pitch_nm * 1e-9
                / (self.width_nm * 1e-9 * self.thickness_nm * 1e-9))

    def segment_farad(self) -> float:
        """Capacitance of one segment to ground, farad."""
        return self.c_per_m * self.pitch_nm * 1e-9

    def summary(self, temperature_k: float = T_REF_K) -> dict:
        """What the wires are, and the ohms and farads per segment used (JSON-able)."""
        return {"technology": self.technology or None, "metal": self.metal.name,
                "pitch_nm": self.pitch_nm, "width_nm": self.width_nm,
                "thickness_nm": self.thickness_nm, "temperature_k": float(temperature_k),
                "resistivity_ohm_m": self.resistivity_ohm_m(temperature_k),
                "bulk_resistivity_ohm_m": resistivity(self.metal, 1.0, 1.0, temperature_k,
                                                      size_effects=False),
                "segment_ohm": self.segment_ohm(temperature_k),
                "segment_farad": self.segment_farad(), "c_per_m": self.c_per_m}

    def describe(self, temperature_k: float = T_REF_K) -> str:
        s = self.summary(temperature_k)
        head = f"{self.technology} " if self.technology else ""
        return (f"{head}{s['metal']} lines {self.width_nm:g} x {self.thickness_nm:g} nm at "
                f"{self.pitch_nm:g} nm pitch, {temperature_k:g} K: rho = "
                f"{s['resistivity_ohm_m'] * 1e8:.4g} uohm cm, {s['segment_ohm']:.4g} ohm and "
                f"{s['segment_farad']:.4g} F per segment")


def check_environment(spec) -> None:
    """Validate the temperature fields of a CrossbarSpec (called from its ``__post_init__``)."""
    from .temperature import check_tcr
    t = check_temperature("temperature_k", spec.temperature_k)
    object.__setattr__(spec, "temperature_k", t)
    object.__setattr__(spec, "wire_tcr_per_k", check_tcr("wire_tcr_per_k", spec.wire_tcr_per_k, t))
    object.__setattr__(spec, "cell_tcr_per_k", check_tcr("cell_tcr_per_k", spec.cell_tcr_per_k, t))
    if spec.cell_tcr_per_k != 0 and spec.cell.kind == "device":
        raise SpecError("cell_tcr_per_k", f"is {spec.cell_tcr_per_k!r} 1/K for a user device",
                        "0: a user device follows its own law at the simulator's temperature")
    geo = spec.wire_geometry
    if geo is None:
        return
    if not isinstance(geo, WireGeometry):
        raise SpecError("wire_geometry", f"is {geo!r}", "None or a WireGeometry(...)")
    for name in ("r_wl", "r_bl"):
        r = getattr(spec, name)
        if np.ndim(r) != 0 or float(r) != 0.0:
            raise SpecError(name, "is set together with wire_geometry",
                            f"0 (the default) with a wire geometry, which gives {name} itself")
    if getattr(spec.readout, "c_wl_f", 0.0) or getattr(spec.readout, "c_bl_f", 0.0):
        raise SpecError("readout.c_wl_f/c_bl_f", "are set together with wire_geometry",
                        "0 with a wire geometry, which gives the wire capacitance itself")
