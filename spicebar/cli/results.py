"""Commands on result files: ``plot maps``, ``export`` and ``compare A.npz B.npz``.

    spicebar plot maps RESULT.npz -o maps.png [--vector K]
    spicebar export RESULT.npz --out-dir DIR          (CSV, units in every header)
    spicebar compare A.npz B.npz [--json]             (DC or readout results)
    spicebar show RESULT                              (what a file is and holds)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..errors import SpecError


def _load(path: str, parameter: str):
    from ..sweeps.result_files import load
    try:
        return load(path)
    except SpecError as exc:
        raise SpecError(parameter, exc.problem, exc.allowed) from None


def add_plot_maps_parser(kinds) -> None:
    p = kinds.add_parser("maps", help="maps over the array of any result file (voltages, cell "
                                      "currents; an mvm result's programmed conductances)")
    p.add_argument("result", metavar="RESULT.npz", help="a result written by simulate, compare "
                                                       "or mvm")
    p.add_argument("-o", "--out", required=True, metavar="FILE.png", help="figure file (.png)")
    p.add_argument("--vector", type=int, default=0, metavar="K",
                   help="the input vector to draw (default 0)")


def cmd_plot_maps(args) -> int:
    from ..plots.maps import save_figure
    from ..plots.result_maps import plot_result_maps
    from .paths import out_path
    out = out_path(args.out, (".png",), "--out", args)
    result = _load(args.result, "RESULT.npz")
    batch = getattr(result, "currents", np.zeros((1, 0))).shape[0]
    if not 0 <= args.vector < batch:
        raise SpecError("--vector", f"is {args.vector}", f"0..{batch - 1}")
    save_figure(plot_result_maps(result, args.vector), out)
    print(f"wrote {out}")
    return 0


def add_export_parser(sub) -> None:
    p = sub.add_parser("export", help="write a result file as CSV tables (units in the headers)")
    p.add_argument("result", metavar="RESULT", help="a result .npz, an array, or a sweep folder")
    p.add_argument("--out-dir", required=True, metavar="DIR",
                   help="folder for the CSV files (created)")
    p.add_argument("--format", choices=("csv",), default="csv", help="output format (csv)")


def cmd_export(args) -> int:
    from ..sweeps.result_files import export_csv
    from .paths import out_folder, resolve_out_dir
    out_folder(resolve_out_dir(args, None), "--out-dir")
    result = _load(args.result, "RESULT")
    paths = export_csv(result, args.out_dir)
    print(f"wrote {len(paths)} CSV file(s) to {args.out_dir}: "
          + ", ".join(p.name for p in paths))
    return 0


def write_csv_beside(result, out: Path) -> Path:
    """``--format csv``: the CSV tables of ``result`` in ``OUT_csv/`` beside ``out``."""
    from ..sweeps.result_files import export_csv
    folder = out.with_name(out.stem + "_csv")
    export_csv(result, folder)
    return folder


def compare_files(a_path: str, b_path: str) -> dict:
    """How far the result in ``a_path`` is from the one in ``b_path`` (the reference).

    Full scale: the reference's largest ``|current|`` (no array is at hand); for readout
    results also the samples against the reference's largest ``|sample|``, and the codes.
    """
    from ..analysis.comparison import error_stats
    a, b = _load(a_path, "RESULT.npz"), _load(b_path, "RESULT.npz")
    for r, p in ((a, a_path), (b, b_path)):
        if not hasattr(r, "currents"):
            raise SpecError("RESULT.npz", f"{p!r} is not a simulate/compare result",
                            "two results of simulate or compare")
    if a.currents.shape != b.currents.shape:
        raise SpecError("RESULT.npz", f"shapes differ: {a.currents.shape} and {b.currents.shape}",
                        "two results of the same array and inputs")
    fs = float(np.abs(b.currents).max())
    s = error_stats(a, b, fs, "file agreement")
    out = {"a": a_path, "b": b_path, "engines": [a.engine, b.engine],
           "shape": list(a.currents.shape), "full_scale_a": fs,
           "full_scale_note": "the largest |current| of b",
           "max_abs_a": s.max_abs_a, "max_rel": s.max_rel, "max_rel_fs": s.max_rel_fs,
           "rel_floored_outputs": s.n_floored}
    if getattr(a, "time", None) is not None and getattr(b, "time", None) is not None:
        if a.samples.shape != b.samples.shape:
            raise SpecError("RESULT.npz", f"readout windows differ: {a.samples.shape} and "
                            f"{b.samples.shape}", "two readout runs of the same job")
        sfs = float(np.abs(b.samples).max()) or 1.0
        out.update(sample_full_scale_v=sfs,
                   sample_deviation_fs=float(np.abs(a.samples - b.samples).max() / sfs),
                   code_deviation_max=int(np.abs(a.codes - b.codes).max(initial=0)),
                   digital_deviation_fs=float(np.nanmax(np.abs(a.digital_currents
                                                               - b.digital_currents)) / fs)
                   if np.all(np.isfinite(a.digital_currents)) else None)
    return out


def print_compare_files(args) -> int:
    if len(args.results) != 2:
        raise SpecError("RESULT.npz", f"{len(args.results)} file(s) given", "two result files")
    d = compare_files(*args.results)
    if args.json:
        print(json.dumps(d, indent=2))
        return 0
    print(f"{d['a']} ({d['engines'][0]}) against {d['b']} ({d['engines'][1]}), "
          f"{d['shape'][0]} vector(s) x {d['shape'][1]} column(s)")
    print(f"  currents: max |dI| {d['max_abs_a']:.4g} A, max rel {d['max_rel']:.3e}, "
          f"max/FS {d['max_rel_fs']:.3e} (FS {d['full_scale_a']:.4g} A: {d['full_scale_note']})")
    if "sample_deviation_fs" in d:
        print(f"  samples: max |dv| / FS {d['sample_deviation_fs']:.3e} (FS "
              f"{d['sample_full_scale_v']:.4g} V), codes differ by at most "
              f"{d['code_deviation_max']}")
    return 0


def add_compare_files_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", nargs="*", metavar="RESULT.npz",
                   help="two result files to compare instead of running engines (DC or "
                        "readout; the second is the reference)")


def add_show_parser(sub) -> None:
    p = sub.add_parser("show", help="say what a file spicebar wrote is and what it holds")
    p.add_argument("result", metavar="RESULT", help="a result .npz, an array, or a sweep folder")


def describe(obj) -> list[str]:
    """Lines naming the type of a loaded file and the shape and unit of what it holds."""
    kind = type(obj).__name__
    if isinstance(obj, np.ndarray):
        return [f"array {obj.shape} {obj.dtype}"]
    if isinstance(obj, dict):
        n = len(next(iter(obj.values()))) if obj else 0
        return [f"sweep table: {n} row(s), columns {', '.join(obj)}"]
    lines = [kind + (f" ({obj.engine})" if hasattr(obj, "engine") else "")]
    units = {"inputs": "V", "currents": "A", "driver_currents": "A", "v_wl": "V", "v_bl": "V",
             "cell_currents": "A", "time": "s", "vout": "V", "samples": "V", "codes": "code",
             "conductances": "S", "readout_currents": "A", "digital_currents": "A"}
    from ..results import MapsNotSaved
    for name, unit in units.items():
        try:
            value = getattr(obj, name)
        except MapsNotSaved:
            lines.append(f"  {name:<18} not saved (written without maps)")
            continue
        except AttributeError:
            continue
        if isinstance(value, np.ndarray):
            lines.append(f"  {name:<18} {str(value.shape):<16} {unit}")
    for engine, y in getattr(obj, "y", {}).items():
        lines.append(f"  {'y_' + engine:<18} {str(y.shape):<16} weight units")
    return lines


def cmd_show(args) -> int:
    print("\n".join(describe(_load(args.result, "RESULT"))))
    return 0
