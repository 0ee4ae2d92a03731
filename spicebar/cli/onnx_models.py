"""The ONNX demo's two models, made here with no download and no deep-learning framework.

- :func:`train_cnn`: a small convolutional network trained in numpy on scikit-learn's
  bundled digits (8x8 images, NCHW ``(N, 1, 8, 8)``, pixels in [0, 1]):
  ``Conv 1->8 3x3 pad 1, Relu, MaxPool 2 -> Conv 8->16 3x3 pad 1, Relu, MaxPool 2 ->
  Flatten 64 -> Gemm 64->32, Relu -> Gemm 32->10`` (Adam, seeded), written as ONNX
  with ``onnx.helper`` (:func:`export_cnn`).
- :func:`export_sklearn_mlp`: scikit-learn's ``MLPClassifier`` (64-32-10, the same
  images flattened) converted by ``skl2onnx``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..hardware.conv import Window, im2col

CNN_CHANNELS = (8, 16)
CNN_HIDDEN = 32
_WIN = Window((3, 3), pads=(1, 1, 1, 1))


def digits_images(seed: int = 0, test_fraction: float = 0.3):
    """``(x_train, x_test, y_train, y_test)``: digits as ``(N, 1, 8, 8)`` in [0, 1], stratified."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits()
    x = (d.images / 16.0)[:, None, :, :]
    return train_test_split(x, d.target.astype(np.int64), test_size=test_fraction,
                            random_state=seed, stratify=d.target)


def _pool(x):
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // 2, 2, w // 2, 2)
    out = blocks.max(axis=(3, 5))
    mask = blocks == out[:, :, :, None, :, None]
    return out, mask / mask.sum(axis=(3, 5), keepdims=True)


def _unpool(d, mask):
    n, c, h, _, w, _ = mask.shape
    return (mask * d[:, :, :, None, :, None]).reshape(n, c, 2 * h, 2 * w)


def _col2im(dcols, shape):
    """The adjoint of :func:`im2col` for the 3x3, pad-1, stride-1 window."""
    n, c, h, w = shape
    d = dcols.reshape(n, h, w, c, 3, 3)
    dx = np.zeros((n, c, h + 2, w + 2))
    for i in range(3):
        for j in range(3):
            dx[:, :, i:i + h, j:j + w] += d[..., i, j].transpose(0, 3, 1, 2)
    return dx[:, :, 1:-1, 1:-1]


def cnn_forward(p: dict, x: np.ndarray, keep: bool = False):
    """Logits ``(N, 10)`` (and the intermediates when ``keep``)."""
    n = x.shape[0]
    c1, _ = im2col(x, _WIN)
    z1 = (c1 @ p["W1"].reshape(CNN_CHANNELS[0], -1).T + p["b1"]).reshape(n, 8, 8, -1).transpose(0, 3, 1, 2)
    a1, m1 = _pool(np.maximum(z1, 0))
    c2, _ = im2col(a1, _WIN)
    z2 = (c2 @ p["W2"].reshape(CNN_CHANNELS[1], -1).T + p["b2"]).reshape(n, 4, 4, -1).transpose(0, 3, 1, 2)
    a2, m2 = _pool(np.maximum(z2, 0))
    f = a2.reshape(n, -1)
    h = np.maximum(f @ p["W3"].T + p["b3"], 0)
    out = h @ p["W4"].T + p["b4"]
    return (out, (c1, z1, m1, a1, c2, z2, m2, f, h)) if keep else out


def _grads(p, x, y):
    n = x.shape[0]
    out, (c1, z1, m1, a1, c2, z2, m2, f, h) = cnn_forward(p, x, keep=True)
    e = np.exp(out - out.max(1, keepdims=True))
    d = e / e.sum(1, keepdims=True)
    d[np.arange(n), y] -= 1.0
    d /= n
    g = {"W4": d.T @ h, "b4": d.sum(0)}
    dh = (d @ p["W4"]) * (h > 0)
    g["W3"], g["b3"] = dh.T @ f, dh.sum(0)
    dz2 = _unpool((dh @ p["W3"]).reshape(n, CNN_CHANNELS[1], 2, 2), m2) * (z2 > 0)
    dz2r = dz2.transpose(0, 2, 3, 1).reshape(-1, CNN_CHANNELS[1])
    g["W2"], g["b2"] = (dz2r.T @ c2).reshape(p["W2"].shape), dz2r.sum(0)
    da1 = _col2im(dz2r @ p["W2"].reshape(CNN_CHANNELS[1], -1), a1.shape)
    dz1 = _unpool(da1, m1) * (z1 > 0)
    dz1r = dz1.transpose(0, 2, 3, 1).reshape(-1, CNN_CHANNELS[0])
    g["W1"], g["b1"] = (dz1r.T @ c1).reshape(p["W1"].shape), dz1r.sum(0)
    return g


def train_cnn(x: np.ndarray, y: np.ndarray, seed: int = 0, epochs: int = 12, batch: int = 64,
              lr: float = 5e-3) -> dict:
    """The CNN's parameters (``W1 (8,1,3,3)``, ``b1``, ``W2 (16,8,3,3)``, ``b2``, ``W3 (32,64)``,
    ``b3``, ``W4 (10,32)``, ``b4``), trained by Adam on ``(x, y)``, seeded.

    The products are small: one BLAS thread (a few seconds; threads on a loaded machine
    made it ten times slower)."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):
        return _adam(x, y, seed, epochs, batch, lr)


def _adam(x, y, seed, epochs, batch, lr):
    rng = np.random.default_rng(seed)
    c1, c2 = CNN_CHANNELS
    shapes = {"W1": (c1, 1, 3, 3), "W2": (c2, c1, 3, 3), "W3": (CNN_HIDDEN, 4 * c2), "W4": (10, CNN_HIDDEN)}
    p = {}
    for k, s in shapes.items():
        p[k] = rng.normal(0, np.sqrt(2.0 / np.prod(s[1:])), s)
        p["b" + k[1:]] = np.zeros(s[0])
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v2 = {k: np.zeros_like(v) for k, v in p.items()}
    t = 0
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for i in range(0, len(y), batch):
            idx = order[i:i + batch]
            g = _grads(p, x[idx], y[idx])
            t += 1
            for k in p:
                m[k] = 0.9 * m[k] + 0.1 * g[k]
                v2[k] = 0.999 * v2[k] + 0.001 * g[k] ** 2
                p[k] -= lr * (m[k] / (1 - 0.9 ** t)) / (np.sqrt(v2[k] / (1 - 0.999 ** t)) + 1e-8)
    return p


def export_cnn(p: dict, path) -> Path:
    """Write the CNN as an ONNX model (opset 13, float32, dynamic batch ``N``); returns the path."""
    from onnx import TensorProto, helper, numpy_helper

    from ..io import atomic_output
    inits = [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in p.items()]
    nodes = [
        helper.make_node("Conv", ["images", "W1", "b1"], ["c1"], "conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], "relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], "pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "W2", "b2"], ["c2"], "conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], "relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], "pool2", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p2"], ["f"], "flatten", axis=1),
        helper.make_node("Gemm", ["f", "W3", "b3"], ["h"], "dense1", transB=1),
        helper.make_node("Relu", ["h"], ["r3"], "relu3"),
        helper.make_node("Gemm", ["r3", "W4", "b4"], ["logits"], "dense2", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "digits_cnn",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="spicebar-demo")
    model.ir_version = 8
    path = Path(path)
    with atomic_output(path) as f:
        f.write(model.SerializeToString())
    return path


def export_sklearn_mlp(x: np.ndarray, y: np.ndarray, path, seed: int = 0, max_iter: int = 400) -> Path:
    """Train scikit-learn's ``MLPClassifier`` (64-32-10 ReLU) on ``x`` ``(N, 64)`` and write it
    with ``skl2onnx`` (outputs ``label`` and ``probabilities``); returns the path."""
    import warnings

    from skl2onnx import to_onnx
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from ..io import atomic_output
    clf = MLPClassifier(hidden_layer_sizes=(CNN_HIDDEN,), alpha=1e-3, max_iter=max_iter,
                        random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x, y)
    model = to_onnx(clf, x[:1].astype(np.float32), options={"zipmap": False},
                    target_opset=13)
    path = Path(path)
    with atomic_output(path) as f:
        f.write(model.SerializeToString())
    return path
