"""``spicebar sweep`` and ``spicebar plot sweep`` (registered by :mod:`spicebar.cli.main`).

    spicebar sweep SWEEP.toml [--workers N] [--scheduler ADDR] [--out DIR] [--retry-failed]
    spicebar plot sweep DIR -o FILE.png [--metric max_rel] [--model ideal] [--where K=V] [--facet K]
"""

from __future__ import annotations

from pathlib import Path

from ..errors import SpecError


def add_sweep_parser(sub) -> None:
    p = sub.add_parser("sweep", help="run a sweep file: many points, models scored against "
                       "ngspice, a tidy table (resumes where it stopped)")
    p.add_argument("sweep_file", metavar="SWEEP.toml", help="the sweep file (TOML)")
    p.add_argument("--out-dir", default=None, metavar="DIR",
                   help="results folder (default: sweep_out/<file name>); rerunning into the "
                        "same folder runs only the missing points")
    from .paths import add_deprecated_out_dir
    add_deprecated_out_dir(p)
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="local worker processes (default: one per core)")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="run on a Dask distributed cluster at ADDR (tcp://host:8786); "
                        "needs the 'dask' extra here and spicebar + ngspice on every worker")
    p.add_argument("--retry-failed", action="store_true", help="rerun points recorded as failed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--trust-netlist-cards", action="store_true",
                   help="allow the sweep file's raw netlist_cards: they reach ngspice as "
                        "written and can run any ngspice command (trusted code only)")


def add_plot_sweep_parser(kinds) -> None:
    p = kinds.add_parser("sweep", help="error against array size per model, and a heatmap")
    p.add_argument("sweep_dir", metavar="DIR", help="a folder written by `spicebar sweep`")
    p.add_argument("-o", "--out", required=True, metavar="FILE.png", help="figure file (.png)")
    p.add_argument("--metric", default="max_rel",
                   help="max_rel, mean_rel, rms_rel, max_lsb, rms_lsb, ... (default max_rel)")
    p.add_argument("--model", default="ideal", help="model of the heatmap (default ideal)")
    p.add_argument("--models", default=None,
                   help="comma-separated models of the size plot (default: all)")
    p.add_argument("--where", action="append", default=[], metavar="KEY=VALUE",
                   help="keep only the points with KEY == VALUE (repeatable; a cell matches its "
                        "kind, e.g. cell=1s1r; VALUE default: the points that do not set KEY)")
    p.add_argument("--facet", default=None, metavar="KEY",
                   help="one row of panels per value of KEY (a parameter that varies)")


def cmd_sweep(args) -> int:
    from ..sweeps.definition import load_sweep
    from ..sweeps.run import run_sweep
    sweep = load_sweep(args.sweep_file, trust_netlist_cards=args.trust_netlist_cards)
    if args.workers is not None and args.workers < 1:
        raise SpecError("--workers", f"is {args.workers}", "an integer >= 1")
    from .paths import resolve_out_dir
    out = Path(resolve_out_dir(args, str(Path("sweep_out") / Path(args.sweep_file).stem)))
    from .paths import out_folder
    from .paths import out_dir_flag
    out_folder(str(out), out_dir_flag(args))
    client = dask_client(args.scheduler) if args.scheduler else None
    executor = client.get_executor() if client is not None else None
    try:
        run = run_sweep(sweep, out, executor=executor, workers=args.workers,
                        retry_failed=args.retry_failed, progress=not args.no_progress)
    finally:
        if client is not None:
            client.close()
    from ..sweeps.table import format_summary, read_table
    print(format_summary(read_table(run.out_dir)))
    if run.keys and run.failed + run.lost >= len(run.keys):
        import sys
        print(f"spicebar: error: every point of the sweep failed; {_first_failure(run)}",
              file=sys.stderr)
        return 1
    return 0 if run.lost == 0 else 1


def _first_failure(run) -> str:
    """The first failed point's reason and message, in one line."""
    from ..sweeps.records import load_record
    for index, key in enumerate(run.keys):
        rec = load_record(run.out_dir, key)
        if rec is not None and rec.get("status") != "ok":
            message = (rec.get("message") or "").strip().splitlines()
            return (f"point {index}: {rec.get('reason', 'failed')}"
                    + (f": {message[0]}" if message else ""))
    return "the worker processes were lost (rerun the sweep)"


def cmd_plot_sweep(args) -> int:
    from ..plots.maps import save_figure
    from ..plots.sweep import plot_sweep
    from ..analysis.scoring import STATS
    from ..sweeps.table import TABLE_NPZ, read_table
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise SpecError("-o", f"{args.out!r} has suffix {out.suffix!r}", ".png")
    src = Path(args.sweep_dir)
    if not (src / TABLE_NPZ).is_file():
        raise SpecError("DIR", f"{str(src)!r} holds no {TABLE_NPZ}", "a folder written by "
                        "`spicebar sweep`")
    if args.metric not in STATS:
        raise SpecError("--metric", f"is {args.metric!r}", ", ".join(STATS))
    where = {}
    for item in args.where:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise SpecError("--where", f"is {item!r}", "KEY=VALUE, e.g. cell=passive or r_wire=1")
        where[key.strip()] = value.strip()
    table = read_table(src)
    models = [m.strip() for m in args.models.split(",")] if args.models else None
    known = set(table["model"].tolist())
    for m in (models or []) + [args.model]:
        if m not in known:
            raise SpecError("--model(s)", f"has {m!r}", ", ".join(sorted(known)))
    save_figure(plot_sweep(table, args.metric, args.model, models, where=where,
                           facet=args.facet), out)
    print(f"wrote {out}")
    return 0


#: ``spicebar plot KIND``: one entry per kind (another kind registers alongside).
PLOT_KINDS = {"sweep": (add_plot_sweep_parser, cmd_plot_sweep)}


def add_plot_parser(sub) -> None:
    p = sub.add_parser("plot", help="draw a figure from results on disk")
    kinds = p.add_subparsers(dest="plot_kind", required=True, metavar="KIND")
    for add, _ in PLOT_KINDS.values():
        add(kinds)


def cmd_plot(args) -> int:
    return PLOT_KINDS[args.plot_kind][1](args)


__all__ = ["add_sweep_parser", "add_plot_parser", "cmd_sweep", "cmd_plot", "PLOT_KINDS"]


def dask_client(address: str):
    """A Dask client of the scheduler at ``address`` (``--scheduler``), or a SpecError that
    says what is missing: dask itself, or a scheduler at that address. The caller closes it."""
    try:
        from distributed import Client
    except ImportError:
        raise SpecError("--scheduler", "needs dask.distributed",
                        "pip install 'spicebar[dask]'") from None
    try:
        return Client(address, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise SpecError("--scheduler", f"cannot reach {address!r} ({exc})",
                        "the address of a running Dask scheduler") from None
