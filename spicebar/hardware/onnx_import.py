"""An ONNX file as a :class:`spicebar.hardware.graph.Graph`.

The file is parsed by the ``onnx`` package (protocol buffers: data, nothing in it runs);
weights stored outside the file (ONNX "external data") are refused, so no path inside the
file is ever opened. Only the nodes the chosen output needs are imported; an operator
outside :data:`spicebar.hardware.graph.SUPPORTED_OPS` among them is refused, before
anything runs, with the node's name, its operator and the supported list.

``Conv`` (2-D, any strides, pads, dilations, groups), ``Gemm`` (``transA = 0``) and
``MatMul`` (weights constant) become crossbar layers; their weights come from
initializers or ``Constant`` nodes. A ``BatchNormalization`` right after a ``Conv`` or
``Gemm`` that nothing else reads is folded into its weights and bias; elsewhere it runs
digitally. Everything else runs digitally and exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SpecError
from .graph import CROSSBAR_OPS, SUPPORTED_OPS, Crossbar, Digital, Graph

#: Largest model file read, bytes.
MAX_MODEL_BYTES = 1 << 30

FLOAT_TYPES = (1, 10, 11, 16)   # FLOAT, FLOAT16, DOUBLE, BFLOAT16


def _onnx():
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise SpecError("--onnx", "needs the onnx package, which is not installed",
                        "pip install 'spicebar[onnx]'") from None
    return onnx, numpy_helper


def _attrs(node) -> dict:
    onnx, numpy_helper = _onnx()
    out = {}
    for a in node.attribute:
        value = onnx.helper.get_attribute_value(a)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif a.type == onnx.AttributeProto.TENSOR:
            value = numpy_helper.to_array(value)
        elif isinstance(value, (list, tuple)):
            value = tuple(value)
        out[a.name] = value
    return out


def _constant_value(node, attrs: dict) -> np.ndarray:
    for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if key in attrs:
            return np.asarray(attrs[key])
    raise SpecError("--onnx", f"Constant node {node.name!r} holds {sorted(attrs)}",
                    "a Constant with value, value_float(s) or value_int(s)")


def read_model(path):
    """The parsed ``ModelProto`` (checked: a readable file, no external data)."""
    onnx, _ = _onnx()
    p = Path(path)
    if not p.is_file():
        raise SpecError("--onnx", f"{str(path)!r} is not a file", "an existing .onnx file")
    if p.stat().st_size > MAX_MODEL_BYTES:
        raise SpecError("--onnx", f"{str(path)!r} has {p.stat().st_size} bytes", f"up to {MAX_MODEL_BYTES}")
    try:
        model = onnx.load(str(p), load_external_data=False)
    except Exception as exc:  # the protobuf parser's own errors
        raise SpecError("--onnx", f"{str(path)!r} is not a readable ONNX model ({exc})",
                        "a .onnx file written by an ONNX exporter") from None
    for t in model.graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            raise SpecError("--onnx", f"initializer {t.name!r} is stored in an external file",
                            "a model with its weights inside the .onnx file")
    return model


def _choose_output(graph, output: str | None) -> str:
    names = [o.name for o in graph.output]
    if output is not None:
        if output not in names:
            raise SpecError("--output", f"is {output!r}", "one of the model's outputs: " + ", ".join(names))
        return output
    for o in graph.output:
        if o.type.tensor_type.elem_type in FLOAT_TYPES:
            return o.name
    raise SpecError("--output", "is not given and the model has no float output",
                    "one of " + ", ".join(names))


def _needed(nodes, output: str) -> list:
    """The nodes the tensor ``output`` depends on, in file order."""
    producer = {o: i for i, n in enumerate(nodes) for o in n.output}
    keep, todo = set(), [output]
    while todo:
        name = todo.pop()
        i = producer.get(name)
        if i is None or i in keep:
            continue
        keep.add(i)
        todo.extend(x for x in nodes[i].input if x)
    return [nodes[i] for i in sorted(keep)]


def _check_ops(nodes) -> None:
    bad = [(n.name or f"#{i}", (n.domain + "." if n.domain not in ("", "ai.onnx") else "") + n.op_type)
           for i, n in enumerate(nodes) if n.op_type not in SUPPORTED_OPS
           or n.domain not in ("", "ai.onnx")]
    if bad:
        listed = "; ".join(f"node {name!r} is {op}" for name, op in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise SpecError("--onnx", f"has operators spicebar cannot run: {listed}{more}",
                        "the operators " + ", ".join(SUPPORTED_OPS))


def _const(consts, node, i, what):
    name = node.input[i] if i < len(node.input) else ""
    if name not in consts:
        raise SpecError("--onnx", f"node {node.name!r} ({node.op_type}) has its {what} {name!r} "
                        "computed at run time", f"{what} stored in the file (an initializer or a Constant)")
    return np.asarray(consts[name], dtype=float)


def _crossbar(node, attrs, consts) -> Crossbar:
    name = node.name
    if node.op_type == "Conv":
        w = _const(consts, node, 1, "weights")
        if w.ndim != 4:
            raise SpecError("--onnx", f"node {name!r} is a {w.ndim - 2}-D convolution", "2-D Conv (NCHW)")
        groups = int(attrs.get("group", 1))
        m = w.shape[0]
        if groups < 1 or m % groups:
            raise SpecError("--onnx", f"node {name!r} has group={groups} for {m} output channels",
                            "a group count dividing the output channels")
        m_g = m // groups
        weights = tuple(w[g * m_g:(g + 1) * m_g].reshape(m_g, -1) for g in range(groups))
        bias = _const(consts, node, 2, "bias") if len(node.input) > 2 and node.input[2] else np.zeros(m)
        keep = {k: attrs[k] for k in ("strides", "pads", "dilations", "auto_pad") if k in attrs}
        return Crossbar(name, "Conv", node.input[0], node.output[0], weights, bias,
                        {**keep, "kernel": (w.shape[2], w.shape[3]), "groups": groups})
    if node.op_type == "Gemm":
        if attrs.get("transA", 0):
            raise SpecError("--onnx", f"node {name!r} is a Gemm with transA=1", "transA=0")
        b = _const(consts, node, 1, "weights")
        w = float(attrs.get("alpha", 1.0)) * (b if attrs.get("transB", 0) else b.T)
        bias = np.zeros(w.shape[0])
        if len(node.input) > 2 and node.input[2]:
            c = float(attrs.get("beta", 1.0)) * _const(consts, node, 2, "bias")
            if c.size not in (1, w.shape[0]):
                raise SpecError("--onnx", f"node {name!r} has a bias C of shape {c.shape}",
                                f"a scalar or {w.shape[0]} values (one per output)")
            bias = np.broadcast_to(c.ravel(), (w.shape[0],)).copy()
        return Crossbar(name, "Gemm", node.input[0], node.output[0], (w,), bias)
    b = _const(consts, node, 1, "weights")  # MatMul: activations @ B
    if b.ndim != 2:
        raise SpecError("--onnx", f"node {name!r} multiplies by a {b.ndim}-D constant", "a 2-D weight matrix")
    return Crossbar(name, "MatMul", node.input[0], node.output[0], (b.T.copy(),), np.zeros(b.shape[1]))


def _fold_batchnorm(layer: Crossbar, bn_consts, eps: float) -> Crossbar:
    scale, shift, mean, var = bn_consts
    s = scale / np.sqrt(var + eps)
    m_g = layer.weights[0].shape[0]
    weights = tuple(w * s[g * m_g:(g + 1) * m_g, None] for g, w in enumerate(layer.weights))
    return Crossbar(layer.name, layer.op, layer.input, layer.output, weights,
                    (layer.bias - mean) * s + shift, layer.attrs)


def graph_from_model(model, output: str | None = None) -> Graph:
    """A :class:`Graph` computing ``output`` (default the model's first float output)."""
    _, numpy_helper = _onnx()
    g = model.graph
    opset = max([o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] or [13])
    consts = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    inputs = [i for i in g.input if i.name not in consts]
    if len(inputs) != 1:
        raise SpecError("--onnx", f"has {len(inputs)} inputs ({', '.join(i.name for i in inputs)})",
                        "exactly one input tensor (the data)")
    out_name = _choose_output(g, output)
    nodes = _needed(list(g.node), out_name)
    _check_ops(nodes)
    uses = {}
    for n in nodes:
        for x in n.input:
            uses[x] = uses.get(x, 0) + 1
    built = []
    for i, node in enumerate(nodes):
        if not node.name:
            node.name = f"{node.op_type}_{i}"
        attrs = _attrs(node)
        op = node.op_type
        if op == "Constant":
            consts[node.output[0]] = _constant_value(node, attrs)
            continue
        if op in ("MaxPool", "BatchNormalization") and len([o for o in node.output if o]) > 1 \
                and any(uses.get(o) for o in node.output[1:] if o):
            raise SpecError("--onnx", f"node {node.name!r} ({op}) has its extra outputs used",
                            "only the first output (inference mode)")
        if op in CROSSBAR_OPS:
            if node.input[0] in consts:
                raise SpecError("--onnx", f"node {node.name!r} ({op}) has a constant data input",
                                "data flowing from the model's input")
            built.append(_crossbar(node, attrs, consts))
            continue
        if op == "BatchNormalization":
            prev = built[-1] if built else None
            if (isinstance(prev, Crossbar) and prev.op in ("Conv", "Gemm") and prev.output == node.input[0]
                    and uses.get(prev.output) == 1 and prev.output != out_name):
                bn = [_const(consts, node, k, "BatchNormalization parameters") for k in (1, 2, 3, 4)]
                folded = _fold_batchnorm(prev, bn, float(attrs.get("epsilon", 1e-5)))
                built[-1] = Crossbar(folded.name, folded.op, folded.input, node.output[0],
                                     folded.weights, folded.bias, folded.attrs)
                continue
        if op in ("Reshape",) and node.input[1] not in consts:
            raise SpecError("--onnx", f"node {node.name!r} (Reshape) has a shape computed at run time",
                            "a constant shape (export with a fixed flatten, e.g. torch.flatten)")
        if op in ("MaxPool", "AveragePool") and len(attrs.get("kernel_shape", ())) != 2:
            raise SpecError("--onnx", f"node {node.name!r} ({op}) pools over "
                            f"{len(attrs.get('kernel_shape', ()))} axes", "2-D pooling (NCHW)")
        if op == "Cast" and attrs.get("to") not in FLOAT_TYPES:
            raise SpecError("--onnx", f"node {node.name!r} casts to ONNX type {attrs.get('to')}",
                            "Cast to a float type only (the data stays real)")
        if op == "Softmax":
            attrs["opset"] = opset
        present = [x for x in node.input]
        c = {k: np.asarray(consts[x], dtype=float) if op != "Reshape" else np.asarray(consts[x])
             for k, x in enumerate(present) if x in consts}
        built.append(Digital(node.name, op, tuple(present), node.output[0], attrs, c))
    dims = inputs[0].type.tensor_type.shape.dim
    shape = tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in dims)
    if not any(isinstance(n, Crossbar) for n in built):
        raise SpecError("--onnx", "has no Gemm, MatMul or Conv on the way to its output",
                        "a model with at least one layer for the crossbars")
    return Graph(tuple(built), inputs[0].name, out_name, shape)


def load_onnx(path, output: str | None = None) -> Graph:
    """Read ``path`` and import the part of it that computes ``output``."""
    return graph_from_model(read_model(path), output)
