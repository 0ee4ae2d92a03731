"""The layer demo: a 64x256 weight matrix on 64x64 RRAM tiles, nodal and ngspice, with its budget."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..hardware.devices import DeviceSpec
from ..hardware.mapping import MappingSpec
from ..hardware.mvm import MVMSpec, run_mvm

#: The demo layer: 256 inputs, 64 outputs, differential pairs on 64x64 arrays: 4 x 2 = 8 tiles.
DEMO_LAYER = dict(outputs=64, inputs=256)


def demo_spec() -> MVMSpec:
    """RRAM-like: 10 kohm..500 kohm, 32 levels, 3 % programming, 1 % read noise, 8-bit ADC."""
    return MVMSpec(MappingSpec(scheme="differential", g_max_s=1e-4, on_off=50.0, levels=32),
                   DeviceSpec(prog_sigma_rel=0.03, read_sigma_rel=0.01, stuck_off_rate=0.002),
                   array_rows=64, array_cols=64, r_wl=1.0, r_bl=1.0, adc_bits=8,
                   adc_full_scale_a=0.2 * 64 * 1e-4 / 4)


def run_mvm_demo(out_dir: str | Path = "demo_out/mvm", batch: int = 2, seed: int = 0, echo=print):
    """Run the demo layer, print the budget, write ``layer.npz`` and two PNGs; return the result."""
    from ..analysis.budget import format_budget
    from ..plots.mvm import plot_budget, plot_outputs, plot_transpose_geometry
    from ..plots.maps import save_figure
    from ..circuit.spec import CrossbarSpec
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 1 / np.sqrt(DEMO_LAYER["inputs"]), (DEMO_LAYER["outputs"], DEMO_LAYER["inputs"]))
    x = rng.uniform(0, 1, (batch, DEMO_LAYER["inputs"]))  # post-ReLU activations
    spec = demo_spec()
    r = run_mvm(w, x, spec, engines=("nodal", "ngspice"))
    echo(f"layer {w.shape[0]}x{w.shape[1]} on {r.info['tiles']} tiles of 64x64 (differential, "
         f"32 levels, 3% programming, 1% read noise, 0.2% stuck-off, 1 ohm wires, 8-bit ADC)")
    echo(format_budget(r.budget))
    echo(f"max |y_ngspice - y_nodal| after the 8-bit ADC = "
         f"{np.abs(r.y['ngspice'] - r.y['nodal']).max():.3g} (weight units)")
    files = [r.save(out / "layer.npz")]
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), constrained_layout=True)
    plot_outputs(r, axes[0])
    plot_budget(r.budget, axes[1])
    files.append(save_figure(axes, out / "layer_budget.png"))
    g = np.full((48, 64), 5e-5)  # 48 word lines, 64 bit lines, bit-line wire twice as resistive
    files.append(save_figure(plot_transpose_geometry(CrossbarSpec(g, r_wl=1.0, r_bl=2.0)),
                             out / "transpose_geometry.png"))
    echo("wrote: " + ", ".join(str(f) for f in files))
    return r
