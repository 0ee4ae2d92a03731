"""Command-line flags for wires from geometry and for temperature (used by :mod:`.main`, :mod:`.write`).

    --tech 45nm --pitch-nm 160 [--width-nm W --thickness-nm H --c-per-m F_PER_M]
    --temperature-k 350 [--wire-tcr 3.9e-3 --cell-tcr 0]

Errors name the flag the user typed.
"""

from __future__ import annotations

import argparse

from ..errors import SpecError

#: Spec field -> the flag that sets it (errors are re-worded to name the flag).
FLAG_OF = {"tech": "--tech", "pitch_nm": "--pitch-nm", "width_nm": "--width-nm",
           "thickness_nm": "--thickness-nm", "c_per_m": "--c-per-m",
           "temperature_k": "--temperature-k", "wire_tcr_per_k": "--wire-tcr",
           "cell_tcr_per_k": "--cell-tcr"}


def add_environment_flags(p: argparse.ArgumentParser) -> None:
    from ..circuit.technology import TECHNOLOGIES
    g = p.add_argument_group("wires from geometry (instead of --r-wl/--r-bl) and temperature")
    g.add_argument("--tech", choices=tuple(TECHNOLOGIES), default=None,
                   help="technology preset of the lines (metal width, thickness, copper, "
                        "0.2 fF/um); the segment ohms and farads follow from it and the pitch")
    g.add_argument("--pitch-nm", type=float, default=None, metavar="NM",
                   help="cell pitch = segment length, nm (default twice the line width)")
    g.add_argument("--width-nm", type=float, default=None, metavar="NM",
                   help="line width, nm (default the preset's; required without --tech)")
    g.add_argument("--thickness-nm", type=float, default=None, metavar="NM",
                   help="line thickness, nm (default the preset's; required without --tech)")
    g.add_argument("--c-per-m", type=float, default=None, metavar="F_PER_M",
                   help="line capacitance per length, F/m (default 2e-10 = 0.2 fF/um)")
    g.add_argument("--temperature-k", type=float, default=300.15, metavar="K",
                   help="array temperature, kelvin, 150..500 (default 300.15 = 27 C)")
    g.add_argument("--wire-tcr", type=float, default=None, metavar="PER_K",
                   help="temperature coefficient of --r-wl/--r-bl, 1/K (default 3.9e-3, copper)")
    g.add_argument("--cell-tcr", type=float, default=0.0, metavar="PER_K",
                   help="temperature coefficient of the memory element's resistance, 1/K "
                        "(default 0)")


def flag_error(exc: SpecError) -> SpecError:
    """``exc`` re-worded to name the flag of its parameter (unchanged if it has none)."""
    flag = FLAG_OF.get(exc.parameter)
    return exc if flag is None else SpecError(flag, exc.problem, exc.allowed)


def environment_kwargs(args) -> dict:
    """CrossbarSpec keyword arguments of the flags (validated: a SpecError names the flag)."""
    out = {"temperature_k": args.temperature_k, "cell_tcr_per_k": args.cell_tcr}
    if args.wire_tcr is not None:
        out["wire_tcr_per_k"] = args.wire_tcr
    geo_flags = (args.pitch_nm, args.width_nm, args.thickness_nm, args.c_per_m)
    if args.tech is None and all(x is None for x in geo_flags):
        return out
    typed = next((k for k in ("r_wl", "r_bl", "r_wire") if getattr(args, k, None)), None)
    if typed is not None:
        raise SpecError("--" + typed.replace("_", "-"), "is given together with a wire geometry",
                        "either --r-wire/--r-wl/--r-bl (ohms) or --tech/--pitch-nm/--width-nm/"
                        "--thickness-nm (geometry)")
    try:
        if args.tech is not None:
            from ..circuit.technology import technology_geometry
            geo = technology_geometry(args.tech, args.pitch_nm, width_nm=args.width_nm,
                                      thickness_nm=args.thickness_nm, c_per_m=args.c_per_m)
        else:
            from ..circuit.wires import WireGeometry
            for flag, x in (("--pitch-nm", args.pitch_nm), ("--width-nm", args.width_nm),
                            ("--thickness-nm", args.thickness_nm)):
                if x is None:
                    raise SpecError(flag, "is missing", "a number of nm (or --tech NAME)")
            geo = WireGeometry(args.pitch_nm, args.width_nm, args.thickness_nm,
                               **({} if args.c_per_m is None else {"c_per_m": args.c_per_m}))
    except SpecError as exc:
        raise flag_error(exc) from None
    out["wire_geometry"] = geo
    return out


def make_spec(g, **kwargs):
    """``CrossbarSpec(g, **kwargs)`` with errors that name the flags."""
    from ..circuit.spec import CrossbarSpec
    try:
        return CrossbarSpec(g, **kwargs)
    except SpecError as exc:
        raise flag_error(exc) from None
