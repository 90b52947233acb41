"""Helpers for the ONNX tests: graphs built with onnx.helper, random weights, onnxruntime's shapes."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(0)


def weight(name, dims, positive=False):
    """A random float initializer (``positive``: BatchNorm variances)."""
    value = RNG.standard_normal(dims).astype(np.float32)
    return numpy_helper.from_array(np.abs(value) + 0.1 if positive else value, name)


def ints(name, values):
    return numpy_helper.from_array(np.asarray(values, np.int64), name)


def model(nodes, inits=(), shape=(1, 3, 32, 32), opset=17, inputs=None, name="g"):
    """A one-input model; every node's first output is a graph output so onnxruntime reports its shape."""
    ins = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))]
    outs = [
        helper.make_tensor_value_info(n.output[0], TensorProto.FLOAT, None)
        for n in nodes
        if n.op_type not in ("Constant", "Shape", "Gather", "Unsqueeze", "Concat") or n.output[0] == "y"
    ]
    graph = helper.make_graph(nodes, name, ins, outs[-1:], initializer=list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def filled(proto):
    """A copy whose float initializers without data get random values (onnxruntime needs data)."""
    out = onnx.ModelProto()
    out.CopyFrom(proto)
    for t in out.graph.initializer:
        if t.data_type == TensorProto.FLOAT and not t.raw_data and not t.float_data:
            value = np.abs(RNG.standard_normal(tuple(t.dims))).astype(np.float32) * 0.1 + 0.5
            t.CopyFrom(numpy_helper.from_array(value, t.name))
    return out


def ort_shapes(proto, tensors, shape=None):
    """onnxruntime's own shape of each named tensor (N, C, H, W) for a zero input."""
    import onnxruntime as ort

    m = filled(proto)
    del m.graph.output[:]
    m.graph.output.extend(helper.make_tensor_value_info(t, TensorProto.FLOAT, None) for t in tensors)
    inp = m.graph.input[0]
    dims = shape or [d.dim_value for d in inp.type.tensor_type.shape.dim]
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(m.SerializeToString(), options, providers=["CPUExecutionProvider"])
    outs = session.run(None, {inp.name: np.zeros(dims, np.float32)})
    return {t: tuple(o.shape) for t, o in zip(tensors, outs)}


def channels_last(shape):
    return (*shape[2:], shape[1]) if 3 <= len(shape) <= 5 else tuple(shape[1:])


def row_tensors(proto, analysis):
    """{row name: ONNX tensor name} for the rows of ``from_onnx(proto)``."""
    from rfcalc.frameworks.onnx import display_names

    by_name = {n: node.output[0] for n, node in zip(display_names(proto.graph.node), proto.graph.node)}
    return {r.name: by_name[r.name] for r in analysis.layers}


def assert_shapes_match_onnxruntime(proto, analysis, shape=None):
    tensors = row_tensors(proto, analysis)
    theirs = ort_shapes(proto, list(tensors.values()), shape)
    for row in analysis.layers:
        assert row.output_shape == channels_last(theirs[tensors[row.name]]), row.name
