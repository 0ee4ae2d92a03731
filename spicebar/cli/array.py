"""``spicebar array``: write a random test array and its inputs (registered by :mod:`spicebar.cli.main`).

    spicebar array --rows 64 --cols 64 --g-min 2e-6 --g-max 1e-4 --dist loguniform \\
        --batch 4 --v-max 0.2 --seed 0 -G G.npy -V V.npy

Conductances ``(rows, cols)`` S and inputs ``(batch, rows)`` V, as ``.npy`` or ``.csv``
(by the suffix), from :mod:`spicebar.circuit.random_arrays`; every value is checked before
anything is written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SpecError
from ..io import atomic_output

SUFFIXES = (".npy", ".csv")


def add_array_parser(sub) -> None:
    from ..circuit.random_arrays import G_DISTS, INPUT_DISTS, RandomArraySpec
    d = RandomArraySpec()
    p = sub.add_parser("array", help="write a random test array G (rows, cols) S and inputs "
                       "V (batch, rows) V, .npy or .csv")
    p.add_argument("--rows", type=int, default=d.rows, help=f"word lines (default {d.rows})")
    p.add_argument("--cols", type=int, default=d.cols, help=f"bit lines (default {d.cols})")
    p.add_argument("--g-min", type=float, default=d.g_min_s, metavar="S",
                   help=f"smallest conductance, siemens (default {d.g_min_s:g})")
    p.add_argument("--g-max", type=float, default=d.g_max_s, metavar="S",
                   help=f"largest conductance, siemens (default {d.g_max_s:g})")
    p.add_argument("--dist", choices=G_DISTS, default=d.g_dist,
                   help=f"conductance distribution (default {d.g_dist}; binary: g-min or g-max)")
    p.add_argument("--g-density", type=float, default=d.g_density, metavar="P",
                   help=f"binary: fraction of cells at --g-max (default {d.g_density:g})")
    p.add_argument("--batch", type=int, default=d.batch,
                   help=f"input vectors (default {d.batch})")
    p.add_argument("--v-max", type=float, default=d.v_max_volt, metavar="V",
                   help=f"largest input, volts (default {d.v_max_volt:g})")
    p.add_argument("--input-dist", choices=INPUT_DISTS, default=d.input_dist,
                   help=f"input distribution over 0..v-max (default {d.input_dist}; binary: 0 or "
                        "v-max; full: every row at v-max)")
    p.add_argument("--seed", type=int, default=d.seed, help=f"random seed (default {d.seed})")
    p.add_argument("--conductances", "-G", required=True, metavar="G.npy",
                   help="where to write the conductances (.npy or .csv)")
    p.add_argument("--inputs", "-V", default=None, metavar="V.npy",
                   help="where to write the inputs (.npy or .csv; omit for none)")


def _target(path: str, parameter: str) -> Path:
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES:
        raise SpecError(parameter, f"{path!r} has suffix {p.suffix!r}", ", ".join(SUFFIXES))
    if p.is_dir():
        raise SpecError(parameter, f"{path!r} is a directory", "a file path")
    if not p.parent.resolve().is_dir():
        raise SpecError(parameter, f"folder {str(p.parent)!r} does not exist", "an existing folder")
    return p


def write_array_file(path: Path, array: np.ndarray) -> Path:
    """Write ``array`` to ``path`` (.npy, or .csv with one row per line) atomically."""
    with atomic_output(path) as f:
        if path.suffix.lower() == ".npy":
            np.save(f, array)
        else:
            np.savetxt(f, np.atleast_2d(array), delimiter=",", fmt="%.17g")
    return path


def cmd_array(args) -> int:
    from ..circuit.random_arrays import RandomArraySpec, draw_random_array
    try:
        spec = RandomArraySpec(rows=args.rows, cols=args.cols, g_min_s=args.g_min,
                               g_max_s=args.g_max, g_dist=args.dist, g_density=args.g_density,
                               batch=args.batch, v_max_volt=args.v_max,
                               input_dist=args.input_dist, seed=args.seed)
    except SpecError as exc:  # name the flag, not the field
        raise SpecError("--" + exc.parameter.replace("_", "-"), exc.problem, exc.allowed) from None
    g_path = _target(args.conductances, "--conductances")
    v_path = _target(args.inputs, "--inputs") if args.inputs else None
    if v_path is not None and v_path.resolve() == g_path.resolve():
        raise SpecError("--inputs", f"is the same file as --conductances ({args.inputs!r})",
                        "another file")
    g, v = draw_random_array(spec)
    write_array_file(g_path, g)
    written = [f"{g_path} (G, {g.shape[0]}x{g.shape[1]} S)"]
    if v_path is not None:
        write_array_file(v_path, v)
        written.append(f"{v_path} (V, {v.shape[0]}x{v.shape[1]} V)")
    print(f"{spec.describe()} -> " + ", ".join(written))
    return 0


__all__ = ["add_array_parser", "cmd_array", "write_array_file"]
