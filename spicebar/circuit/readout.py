"""Readout specs: what sits at the end of each bit line in a time-domain simulation.

* :class:`OpAmpSpec`: an op-amp macromodel from ``models/opamp.lib``: ``kind="ideal"``
  is a linear VCVS (gain ``a0``, default 1e9, no pole, no swing limit); ``kind="macro"``
  adds a single pole (``gbw_hz``) and a smooth clamp to the rails ``v_lo``/``v_hi``.
* :class:`IntegratorSpec`: per column an op-amp with ``c_int_f`` from its inverting input
  to its output, a reset switch across the capacitor (closed while the reset pulse is
  high), the non-inverting input at ``v_ref``. The bit line (through ``r_sense``) sits at
  the inverting input. Output ``v_out = v_ref - Q / c_int`` for an ideal op-amp.
* :class:`TIASpec`: the same with a feedback resistor: ``v_out = v_ref - I * r_f``.

The readout *signal* is ``v_ref - v_out`` (volts, positive for positive column current);
the ADC (:class:`spicebar.circuit.converters.ADCSpec`) quantises the signal sampled at the end
of each window. ``c_wl_f``/``c_bl_f`` add wire capacitance to ground per segment (lumped
at each cell's word-line and bit-line node); only transient engines see it.

``CrossbarSpec.readout = None`` (the default) is today's ideal virtual ground, which is
also what the DC engines (``.op``, nodal, ideal) use whatever the readout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import _validate as v
from .converters import ADCSpec
from ..errors import SpecError
from . import bounds
from .iv_models import MODELS_DIR

OPAMP_KINDS = ("ideal", "macro")
#: Default quiescent current of one op-amp, A: a low-power CMOS amplifier (an assumption
#: stated here, not a published figure: set the value of your amplifier).
I_Q_DEFAULT_A = 10e-6


@dataclass(frozen=True)
class OpAmpSupply:
    """The rails an op-amp draws from (energy accounting; the signal path is unchanged).

    Each op-amp draws ``i_q_a`` from both rails, and its output current from the rail it
    flows from: a sourced current from ``v_dd``, a sunk one from ``v_ss``. In the netlist:
    sources ``vdd``/``vss``, a 0 V ammeter ``vop_j`` on each output and two behavioural
    current sources per column (:mod:`spicebar.netlist.readout`).

    Attributes:
        v_dd, v_ss: rail voltages, V, ``v_ss < v_dd``; a macro op-amp's swing must lie
            inside them.
        i_q_a: quiescent current per op-amp, A, >= 0.
    """

    v_dd: float = 1.0
    v_ss: float = -1.0
    i_q_a: float = I_Q_DEFAULT_A

    def __post_init__(self) -> None:
        for name in ("v_dd", "v_ss"):
            object.__setattr__(self, name, float(v.real_array(f"opamp.supply.{name}",
                                                               getattr(self, name), 0)))
        if not self.v_dd > self.v_ss:
            raise SpecError("opamp.supply.v_dd", f"is {self.v_dd!r}, not above v_ss={self.v_ss!r}",
                            f"> {self.v_ss!r} V")
        object.__setattr__(self, "i_q_a", v.nonnegative_scalar("opamp.supply.i_q_a", self.i_q_a, "A"))
#: The model library, read into every transient netlist (netlists stay self-contained).
OPAMP_LIBRARY = MODELS_DIR / "opamp.lib"


@dataclass(frozen=True)
class OpAmpSpec:
    """Op-amp macromodel parameters.

    Attributes:
        kind: ``ideal`` (VCVS of gain ``a0``) or ``macro`` (single pole, rails).
        a0: open-loop DC gain, V/V, >= 1.
        gbw_hz: gain-bandwidth product, Hz (macro only).
        v_lo, v_hi: output swing limits, V (macro only), ``v_lo < v_hi``.
        v_smooth: width of the soft clamp at the rails, V, > 0 (macro only).
        v_os: input offset voltage, V (added to the non-inverting input).
        r_out: output resistance, ohm, > 0.
        en_v_rthz: input-referred voltage noise density, V/sqrt(Hz), >= 0 (white; used by
            the noise analysis only, :mod:`spicebar.analysis.noise`).
        in_a_rthz: input-referred current noise density at the inverting input,
            A/sqrt(Hz), >= 0 (white; noise analysis only).
        supply: the rails it draws from (:class:`OpAmpSupply`), or None (no supply: its
            output energy comes from nowhere and is reported as such).
    """

    kind: str = "ideal"
    a0: float = 1e9
    gbw_hz: float = 1e9
    v_lo: float = -1.0
    v_hi: float = 1.0
    v_smooth: float = 0.01
    v_os: float = 0.0
    r_out: float = 1e-3
    en_v_rthz: float = 0.0
    in_a_rthz: float = 0.0
    supply: OpAmpSupply | None = None

    def __post_init__(self) -> None:
        v.choice("opamp.kind", self.kind, OPAMP_KINDS)
        for name, unit in (("en_v_rthz", "V/sqrt(Hz)"), ("in_a_rthz", "A/sqrt(Hz)")):
            object.__setattr__(self, name, v.nonnegative_scalar(f"opamp.{name}",
                                                                getattr(self, name), unit))
        if self.supply is not None and not isinstance(self.supply, OpAmpSupply):
            raise SpecError("opamp.supply", f"is {type(self.supply).__name__}",
                            "an OpAmpSupply or None")
        object.__setattr__(self, "a0", v.positive_scalar("opamp.a0", self.a0, "V/V"))
        if self.a0 < 1:
            raise SpecError("opamp.a0", f"is {self.a0!r}", ">= 1 V/V")
        object.__setattr__(self, "gbw_hz", v.positive_scalar("opamp.gbw_hz", self.gbw_hz, "Hz"))
        object.__setattr__(self, "v_smooth", v.positive_scalar("opamp.v_smooth", self.v_smooth, "V"))
        object.__setattr__(self, "r_out", v.positive_scalar("opamp.r_out", self.r_out, "ohm"))
        for name in ("v_lo", "v_hi", "v_os"):
            object.__setattr__(self, name, float(v.real_array(f"opamp.{name}", getattr(self, name), 0)))
        if not self.v_hi > self.v_lo:
            raise SpecError("opamp.v_hi", f"is {self.v_hi!r}, not above v_lo={self.v_lo!r}",
                            f"> {self.v_lo!r} V")
        if self.supply is not None and self.has_rails and not (
                self.supply.v_ss <= self.v_lo and self.v_hi <= self.supply.v_dd):
            raise SpecError("opamp.supply", f"rails ({self.supply.v_ss!r}, {self.supply.v_dd!r}) V "
                            f"do not contain the output swing ({self.v_lo!r}, {self.v_hi!r}) V",
                            "v_ss <= v_lo and v_hi <= v_dd")

    @property
    def has_rails(self) -> bool:
        return self.kind == "macro"

    def instance_params(self) -> str:
        """The ``params`` text of a subcircuit instance."""
        if self.kind == "ideal":
            return f"a0={self.a0!r} vos={self.v_os!r} rout={self.r_out!r}"
        return (f"a0={self.a0!r} gbw={self.gbw_hz!r} vlo={self.v_lo!r} vhi={self.v_hi!r} "
                f"vsm={self.v_smooth!r} vos={self.v_os!r} rout={self.r_out!r}")

    @property
    def subckt(self) -> str:
        return "spicebar_opamp_vcvs" if self.kind == "ideal" else "spicebar_opamp"


def _common(spec) -> None:
    """Validate the fields integrators and TIAs share."""
    if not isinstance(spec.opamp, OpAmpSpec):
        raise SpecError("readout.opamp", f"is {type(spec.opamp).__name__}", "an OpAmpSpec")
    if spec.adc is not None and not isinstance(spec.adc, ADCSpec):
        raise SpecError("readout.adc", f"is {type(spec.adc).__name__}", "an ADCSpec or None")
    object.__setattr__(spec, "v_ref", float(v.real_array("readout.v_ref", spec.v_ref, 0)))
    caps, times = "readout.c_int_f, c_wl_f, c_bl_f", "readout.t_int_s, t_reset_s, t_settle_s, encoding.t_edge_s"
    for name in ("c_wl_f", "c_bl_f"):
        object.__setattr__(spec, name, bounds.check(f"readout.{name}", v.nonnegative_scalar(
            f"readout.{name}", getattr(spec, name), "F"), caps))
    object.__setattr__(spec, "t_int_s", bounds.check("readout.t_int_s", v.positive_scalar(
        "readout.t_int_s", spec.t_int_s, "s"), times))
    object.__setattr__(spec, "t_reset_s", bounds.check("readout.t_reset_s", v.positive_scalar(
        "readout.t_reset_s", spec.t_reset_s, "s"), times))
    object.__setattr__(spec, "t_settle_s", bounds.check("readout.t_settle_s", v.nonnegative_scalar(
        "readout.t_settle_s", spec.t_settle_s, "s"), times))
    if spec.opamp.has_rails and not spec.opamp.v_lo < spec.v_ref < spec.opamp.v_hi:
        raise SpecError("readout.v_ref", f"is {spec.v_ref!r} V, outside the op-amp rails "
                        f"({spec.opamp.v_lo!r}, {spec.opamp.v_hi!r})", "between the rails")


@dataclass(frozen=True)
class IntegratorSpec:
    """Switched-capacitor integrator on every column.

    Attributes:
        c_int_f: integration capacitor, farad, > 0.
        t_int_s: integration window of one input phase, s, > 0 (the encodings fit their
            pulses into it).
        opamp: the amplifier.
        v_ref: reference (virtual-ground) voltage, V.
        t_reset_s: reset pulse length before each window, s, > 0.
        r_reset_ohm: on-resistance of the reset switch, ohm (off: 1e12 ohm).
        t_settle_s: wait after the last input edge before sampling, s, >= 0.
        adc: quantiser of the sampled signal ``v_ref - v_out`` (volts), or None.
        c_wl_f, c_bl_f: wire capacitance to ground per word-/bit-line segment, F, >= 0.
    """

    c_int_f: float = 1e-12
    t_int_s: float = 100e-9
    opamp: OpAmpSpec = field(default_factory=OpAmpSpec)
    v_ref: float = 0.0
    t_reset_s: float = 2e-9
    r_reset_ohm: float = 100.0
    t_settle_s: float = 0.0
    adc: ADCSpec | None = None
    c_wl_f: float = 0.0
    c_bl_f: float = 0.0

    kind = "integrator"

    def __post_init__(self) -> None:
        object.__setattr__(self, "c_int_f", bounds.check("readout.c_int_f", v.positive_scalar(
            "readout.c_int_f", self.c_int_f, "F"), "readout.c_int_f, c_wl_f, c_bl_f"))
        object.__setattr__(self, "r_reset_ohm",
                           v.positive_scalar("readout.r_reset_ohm", self.r_reset_ohm, "ohm"))
        _common(self)

    def gain(self) -> float:
        """Signal per unit equivalent DC current over one window, V/A (= t_int / c_int)."""
        return self.t_int_s / self.c_int_f

    def describe(self) -> str:
        return (f"integrator C={self.c_int_f:g} F, T={self.t_int_s:g} s, opamp={self.opamp.kind} "
                f"(A0={self.opamp.a0:g})")


@dataclass(frozen=True)
class TIASpec:
    """Transimpedance amplifier on every column (feedback resistor ``r_f_ohm``).

    The output is sampled at the end of each input pulse's flat part (``t_int_s`` after
    it starts), while the input is still applied. Other fields as :class:`IntegratorSpec`.
    """

    r_f_ohm: float = 10e3
    t_int_s: float = 20e-9
    opamp: OpAmpSpec = field(default_factory=OpAmpSpec)
    v_ref: float = 0.0
    t_reset_s: float = 1e-9
    t_settle_s: float = 0.0
    adc: ADCSpec | None = None
    c_wl_f: float = 0.0
    c_bl_f: float = 0.0

    kind = "tia"

    def __post_init__(self) -> None:
        object.__setattr__(self, "r_f_ohm", v.positive_scalar("readout.r_f_ohm", self.r_f_ohm, "ohm"))
        _common(self)

    def gain(self) -> float:
        """Signal per unit column current, V/A (= r_f)."""
        return self.r_f_ohm

    def describe(self) -> str:
        return f"TIA R_f={self.r_f_ohm:g} ohm, opamp={self.opamp.kind} (A0={self.opamp.a0:g})"


READOUT_TYPES = (IntegratorSpec, TIASpec)


def validate_readout(readout) -> None:
    """For ``CrossbarSpec.readout``: None (ideal virtual ground) or one of the specs above."""
    if readout is not None and not isinstance(readout, READOUT_TYPES):
        raise SpecError("readout", f"is {type(readout).__name__}",
                        "None (ideal virtual ground), IntegratorSpec or TIASpec")


def opamp_library_text() -> str:
    """The subcircuit definitions of ``models/opamp.lib``."""
    if not OPAMP_LIBRARY.exists():
        raise SpecError("readout.opamp", f"model library {OPAMP_LIBRARY} is missing",
                        "a spicebar installation with its model files (models/opamp.lib)")
    from ..netlist.cards import read_card_file
    return "\n".join(read_card_file(OPAMP_LIBRARY, "readout.opamp", allow_subckt=True)
                     .netlist_lines())
