"""The wire flags, the same in every command that builds an array (``simulate``,
``generate``, ``compare``, ``mvm``, ``network``): ``--r-wire`` sets both line resistances,
``--r-wl``/``--r-bl`` override one, ``--r-driver``/``--r-sense`` the line ends."""

from __future__ import annotations


def add_wire_flags(g) -> None:
    """Add the wire flags to the argument group (or parser) ``g``."""
    g.add_argument("--r-wire", type=float, default=None, metavar="OHM",
                   help="word- and bit-line segment resistance (sets both --r-wl and --r-bl)")
    g.add_argument("--r-wl", type=float, default=None, metavar="OHM",
                   help="word-line segment resistance (default --r-wire, else 0: ideal wire)")
    g.add_argument("--r-bl", type=float, default=None, metavar="OHM",
                   help="bit-line segment resistance (default --r-wire, else 0: ideal wire)")
    g.add_argument("--r-driver", type=float, default=0.0, metavar="OHM",
                   help="driver output resistance (default 0)")
    g.add_argument("--r-sense", type=float, default=0.0, metavar="OHM",
                   help="readout input resistance (default 0)")


def wire_resistances(args) -> tuple[float, float]:
    """``(r_wl, r_bl)`` ohm from ``--r-wire`` and ``--r-wl``/``--r-bl`` (the specific flag
    wins); a value out of range is refused naming the flag typed."""
    from ..circuit.bounds import check
    for flag in ("r_wire", "r_wl", "r_bl", "r_driver", "r_sense"):
        value = getattr(args, flag, None)
        if value is not None:
            name = "--" + flag.replace("_", "-")
            if value < 0:
                from ..errors import SpecError
                raise SpecError(name, f"is {value!r} ohm", "0 (an ideal wire) or more")
            check(name, value, "r_wl, r_bl, r_driver, r_sense")
    base = 0.0 if args.r_wire is None else args.r_wire
    return (base if args.r_wl is None else args.r_wl, base if args.r_bl is None else args.r_bl)
