"""Device I-V equations shared by the Newton engine and the per-cell current read-out.

Pure, vectorised numpy: every function takes arrays of terminal voltages (any
shape) and returns currents and their derivatives of the same shape.

* ``sinh_iv``: a two-terminal ``I = a * sinh(V / b)`` (memory element, selector).
* ``mos1_ids``: the NMOS drain current of ngspice's level-1 model (Shichman-Hodges,
  ``mos1load.c``), with its source/drain swap for negative ``V_DS`` and its body
  effect, at the nominal temperature (27 C, where ngspice's temperature scaling is
  the identity). The bulk junctions of the cards in ``models/`` have ``IS = JS = 0``,
  so in DC they are exactly ngspice's ``gmin`` conductance from drain and source to
  bulk; the Newton engine stamps that as :data:`NGSPICE_GMIN`.
"""

from __future__ import annotations

from functools import lru_cache

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SpecError

#: ngspice's default ``gmin`` (siemens): the DC conductance of a MOS bulk junction with
#: zero saturation current, which ngspice adds from drain and source to bulk.
NGSPICE_GMIN = 1e-12

#: sinh arguments are clipped here (exp(700) is near the float64 limit).
MAX_SINH_ARG = 700.0

def _models_dir() -> Path:
    """``models/`` of a checkout (editable install), else the copy installed with the
    package as ``spicebar/_models`` (see setup.py)."""
    package = Path(__file__).resolve().parent.parent  # spicebar/
    for folder in (package.parent / "models", package / "_models"):
        if (folder / "opamp.lib").is_file():
            return folder
    return package.parent / "models"


#: The SPICE model files spicebar ships: MOS cards and op-amp macromodels.
MODELS_DIR = _models_dir()


def sinh_iv(v: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``I = a sinh(v / b)`` amperes and ``dI/dv`` siemens (``a`` A, ``b`` V)."""
    x = np.clip(v / b, -MAX_SINH_ARG, MAX_SINH_ARG)
    return a * np.sinh(x), (a / b) * np.cosh(x)


@dataclass(frozen=True)
class Level1Params:
    """Level-1 NMOS parameters read from a model card (SI units, ngspice names)."""

    vto: float
    kp: float
    gamma: float
    phi: float
    lam: float
    ld: float


def mos1_ids(vd, vg, vs, vb, w: np.ndarray, l: np.ndarray, p: Level1Params):
    """Channel current from drain to source of a level-1 NMOS, and its derivatives.

    Args:
        vd, vg, vs, vb: terminal voltages, volts (arrays of one shape).
        w, l: drawn width and length, metres.
    Returns:
        ``(i, di_dvd, di_dvg, di_dvs)``: amperes and siemens. The bulk derivative is
        omitted (the bulk is ground in every spicebar cell).
    """
    vds = vd - vs
    mode = np.where(vds >= 0, 1.0, -1.0)
    # In inverse mode the roles of drain and source swap (as in ngspice).
    vsrc = np.where(mode > 0, vs, vd)
    vgs = vg - vsrc
    vbs = vb - vsrc
    vds_m = vds * mode
    sphi = np.sqrt(p.phi)
    neg = vbs <= 0
    sarg = np.where(neg, np.sqrt(np.maximum(p.phi - vbs, 0.0)), np.maximum(0.0, sphi - vbs / (2 * sphi)))
    dsarg = np.where(neg, -0.5 / np.where(sarg > 0, sarg, 1.0), np.where(sarg > 0, -0.5 / sphi, 0.0))
    von = (p.vto - p.gamma * sphi) + p.gamma * sarg
    vgst = vgs - von
    beta = p.kp * w / (l - 2 * p.ld)
    betap = beta * (1 + p.lam * vds_m)
    on = vgst > 0
    sat = on & (vgst <= vds_m)
    lin = on & ~sat
    cd = np.where(sat, 0.5 * betap * vgst ** 2, np.where(lin, betap * vds_m * (vgst - 0.5 * vds_m), 0.0))
    gm = np.where(sat, betap * vgst, np.where(lin, betap * vds_m, 0.0))
    gds = np.where(sat, 0.5 * p.lam * beta * vgst ** 2,
                   np.where(lin, betap * (vgst - vds_m) + p.lam * beta * vds_m * (vgst - 0.5 * vds_m), 0.0))
    gmbs = gm * (-p.gamma * dsarg)  # d cd / d vbs = gm * d(-von)/d vbs
    # cd depends on (vgs, vds_m, vbs) relative to the effective source.
    # Normal mode: i = cd(vg - vs, vd - vs, vb - vs).
    # Inverse mode: i = -cd(vg - vd, vs - vd, vb - vd).
    d_eff_src = -(gm + gds + gmbs)
    di_dvg = mode * gm
    di_dvd = np.where(mode > 0, gds, -d_eff_src)
    di_dvs = np.where(mode > 0, d_eff_src, -gds)
    return mode * cd, di_dvd, di_dvg, di_dvs


def read_model_card(path: str) -> tuple[str, dict]:
    """``(model name, {parameter: value})`` of the first ``.model`` card in ``path``.

    The file is parsed by the one card guard (:func:`spicebar.netlist.cards.read_card_file`):
    a file with anything but ``.model``/``.param`` cards and comments is refused here,
    when the spec is built, before any netlist is written.
    """
    import os
    try:
        st = os.stat(path)
    except OSError:  # the guard names the parameter and the file
        return _read_model_card(str(path), -1, -1)
    name, numbers = _read_model_card(str(path), st.st_mtime_ns, st.st_size)
    return name, dict(numbers)


@lru_cache(maxsize=128)
def _read_model_card(path: str, mtime_ns: int, size: int) -> tuple[str, dict]:
    """:func:`read_model_card` once per version of the file (Newton asks at every step)."""
    from ..netlist.cards import read_card_file
    card = read_card_file(path, "model").model()
    return card.name, card.numbers()


def nodal_card(path: str) -> str:
    """The card whose level-1 equations the Newton engine uses for a MOSFET of card ``path``.

    A level-1 card stands for itself. Any other level (the BSIM4 card) is approximated by
    the shipped level-1 card of the same process, ``models/nmos_level1.lib``.
    """
    _, p = read_model_card(str(path))
    return str(path) if int(p.get("level", 1)) == 1 else str(MODELS_DIR / "nmos_level1.lib")


def level1_params(path: str, temperature_k: float | None = None) -> Level1Params:
    """The level-1 parameters the Newton engine uses for card ``path`` (see :func:`nodal_card`),
    with ngspice's defaults for those not given, at ``temperature_k`` (None: the card's
    nominal temperature, where ngspice's temperature law is the identity; otherwise that law,
    :func:`spicebar.circuit.temperature.mos1_at_temperature`). Newton asks for them at every
    evaluation: they are parsed once per card version (its size and modification time)."""
    import os
    st = os.stat(path)
    return _level1_params(str(path), st.st_mtime_ns, st.st_size, temperature_k)


@lru_cache(maxsize=128)
def _level1_params(path: str, mtime_ns: int, size: int,
                   temperature_k: float | None) -> Level1Params:
    _, p = read_model_card(nodal_card(str(path)))
    vto, kp, phi, gamma = p.get("vto", 0.0), p.get("kp", 2e-5), p.get("phi", 0.6), p.get("gamma", 0.0)
    if temperature_k is not None:
        from .temperature import T_REF_K, ZERO_C_K, mos1_at_temperature
        tnom = p["tnom"] + ZERO_C_K if "tnom" in p else T_REF_K
        vto, phi, kp = mos1_at_temperature(vto, phi, gamma, kp, tnom, temperature_k)
    return Level1Params(vto=vto, kp=kp, gamma=gamma, phi=phi, lam=p.get("lambda", 0.0),
                        ld=p.get("ld", 0.0))
