"""Run the 48-point IR-drop sweep from scratch, time it and summarise it.

    python benchmarks/bench_sweep.py [--sweep benchmarks/sweep_ir_drop.toml] [--workers N]

Prints the wall time, the CPU time spent in the points (worker processes and
their ngspice children) and their ratio (about the number of busy cores), then
how many points ran at once, the median max relative error per model, size and wire resistance, and writes
``benchmarks/out/sweep_ir_drop.png`` (``--docs`` also copies it to ``docs/``).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from spicebar.plots.maps import save_figure
from spicebar.plots.sweep import plot_sweep
from spicebar.sweeps.definition import load_sweep
from spicebar.sweeps.run import run_sweep
from spicebar.sweeps.table import read_table, select

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", default=str(HERE / "sweep_ir_drop.toml"))
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--docs", action="store_true", help="copy the figure to docs/")
    args = ap.parse_args()
    sweep = load_sweep(args.sweep)
    out = HERE / "out" / Path(args.sweep).stem
    shutil.rmtree(out, ignore_errors=True)  # from scratch: no reused points
    run = run_sweep(sweep, out, workers=args.workers, progress=False)
    pids = {(r["host"], r["pid"]) for r in map(json.loads, (p.read_text() for p in
                                                         (out / "points").glob("*.json")))}
    print(f"\n{len(run.keys)} points, {run.failed} failed, wall {run.elapsed_s:.1f} s; "
          f"{len(pids)} worker processes; points running at once on average "
          f"{run.point_s / run.elapsed_s:.2f}; CPU in points {run.cpu_s:.1f} s "
          f"({run.cpu_s / run.elapsed_s:.2f} cores busy; other jobs on the machine lower it)")
    table = read_table(out)
    t_all = select(table, status="ok")
    cells = list(dict.fromkeys(t_all["cell"])) if "cell" in t_all else [None]
    for cell in cells:
        t = t_all if cell is None else select(t_all, cell=cell)
        sizes = np.unique(t["size"])
        print(f"\n{'' if cell is None else f'cell {cell}: '}median max relative error over seeds, "
              f"against {', '.join(np.unique(t['reference']))}")
        print(f"{'model':<12} {'r_wire':>6} " + " ".join(f"{'N=' + str(int(n)):>10}" for n in sizes))
        for m in dict.fromkeys(t["model"]):
            for r in np.unique(t["r_wire"]):
                row = [np.median(select(t, model=m, r_wire=r, size=n)["max_rel"]) for n in sizes]
                print(f"{m:<12} {r:>6g} " + " ".join(f"{x:>10.2e}" for x in row))
        suffix = "" if cell is None or cell == cells[0] else f"_{len(cells) and cells.index(cell)}"
        part = table if cell is None else select(table, cell=cell)
        png = save_figure(plot_sweep(part), HERE / "out" / f"{Path(args.sweep).stem}{suffix}.png")
        print(f"plot{'' if cell is None else f' ({cell})'}: {png}")
        if args.docs:
            shutil.copy(png, HERE.parent / "docs" / png.name)
            print(f"copied to docs/{png.name}")


if __name__ == "__main__":
    main()
