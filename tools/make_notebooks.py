"""Write the notebooks in notebooks/ from the cell sources below, optionally executed.

    python tools/make_notebooks.py            # write them without outputs
    python tools/make_notebooks.py --execute  # run each from a clean kernel, keep outputs

Edit the sources here, not the .ipynb files, then regenerate. The test suite runs
every notebook from a clean kernel (tests/test_notebooks.py).
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
from spicebar.netlist import format_netlist
from spicebar.plot import plot_column_error, plot_voltage_maps

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
    ("md", """# IR drop against array size

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
    ("md", """## Sneak paths (to extend)

**Place to extend when cell kinds and unselected-line biasing land (issue 3):**
repeat the loop above with floating or half-biased unselected lines and with
1S1R/1T1R cells, and plot the sneak-path share of the column current against
`N`. Today's arrays drive every word line and hold every bit line at 0 V, so no
sneak current flows: the whole deviation above is IR drop."""),
]

VALIDATE = [
    ("md", """# Validating an idealised model

You have a fast model of the crossbar and want to know where it breaks. A model is
any function `model(G, V, spec) -> I` (`(rows, cols)` S, `(batch, rows)` V,
`(batch, cols)` A). spicebar scores it against ngspice: max, mean and RMS relative
error and the error in output LSBs of an ADC spanning the full-scale current."""),
    ("code", """import numpy as np
import spicebar as sb
from spicebar.scoring import score_models, format_scores

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
ideal cell currents (see `spicebar.models.first_order`). Its error is second order
in `r G N^2`, so it wins by orders of magnitude on small arrays and thin
parasitics, and loses its edge as `r G N^2` approaches 1.

Now a small sweep over size and wire resistance. Any `concurrent.futures`
executor runs the points; here threads (each ngspice run is its own process).
The results folder is content-addressed: running the cell again reuses every
finished point."""),
    ("code", """import tomllib
from concurrent.futures import ThreadPoolExecutor
from spicebar.sweep import parse_sweep
from spicebar.sweep_run import run_sweep
from spicebar.sweep_table import read_table

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
    ("code", """from spicebar.plot_sweep import plot_sweep
plot_sweep(table, metric="max_lsb");"""),
    ("md", """Read the left panel as: below 0.5 LSB a model is as good as the ADC can tell;
`nodal` against ngspice sits at rounding level, `first_order` stays below an LSB
far longer than `ideal`."""),
]

ALL = {"01_quickstart.ipynb": QUICKSTART, "02_ir_drop_vs_size.ipynb": IR_DROP,
       "03_validating_an_idealised_model.ipynb": VALIDATE}


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
    args = ap.parse_args()
    for name, cells in ALL.items():
        nb = build(cells)
        if args.execute:
            with tempfile.TemporaryDirectory() as tmp:
                execute(nb, Path(tmp))
        nbformat.write(nb, NOTEBOOKS / name)
        print(f"wrote {NOTEBOOKS / name}")


if __name__ == "__main__":
    main()
