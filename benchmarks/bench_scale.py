"""Scale benchmark: every engine and the peer badcrossbar on the same arrays, 32..2048.

    python benchmarks/bench_scale.py [--sizes 32,...,2048] [--direct-max 512]
        [--ngspice-max 512] [--ngspice-warm-max 512] [--peer-max 512] [--wide 256x1000]
        [--ngspice-batch]

Stock ngspice 46 runs up to 832x832 (``--ngspice-max 832``; about 5 minutes and 5 GB
there); spicebar's patched copy of Debian's libngspice 46 (``make setup``, see
docs/explanation/patched-ngspice.md) also runs 1024x1024 (``--ngspice-max 1024``: about
400 s of CPU and 8 GB; run one such benchmark at a time on a shared machine). The engine
refuses what its library or the memory cannot hold up front, and such rows show the
refusal. ``ngspice`` rows name the library in the notes (``patched``/``stock-46-bpo``).
``--ngspice-batch`` also runs ngspice on the ``--wide`` case (its single-analysis batch
path: one transient for every vector, :mod:`spicebar.netlist.batch`), and its note gives the
worker's own CPU time and the engine's memory estimate beside the measured peak.

Arrays: conductances log-uniform in [1 uS, 100 uS], 1 ohm word- and bit-line
segments, inputs uniform in [0, 0.2] V, the default topology (drivers left,
readout bottom), which is badcrossbar's too. Every measurement runs in a fresh
process (after a tiny warm-up solve, so imports and numba's cached kernels are
not timed) and reports wall time, CPU time and the process's peak memory.
Agreement: largest |I - I_ref| / max |I_ref| over the output currents, against
the direct LU where it ran, else the iterative solver (for ``ideal`` this is the
IR-drop error, not a disagreement). ngspice's peak memory is its child process's;
its CPU time is the caller's only. badcrossbar runs in its
own environment (``make peers`` or ``tools/setup_peers.sh``); without it the
column is skipped. Writes ``benchmarks/out/scale_time.png``.

Notes column: ``own A%/B%`` is spicebar's share of the ngspice engine's wall time
(everything but ngspice loading the netlist and solving: elaboration, netlist text,
files, read-back, waiting), A for a one-shot call (a fresh worker process starts),
B through an ``NgspiceSession`` whose worker already runs; ``e+r C%`` counts only
the emission (elaboration and netlist text) and the read-back, of the one-shot call. ``maps +X s``: building
the per-cell voltage and current maps of a many-vector result, which the line
solver defers to their first read (the outputs do not need them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import OUT, R_WIRE, growth_exponent, loglog_figure, own_share, passive_case

HERE = Path(__file__).resolve().parent
PEER_PY = HERE / ".venv-peers" / "bin" / "python"


def make_case(n: int, batch: int, path: Path, seed: int = 0) -> None:
    g, v = passive_case(n, batch, seed)
    np.savez(path, g=g, v=v, r=R_WIRE)


def worker(engine: str, case_path: str, out_path: str) -> None:
    """Child process: one engine on one case; prints a JSON line."""
    from spicebar import CrossbarSpec, simulate
    case = np.load(case_path)
    solver = {"direct": "direct", "iterative": "iterative"}.get(engine, "auto")
    kind = engine if engine in ("ideal", "ngspice") else "nodal"
    # warm-up, not timed: imports, ngspice's library, and every compiled kernel variant
    # loaded from numba's disk cache and run once on tiny arrays (so the thread pool is up
    # and the peak memory is the measured solve's, not a warm-up's)
    simulate(CrossbarSpec(np.full((2, 2), 1e-4), r_wl=1.0, r_bl=1.0), np.full(2, 0.1), kind,
             solver=solver)
    if engine == "iterative":
        from spicebar.engines.nodal._kernels import warm
        warm()
    t0, c0 = time.perf_counter(), time.process_time()
    spec = CrossbarSpec(case["g"], r_wl=float(case["r"]), r_bl=float(case["r"]))
    ir, elab = None, 0.0
    if kind == "ngspice":  # elaborated here only to time it apart; the same work either way
        from spicebar.circuit.elaboration import elaborate
        ir, elab = elaborate(spec), time.perf_counter() - t0
    kw = {"timeout_s": float(os.environ["BENCH_TIMEOUT"])} if kind == "ngspice" else {}
    res = simulate(spec, case["v"], kind, solver=solver, ir=ir, **kw)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    np.save(out_path, res.currents)
    info = {"wall": wall, "cpu": cpu, "iterations": res.info.get("iterations")}
    if res.deferred:  # the per-cell maps are built on first read: time that separately
        t0 = time.perf_counter()
        for name in res.deferred:
            getattr(res, name)
        info["maps_wall"] = time.perf_counter() - t0
    if engine == "ngspice":
        from spicebar.engines.ngspice.patched import kind_of
        info["library"] = kind_of(res.info.get("ngspice_library"))
        info["own_pct"] = own_share(res, wall)
        t = res.info["timings"]
        info["emit_read_pct"] = 100 * (elab + t["emit_s"] + t["read_s"]) / wall
        info["worker_cpu"] = _children_cpu()
        info["estimate_mb"] = ngspice_estimate(*case["g"].shape, case["v"].shape[0]) / 2 ** 20
        if case["g"].shape[0] <= int(os.environ.get("BENCH_NGSPICE_WARM_MAX", "512")):
            info["own_pct_warm"] = warm_ngspice_share(spec, case["v"])
    info["peak_mb"] = max(resource.getrusage(who).ru_maxrss for who in
                          (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
    print(json.dumps(info))


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children: the ngspice worker."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def ngspice_estimate(rows: int, cols: int, batch: int) -> float:
    """The engine's memory estimate for this run, bytes (what its guard checks up front)."""
    from spicebar.engines.memory import BYTES_PER_CELL_PER_VECTOR
    from spicebar.engines.ngspice.capacity import ngspice_bytes
    return ngspice_bytes(rows, cols) + BYTES_PER_CELL_PER_VECTOR * rows * cols * batch


def warm_ngspice_share(spec, v) -> float:
    """:func:`own_share` of the same run through a session whose worker already started."""
    from spicebar import NgspiceSession, simulate
    with NgspiceSession() as session:
        simulate(spec, v, "ngspice", session=session)
        t0 = time.perf_counter()
        res = simulate(spec, v, "ngspice", session=session)
        return own_share(res, time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="32,64,128,256,512,1024,2048")
    ap.add_argument("--direct-max", type=int, default=512)
    ap.add_argument("--ngspice-max", type=int, default=512)
    ap.add_argument("--ngspice-warm-max", type=int, default=512,
                    help="largest n whose ngspice share is also measured through a session "
                    "(two more ngspice runs)")
    ap.add_argument("--peer-max", type=int, default=512)
    ap.add_argument("--ideal-max", type=int, default=2048)
    ap.add_argument("--wide", default="256x1000", help="extra case NxBATCH for the iterative "
                    "solver ('' to skip)")
    ap.add_argument("--ngspice-batch", action="store_true", help="also run ngspice on the "
                    "--wide case (one transient for the whole batch)")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--worker", nargs=3, metavar=("ENGINE", "CASE", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    limits = {"ideal": args.ideal_max, "iterative": max(sizes), "direct": args.direct_max,
              "ngspice": args.ngspice_max, "badcrossbar": args.peer_max}
    cases = [(n, 1) for n in sizes]
    if args.wide:
        n, b = (int(x) for x in args.wide.split("x"))
        cases.append((n, b))
        limits["iterative"] = max(limits["iterative"], n)   # the wide case's reference
    have_peer = PEER_PY.exists()
    env = dict(os.environ, PYTHONPATH=str(HERE.parent),
               BENCH_NGSPICE_WARM_MAX=str(args.ngspice_warm_max), BENCH_TIMEOUT=str(args.timeout))
    rows = []
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores; other jobs inflate wall "
          "times, CPU time is the steadier figure)")
    head = (f"{'n':>5} {'batch':>5} {'engine':>11} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} "
            f"{'vs ref':>9} {'iters':>5} {'note':>21}")
    print(head)
    print("-" * len(head))
    with tempfile.TemporaryDirectory() as tmp:
        for n, batch in cases:
            case = Path(tmp) / f"case_{n}_{batch}.npz"
            make_case(n, batch, case)
            results = {}
            for engine in ("ideal", "direct", "iterative", "ngspice", "badcrossbar"):
                skip_batch = ("badcrossbar", "direct") + (() if args.ngspice_batch
                                                          else ("ngspice",))
                if n > limits[engine] or (batch > 1 and engine in skip_batch):
                    continue
                out = Path(tmp) / f"{engine}_{n}_{batch}.npy"
                if engine == "badcrossbar":
                    if not have_peer:
                        continue
                    cmd = [str(PEER_PY), str(HERE / "peer_badcrossbar.py"), str(case), str(out)]
                else:
                    cmd = [sys.executable, str(HERE / "bench_scale.py"), "--worker", engine,
                           str(case), str(out)]
                r = subprocess_env_run(cmd, args.timeout, env)
                r = r or {}
                r["currents"] = np.load(out) if out.exists() else None
                results[engine] = r
            ref = next((results[e]["currents"] for e in ("direct", "iterative")
                        if e in results and results[e].get("currents") is not None), None)
            for engine, r in results.items():
                cur = r.get("currents")
                agree = (float(np.abs(cur - ref).max() / np.abs(ref).max())
                         if cur is not None and ref is not None else float("nan"))
                note = r.get("error", "")
                if "own_pct" in r:
                    warm = f"/{r['own_pct_warm']:.0f}%" if "own_pct_warm" in r else ""
                    note = (f"own {r['own_pct']:.0f}%{warm}, e+r {r['emit_read_pct']:.0f}%, "
                            f"{r.get('library', '?')}, worker cpu {r['worker_cpu']:.0f} s, "
                            f"estimate {r['estimate_mb']:.0f} MB")
                if "maps_wall" in r and batch > 1:
                    note = f"maps +{r['maps_wall']:.1f}s"
                rows.append(dict(n=n, batch=batch, engine=engine, wall=r.get("wall", np.nan),
                                 cpu=r.get("cpu", np.nan), peak=r.get("peak_mb", np.nan),
                                 agree=agree, iters=r.get("iterations"), note=note))
                it = "" if r.get("iterations") is None else str(r["iterations"])
                print(f"{n:>5} {batch:>5} {engine:>11} {rows[-1]['wall']:>8.3f} "
                      f"{rows[-1]['cpu']:>8.3f} {rows[-1]['peak']:>8.0f} {agree:>9.1e} "
                      f"{it:>5} {note:>21}", flush=True)
    single = [r for r in rows if r["batch"] == 1]
    engines = sorted({r["engine"] for r in single}, key=lambda e: list(limits).index(e))
    print("growth exponent k (time ~ cells^k, fit over the three largest sizes; CPU time, "
          "wall time for ngspice, whose work is in its child process):")
    for e in engines:
        rs = [r for r in single if r["engine"] == e]
        t = [r["wall" if e == "ngspice" else "cpu"] for r in rs]
        print(f"  {e:>11}: k = {growth_exponent([r['n'] ** 2 for r in rs], t):.2f}")
    plot(single, engines)


def subprocess_env_run(cmd, timeout, env):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout {timeout:g}s"}
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["?"])[-1][:60]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def plot(rows, engines) -> None:
    labels = {"ideal": "ideal (V @ G)", "direct": "nodal, direct LU (SuperLU)",
              "iterative": "nodal, line solver (CG)", "ngspice": "ngspice (KLU, whole engine)",
              "badcrossbar": "badcrossbar 1.1 (peer)"}
    series = {labels[e]: ([r["n"] ** 2 for r in rows if r["engine"] == e],
                          [r["wall"] for r in rows if r["engine"] == e]) for e in engines}
    path = loglog_figure(series, f"passive crossbar, {R_WIRE:g} ohm wires: time against size "
                         "(one input vector)", OUT / "scale_time.png")
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
