"""The main job: a 64x64 RRAM array through all three engines, compared and plotted."""

from __future__ import annotations

from .._progress import bar_disable

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..analysis.comparison import Comparison, compare, format_table
from ..circuit.elaboration import elaborate
from ..engines.simulation import full_scale_current, simulate
from ..circuit.spec import CrossbarSpec

#: RRAM read window of the demo: 10 kohm (LRS) to 500 kohm (HRS), on/off ratio 50.
DEMO_G_MIN_S = 2e-6
DEMO_G_MAX_S = 1e-4


@dataclass(frozen=True)
class DemoOutput:
    comparison: Comparison
    files: dict  # what -> Path


def demo_arrays(rows: int = 64, cols: int = 64, batch: int = 4, seed: int = 0):
    """Log-uniform conductances in [2 uS, 100 uS] and read voltages in [0, 0.2] V: the
    draws of ``spicebar array`` (:mod:`spicebar.circuit.random_arrays`), then vector 0 at
    full scale."""
    from ..circuit.random_arrays import RandomArraySpec, draw_random_array
    g, v = draw_random_array(RandomArraySpec(rows=rows, cols=cols, g_min_s=DEMO_G_MIN_S,
                                             g_max_s=DEMO_G_MAX_S, batch=batch,
                                             v_max_volt=0.2, seed=seed))
    v[0] = 0.2  # vector 0: every row at full read voltage, the worst case for IR drop
    return g, v


def run_demo(out_dir: str | Path = "demo_out", rows: int = 64, cols: int = 64, batch: int = 4,
             r_wire_ohm: float = 2.0, seed: int = 0, progress: bool = True,
             echo=print) -> DemoOutput:
    """Write the netlist, run ideal, nodal and ngspice, print the table, save plots."""
    from tqdm import tqdm

    from ..plots.maps import plot_column_error, plot_voltage_maps, save_figure

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    g, v = demo_arrays(rows, cols, batch, seed)
    spec = CrossbarSpec(g, r_wl=r_wire_ohm, r_bl=r_wire_ohm)
    ir = elaborate(spec)
    from ..engines.transient.jobs import write_job  # every vector; `ngspice -b` runs it as is
    files = {"netlist": write_job(out / f"crossbar_{rows}x{cols}.cir", spec, v)}
    np.save(out / "conductances.npy", g)
    np.save(out / "inputs.npy", v)
    results = {}
    steps = tqdm(("ideal", "nodal", "ngspice"), desc="engines", disable=bar_disable(progress), unit="engine")
    for engine in steps:
        steps.set_postfix_str(engine)
        results[engine] = simulate(spec, v, engine, ir=ir)
        files[f"result_{engine}"] = results[engine].save(out / f"result_{engine}.npz")
    comparison = compare(results, full_scale_current(spec, v))
    echo(spec.describe())
    echo(format_table(comparison))
    (out / "comparison.json").write_text(comparison.to_json())
    files["comparison"] = out / "comparison.json"
    files["voltage_maps"] = save_figure(plot_voltage_maps(results["ngspice"], 0),
                                        out / "voltage_maps.png")
    files["column_error"] = save_figure(plot_column_error(comparison), out / "column_error.png")
    echo("wrote: " + ", ".join(str(p) for p in files.values()))
    return DemoOutput(comparison, files)

