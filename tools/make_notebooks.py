"""Write the notebooks in notebooks/ from the cell sources below, optionally executed.

    python tools/make_notebooks.py            # write them without outputs
    python tools/make_notebooks.py --execute  # run each from a clean kernel, keep outputs
    python tools/make_notebooks.py --execute 04_integrator_transients.ipynb   # only this one

Edit the sources here, not the .ipynb files, then regenerate with `make notebooks` (which
executes them) and commit the .ipynb files with their outputs. The test suite runs every
notebook from a clean kernel and compares its numbers with the stored outputs
(tests/test_notebooks.py), so a notebook stored before a change that moved a number fails.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

QUICKSTART = [
    ("md", """# Quickstart: one crossbar, three engines

Generate a small RRAM crossbar, write its SPICE netlist, simulate it with the ideal
model `V @ G`, the exact nodal solver and ngspice, and compare them."""),
    ("code", """import numpy as np
import spicebar as sb
from spicebar.netlist.writer import format_netlist
from spicebar.plots.maps import plot_column_error, plot_voltage_maps

rng = np.random.default_rng(0)
G = np.exp(rng.uniform(np.log(2e-6), np.log(1e-4), (16, 16)))  # siemens, (rows, cols)
V = rng.uniform(0.0, 0.2, (3, 16))                             # volts, (batch, rows)
spec = sb.CrossbarSpec(G, r_wl=2.0, r_bl=2.0)                  # ohms per wire segment
print(spec.describe())"""),
    ("md", "The netlist ngspice runs (the first lines; every element is named by its indices):"),
    ("code", """text = format_netlist(sb.elaborate(spec), V[0])
print("\\n".join(text.splitlines()[:12]), "\\n...", len(text.splitlines()), "lines")"""),
    ("code", """results = sb.simulate_all(spec, V)            # ideal, nodal, ngspice
report = sb.compare(results, sb.full_scale_current(spec, V))
print(sb.format_table(report))"""),
    ("md", """`nodal` and `ngspice` agree to about 1e-13: both solve the same circuit. Both differ
from `ideal` by the IR drop along the wires. Where is the voltage lost?"""),
    ("code", "plot_voltage_maps(results['ngspice']);"),
    ("code", "plot_column_error(report);"),
]

IR_DROP = [
    ("md", """# IR drop and sneak paths against array size

How far is `V @ G` from the real circuit as the array grows, for three wire
resistances? The exact nodal solver gives the answer in milliseconds for these
sizes; ngspice confirms one size."""),
    ("code", """import numpy as np
import matplotlib.pyplot as plt
import spicebar as sb

sizes = [8, 16, 32, 64]
r_wires = [0.5, 1.0, 2.0]  # ohm per segment

def case(n, r, seed=0):
    rng = np.random.default_rng(seed)
    G = np.exp(rng.uniform(np.log(2e-6), np.log(1e-4), (n, n)))
    V = rng.uniform(0.0, 0.2, (4, n))
    return sb.CrossbarSpec(G, r_wl=r, r_bl=r), V

err = {}
for r in r_wires:
    for n in sizes:
        spec, V = case(n, r)
        exact = sb.simulate(spec, V, "nodal").currents
        ideal = V @ spec.conductances
        err[r, n] = np.max(np.abs(ideal - exact) / np.abs(exact))
for r in r_wires:
    print(f"r = {r} ohm: " + ", ".join(f"N={n}: {err[r, n]:.2e}" for n in sizes))"""),
    ("code", """fig, ax = plt.subplots(figsize=(6, 4.2))
for r in r_wires:
    ax.loglog(sizes, [err[r, n] for n in sizes], "o-", label=f"{r} ohm per segment")
ax.set_xscale("log", base=2); ax.set_xticks(sizes, [str(n) for n in sizes])
ax.set_xlabel("array size N (N x N)"); ax.set_ylabel("max relative error of V @ G")
ax.set_title("IR-drop error of the ideal model"); ax.grid(True, which="both", alpha=0.3)
ax.legend();"""),
    ("md", """The error grows about as `N^2` (each cell's current crosses up to `2N` segments,
and the current on a line grows with `N`) and linearly in the wire resistance
while it is small. One size checked against ngspice:"""),
    ("code", """spec, V = case(32, 2.0)
res = sb.simulate_all(spec, V, engines=("ideal", "nodal", "ngspice"))
print(sb.format_table(sb.compare(res, sb.full_scale_current(spec, V))))"""),
    ("md", """## Sneak paths

Now leave some rows undriven (floating) and put a selector in series with each
cell. The column current splits into the ideal part, the IR-drop part, the part
due to the cell's I-V and the sneak part through cells whose row is not driven
(`spicebar.decompose`; the terms add up to the readout current exactly)."""),
    ("code", """def sneak_share(n, cell, seed=0):
    rng = np.random.default_rng(seed)
    G = np.exp(rng.uniform(np.log(2e-6), np.log(1e-4), (n, n)))
    V = rng.uniform(0.1, 0.2, (1, n))
    floating = tuple(range(0, n, 4))                   # every fourth row undriven
    op = sb.VmmOperation(floating_rows=floating)
    spec = sb.CrossbarSpec(G, r_wl=1.0, r_bl=1.0, cell=cell)
    res = sb.simulate(spec, V, "nodal", operation=op)
    d = sb.decompose(spec, res, op)
    return np.abs(d.sneak).max() / np.abs(d.ideal).max()

cells = {"passive": sb.PassiveCell(),
         "1S1R, K=1000": sb.SelectorCell(nonlinearity=1000, v_read_volt=0.2, i_read_a=2e-5)}
shares = {name: [sneak_share(n, c) for n in sizes] for name, c in cells.items()}
for name, row in shares.items():
    print(f"{name:>14}: " + ", ".join(f"N={n}: {x:.2e}" for n, x in zip(sizes, row)))"""),
    ("code", """fig, ax = plt.subplots(figsize=(6, 4.2))
for name, row in shares.items():
    ax.loglog(sizes, row, "o-", label=name)
ax.set_xscale("log", base=2); ax.set_xticks(sizes, [str(n) for n in sizes])
ax.set_xlabel("array size N (N x N)"); ax.set_ylabel("max |sneak current| / max ideal current")
ax.set_title("sneak paths through floating rows"); ax.grid(True, which="both", alpha=0.3)
ax.legend();"""),
    ("md", """A selector that passes little current at the small voltages across the floating
rows' cells cuts the sneak current by orders of magnitude; the passive array has no
such defence."""),
]

INTEGRATOR = [
    ("md", """# Integrator transients

Put a capacitor integrator on every bit line, drive the word lines with pulses,
and watch the outputs ramp in ngspice. The end-of-window value is sampled and
digitised. The nodal engine integrates the same circuit, the op-amp macromodel of
`models/opamp.lib` included, and gives the same samples."""),
    ("code", """import numpy as np
import spicebar as sb
from spicebar.circuit.converters import ADCSpec
from spicebar.circuit.encoding import EncodingSpec
from spicebar.plots.transient import plot_end_values, plot_transient
from spicebar.circuit.readout import IntegratorSpec, OpAmpSpec
from spicebar.engines.transient.run import error_budget, simulate_readout

rng = np.random.default_rng(3)
G = np.exp(rng.uniform(np.log(2e-6), np.log(1e-4), (8, 6)))
V = rng.uniform(0.0, 0.2, (1, 8))
op = OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, v_lo=-1.2, v_hi=1.2)
ro = IntegratorSpec(c_int_f=2e-12, t_int_s=50e-9, opamp=op, t_settle_s=2e-9,
                    adc=ADCSpec(8, 0.0, 1.0))
spec = sb.CrossbarSpec(G, r_wl=2.0, r_bl=2.0, readout=ro)
r = simulate_readout(spec, V, EncodingSpec("amplitude", bits=6), engine="ngspice")
print(r.vout.shape[0], "columns; codes:", r.codes)   # time points: ngspice's own steps"""),
    ("code", "plot_transient(r);"),
    ("md", """Each output ramps down (an inverting integrator) while the inputs are on; the
reset switch discharges the capacitor before the window, and the dot marks the
sampling instant. This op-amp has a 1 GHz gain-bandwidth, so its virtual ground lags
the ramp by about `(dVout/dt) / (2 pi GBW)`, a millivolt or so against 0.1-0.2 V
inputs, which takes a little off every column current: a circuit-level effect that no
`V @ G` model shows. The nodal engine models the same macromodel (gain, pole, rails), so
its column currents from the integrated charge agree with ngspice's to about 1e-5:"""),
    ("code", """n = simulate_readout(spec, V, EncodingSpec("amplitude", bits=6), engine="nodal")
print("column current from charge, ngspice:", np.round(r.currents[0] * 1e6, 4), "uA")
print("column current from charge, nodal:  ", np.round(n.currents[0] * 1e6, 4), "uA")
print("error budget:", {k: f"{v:.2e}" for k, v in error_budget(r, spec).items()})"""),
    ("code", "plot_end_values(r);"),
]
VALIDATE = [
    ("md", """# Validating an idealised model

You have a fast model of the crossbar and want to know where it breaks. A model is
any function `model(G, V, spec) -> I` (`(rows, cols)` S, `(batch, rows)` V,
`(batch, cols)` A). spicebar scores it against ngspice: max, mean and RMS relative
error and the error in output LSBs of an ADC spanning the full-scale current."""),
    ("code", """import numpy as np
import spicebar as sb
from spicebar.analysis.scoring import score_models, format_scores

def lumped(G, V, spec):
    \"\"\"A crude model of our own: every cell loses the drop of an average line.\"\"\"
    rows, cols = G.shape
    i_ideal = V @ G
    r_line = spec.r_wl * cols / 2 + spec.r_bl * rows / 2
    g_mean = G.mean()
    return i_ideal / (1.0 + r_line * g_mean * max(rows, cols) / 2)

rng = np.random.default_rng(1)
G = np.exp(rng.uniform(np.log(2e-6), np.log(1e-4), (32, 32)))
V = rng.uniform(0.0, 0.2, (4, 32))
spec = sb.CrossbarSpec(G, r_wl=1.0, r_bl=1.0)
scores = score_models(["ideal", "first_order", lumped, "nodal"], spec, V, reference="ngspice")
print(format_scores(scores, "32x32, 1 ohm segments, scored against ngspice, 8-bit ADC"))"""),
    ("md", """`first_order` is the first-order IR-drop correction: wire drops computed from the
ideal cell currents (see `spicebar.analysis.models.first_order`). Its error is second order
in `r G N^2`, so it wins by orders of magnitude on small arrays and thin
parasitics, and loses its edge as `r G N^2` approaches 1.

Now a small sweep over size and wire resistance. Any `concurrent.futures`
executor runs the points; here threads (each ngspice run is its own process).
The results folder is content-addressed: running the cell again reuses every
finished point."""),
    ("code", """import tomllib
from concurrent.futures import ThreadPoolExecutor
from spicebar.sweeps.definition import parse_sweep
from spicebar.sweeps.run import run_sweep
from spicebar.sweeps.table import read_table

sweep = parse_sweep(tomllib.loads('''
[sweep]
models = ["ideal", "first_order", "nodal"]
reference = "ngspice"
[fixed]
batch = 2
[grid]
size = [8, 16, 32]
r_wire = [0.5, 2.0]
'''))
with ThreadPoolExecutor(2) as pool:
    run = run_sweep(sweep, "validate_out", executor=pool, progress=False)
table = read_table(run.out_dir)"""),
    ("code", """from spicebar.plots.sweep import plot_sweep
plot_sweep(table, metric="max_lsb");"""),
    ("md", """Read the left panel as: below 0.5 LSB a model is as good as the ADC can tell;
`nodal` against ngspice sits at rounding level, `first_order` stays below an LSB
far longer than `ideal`."""),
]


DEVICES = [
    ("md", """# Your own devices

A cell can be your device: a Verilog-A model (compiled once by `openvaf-r` into an OSDI
library that ngspice loads) or a SPICE `.subckt`. ngspice runs it as written; the nodal
engine follows it through a table it measures in ngspice (cached), and says how well.
The example devices are in `models/devices/`, equations and sources inside."""),
    ("code", """import numpy as np
import spicebar as sb
from spicebar.circuit.devices import DeviceCell
from spicebar.circuit.iv_models import MODELS_DIR

DEV = MODELS_DIR / "devices"
rng = np.random.default_rng(5)
G = np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), (16, 16)))   # siemens
V = rng.uniform(0.0, 0.5, (2, 16))                               # volts
cells = {"built-in nonlinear": sb.NonlinearCell(0.25),
         "Verilog-A sinh_cell.va": DeviceCell(DEV / "sinh_cell.va"),
         "subcircuit sinh_cell.sp": DeviceCell(DEV / "sinh_cell.sp")}
runs = {name: sb.simulate_all(sb.CrossbarSpec(G, r_wl=2.0, r_bl=2.0, cell=c), V,
                              ("nodal", "ngspice")) for name, c in cells.items()}
ref = runs["built-in nonlinear"]["nodal"].currents
for name, r in runs.items():
    for engine, res in r.items():
        err = np.abs(res.currents - ref).max() / np.abs(ref).max()
        print(f"{name:<26} {engine:<8} max rel. difference to the built-in cell: {err:.1e}")"""),
    ("md", """The same device three ways and two engines agree to about 1e-13. How the nodal
engine followed the user device (the table's grid and its interpolation error):"""),
    ("code", """runs["Verilog-A sinh_cell.va"]["nodal"].info["device_tables"]"""),
    ("md", """## A gap-based RRAM

The Stanford-PKU read law `I = i0 exp(-gap/g0) sinh(V/v0)` takes the tunnelling gap as its
state: the array holds gaps (metres), and `G[i, j]` goes into the parameter `gap`. The ideal
reference then uses each cell's small-signal conductance, measured from its table."""),
    ("code", """gaps = rng.uniform(0.3e-9, 1.6e-9, (16, 16))
rram = DeviceCell(DEV / "stanford_rram_read.va", cell_param="gap")
spec = sb.CrossbarSpec(gaps, r_wl=2.0, r_bl=2.0, cell=rram)
res = sb.simulate_all(spec, V)
print(res["ideal"].info["model"])
print(sb.format_table(sb.compare(res, float(np.abs(res["ideal"].currents).max()))))"""),
    ("md", """## A 1S1R of two user devices: sneak paths and the read margin

A threshold selector (a `.subckt`) in series with the sinh memory device (Verilog-A). The
sneak decomposition splits each column current into the ideal part, IR drop, the device
term (here mostly the selector's voltage drop) and the sneak currents; with three rows
floating, the selectors choke the paths through them."""),
    ("code", """from spicebar.analysis.sneak import decompose, format_decomposition
from spicebar.circuit.operation import VmmOperation
from spicebar.plots.cells import plot_decomposition

selector = DeviceCell(DEV / "threshold_selector.sp", params={"g": 1e-3, "vth": 0.6})
one_s_one_r = DeviceCell(DEV / "sinh_cell.va", selector=selector)
op = VmmOperation(floating_rows=(2, 5, 11))
Vr = np.full((1, 16), 0.8)
spec = sb.CrossbarSpec(G, r_wl=2.0, r_bl=2.0, cell=one_s_one_r)
exact = sb.simulate(spec, Vr, "ngspice", operation=op)
d = decompose(spec, exact, op)
print(format_decomposition(d))
plot_decomposition(d);"""),
    ("code", """from spicebar.analysis.read_margin import margin_sweep
from spicebar.plots.cells import plot_read_margin

margins = margin_sweep((2, 4, 8, 16), {"sinh device": DeviceCell(DEV / "sinh_cell.va"),
                                       "1S1R (selector + sinh)": one_s_one_r},
                       schemes=("floating", "v2"), g_lrs=1e-4, g_hrs=1e-6, v_read_volt=1.0)
for m in margins:
    print(f"{m.cell:<24} {m.scheme:<9} {m.rows:>3}x{m.cols:<3} margin {m.margin:.3f}")
plot_read_margin(margins);"""),
    ("md", """With the unselected lines floating, the selector (threshold 0.6 V) keeps the 1S1R's
read margin near that of an isolated cell as the array grows, where the bare nonlinear
device loses it to sneak currents. Under the V/2 scheme the half-selected cells see 0.5 V,
below the threshold, yet the margin still falls with size: their leakage adds up along the
selected column."""),
]

NETWORK = [
    ("md", """# A design question end to end: a layer at 256x256 and 1 ohm

A digits classifier (256 inputs, 64 hidden, 10 classes) trained here, seeded, on
scikit-learn's bundled digits upsampled to 16x16. How much accuracy does IR drop cost
when its first layer sits on one 256x256 tile at 1 ohm per segment, and what do exact
compensation (programme the cells so the wired array returns the target `W x`) and
partitioning (smaller tiles) each buy back? Nodal engine; `spicebar network --demo`
does the same over a grid, with each non-ideality alone and an ngspice spot check."""),
    ("code", """from dataclasses import replace
from spicebar.cli.network_demo import DEMO_HEADROOM, demo_hardware, digits_data, train_digits
from spicebar.hardware.network import accuracy
from spicebar.hardware.network_eval import NetworkSpec, evaluate_network

x_tr, x_te, y_tr, y_te = digits_data(seed=0)
net = train_digits(x_tr, y_tr, seed=0)
print(net.describe(), f"float test accuracy {100 * accuracy(net.forward(x_te), y_te):.1f} %")

def hardware(n, r_ohm):  # 300 uS LRS, 128 levels, no programming error or ADC: wires alone
    return replace(demo_hardware(n, r_ohm), devices=replace(demo_hardware(n, r_ohm).devices,
                                                            prog_sigma_rel=0.0), adc_bits=None)"""),
    ("md", """The weights are mapped with `w_max = 5 max|W|`: the window left free for the
compensation to raise the cells the wires attenuate (with 2x or 4x, some targets at
256x256 would need more than `g_max`, and the compensation refuses them)."""),
    ("code", """spec = NetworkSpec(hardware(256, 1.0), headroom=DEMO_HEADROOM, compensate="exact")
r256 = evaluate_network(net, x_te, y_te, spec, x_cal=x_tr, progress=False,
                        rows=("ideal_quantised", "nodal", "nodal_compensated"))
for name, a in r256.accuracy.items():
    print(f"{name:<20} {100 * a:6.2f} %")
print("compensation per tile:", [(c["layer"], c["solves"]) for c in r256.info["compensation"]],
      "(layer, exact nodal solves)")"""),
    ("md", """Partitioning: the same layer on 128x128 tiles (two row blocks of 128 inputs, each
tile holding all 64 outputs as differential pairs) or 64x64 tiles (four row blocks by
two column blocks), uncompensated; the used cells are the same, only the lines get
shorter."""),
    ("code", """import matplotlib.pyplot as plt

bars = {"float": r256.accuracy["float"], "quantised ideal": r256.accuracy["ideal_quantised"],
        "256x256": r256.accuracy["nodal"], "256x256 compensated": r256.accuracy["nodal_compensated"]}
for n in (128, 64):
    r = evaluate_network(net, x_te, y_te, NetworkSpec(hardware(n, 1.0), headroom=DEMO_HEADROOM,
                                                      compensate="none"),
                         x_cal=x_tr, progress=False, rows=("nodal",))
    bars[f"{n}x{n} tiles"] = r.accuracy["nodal"]
fig, ax = plt.subplots(figsize=(8, 3.2), constrained_layout=True)
ax.barh(list(bars), [100 * a for a in bars.values()], color="C0")
ax.set_xlim(min(100 * a for a in bars.values()) - 3, 100)
ax.set_xlabel("test accuracy (%), 1 ohm per segment")
for i, a in enumerate(bars.values()):
    ax.text(100 * a, i, f" {100 * a:.1f}", va="center", fontsize=8)"""),
    ("md", """Both recover the loss here: compensation keeps the big tile (fewer converters,
one array) at the price of an exact solve per tile at programming time and a window
with headroom; partitioning needs no calibration but more tiles and ADCs, and its
partial sums are added digitally."""),
]

READ_COST = [
    ("md", """# What a read costs: how fast, and how many bits survive the noise

One 256x256 RRAM array (cells 1-100 uS, 1 ohm wire segments, 2 fF of wire capacitance
per segment) read by an integrator on every column (macro op-amp: gain 1e5, 1 GHz, input
noise 10 nV/sqrt(Hz)) and an 8-bit ADC. Two questions, answered exactly for this array:
how long must a read wait for the array to settle, and how many bits of the result
survive the noise? And what does the read cost in energy (the last section)?"""),
    ("code", """import numpy as np
import spicebar as sb
from spicebar.analysis.delay_models import format_estimates
from spicebar.analysis.noise import window_variance
from spicebar.circuit.converters import ADCSpec
from spicebar.cli.costs import format_noise
from spicebar.plots.costs import (plot_charge_error, plot_noise_budget, plot_noise_spectra,
                                  plot_settling)

rng = np.random.default_rng(7)
n = 256
G = np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), (n, n)))   # siemens
V = rng.uniform(0.0, 0.2, n)                                    # volts, one input vector
op = sb.OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, en_v_rthz=10e-9)
c_int, t_int = 20e-12, 100e-9
i_fs = 0.2 * G.sum(axis=0).max()                                # full-scale column current
ro = sb.IntegratorSpec(c_int_f=c_int, t_int_s=t_int, opamp=op, c_wl_f=2e-15, c_bl_f=2e-15,
                       adc=ADCSpec(8, 0.0, i_fs * t_int / c_int))
spec = sb.CrossbarSpec(G, r_wl=1.0, r_bl=1.0, readout=ro)
print(spec.describe())"""),
    ("md", """## How fast: the array's settling

`sb.settling` finds the slowest time constant of the array from its conductance and
capacitance matrices (a sparse generalised eigenproblem), steps the word lines to the
inputs and follows every column current into its virtual ground until it stays within
half an LSB of 8 bits. The analytic estimates designers use are scored beside it."""),
    ("code", """st = sb.settling(spec, V, bits=8)
print(f"slowest time constant {st.tau_s * 1e9:.3g} ns; settled to half an LSB in "
      f"{st.t_settle_max_s * 1e9:.3g} ns (at most {1 / st.t_settle_max_s:.3g} settled reads per s)")
print(format_estimates(st.estimates))"""),
    ("code", "plot_settling(st);"),
    ("md", """An integrator that opens its window with the input step loses the charge the settling
withheld; that error falls only as 1/T, so the window must be much longer than the
settling time to keep it under half an LSB:"""),
    ("code", "plot_charge_error(st);"),
    ("md", """## How many bits survive: the noise budget

`sb.noise` builds the small-signal network of the array and its readout and sends every
noise source to each column's output: the thermal noise of every cell and wire segment,
the op-amp's input noise, the macromodel's resistors, the ADC's quantisation; the
integrator's window filter turns the spectra into the variance of one sample.

The analysis factorises the whole network once per frequency (about 40 frequencies), which
takes minutes at 256x256 on a laptop. A column's noise comes from its own 256 cells, its bit
line and its readout, so this notebook analyses the slice of the first 8 columns with all
256 rows (their word lines end after column 8, which moves the word-line share a little;
`sb.noise(spec, V)` on the whole array gives the exact answer for every column)."""),
    ("code", """cols = slice(0, 8)
ro8 = sb.IntegratorSpec(c_int_f=c_int, t_int_s=t_int, opamp=op, c_wl_f=2e-15, c_bl_f=2e-15,
                        adc=ro.adc)
slice8 = sb.CrossbarSpec(G[:, cols], r_wl=1.0, r_bl=1.0, readout=ro8)
nz = sb.noise(slice8, V)
print(format_noise(nz))"""),
    ("code", "plot_noise_budget(nz);"),
    ("code", "plot_noise_spectra(nz, 0);"),
    ("md", """## Speed against bits

The same spectra give the noise of any window length `T`; the signal grows with `T`
(here against a fixed full scale `i_fs T / C_int`), so longer windows buy bits. The
settling time and the half-LSB charge window bound the window from below."""),
    ("code", """import matplotlib.pyplot as plt
cats = [k for k, c in enumerate(nz.categories) if c != "ADC quantisation"]
windows = np.geomspace(5e-9, 2e-6, 40)
bits = []
for T in windows:
    var = window_variance(nz.freqs_hz, nz.spectra_v2_hz[:, cats], T).sum(axis=1)
    bits.append(np.log2(i_fs * T / c_int / (np.sqrt(12 * var))).min())
fig, ax = plt.subplots(figsize=(7, 4))
ax.semilogx(windows * 1e9, bits, label="effective bits (analog noise alone, worst column)")
ax.axvline(st.t_settle_max_s * 1e9, color="tab:red", ls=":", label="settled to 1/2 LSB")
if np.isfinite(st.t_window_s):
    ax.axvline(st.t_window_s * 1e9, color="k", ls="--", label="charge error < 1/2 LSB")
ax.set_xlabel("integration window T (ns)"); ax.set_ylabel("bits"); ax.legend(fontsize=8)
ax.set_title("Longer windows: more bits, fewer reads per second", fontsize=10);"""),
    ("md", """## What the read costs in energy

`sb.simulate_with_energy` solves the same read at DC and itemises where the drivers' energy
goes during one window of `t_int` (the array's settling is a few hundred picoseconds of a
100 ns window, so the DC read carries it all to well under a percent): into the memory
elements, the word- and bit-line wires, and, with the figures of merit of
`docs/explanation/energy-model.md`, the DACs and the ADC. The balance (delivered = absorbed)
is checked, and the same array with ideal wires gives what the IR drop costs."""),
    ("code", """from dataclasses import replace
from spicebar.plots.energy import plot_energy
dc = replace(spec, readout=None)
_, energy = sb.simulate_with_energy(dc, V, read_time_s=t_int)
print(energy.table())"""),
    ("code", "plot_energy(energy);"),
    ("md", """At 1 ohm per segment and 256 cells a line, the wires take about 40 % of what the drivers
deliver. The IR-drop cost is negative: the drop lowers every cell's voltage, so the real
array draws less energy than the same array with ideal wires, while computing a worse
product. The converters, at these figures of merit, add about three quarters of the
circuit's energy again."""),
]

ONNX_LAYERS = [
    ("md", """# Which layer gets the bigger tiles or the finer levels?

A small convolutional network (two convolutions with pooling, two dense layers), trained
here in numpy on scikit-learn's bundled 8x8 digits and exported to ONNX, runs on 128x128
tiles at 2 ohm per segment with 32 conductance levels. The budget allows better hardware
for one layer only: smaller tiles, which means shorter lines and less IR drop, or more
levels. Which layer should get it, and which of the two? `spicebar network --onnx` answers
this with a per-layer config file; this notebook makes the same calls from Python."""),
    ("code", """import tempfile
from pathlib import Path

import numpy as np
from spicebar.cli.onnx_models import digits_images, export_cnn, train_cnn
from spicebar.hardware.graph_eval import GraphSpec
from spicebar.hardware.graph_result import evaluate_graph, format_graph_result
from spicebar.hardware.layer_config import LayerOverride
from spicebar.hardware.mapping import MappingSpec
from spicebar.hardware.mvm import MVMSpec
from spicebar.hardware.onnx_import import load_onnx

x_tr, x_te, y_tr, y_te = digits_images(seed=0)
model = Path(tempfile.mkdtemp()) / "cnn.onnx"
export_cnn(train_cnn(x_tr, y_tr, seed=0, epochs=6), model)
graph = load_onnx(model)
x, y = x_te[:300], y_te[:300]
print(graph.describe())"""),
    ("md", """First, the baseline. Every layer is on 128x128 tiles with 32 levels and wires at 2 ohm.
The `layer:NAME` rows put all effects on one layer and keep the others exact, and the
budget shows each effect's error at each layer's output."""),
    ("code", """hw = MVMSpec(MappingSpec(g_max_s=3e-4, on_off=50.0, levels=32), array_rows=128, array_cols=128,
             r_wl=2.0, r_bl=2.0)
base = evaluate_graph(graph, x, y, GraphSpec(hw, compensate="none"), x_cal=x_tr[:300], progress=False)
print(format_graph_result(base))"""),
    ("md", """Now try both upgrades on each layer in turn: 32x32 tiles, or 256 levels. Every
run keeps the same calibration and seeds and changes only that one layer."""),
    ("code", """names = [c.name for c in graph.crossbars]
options = {"32x32 tiles": LayerOverride(array=(32, 32)), "256 levels": LayerOverride(levels=256)}
gain = {}
for label, override in options.items():
    for name in names:
        r = evaluate_graph(graph, x, y, GraphSpec(hw, {name: override}, compensate="none"),
                           x_cal=x_tr[:300], rows=("nodal",), budget=False, progress=False)
        gain[(label, name)] = r.accuracy["nodal"]
best = max(gain, key=gain.get)
print(f"baseline {100 * base.accuracy['nodal']:.1f} %; best single upgrade: {best[0]} on {best[1]} "
      f"({100 * gain[best]:.1f} %)")"""),
    ("code", """import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(8, 3.4), constrained_layout=True)
width = 0.38
for j, label in enumerate(options):
    ax.bar(np.arange(len(names)) + (j - 0.5) * width, [100 * gain[(label, n)] for n in names],
           width, label=label)
ax.axhline(100 * base.accuracy["nodal"], color="k", ls="--", lw=1, label="baseline (all 128x128, 32 levels)")
ax.axhline(100 * base.accuracy["float"], color="k", ls=":", lw=1, label="float")
ax.set_xticks(range(len(names)), names)
ax.set_ylabel("test accuracy (%)")
ax.set_ylim(min(gain.values()) * 100 - 3, 100)
ax.legend(fontsize=8);"""),
    ("md", """Read the answer from the per-layer budget. A layer whose IR-drop column is large
gains from smaller tiles. A layer whose quantisation column is large gains from more
levels. A `layer:NAME` row shows how much of that error reaches the accuracy. On the
command line, the same experiment is a `--layer-config` file with one `[layer.NAME]`
table (see docs/howto/onnx-networks.md)."""),
]

ALL = {"01_quickstart.ipynb": QUICKSTART, "02_ir_drop_and_sneak_paths.ipynb": IR_DROP,
       "03_validating_an_idealised_model.ipynb": VALIDATE,
       "04_integrator_transients.ipynb": INTEGRATOR, "05_your_own_devices.ipynb": DEVICES,
       "06_network_design.ipynb": NETWORK, "07_what_a_read_costs.ipynb": READ_COST,
       "08_onnx_layer_choice.ipynb": ONNX_LAYERS}


def build(cells):
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
                for kind, src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def execute(nb, cwd: Path):
    from nbclient import NotebookClient
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def main() -> None:
    import tempfile

    import nbformat
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--execute", action="store_true")
    ap.add_argument("names", nargs="*", metavar="NAME.ipynb",
                    help="only these notebooks (default: all)")
    args = ap.parse_args()
    unknown = set(args.names) - set(ALL)
    if unknown:
        ap.error(f"no such notebook: {', '.join(sorted(unknown))} (known: {', '.join(ALL)})")
    for name, cells in ALL.items():
        if args.names and name not in args.names:
            continue
        nb = build(cells)
        if args.execute:
            with tempfile.TemporaryDirectory() as tmp:
                execute(nb, Path(tmp))
        nbformat.write(nb, NOTEBOOKS / name)
        print(f"wrote {NOTEBOOKS / name}")


if __name__ == "__main__":
    main()
