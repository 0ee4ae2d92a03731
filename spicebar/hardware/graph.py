"""A feed-forward model as a graph of crossbar layers and exact digital operations.

The importer (:mod:`spicebar.hardware.onnx_import`) builds a :class:`Graph` from an ONNX
file; this module knows nothing of ONNX's files, only of its operators' meaning.

Crossbar layers (:class:`Crossbar`): ``Gemm``, ``MatMul`` and ``Conv``. Each holds one
weight matrix per group ``(outputs_g, inputs_g)`` and a bias ``(outputs,)`` added
digitally. A dense layer's input vectors are the rows of its input flattened to
``(vectors, inputs)``; a convolution's are the patches of every image
(:func:`spicebar.hardware.conv.im2col`, NCHW). :meth:`Graph.run` takes a ``linear``
function that computes ``Z = A @ W_g.T`` for one layer and group: exact in float, or
through tiled crossbars (:mod:`spicebar.hardware.graph_eval`).

Digital operations (:data:`DIGITAL_OPS`) run exactly in float64. ``Identity`` and
``Cast`` (to a float type only; exporters such as skl2onnx put them at the input) pass
the data through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import SpecError
from .conv import Window, average_pool, col2im_outputs, im2col, max_pool

CROSSBAR_OPS = ("Gemm", "MatMul", "Conv")
DIGITAL_OPS = ("Relu", "Add", "Flatten", "Reshape", "MaxPool", "AveragePool", "GlobalAveragePool",
               "BatchNormalization", "Softmax", "Sigmoid", "Tanh", "Concat", "Transpose",
               "Identity", "Cast")
#: ``Constant`` nodes hold weights or shapes; they are read at import, never run.
SUPPORTED_OPS = CROSSBAR_OPS + DIGITAL_OPS + ("Constant",)

#: ``linear(layer_index, group, A)`` -> ``A @ W_group.T``, ``A`` ``(vectors, inputs_g)``.
Linear = Callable[[int, int, np.ndarray], np.ndarray]


def conv_window(attrs: dict, kernel: tuple[int, int], h: int, w: int) -> Window:
    """The :class:`Window` of a Conv or pooling node on an ``h x w`` input (``auto_pad`` resolved)."""
    strides = tuple(attrs.get("strides", (1, 1)))
    dil = tuple(attrs.get("dilations", (1, 1)))
    pads = tuple(attrs.get("pads", (0, 0, 0, 0)))
    auto = attrs.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads, ends = [], []
        for size, k, s, d in zip((h, w), kernel, strides, dil):
            total = max(0, (-(-size // s) - 1) * s + d * (k - 1) + 1 - size)
            small, big = total // 2, total - total // 2
            pads.append(small if auto == "SAME_UPPER" else big)
            ends.append(big if auto == "SAME_UPPER" else small)
        pads = tuple(pads + ends)
    elif auto == "VALID":
        pads = (0, 0, 0, 0)
    return Window(tuple(kernel), strides, pads, dil, bool(attrs.get("ceil_mode", 0)))


@dataclass(frozen=True, eq=False)
class Crossbar:
    """A layer on crossbar tiles: ``weights[g]`` ``(outputs_g, inputs_g)``, ``bias`` ``(outputs,)``.

    ``op``: ``Conv`` (``attrs``: kernel, strides, pads, dilations, groups) or ``Gemm``/``MatMul``.
    """

    name: str
    op: str
    input: str
    output: str
    weights: tuple
    bias: np.ndarray
    attrs: dict = field(default_factory=dict)

    @property
    def n_outputs(self) -> int:
        return int(sum(w.shape[0] for w in self.weights))

    def describe(self) -> str:
        if self.op == "Conv":
            m, k = self.n_outputs, self.attrs["kernel"]
            c = self.weights[0].shape[1] // (k[0] * k[1]) * len(self.weights)
            g = f", {len(self.weights)} groups" if len(self.weights) > 1 else ""
            return f"Conv {c}->{m} {k[0]}x{k[1]}{g}"
        return f"{self.op} {self.weights[0].shape[1]}->{self.n_outputs}"

    def apply(self, a: np.ndarray, linear: Callable[[int, np.ndarray], np.ndarray]) -> np.ndarray:
        """The layer's output for input ``a``; ``linear(group, A)`` computes ``A @ W_g.T``."""
        if self.op != "Conv":
            k = self.weights[0].shape[1]
            if a.shape[-1] != k:
                raise SpecError(self.name, f"gets inputs of shape {a.shape}", f"last axis {k}")
            z = linear(0, a.reshape(-1, k)).reshape(a.shape[:-1] + (-1,))
            return z + self.bias
        if a.ndim != 4:
            raise SpecError(self.name, f"gets an input of shape {a.shape}", "(N, C, H, W)")
        groups = len(self.weights)
        c_g = a.shape[1] // groups
        win = conv_window(self.attrs, self.attrs["kernel"], a.shape[2], a.shape[3])
        outs = []
        for g in range(groups):
            cols, (oh, ow) = im2col(a[:, g * c_g:(g + 1) * c_g], win)
            if cols.shape[1] != self.weights[g].shape[1]:
                raise SpecError(self.name, f"gets {a.shape[1]} input channels",
                                f"{self.weights[g].shape[1] * groups // np.prod(win.kernel)}")
            outs.append(col2im_outputs(linear(g, cols), a.shape[0], oh, ow))
        return np.concatenate(outs, axis=1) + self.bias[None, :, None, None]


@dataclass(frozen=True, eq=False)
class Digital:
    """An exact digital operation: ``inputs`` are tensor names, or constants in ``consts``
    (input position -> array)."""

    name: str
    op: str
    inputs: tuple
    output: str
    attrs: dict = field(default_factory=dict)
    consts: dict = field(default_factory=dict)

    def apply(self, args: list) -> np.ndarray:
        return _DIGITAL[self.op](self, *args)


def _softmax(node, x):
    axis = node.attrs.get("axis", -1 if node.attrs.get("opset", 13) >= 13 else 1)
    if node.attrs.get("opset", 13) < 13:  # coerced to 2-D at axis
        shape = x.shape
        x2 = x.reshape(int(np.prod(shape[:axis % x.ndim])), -1)
        e = np.exp(x2 - x2.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).reshape(shape)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _reshape(node, x, shape):
    shape = [int(s) for s in np.asarray(shape).ravel()]
    if not node.attrs.get("allowzero", 0):
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    try:
        return x.reshape(shape)
    except ValueError:
        raise SpecError("--onnx", f"node {node.name!r} (Reshape) cannot make {tuple(x.shape)} into "
                        f"{tuple(shape)}", "a shape that keeps the batch free (0 or -1 first; "
                        "export with a dynamic batch dimension)") from None


def _flatten(node, x):
    axis = node.attrs.get("axis", 1) % (x.ndim or 1) if x.ndim else 0
    return x.reshape(int(np.prod(x.shape[:axis])), -1)


def _pool(node, x, kind):
    win = conv_window(node.attrs, tuple(node.attrs["kernel_shape"]), x.shape[2], x.shape[3])
    if kind == "max":
        return max_pool(x, win)
    return average_pool(x, win, bool(node.attrs.get("count_include_pad", 0)))


def _batchnorm(node, x, scale, bias, mean, var):
    s = scale / np.sqrt(var + node.attrs.get("epsilon", 1e-5))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean.reshape(shape)) * s.reshape(shape) + bias.reshape(shape)


_DIGITAL = {
    "Relu": lambda n, x: np.maximum(x, 0.0),
    "Add": lambda n, a, b: a + b,
    "Sigmoid": lambda n, x: 0.5 * (1.0 + np.tanh(0.5 * x)),
    "Tanh": lambda n, x: np.tanh(x),
    "Flatten": _flatten,
    "Reshape": _reshape,
    "MaxPool": lambda n, x: _pool(n, x, "max"),
    "AveragePool": lambda n, x: _pool(n, x, "average"),
    "GlobalAveragePool": lambda n, x: x.mean(axis=tuple(range(2, x.ndim)), keepdims=True),
    "BatchNormalization": _batchnorm,
    "Softmax": _softmax,
    "Concat": lambda n, *xs: np.concatenate(xs, axis=n.attrs["axis"]),
    "Transpose": lambda n, x: np.transpose(x, n.attrs.get("perm")),
    "Identity": lambda n, x: x,
    "Cast": lambda n, x: x,
}


@dataclass(frozen=True, eq=False)
class Graph:
    """Nodes in execution order, from the input tensor to the output tensor.

    ``input_shape``: the declared input shape, ``None`` for a dynamic dimension (the batch).
    """

    nodes: tuple
    input_name: str
    output_name: str
    input_shape: tuple

    @property
    def crossbars(self) -> list[Crossbar]:
        return [n for n in self.nodes if isinstance(n, Crossbar)]

    def describe(self) -> str:
        return " -> ".join(n.describe() if isinstance(n, Crossbar) else n.op for n in self.nodes)

    def check_input(self, x: np.ndarray, what: str = "--data") -> np.ndarray:
        """``x`` as float64, its shape checked against the declared one (dynamic dims free)."""
        x = np.asarray(x, dtype=float)
        want = self.input_shape
        if x.ndim != len(want) or any(w is not None and w != s for w, s in zip(want[1:], x.shape[1:])):
            shown = "(" + ", ".join("N" if w is None else str(w) for w in want) + ")"
            raise SpecError(what, f"has inputs of shape {x.shape}", f"{shown} (the model's input "
                            f"{self.input_name!r}; see --layout for NHWC data)")
        if not np.all(np.isfinite(x)):
            raise SpecError(what, "has non-finite inputs", "finite numbers")
        return x

    def run(self, x: np.ndarray, linear: Linear | None = None) -> np.ndarray:
        """The output for inputs ``x`` (the model's input shape, batch first); ``linear``:
        the crossbar layers' products (default exact float)."""
        env = {self.input_name: np.asarray(x, float)}
        k = 0
        for node in self.nodes:
            if isinstance(node, Crossbar):
                idx = k
                fn = ((lambda g, a, node=node: a @ node.weights[g].T) if linear is None
                      else (lambda g, a, idx=idx: linear(idx, g, a)))
                env[node.output] = node.apply(env[node.input], fn)
                k += 1
            else:
                args = [node.consts[i] if i in node.consts else env[name]
                        for i, name in enumerate(node.inputs)]
                env[node.output] = node.apply(args)
        return env[self.output_name]

    def layer_inputs(self, x: np.ndarray) -> list[list[np.ndarray]]:
        """The float input vectors of every crossbar layer and group, ``[[A_g (vectors, inputs_g)]]``."""
        seen = [[None] * len(c.weights) for c in self.crossbars]

        def record(k, g, a):
            seen[k][g] = a
            return a @ self.crossbars[k].weights[g].T
        self.run(x, record)
        return seen

    def logits(self, x: np.ndarray, linear: Linear | None = None) -> np.ndarray:
        """:meth:`run` flattened to ``(samples, classes)``."""
        out = self.run(x, linear)
        return out.reshape(out.shape[0], -1)
