"""``spicebar write``: a DC write of one cell, the stress on all others (registered by :mod:`.main`).

    spicebar write --rows 64 --cols 64 --g 1e-5 --r-wl 2 --r-bl 2 --v-write 2 --scheme v3 \\
        --v-switch 1.8 --v-disturb 1 --engine both --plot stress.png --json write.json

Passive, nonlinear, 1S1R, 1T1R and 2T2R cells (``--cell`` and its flags, as ``simulate``
takes them); user devices through :func:`spicebar.write_cell`. With an access device the
stress is the memory element's voltage (:mod:`spicebar.analysis.write`).
"""

from __future__ import annotations

import json

import numpy as np

from ..errors import SpecError
from .cells import add_cell_kind_flags, cell_from_args
from .environment import add_environment_flags, environment_kwargs, make_spec

#: The cell kinds ``spicebar write`` takes from its flags.
WRITE_CELL_KINDS = ("passive", "nonlinear", "1s1r", "1t1r", "2t2r")


def add_write_parser(sub) -> None:
    p = sub.add_parser("write", help="DC write of one cell (V/2, V/3 or floating lines): the "
                       "selected cell's voltage after IR drop, every other cell's stress, the "
                       "worst disturbed cell and the write margin")
    g = p.add_argument_group("array")
    g.add_argument("--conductances", "-G", default=None, metavar="G.npy",
                   help="cell conductances (rows, cols) S, .npy or .csv (instead of --rows/--cols/--g)")
    g.add_argument("--rows", type=int, default=None, help="word lines (with --g)")
    g.add_argument("--cols", type=int, default=None, help="bit lines (with --g)")
    g.add_argument("--g", type=float, default=1e-5, metavar="S",
                   help="every cell's conductance, S (default 1e-5)")
    g.add_argument("--r-wl", type=float, default=0.0, metavar="OHM", help="word-line segment resistance")
    g.add_argument("--r-bl", type=float, default=0.0, metavar="OHM", help="bit-line segment resistance")
    add_environment_flags(p)
    add_cell_kind_flags(p, WRITE_CELL_KINDS)
    g = p.add_argument_group("write")
    g.add_argument("--row", type=int, default=0, help="selected row (default 0)")
    g.add_argument("--col", type=int, default=None,
                   help="selected column (default the last: farthest from the drivers)")
    g.add_argument("--v-write", type=float, required=True, metavar="V", help="write voltage")
    g.add_argument("--scheme", choices=("v2", "v3", "floating"), default="v3",
                   help="bias of the unselected lines (default v3)")
    g.add_argument("--v-switch", type=float, default=None, metavar="V",
                   help="write threshold: the selected cell needs at least this")
    g.add_argument("--v-disturb", type=float, default=None, metavar="V",
                   help="disturb threshold: no other cell may reach this magnitude")
    p.add_argument("--engine", choices=("nodal", "ngspice", "both"), default="nodal",
                   help="nodal, ngspice or both (compared; default nodal)")
    p.add_argument("--plot", default=None, metavar="FILE.png", help="stress map (PNG)")
    p.add_argument("--json", default=None, metavar="FILE.json", help="the figures as JSON")


def _conductances(args) -> np.ndarray:
    if args.conductances is not None:
        if args.rows is not None or args.cols is not None:
            raise SpecError("--rows/--cols", "are given with --conductances",
                            "either --conductances G.npy or --rows/--cols/--g")
        from ..io import load_array
        return load_array(args.conductances, "conductances")
    for flag, n in (("--rows", args.rows), ("--cols", args.cols)):
        if n is None:
            raise SpecError(flag, "is missing", "a number of lines (or --conductances G.npy)")
        if not 1 <= n <= 2048:
            raise SpecError(flag, f"is {n}", "1 .. 2048")
    if not (np.isfinite(args.g) and args.g > 0):
        raise SpecError("--g", f"is {args.g!r} S", "> 0 S")
    return np.full((args.rows, args.cols), float(args.g))


def cmd_write(args) -> int:
    from ..analysis.write import format_write, write_cell
    g = _conductances(args)
    spec = make_spec(g, r_wl=args.r_wl, r_bl=args.r_bl, cell=cell_from_args(args),
                     **environment_kwargs(args))
    col = spec.cols - 1 if args.col is None else args.col
    for flag, x, n in (("--row", args.row, spec.rows), ("--col", col, spec.cols)):
        if not 0 <= x < n:
            raise SpecError(flag, f"is {x}", f"0 .. {n - 1}")
    engines = ("nodal", "ngspice") if args.engine == "both" else (args.engine,)
    try:
        results = [write_cell(spec, args.row, col, args.v_write, scheme=args.scheme,
                              v_switch_volt=args.v_switch, v_disturb_volt=args.v_disturb,
                              engine=e) for e in engines]
    except SpecError as exc:
        names = {"v_read_volt": "--v-write", "v_switch_volt": "--v-switch",
                 "v_disturb_volt": "--v-disturb"}
        raise SpecError(names.get(exc.parameter, exc.parameter), exc.problem, exc.allowed) from None
    for r in results:
        print(format_write(r))
    out = {"results": [r.summary() for r in results]}
    if len(results) == 2:
        a, b = results
        out["nodal_vs_ngspice_max_abs_v"] = float(np.abs(a.cell_voltage - b.cell_voltage).max())
        out["nodal_vs_ngspice_stress_max_abs_v"] = float(np.abs(a.stress - b.stress).max())
        print(f"nodal vs ngspice: cell voltages agree to {out['nodal_vs_ngspice_max_abs_v']:.3g} V, "
              f"stress to {out['nodal_vs_ngspice_stress_max_abs_v']:.3g} V; "
              f"worst disturbed cell {'the same' if a.worst == b.worst else 'DIFFERS'}")
    if args.json:
        from ..io import write_text_atomic
        write_text_atomic(args.json, json.dumps(out, indent=1) + "\n")
    if args.plot:
        from ..plots.maps import save_figure
        from ..plots.write import plot_write_stress
        save_figure(plot_write_stress(results[-1]), args.plot)
        print(f"stress map: {args.plot}")
    return 0
