"""Time the readout transient: an n x n array with an integrator on every column.

    python benchmarks/bench_readout.py [--sizes 16,32,64] [--opamps ideal,macro]

Arrays: conductances log-uniform in [1 uS, 10 uS], 1 ohm segments, one input vector
uniform in [0, 0.2] V (8-bit amplitude encoding), C_int = 2 pF, one 100 ns window,
macro op-amp A0 = 1e5, 1 GHz, rails +-2 V. Prints wall time, ngspice's own run time,
time points and the ngspice-vs-nodal difference of the sampled outputs, and writes
benchmarks/out/readout_time.png and benchmarks/out/readout_waveforms.png (64x64).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from common import OUT, R_WIRE, loglog_figure, passive_case
from spicebar import CrossbarSpec
from spicebar.circuit.encoding import EncodingSpec
from spicebar.circuit.readout import IntegratorSpec, OpAmpSpec
from spicebar.engines.transient.run import simulate_readout

def case(n: int, opamp: str, seed: int = 0):
    g, v = passive_case(n, 1, seed, g_hi=1e-5)
    op = OpAmpSpec("ideal") if opamp == "ideal" else OpAmpSpec("macro", a0=1e5, gbw_hz=1e9,
                                                               v_lo=-2.0, v_hi=2.0)
    ro = IntegratorSpec(c_int_f=2e-12, t_int_s=100e-9, opamp=op, t_settle_s=2e-9)
    return CrossbarSpec(g, r_wl=R_WIRE, r_bl=R_WIRE, readout=ro), v


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="16,32,64")
    ap.add_argument("--opamps", default="ideal,macro")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    opamps = args.opamps.split(",")
    enc = EncodingSpec("amplitude", bits=8, v_read=0.2)
    print(f"{'n':>4} {'opamp':>6} {'wall s':>8} {'ngspice s':>10} {'points':>7} "
          f"{'nodal s':>8} {'max|ng-nodal|/FS':>17}")
    times = {op: [] for op in opamps}
    keep = None
    for n in sizes:
        for op in opamps:
            spec, v = case(n, op)
            t0 = time.perf_counter()
            r = simulate_readout(spec, v, enc, "ngspice")
            wall = time.perf_counter() - t0
            t0 = time.perf_counter()
            nod = simulate_readout(spec, v, enc, "nodal")
            t_nod = time.perf_counter() - t0
            diff = np.abs(r.samples - nod.samples).max() / np.abs(nod.samples).max()
            print(f"{n:>4} {op:>6} {wall:>8.2f} {r.info['timings']['run_s']:>10.2f} "
                  f"{r.time.size:>7} {t_nod:>8.3f} {diff:>17.2e}")
            times[op].append(wall)
            if n == max(sizes) and op == opamps[-1]:
                keep = r
    from spicebar.plots.maps import save_figure
    from spicebar.plots.transient import plot_transient
    cells = np.asarray(sizes) ** 2
    loglog_figure({f"ngspice, {op} op-amp": (cells, times[op]) for op in opamps},
                  "readout transient: integrator on every column, 100 ns",
                  OUT / "readout_time.png")
    save_figure(plot_transient(keep), OUT / "readout_waveforms.png")
    print(f"wrote {OUT / 'readout_time.png'} and {OUT / 'readout_waveforms.png'}")


if __name__ == "__main__":
    main()
