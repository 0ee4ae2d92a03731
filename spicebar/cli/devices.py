"""Command-line flags for user devices (``--cell device``) and the doctor's device check.

    spicebar simulate -G G.npy -V V.npy --cell device --device models/devices/sinh_cell.va \\
        [--device-name NAME] [--device-param NAME=VALUE ...] [--device-cell-param NAME] \\
        [--selector-device FILE [--selector-name NAME] [--selector-param NAME=VALUE ...]] \\
        [--allow-approximate-cells] --engine nodal -o r.npz
"""

from __future__ import annotations

import argparse
import math

from ..errors import SpecError


def add_device_flags(g: argparse._ArgumentGroup) -> None:
    """The ``--device*`` flags, in the cells group of :func:`spicebar.cli.cells.add_cell_flags`."""
    g.add_argument("--device", default=None, metavar="FILE",
                   help="device: a Verilog-A file (.va, compiled with openvaf-r) or a SPICE file "
                        "with a .subckt; first terminal on the word line, second on the bit line")
    g.add_argument("--device-name", default=None, metavar="NAME",
                   help="device: module or subcircuit name (default: the file's only one)")
    g.add_argument("--device-param", action="append", default=None, metavar="NAME=VALUE",
                   help="device: a fixed device parameter, SI units (repeatable)")
    g.add_argument("--device-cell-param", default=None, metavar="NAME",
                   help="device: the parameter that takes G[i, j] (default g)")
    g.add_argument("--selector-device", default=None, metavar="FILE",
                   help="device: a second device file in series, word line -> selector -> "
                        "device -> bit line (a 1S1R of two user devices)")
    g.add_argument("--selector-name", default=None, metavar="NAME",
                   help="selector: module or subcircuit name (default: the file's only one)")
    g.add_argument("--selector-param", action="append", default=None, metavar="NAME=VALUE",
                   help="selector: a device parameter, SI units (repeatable; the same in every cell)")
    g.add_argument("--device-noise", default=None, choices=("thermal", "shot", "none"),
                   help="device: its noise in `spicebar noise`: thermal 4kTg at its small-signal "
                        "conductance (default), shot 2q|I| (junction-like), none")
    g.add_argument("--selector-noise", default=None, choices=("thermal", "shot", "none"),
                   help="selector device: its noise in `spicebar noise` (default thermal)")
    g.add_argument("--allow-approximate-cells", action="store_true",
                   help="nodal engine: where a cell can be neither followed exactly nor measured "
                        "in ngspice, permit a stand-in (printed); default: refuse")


def _params(items, flag: str = "--device-param") -> dict:
    out = {}
    for item in items or ():
        name, sep, value = str(item).partition("=")
        try:
            x = float(value)
        except ValueError:
            x = math.nan
        if not sep or not name.strip() or not math.isfinite(x):
            raise SpecError(flag, f"is {item!r}", "NAME=VALUE with a finite number, e.g. v0=0.25")
        out[name.strip()] = x
    return out


def device_cell_params(args) -> dict:
    """The :class:`~spicebar.circuit.devices.DeviceCell` fields from the flags."""
    if args.device is None:
        raise SpecError("--device", "is missing: --cell device needs the device file",
                        "a .va file or a SPICE file with a .subckt")
    selector = None
    if args.selector_device is not None:
        from ..circuit.devices import DeviceCell
        selector = DeviceCell(args.selector_device, name=args.selector_name,
                              params=_params(args.selector_param, "--selector-param"),
                              noise=getattr(args, "selector_noise", None) or "thermal")
    elif args.selector_name is not None or args.selector_param is not None \
            or getattr(args, "selector_noise", None) is not None:
        raise SpecError("--selector-name/--selector-param/--selector-noise",
                        "were given without --selector-device", "only with --selector-device FILE")
    out = {"path": args.device, "name": args.device_name, "params": _params(args.device_param),
           "cell_param": args.device_cell_param, "selector": selector,
           "noise": getattr(args, "device_noise", None) or "thermal"}
    if args.vg_on is not None or args.vg_off is not None:  # a device with a gate terminal
        out.update(vg_on_volt=args.vg_on, vg_off_volt=args.vg_off)
    return out


def check_device_flags(args) -> None:
    """Refuse ``--device*`` flags without ``--cell device`` (they would be ignored)."""
    if args.cell != "device":
        for flag in ("device", "device_name", "device_param", "device_cell_param",
                     "selector_device", "selector_name", "selector_param", "device_noise",
                     "selector_noise"):
            if getattr(args, flag, None) is not None:
                raise SpecError(f"--{flag.replace('_', '-')}", f"was given with --cell {args.cell}",
                                "only with --cell device")


def doctor_devices() -> tuple[list[str], bool]:
    """Lines for ``spicebar doctor``: the Verilog-A compiler and an OSDI run; and whether
    user Verilog-A devices work here."""
    from ..engines.ngspice.openvaf import OPENVAF_HINT, find_openvaf, openvaf_version
    exe = find_openvaf()
    if exe is None:
        return [f"{'openvaf':>10}: not found ({OPENVAF_HINT})"], False
    lines = [f"{'openvaf':>10}: {exe} ({openvaf_version(exe)})"]
    import numpy as np

    from ..circuit.devices import DeviceCell
    from ..circuit.iv_models import MODELS_DIR
    from ..circuit.spec import CrossbarSpec
    from ..engines.simulation import simulate
    try:
        spec = CrossbarSpec([[1e-4]], cell=DeviceCell(MODELS_DIR / "devices" / "sinh_cell.va"))
        r = simulate(spec, [0.25], "ngspice", timeout_s=120)
    except Exception as exc:  # the doctor reports, it does not crash
        return lines + [f"{'osdi':>10}: FAILED ({type(exc).__name__}: {exc})"], False
    expected = 1e-4 * 0.25 * np.sinh(1.0)
    lines.append(f"{'osdi':>10}: yes (a Verilog-A sinh cell at 0.25 V: {r.currents[0, 0]:.9e} A, "
                 f"expected {expected:.9e} A)")
    return lines, bool(abs(r.currents[0, 0] - expected) <= 1e-9 * expected)
