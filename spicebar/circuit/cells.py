"""Cell kinds: what sits at each crossing of a word line and a bit line.

Each kind is a frozen, validated spec; ``CrossbarSpec(cell=...)`` takes one.
The conductance ``G[i, j]`` of the spec is always the programmed (small-signal)
conductance of the memory element.

* :class:`PassiveCell`: a linear resistor ``1/G`` (the default, today's behaviour).
* :class:`NonlinearCell`: a memory element with read I-V ``I = G V0 sinh(V / V0)``,
  whose small-signal conductance at 0 V is ``G``.
* :class:`SelectorCell` (1S1R): a selector ``I = I_s sinh(V / V_s)`` from the word
  line to an internal node ``mid_i_j``, then the linear element ``1/G`` to the bit line.
  The selector is named by physical quantities: its half-bias nonlinearity
  ``K = I(V_read) / I(V_read / 2)`` and its current ``I(V_read)``.
* :class:`TransistorCell` (1T1R): the linear element ``1/G`` from the word line to
  ``mid_i_j``, then an NMOS access transistor (drain ``mid_i_j``, source the bit line,
  bulk ground) whose gate is the row's gate line ``gl_i``, driven by ``vg_i`` at
  ``vg_on_volt`` (or ``vg_off_volt`` for gated-off rows). As a three-line array
  (``r_gl_ohm``/``c_gl_f``: a resistive-capacitive gate line, node ``gl_i_j`` at each
  gate; ``source_lines``: the source lines along the columns, as above, or along the
  rows, where the transistor sits at the driven row line and the element at the column);
  see docs/howto/three-line-arrays.md. The transistor may be a PDK device
  (``model="sky130:nfet_01v8"``, :mod:`spicebar.circuit.pdk`).
* :class:`DifferentialTransistorCell` (2T2R): two 1T1R halves on one gate, ``G+`` on column
  ``2p`` and ``G-`` on ``2p + 1`` (:mod:`spicebar.circuit.differential_cells`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from .. import _validate as v
from .devices import DeviceCell
from .iv_models import MODELS_DIR, level1_params, read_model_card
from .pdk import is_pdk_name, pdk_mosfet
from ..errors import SpecError

CELL_KINDS = ("passive", "nonlinear", "1s1r", "1t1r", "2t2r", "device")

#: Model cards shipped in ``models/``: name -> file.
MOS_MODELS = {"level1": "nmos_level1.lib", "bsim4": "nmos_bsim4.lib",
              "level1-nocap": "nmos_level1_nocap.lib"}
#: Where the source lines of a 1T1R array run (the first is today's two-line layout).
SOURCE_LINES = ("columns", "rows")
#: Gate-line segment bounds: resistance (ohm) and capacitance to ground (farad).
MAX_R_GL_OHM = 1e6
MAX_C_GL_F = 1e-9


def _range(name: str, value, lo: float, hi: float, unit: str, open_lo: bool = False) -> float:
    lo_s = f"> {lo:g}" if open_lo else f">= {lo:g}"
    allowed = f"a finite number {lo_s} and <= {hi:g} {unit}".strip()
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise SpecError(name, f"is {value!r}", allowed) from None
    if isinstance(value, bool) or not math.isfinite(x) or not (lo < x if open_lo else lo <= x) or x > hi:
        raise SpecError(name, f"is {value!r} {unit}".rstrip(), allowed)
    return x


@dataclass(frozen=True)
class PassiveCell:
    """A linear resistor ``1 / G`` between word line and bit line."""

    kind = "passive"

    def describe(self) -> str:
        return "passive linear cells"


@dataclass(frozen=True)
class NonlinearCell:
    """Memory element with read I-V ``I = G * v0_volt * sinh(V / v0_volt)``.

    Attributes:
        v0_volt: voltage scale of the nonlinearity, volts, 0.01..100. Smaller is more
            nonlinear; the current at ``V`` exceeds ``G V`` by ``sinh(x)/x``, ``x = V/v0``.
    """

    v0_volt: float = 0.25
    kind = "nonlinear"

    def __post_init__(self) -> None:
        object.__setattr__(self, "v0_volt", _range("v0_volt", self.v0_volt, 0.01, 100.0, "V"))

    def describe(self) -> str:
        return f"nonlinear cells I = G*V0*sinh(V/V0), V0={self.v0_volt:g} V"


@dataclass(frozen=True)
class SelectorCell:
    """1S1R: a sinh selector in series with the linear element.

    Attributes:
        nonlinearity: half-bias ratio ``K = I_sel(v_read) / I_sel(v_read / 2)`` of the
            selector alone, 2 < K <= 1e6 (K = 2 would be a linear selector).
        v_read_volt: the voltage at which ``K`` and ``i_read_a`` are stated, volts, 0.01..10.
        i_read_a: selector current at ``v_read_volt``, amperes, 1e-9..1.
    """

    nonlinearity: float = 1000.0
    v_read_volt: float = 1.0
    i_read_a: float = 1e-4
    kind = "1s1r"

    def __post_init__(self) -> None:
        k = _range("nonlinearity", self.nonlinearity, 2.0, 1e6, "", open_lo=True)
        object.__setattr__(self, "nonlinearity", k)
        object.__setattr__(self, "v_read_volt", _range("v_read_volt", self.v_read_volt, 0.01, 10.0, "V"))
        object.__setattr__(self, "i_read_a", _range("i_read_a", self.i_read_a, 1e-9, 1.0, "A"))

    @property
    def v_s_volt(self) -> float:
        """Voltage scale ``V_s`` of ``I = I_s sinh(V / V_s)``: ``sinh(x)/sinh(x/2) = 2 cosh(x/2) = K``."""
        return self.v_read_volt / (2.0 * math.acosh(self.nonlinearity / 2.0))

    @property
    def i_s_amp(self) -> float:
        """Current scale ``I_s``, amperes."""
        return self.i_read_a / math.sinh(self.v_read_volt / self.v_s_volt)

    def describe(self) -> str:
        return (f"1S1R cells, selector K={self.nonlinearity:g} at {self.v_read_volt:g} V, "
                f"I={self.i_read_a:g} A")


@dataclass(frozen=True)
class TransistorCell:
    """1T1R: the linear element in series with an NMOS access transistor.

    Attributes:
        vg_on_volt: gate-line voltage of selected rows, volts (required; above the
            model's threshold, at most 5 V).
        vg_off_volt: gate-line voltage of gated-off rows, volts, below ``vg_on_volt``.
        model: ``level1``, ``level1-nocap`` (the same without gate charge, for ramped gates)
            or ``bsim4`` (cards in ``models/``), a path to a card file, or a
            PDK transistor ``sky130:<device>`` (e.g. ``sky130:nfet_01v8``; needs the
            ``[pdk]`` extra, :mod:`spicebar.circuit.pdk`).
        w_m, l_m: drawn channel width and length, metres (10 nm .. 100 um).
        source_lines: ``columns`` (default: the row line is the bit line at the element,
            the column line the source line at the transistor) or ``rows`` (the row line is
            the source line at the transistor, the column line the bit line at the element).
            Inputs always drive the row lines and the column lines are read.
        r_gl_ohm: gate-line segment resistance, ohm, 0..1e6 (0: an ideal gate line). Gate
            line ``i`` is driven at its left end; segment ``j`` lies left of cell ``(i, j)``.
        c_gl_f: gate-line capacitance to ground per segment, farad, 0..1e-9 (transients).
    """

    vg_on_volt: Optional[float] = None
    vg_off_volt: float = 0.0
    model: Union[str, Path] = "level1"
    w_m: float = 1e-6
    l_m: float = 0.18e-6
    source_lines: str = "columns"
    r_gl_ohm: float = 0.0
    c_gl_f: float = 0.0
    kind = "1t1r"

    def __post_init__(self) -> None:
        if self.vg_on_volt is None:
            raise SpecError("vg_on_volt", "is missing: a 1T1R array needs its gate-on voltage",
                            "the gate-line voltage of selected rows in volts, e.g. 1.8")
        v.choice("source_lines", self.source_lines, SOURCE_LINES)
        object.__setattr__(self, "r_gl_ohm", _range("r_gl_ohm", self.r_gl_ohm, 0.0, MAX_R_GL_OHM, "ohm"))
        object.__setattr__(self, "c_gl_f", _range("c_gl_f", self.c_gl_f, 0.0, MAX_C_GL_F, "F"))
        if is_pdk_name(self.model):
            self._check_pdk()
            return
        path = self.model_path
        if not path.exists():
            raise SpecError("model", f"is {str(self.model)!r}: no such card file",
                            f"{', '.join(MOS_MODELS)} or a path to a .model file")
        from ..netlist.cards import read_card_file
        card = read_card_file(path, "model").model()  # the card guard: refuses all but cards
        if card.type != "nmos":
            raise SpecError("model", f"card {card.name} in {path.name} is {card.type!r}",
                            "an nmos .model card (the access transistor is an NMOS)")
        name, params = read_model_card(str(path))
        w = _range("w_m", self.w_m, 1e-8, 1e-4, "m")
        l_ = _range("l_m", self.l_m, 1e-8, 1e-4, "m")
        l1 = level1_params(str(path))
        if int(params.get("level", 1)) == 1:
            for key, val, ok in (("kp", l1.kp, l1.kp > 0), ("phi", l1.phi, l1.phi > 0),
                                 ("gamma", l1.gamma, l1.gamma >= 0), ("lambda", l1.lam, l1.lam >= 0),
                                 ("ld", l1.ld, l1.ld >= 0)):
                if not (math.isfinite(val) and ok):
                    raise SpecError("model", f"card {path.name} has {key} = {val!r}",
                                    "kp > 0, phi > 0, gamma >= 0, lambda >= 0, ld >= 0")
        vth = params.get("vth0", l1.vto)
        on = float(self.vg_on_volt)
        if not math.isfinite(on) or on <= vth or on > 5.0:
            raise SpecError("vg_on_volt", f"is {self.vg_on_volt!r} V",
                            f"above the threshold of {name} ({vth:g} V) and <= 5 V")
        off = float(self.vg_off_volt)
        if not math.isfinite(off) or off >= on or off < -5.0:
            raise SpecError("vg_off_volt", f"is {self.vg_off_volt!r} V",
                            f">= -5 V and below vg_on_volt ({on:g} V)")
        if l_ - 2 * l1.ld <= 0:
            raise SpecError("l_m", f"is {l_!r} m", f"> 2*LD = {2 * l1.ld:g} m of the card")
        object.__setattr__(self, "vg_on_volt", on)
        object.__setattr__(self, "vg_off_volt", off)
        object.__setattr__(self, "w_m", w)
        object.__setattr__(self, "l_m", l_)

    def _check_pdk(self) -> None:
        """A PDK transistor: the name checked against the installed package, W/L and the gate
        voltages against the device's rating (the models are binned from 0.15 um)."""
        dev = pdk_mosfet(str(self.model))
        object.__setattr__(self, "w_m", _range("w_m", self.w_m, 0.36e-6, 100e-6, "m"))
        object.__setattr__(self, "l_m", _range("l_m", self.l_m, 0.15e-6, 100e-6, "m"))
        top = 1.1 * dev.rating_volt  # the rated voltage plus the usual 10 % margin
        on = _range("vg_on_volt", self.vg_on_volt, 0.0, top, "V", open_lo=True)
        off = float(self.vg_off_volt)
        if not math.isfinite(off) or off >= on or off < -top:
            raise SpecError("vg_off_volt", f"is {self.vg_off_volt!r} V",
                            f">= {-top:g} V and below vg_on_volt ({on:g} V)")
        object.__setattr__(self, "vg_on_volt", on)
        object.__setattr__(self, "vg_off_volt", off)

    @property
    def is_pdk(self) -> bool:
        """True for a PDK transistor (``sky130:<device>``)."""
        return is_pdk_name(self.model)

    @property
    def model_path(self) -> Path:
        m = str(self.model)
        return MODELS_DIR / MOS_MODELS[m] if m in MOS_MODELS else Path(m)

    @property
    def mos_model(self):
        """What the IR's MOSFET group carries: the card path, or the :class:`~.pdk.PdkMosfet`."""
        return pdk_mosfet(self.model) if self.is_pdk else str(self.model_path)

    @property
    def model_name(self) -> str:
        return str(self.model) if self.is_pdk else read_model_card(str(self.model_path))[0]

    @property
    def level(self) -> int:
        if self.is_pdk:
            return 54  # BSIM4 (the sky130 cards' level)
        return int(read_model_card(str(self.model_path))[1].get("level", 1))

    @property
    def three_line(self) -> bool:
        """True where the layout differs from the two-line 1T1R (gate-line RC or source lines
        along the rows)."""
        return self.source_lines != "columns" or self.r_gl_ohm > 0 or self.c_gl_f > 0

    def describe(self) -> str:
        lines = ""
        if self.three_line:
            lines = (f", source lines along the {self.source_lines}, gate line "
                     f"{self.r_gl_ohm:g} ohm / {self.c_gl_f:g} F per segment")
        return (f"1T1R cells, NMOS {self.model_name} W={self.w_m:g} m L={self.l_m:g} m, "
                f"VG on {self.vg_on_volt:g} V / off {self.vg_off_volt:g} V{lines}")


@dataclass(frozen=True)
class DifferentialTransistorCell(TransistorCell):
    """2T2R: two 1T1R halves (``G+`` on column ``2p``, ``G-`` on ``2p + 1``), one shared gate.

    Attributes: those of :class:`~spicebar.circuit.cells.TransistorCell`; ``r_gl_ohm`` and
    ``c_gl_f`` are per 2T2R cell (one gate-line segment per pair of columns). The array's
    conductances must have an even number of columns.
    """

    kind = "2t2r"
    #: Physical columns that share one gate node (read by the elaboration and the gate ladder).
    cells_per_gate = 2

    def check_conductances(self, conductances) -> None:
        """The array shape: pairs of columns, ``(rows, 2 * pairs)`` (a 2-D numpy array)."""
        cols = conductances.shape[1]
        if cols % 2:
            raise SpecError("conductances", f"has {cols} columns, but a 2T2R array holds each "
                            "signed weight on a pair of columns (G+ on column 2p, G- on 2p+1)",
                            "an even number of columns")

    def describe(self) -> str:
        return "2T2R differential " + super().describe().replace("1T1R cells", "cells")


Cell = Union[PassiveCell, NonlinearCell, SelectorCell, TransistorCell, DeviceCell]


def validate_cell(value) -> Cell:
    """The ``cell`` field of a CrossbarSpec: one of the cell specs above."""
    if not isinstance(value, (PassiveCell, NonlinearCell, SelectorCell, TransistorCell, DeviceCell)):
        raise SpecError("cell", f"is {value!r}", "PassiveCell(), NonlinearCell(...), "
                        "SelectorCell(...), TransistorCell(...) or DeviceCell(...)")
    if isinstance(value, DeviceCell):
        value.check_as_cell()
    return value


def make_cell(kind: str, **params) -> Cell:
    """A cell spec from its kind name (``passive``, ``nonlinear``, ``1s1r``, ``1t1r``, ``2t2r``, ``device``).

    ``params`` holds that kind's fields; None values are dropped (defaults apply).
    """
    v.choice("cell", kind, CELL_KINDS)
    cls = {"passive": PassiveCell, "nonlinear": NonlinearCell, "1s1r": SelectorCell,
           "1t1r": TransistorCell, "device": DeviceCell,
           "2t2r": DifferentialTransistorCell}[kind]
    return cls(**{k: x for k, x in params.items() if x is not None})
