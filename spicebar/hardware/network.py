"""A small trained network and its data: the ``.npz`` format, validation, the float forward pass.

File format (``numpy.savez``, read with ``allow_pickle=False``; nothing else is executed):

| key | shape | meaning |
| --- | --- | --- |
| ``W0``, ``W1``, ... | ``(outputs_k, inputs_k)`` float | weights of layer ``k``; ``inputs_{k+1} = outputs_k`` |
| ``b0``, ``b1``, ... | ``(outputs_k,)`` float | biases of layer ``k`` (added digitally after the ADC) |
| ``activation0``, ... | 0-d string | one of :data:`ACTIVATIONS` (the last layer: usually ``identity``, its outputs are the logits) |
| ``X`` (optional) | ``(samples, inputs_0)`` float | the data set; may also sit in a separate file |
| ``y`` (optional) | ``(samples,)`` int | class labels ``0..outputs_last-1`` |

Layers are numbered from 0 without gaps. A layer on hardware computes ``W a`` on tiled
crossbars (:mod:`spicebar.hardware.mvm`); bias and activation are digital.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import _validate as v
from ..errors import SpecError

ACTIVATIONS = ("relu", "identity", "tanh", "sigmoid")
MAX_LAYERS = 64


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """Apply activation ``name`` elementwise."""
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))
    return z


@dataclass(frozen=True, eq=False)
class DenseLayer:
    """``a_out = activation(W a_in + b)``; ``W`` ``(outputs, inputs)``, ``b`` ``(outputs,)``."""

    weights: np.ndarray
    bias: np.ndarray
    activation: str = "identity"
    name: str = "layer"

    def __post_init__(self) -> None:
        w = v.real_array(f"{self.name}.W", self.weights, 2)
        b = v.real_array(f"{self.name}.b", self.bias, 1)
        if b.shape[0] != w.shape[0]:
            raise SpecError(f"{self.name}.b", f"has {b.shape[0]} values but W has {w.shape[0]} outputs",
                            f"shape ({w.shape[0]},)")
        v.choice(f"{self.name}.activation", self.activation, ACTIVATIONS)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "bias", b)


@dataclass(frozen=True, eq=False)
class Network:
    """Dense layers in order; ``layers[k+1]`` takes ``layers[k]``'s outputs."""

    layers: tuple

    def __post_init__(self) -> None:
        layers = tuple(self.layers)
        if not 1 <= len(layers) <= MAX_LAYERS:
            raise SpecError("layers", f"has {len(layers)} layer(s)", f"1..{MAX_LAYERS}")
        for k in range(1, len(layers)):
            n_in, n_prev = layers[k].weights.shape[1], layers[k - 1].weights.shape[0]
            if n_in != n_prev:
                raise SpecError(f"W{k}", f"takes {n_in} inputs but layer {k - 1} has {n_prev} outputs",
                                f"shape ({layers[k].weights.shape[0]}, {n_prev})")
        object.__setattr__(self, "layers", layers)

    @property
    def n_inputs(self) -> int:
        return self.layers[0].weights.shape[1]

    @property
    def n_classes(self) -> int:
        return self.layers[-1].weights.shape[0]

    def layer_inputs(self, x: np.ndarray) -> list[np.ndarray]:
        """The float input of every layer ``[(samples, inputs_k)]`` and the logits, last."""
        a = [np.asarray(x, float)]
        for layer in self.layers:
            a.append(activate(layer.activation, a[-1] @ layer.weights.T + layer.bias))
        return a

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Float logits ``(samples, classes)``."""
        return self.layer_inputs(x)[-1]

    def describe(self) -> str:
        dims = [str(self.n_inputs)] + [f"{l.weights.shape[0]} {l.activation}" for l in self.layers]
        return " -> ".join(dims)


def validate_data(net: Network, x, y, name: str = "data") -> tuple[np.ndarray, np.ndarray]:
    """``X`` ``(samples, inputs)`` float and ``y`` ``(samples,)`` int labels, checked."""
    x = v.real_array(f"{name}.X", x, 2)
    if x.shape[1] != net.n_inputs:
        raise SpecError(f"{name}.X", f"has {x.shape[1]} features but the network takes {net.n_inputs}",
                        f"shape (samples, {net.n_inputs})")
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != x.shape[0] or not np.issubdtype(y.dtype, np.integer):
        raise SpecError(f"{name}.y", f"has shape {y.shape} and dtype {y.dtype}",
                        f"integer labels of shape ({x.shape[0]},)")
    if y.size and (y.min() < 0 or y.max() >= net.n_classes):
        raise SpecError(f"{name}.y", f"has labels {int(y.min())}..{int(y.max())}",
                        f"0..{net.n_classes - 1}")
    return x, y.astype(np.int64)


def _load_npz(path, what: str) -> dict:
    """Every array of the ``.npz`` at ``path`` (the guarded loader of every file spicebar
    reads back: never unpickled, a damaged file named as ``what``)."""
    from ..io import read_npz
    return read_npz(path, what)


def network_from_arrays(arrays: dict, what: str = "--network") -> Network:
    """A :class:`Network` from the keys ``W0, b0, activation0, ...`` of a loaded file."""
    layers = []
    for k in range(MAX_LAYERS + 1):
        if f"W{k}" not in arrays:
            break
        for key in (f"b{k}", f"activation{k}"):
            if key not in arrays:
                raise SpecError(what, f"has W{k} but no {key}", f"W{k}, b{k} and activation{k}")
        act = arrays[f"activation{k}"]
        if act.ndim != 0 or act.dtype.kind != "U":
            raise SpecError(f"activation{k}", f"is a {act.dtype} array of shape {act.shape}",
                            "a string: " + ", ".join(ACTIVATIONS))
        layers.append(DenseLayer(arrays[f"W{k}"], arrays[f"b{k}"], str(act), name=f"layer {k}"))
    if not layers:
        raise SpecError(what, "has no W0", "keys W0, b0, activation0, W1, ... (see "
                        "spicebar.hardware.network)")
    stray = sorted(key for key in arrays if key[:1] in "Wb" and key[1:].isdigit()
                   and int(key[1:]) >= len(layers))
    if stray:
        raise SpecError(what, f"has {', '.join(stray)} after a gap in the layer numbers",
                        "layers numbered 0, 1, 2, ... without gaps")
    return Network(tuple(layers))


def load_network(path, data_path=None) -> tuple[Network, np.ndarray | None, np.ndarray | None]:
    """``(network, X, y)`` from ``path`` (and ``X``, ``y`` from ``data_path`` if given)."""
    arrays = _load_npz(path, "--network")
    net = network_from_arrays(arrays)
    data = _load_npz(data_path, "--data") if data_path is not None else arrays
    if "X" not in data or "y" not in data:
        return net, None, None
    x, y = validate_data(net, data["X"], data["y"])
    return net, x, y


def save_network(path, net: Network, x=None, y=None) -> Path:
    """Write ``net`` (and the data, when given) in the format above; returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for k, layer in enumerate(net.layers):
        arrays[f"W{k}"], arrays[f"b{k}"] = layer.weights, layer.bias
        arrays[f"activation{k}"] = np.array(layer.activation)
    if x is not None:
        x, y = validate_data(net, x, y)
        arrays["X"], arrays["y"] = x, y
    tmp = p.with_name(p.name + ".part.npz")
    np.savez(tmp, **arrays)
    tmp.replace(p)
    return p


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    """Fraction of samples whose largest logit is the label, in [0, 1]."""
    return float(np.mean(np.argmax(logits, axis=1) == y)) if len(y) else float("nan")
