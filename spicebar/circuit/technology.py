"""Named technology presets: the local-metal line of a few CMOS nodes.

Each preset is the line width and aspect ratio (thickness / width) that NeuroSim uses for
that node (``Param.cpp`` of DNN+NeuroSim V1.3, ``wireWidth``/``AR`` per ``technode``, values
it takes from the ITRS interconnect tables), copper (:data:`~.wires.COPPER`) and
0.2 fF/um of line capacitance (NeuroSim's ``unitLengthCap``; Ho, Mai and Horowitz,
"The future of wires", Proc. IEEE 89(4), 2001: about 0.2 fF/um, nearly constant across
nodes). :data:`PUBLISHED_RHO_OHM_M` keeps NeuroSim's effective resistivity of each line,
which the size-effect model of :mod:`.wires` is checked against.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import _validate as v
from ..errors import SpecError
from .wires import WireGeometry


@dataclass(frozen=True)
class Technology:
    """One preset: line width (nm) and aspect ratio; ``source`` says where they come from."""

    name: str
    width_nm: float
    aspect_ratio: float
    source: str = "DNN+NeuroSim V1.3 Param.cpp (ITRS interconnect tables)"


#: name -> preset. The default cell pitch is twice the line width (a 4F^2 crosspoint).
TECHNOLOGIES = {t.name: t for t in (
    Technology("130nm", 175.0, 1.6), Technology("90nm", 110.0, 1.6),
    Technology("65nm", 105.0, 1.7), Technology("45nm", 80.0, 1.7),
    Technology("32nm", 56.0, 1.8), Technology("22nm", 40.0, 1.9),
    Technology("14nm", 25.0, 2.0), Technology("7nm", 18.0, 2.0))}

#: NeuroSim's effective copper resistivity of each preset's line, ohm m (same source).
PUBLISHED_RHO_OHM_M = {"130nm": 2.20e-8, "90nm": 2.52e-8, "65nm": 2.68e-8, "45nm": 3.31e-8,
                       "32nm": 3.70e-8, "22nm": 4.03e-8, "14nm": 5.08e-8, "7nm": 6.35e-8}

#: Line capacitance per length of every preset, F/m (0.2 fF/um).
C_PER_M = 2e-10


def technology_geometry(name: str, pitch_nm: float | None = None, *,
                        width_nm: float | None = None, thickness_nm: float | None = None,
                        c_per_m: float | None = None) -> WireGeometry:
    """The :class:`~.wires.WireGeometry` of preset ``name`` at cell pitch ``pitch_nm``
    (default twice the line width); any of width, thickness, capacitance may be overridden."""
    v.choice("tech", name, tuple(TECHNOLOGIES))
    t = TECHNOLOGIES[name]
    width = t.width_nm if width_nm is None else width_nm
    if pitch_nm is None:
        pitch_nm = 2.0 * float(width)
    try:
        thickness = t.aspect_ratio * float(width) if thickness_nm is None else thickness_nm
    except (TypeError, ValueError):
        raise SpecError("width_nm", f"is {width_nm!r}", "a positive number of nm") from None
    return WireGeometry(pitch_nm=pitch_nm, width_nm=width, thickness_nm=thickness,
                        c_per_m=C_PER_M if c_per_m is None else c_per_m, technology=name)
