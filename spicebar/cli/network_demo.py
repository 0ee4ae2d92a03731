"""The network demo: a digits classifier trained at demo time, through tiled crossbars.

scikit-learn's bundled handwritten digits (``load_digits``: 1,797 images of 8x8 pixels,
no download) are upsampled to 16x16 = 256 inputs (bilinear) so that a layer fills a
256-row array and IR drop matters; a 256-64-10 ReLU network is trained, seeded, and
mapped onto 64x64, 128x128 and 256x256 tiles at 0.5, 1 and 2 ohm per segment, with and
without exact IR-drop compensation (a grid point whose targets the window cannot reach
records the refusal instead). The design point (256x256, 1 ohm) also gets each
non-ideality alone and an ngspice spot check.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import SpecError
from ..hardware.devices import DeviceSpec
from ..hardware.mapping import MappingSpec
from ..hardware.mvm import MVMSpec
from ..hardware.network import DenseLayer, Network, accuracy, save_network

#: The demo's grid: tile sizes (rows = cols) and wire resistance per segment (ohm).
DEMO_ARRAYS = (64, 128, 256)
DEMO_R_OHM = (0.5, 1.0, 2.0)
#: The design point that gets every row and the ngspice spot check.
DEMO_POINT = (256, 1.0)
#: The cells' LRS conductance, siemens, and their programmable levels.
DEMO_G_MAX_S = 3e-4
DEMO_LEVELS = 128
#: w_max = DEMO_HEADROOM * max|W|: the window left for compensation. Measured on this
#: network at 256x256 and 1 ohm: 2x and 4x leave targets outside the window (refused),
#: 5x is reachable; at 2 ohm no headroom up to 5x is.
DEMO_HEADROOM = 5.0
HIDDEN = 64


def digits_data(seed: int = 0, test_fraction: float = 0.3):
    """``(x_train, x_test, y_train, y_test)``: digits upsampled to 16x16, pixels in [0, 1]."""
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits()
    images = zoom(d.images / 16.0, (1, 2, 2), order=1)           # (1797, 16, 16)
    x = np.clip(images.reshape(len(images), -1), 0.0, 1.0)
    return train_test_split(x, d.target.astype(np.int64), test_size=test_fraction,
                            random_state=seed, stratify=d.target)


def train_digits(x_train, y_train, seed: int = 0, hidden: int = HIDDEN) -> Network:
    """A 256-``hidden``-10 ReLU network trained by scikit-learn's MLP (seeded)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(hidden,), activation="relu", alpha=1e-3,
                        max_iter=300, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x_train, y_train)
    return Network((DenseLayer(clf.coefs_[0].T, clf.intercepts_[0], "relu", "layer 0"),
                    DenseLayer(clf.coefs_[1].T, clf.intercepts_[1], "identity", "layer 1")))


def demo_hardware(array: int, r_ohm: float, seed: int = 0) -> MVMSpec:
    """RRAM-like tiles: 3.3 kohm..167 kohm (300 uS LRS, where IR drop costs accuracy on
    256-row tiles), 128 levels (the 5x headroom leaves about 25 per weight sign; with 64,
    the rounding of the compensated cells costs about a point at 256x256 and 1 ohm),
    1 % programming error, 8-bit ADC."""
    return MVMSpec(MappingSpec(g_max_s=DEMO_G_MAX_S, on_off=50.0, levels=DEMO_LEVELS, v_read=0.2),
                   DeviceSpec(prog_sigma_rel=0.01), array_rows=array, array_cols=array,
                   r_wl=r_ohm, r_bl=r_ohm, adc_bits=8, seed=seed)


def run_network_demo(out_dir: str | Path = "network_out", seed: int = 0, spot: int = 4,
                     arrays=DEMO_ARRAYS, r_ohms=DEMO_R_OHM, point=DEMO_POINT,
                     headroom: float = DEMO_HEADROOM, workers: int | None = None, echo=print):
    """Train, evaluate the grid and the design point, write ``accuracy.json``, the network
    (``network.npz`` with the test set) and ``accuracy_grid.png``; return the record."""
    from ..hardware.network_eval import NetworkSpec, evaluate_network, format_accuracy
    from ..plots.maps import save_figure
    from ..plots.network import plot_accuracy_grid
    from ..sweeps.records import write_json
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    x_tr, x_te, y_tr, y_te = digits_data(seed)
    net = train_digits(x_tr, y_tr, seed)
    save_network(out / "network.npz", net, x_te, y_te)
    echo(f"digits: {len(y_tr)} training, {len(y_te)} test samples; network {net.describe()}, "
         f"float test accuracy {100 * accuracy(net.forward(x_te), y_te):.2f}%")
    caches = {}
    grid, point_result = [], None
    for n in arrays:
        for r in r_ohms:
            at_point = (n, r) == tuple(point)
            spec = NetworkSpec(demo_hardware(n, r, seed), headroom=headroom, compensate="exact",
                               spot_samples=spot if at_point else 0)
            cache = caches.setdefault(n, [{} for _ in net.layers])
            run = lambda rows: evaluate_network(  # noqa: E731
                net, x_te, y_te, spec, x_cal=x_tr, caches=cache, workers=workers, rows=rows)
            row = {"array": n, "r_ohm": r}
            try:
                res = run(None if at_point else ("nodal", "nodal_compensated"))
                row["nodal_compensated"] = res.accuracy["nodal_compensated"]
            except SpecError as exc:  # compensation refused: the window has no room for it
                if at_point:
                    raise
                res = run(("nodal",))
                row["compensation_refused"] = str(exc)
            row["nodal"] = res.accuracy["nodal"]
            grid.append(row)
            comp = (f"{100 * row['nodal_compensated']:.2f}%" if "nodal_compensated" in row
                    else "refused (target outside the window)")
            echo(f"{n}x{n} tiles, {r:g} ohm: nodal {100 * row['nodal']:.2f}%, compensated {comp}")
            if at_point:
                point_result = res
    if point_result is None:
        raise ValueError(f"the design point {point} is not on the grid")
    echo(f"\ndesign point {point[0]}x{point[0]} tiles, {point[1]:g} ohm per segment:")
    echo(format_accuracy(point_result))
    record = {**point_result.to_dict(), "grid": grid,
              "design_point": {"array": point[0], "r_ohm": point[1]}}
    write_json(out / "accuracy.json", record)
    files = [out / "network.npz", out / "accuracy.json"]
    ax = plot_accuracy_grid(grid, {"float": point_result.accuracy["float"],
                                   "ideal quantised": point_result.accuracy["ideal_quantised"]})
    files.append(save_figure(ax, out / "accuracy_grid.png"))
    echo("wrote: " + ", ".join(str(f) for f in files))
    return record
