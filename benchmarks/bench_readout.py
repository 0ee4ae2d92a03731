"""The readout transient at scale: the nodal engine beside ngspice, whole process each.

    python benchmarks/bench_readout.py [--sizes 16,32,64] [--nodal-sizes 128,256]
                                       [--passive-sizes 256,1024] [--windows 4]
                                       [--c-wire 2e-15] [--stage-solver auto|lu|cg]
                                       [--timeout 3600] [--transient-tol 1e-6]
                                       [--keep DIR] [--docs]

Every run is a fresh ``python`` process (start-up, imports, elaboration, the transient,
sampling), timed from outside, so the two engines are compared as a user meets them.
The case: n x n array, conductances log-uniform in [1 uS, 10 uS], 1 ohm segments, wire
capacitance ``--c-wire`` per segment, an integrator with the macro op-amp (A0 = 1e5,
1 GHz, rails +-1 V) on every column, ``c_int`` sized for 0.6 V at full input, a reset of
``r C = t_reset / 20`` (what a designer picks: nothing of a window survives), 8-bit
amplitude encoding, 100 ns windows, one window for ``--sizes`` (both engines) and
``--windows`` windows for ``--nodal-sizes`` (the nodal engine; ngspice there takes
10-60 minutes, see the README; from 128x128 the stages are solved by the line solver
without a factorisation, column ``stages``), and one window without wire capacitance for
``--passive-sizes`` (the nodal engine; ngspice cannot hold 1024x1024). Prints wall and
CPU times, time points, the 1-minute load average when each run ended, the agreement at
every sample (fraction of output full scale) and the growth exponents, and writes
``benchmarks/out/readout_scale.png`` (``--docs``: also ``docs/``). ``--stage-solver`` forces
how the nodal engine solves the stages of an array with wire capacitance (default: the cost
model chooses); ``--timeout`` is each run's time limit, s (an ngspice run past it is
reported as such, with how far it got, and the benchmark goes on). ``--keep DIR`` keeps
every run's result there and reuses an ngspice result already there for the same case (its
file name holds size, windows and wire capacitance): ngspice's 256x256 transient takes
about 20 minutes, the nodal engine's settings change more often. The children run with
Python's bytecode cache on (``PYTHONDONTWRITEBYTECODE`` dropped, the package compiled
first), as an installed spicebar runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import OUT, growth_exponent, loglog_figure

HERE = Path(__file__).resolve().parent
#: The children's environment: with the bytecode cache (a user's installed spicebar has it).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def compile_package() -> None:
    """Write spicebar's bytecode cache once, so no timed child compiles it."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "spicebar")],
                   check=True, env=CHILD_ENV)


def load() -> float:
    """The 1-minute load average now."""
    return os.getloadavg()[0]


def case(n: int, windows: int, c_wire: float, seed: int = 0):
    from spicebar import CrossbarSpec
    from spicebar.circuit.encoding import EncodingSpec
    from spicebar.circuit.readout import IntegratorSpec, OpAmpSpec
    rng = np.random.default_rng(seed)
    g = np.exp(rng.uniform(np.log(1e-6), np.log(1e-5), (n, n)))
    v = rng.uniform(0, 0.2, (windows, n))
    c_int = 0.2 * g.sum(axis=0).max() * 100e-9 / 0.6
    op = OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, v_lo=-1.0, v_hi=1.0)
    ro = IntegratorSpec(c_int_f=c_int, t_int_s=100e-9, opamp=op, r_reset_ohm=0.1e-9 / c_int,
                        c_wl_f=c_wire, c_bl_f=c_wire)
    return CrossbarSpec(g, r_wl=1.0, r_bl=1.0, readout=ro), v, EncodingSpec("amplitude", bits=8,
                                                                             v_read=0.2)


def run_one(n: int, windows: int, c_wire: float, engine: str, out: str,
            stage_solver: str = "auto", timeout_s: float = 3600.0,
            transient_tol: float | None = None) -> None:
    """The child process: one simulation, its result saved to ``out``."""
    from spicebar.engines.transient import nodal
    from spicebar.engines.transient.run import simulate_readout
    nodal.STAGE_SOLVER = stage_solver
    spec, v, enc = case(n, windows, c_wire)
    r = simulate_readout(spec, v, enc, engine, timeout_s=timeout_s,
                         transient_tol=transient_tol if engine == "nodal" else None)
    r.save(out, maps=False)  # as `spicebar simulate` writes it (no --maps)


def _cpu() -> float:
    """CPU seconds (user + system) of every finished child process and their children."""
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _peak_mb() -> float:
    """Largest resident size of any finished child process (and its children), MB."""
    import resource
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def stage_solver(result) -> str:
    """``lu``/``cg`` (wire capacitance: how the stages were solved), else ``-``."""
    return result.info.get("stage_solver", "-")


def timed(n: int, windows: int, c_wire: float, engine: str, folder: Path,
          stage_solver: str = "auto", timeout_s: float = 3600.0,
          transient_tol: float | None = None):
    """``(wall s, cpu s, result)`` of one whole-process run (ngspice's worker included).
    The result's ``info["peak_mb"]``: the largest resident size of the runs so far (each
    size runs after the smaller ones, so it is this run's)."""
    out = folder / f"{engine}_{n}_{windows}_{c_wire:g}.npz"
    if engine == "ngspice" and out.exists():   # (--keep: a saved ngspice run of this case)
        from spicebar.engines.transient.run import TransientResult
        result = TransientResult.load(out)
        result.info["peak_mb"] = float("nan")
        wall = cpu = float("nan")
        return wall, cpu, result
    t0, c0 = time.perf_counter(), _cpu()
    p = subprocess.run([sys.executable, str(HERE / "bench_readout.py"), "--one",
                        json.dumps([n, windows, c_wire, engine, str(out), stage_solver,
                                    timeout_s, transient_tol])],
                       capture_output=True, text=True, env=CHILD_ENV)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or ["(no message)"])[-1][:400]
        raise RuntimeError(f"{engine} {n}x{n} failed after {wall:.0f} s wall, {cpu:.0f} s cpu: "
                           f"{last}")
    from spicebar.engines.transient.run import TransientResult
    result = TransientResult.load(out)
    result.info["peak_mb"] = _peak_mb()
    return wall, cpu, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="16,32,64")
    ap.add_argument("--nodal-sizes", default="128,256")
    ap.add_argument("--passive-sizes", default="256,1024")
    ap.add_argument("--windows", type=int, default=4)
    ap.add_argument("--c-wire", type=float, default=2e-15)
    ap.add_argument("--stage-solver", choices=("auto", "lu", "cg"), default="auto")
    ap.add_argument("--timeout", type=float, default=3600.0)
    ap.add_argument("--transient-tol", type=float, default=None, metavar="FS",
                    help="the nodal engine's accuracy goal (default: the engine's, 1e-6)")
    ap.add_argument("--keep", default=None, metavar="DIR",
                    help="keep the results in DIR; reuse an ngspice result found there")
    ap.add_argument("--docs", action="store_true")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        run_one(*json.loads(args.one))
        return
    from spicebar.engines.transient.run import compare_readouts
    sizes = [int(s) for s in args.sizes.split(",") if s]
    big = [int(s) for s in args.nodal_sizes.split(",") if s]
    passive = [int(s) for s in args.passive_sizes.split(",") if s]
    compile_package()
    print(f"integrator + macro op-amp on every column, c_wire = {args.c_wire:g} F; whole process; "
          f"nodal accuracy goal {args.transient_tol or 1e-6:g} of full scale")
    print("wall = elapsed seconds, cpu = user + system seconds of the whole process tree "
          "(on a shared machine the fair measure)")
    print(f"{'n':>5} {'win':>4} {'ngspice wall':>13} {'cpu':>7} {'points':>7} "
          f"{'nodal wall':>11} {'cpu':>6} {'points':>7} {'speed-up wall':>14} {'cpu':>6} "
          f"{'samples/FS':>11} {'waves/FS':>9} {'load':>5} {'stages':>6} {'peak MB':>8}")
    print("stages: how the nodal engine solved the stages of the array with wire capacitance "
          "(lu: sparse LU per step length; cg: the line solver, no factorisation); peak MB: the "
          "largest process of the run so far")
    series = {"ngspice, 1 window": ([], []), "nodal, 1 window": ([], []),
              f"nodal, {args.windows} windows": ([], []),
              "nodal, 1 window, no wire C": ([], [])}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            try:
                w_ng, c_ng, ng = timed(n, 1, args.c_wire, "ngspice", folder,
                                       timeout_s=args.timeout)
            except RuntimeError as exc:   # past the time limit: say how far it got, go on
                print(f"{n:>5} {1:>4}  {exc} (load {load():.1f})", flush=True)
                continue
            w_nd, c_nd, nd = timed(n, 1, args.c_wire, "nodal", folder, args.stage_solver,
                                   transient_tol=args.transient_tol)
            spec = case(n, 1, args.c_wire)[0]
            cmp = compare_readouts(nd, ng, spec)
            print(f"{n:>5} {1:>4} {w_ng:>13.2f} {c_ng:>7.2f} {ng.time.size:>7} {w_nd:>11.2f} "
                  f"{c_nd:>6.2f} {nd.time.size:>7} {w_ng / w_nd:>13.1f}x {c_ng / c_nd:>5.1f}x "
                  f"{cmp['sample_deviation_fs']:>11.2e} {cmp['waveform_deviation_fs']:>9.2e} "
                  f"{load():>5.1f} {stage_solver(nd):>6} {nd.info['peak_mb']:>8.0f}", flush=True)
            for key, c in (("ngspice, 1 window", c_ng), ("nodal, 1 window", c_nd)):
                if not np.isfinite(c):   # (a reused ngspice result: not timed here)
                    continue
                series[key][0].append(n * n)
                series[key][1].append(c)
        runs = [(n, args.windows, args.c_wire, f"nodal, {args.windows} windows") for n in big]
        runs += [(n, 1, 0.0, "nodal, 1 window, no wire C") for n in passive]
        for n, windows, c_wire, key in runs:
            w_nd, c_nd, nd = timed(n, windows, c_wire, "nodal", folder, args.stage_solver,
                                   transient_tol=args.transient_tol)
            print(f"{n:>5} {windows:>4} {'-':>13} {'-':>7} {'-':>7} {w_nd:>11.2f} "
                  f"{c_nd:>6.2f} {nd.time.size:>7} {'-':>14} {'-':>6} {'-':>11} {'-':>9} "
                  f"{load():>5.1f} {stage_solver(nd):>6} {nd.info['peak_mb']:>8.0f}"
                  + ("   (no wire C)" if not c_wire else ""), flush=True)
            series[key][0].append(n * n)
            series[key][1].append(c_nd)
    for key, (cells, times) in series.items():
        if len(cells) >= 2:
            print(f"growth exponent ({key}): cpu time ~ cells^{growth_exponent(cells, times):.2f}")
    path = loglog_figure(series, "readout transient: nodal engine vs ngspice (whole process)",
                         OUT / "readout_scale.png", ylabel="cpu time (user + system), s")
    print(f"wrote {path}")
    if args.docs:
        import shutil
        shutil.copy(path, HERE.parent / "docs" / "readout_scale.png")
        print(f"wrote {HERE.parent / 'docs' / 'readout_scale.png'}")


if __name__ == "__main__":
    main()
