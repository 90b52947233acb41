"""ONNX in: ``from_onnx(path | ModelProto)`` reads a model as protobuf data and analyses it.

The file is parsed with onnx's protobuf classes only (``onnx.load(..., load_external_data=False)``):
nothing in it is executed, and weights are known by their dims, so a model whose initializers
carry no data (or whose external data files are missing) analyses all the same. Each node
becomes a ``graph.Node`` for the shared walk; ``onnx_ops`` maps its op, ``onnx_fold`` folds the
constant chains exporters emit. Rows are channels-last, as for Keras. Conventions: docs/frameworks.md.

onnx is imported inside the functions, never when this module loads.

>>> import rfcalc.frameworks.onnx as m; "onnx" in __import__("sys").modules  # doctest: +SKIP
False
"""

from __future__ import annotations

import os
from math import prod

from ..analysis import Analysis
from ..errors import RFError, ShapeError
from ..propagate import Field, input_field
from .graph import Node, refuse, walk
from .onnx_fold import Folded, fold, from_tensor
from .onnx_ops import CALL, channels_last, nchw, read_op

OPSETS = range(7, 24)  # the default-domain opsets whose attributes rfcalc reads (7 .. 23)
NO_PARAMS = frozenset({"Clip", "Pad", "Resize", "Upsample", "Dropout"})  # float inputs that are settings


def load_onnx(source):
    """The ``ModelProto`` of a path (parsed without external data) or the proto itself.

    >>> load_onnx("missing.onnx")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    rfcalc.errors.RFError: no ONNX model file at 'missing.onnx'
    """
    try:
        import onnx
    except ImportError as err:
        raise RFError(f"ONNX models need onnx: pip install 'rfcalc[onnx]'. Received: {err}") from None
    if isinstance(source, onnx.ModelProto):
        return source
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise RFError(f"no ONNX model file at {path!r}")
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as err:  # protobuf's DecodeError and friends
        text = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise RFError(f"{path!r} is not an ONNX model (protobuf), or it is truncated: {text}") from None
    if not model.graph.node or model.ir_version < 1:
        raise RFError(f"{path!r} is not an ONNX model, or it is truncated: it has no graph nodes")
    return model


def _opset(model) -> None:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx") and imp.version not in OPSETS:
            raise RFError(f"the model uses ONNX opset {imp.version}; rfcalc reads opsets "
                          f"{OPSETS.start} to {OPSETS.stop - 1}")


def _dims(value_info) -> tuple | None:
    t = value_info.type.tensor_type
    if not t.HasField("shape"):
        return None
    return tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in t.shape.dim)


def _input(model, inits, input_shape) -> tuple[str, tuple]:
    graph = model.graph
    ins = [i for i in graph.input if i.name not in inits]
    if len(ins) != 1:
        names = ", ".join(i.name for i in ins) or "none"
        raise ShapeError(f"rfcalc analyses models with one image input; this graph has {len(ins)}: {names}")
    dims = _dims(ins[0])
    if dims is None or len(dims) != 4:
        raise ShapeError(f"input '{ins[0].name}' has shape {dims}; rfcalc reads (N, C, H, W) image inputs "
                         "(1-D and 3-D inputs need the N-d core)")
    own = (dims[2], dims[3], dims[1])
    if input_shape is not None:
        input_shape = tuple(int(v) for v in input_shape)
        if len(input_shape) != 3 or any(o is not None and o != v for o, v in zip(own, input_shape)):
            raise ShapeError(f"input '{ins[0].name}' takes (H, W, C) = {own}. Received: input_shape={input_shape}")
        own = input_shape
    if None in own:
        raise ShapeError(f"input '{ins[0].name}' has dynamic sizes (H, W, C) = {own}: pass input_shape=(H, W, C), "
                         "on the CLI --input HxWxC")
    return ins[0].name, own


def _module_path(scopes: list[str]) -> str:
    """PyTorch's scope names (``layer1``, ``layer1.0``, ``conv1``) as a module path ``layer1.0.conv1``."""
    parts: list[str] = []
    for s in scopes:  # a Sequential's child is scoped 'parent.index': it replaces 'parent'
        if parts and s.startswith(parts[-1] + "."):
            parts[-1] = s
        else:
            parts.append(s)
    return ".".join(parts)


def display_names(nodes) -> list[str]:
    """Row names: the module path PyTorch writes into node names, else the node name, else its output.

    >>> from types import SimpleNamespace as N
    >>> display_names([N(name="/layer1/layer1.0/conv1/Conv", op_type="Conv", output=["a"]),
    ...                N(name="/layer1/layer1.0/Add", op_type="Add", output=["b"]),
    ...                N(name="/layer1/layer1.0/Add_1", op_type="Add", output=["c"]), N(name="", op_type="Relu", output=["r"])])
    ['layer1.0.conv1', 'layer1.0/Add', 'layer1.0/Add_1', 'r']
    """
    raw = []
    for node in nodes:
        if node.name.startswith("/"):
            parts = node.name.strip("/").split("/")
            raw.append((_module_path(parts[:-1]) or parts[-1], parts[-1]))
        else:
            raw.append((node.name or node.output[0], ""))
    count: dict = {}
    for base, _ in raw:
        count[base] = count.get(base, 0) + 1
    names, seen = [], set()
    for base, last in raw:
        name = f"{base}/{last}" if count[base] > 1 and last and base != last else base
        k, unique = 1, name
        while unique in seen:
            unique, k = f"{name}#{k}", k + 1
        seen.add(unique)
        names.append(unique)
    return names


def _attrs(node) -> dict:
    from onnx import helper

    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def _params(op, names, ins, counted: set) -> tuple[int, int]:
    """Trainable and non-trainable counts from the float initializers a node reads (each counted once)."""
    trainable = frozen = 0
    if op in NO_PARAMS:
        return 0, 0
    for i, (n, f) in enumerate(zip(names, ins)):
        if isinstance(f, Folded) and f.weight and f.dims is not None and n not in counted:
            counted.add(n)
            if op == "BatchNormalization" and i >= 3:  # running mean and variance
                frozen += f.size
            else:
                trainable += f.size
    return trainable, frozen


def _node(node, name: str, expect, counted: set, inits: dict) -> Node:
    from dataclasses import replace

    op = node.op_type
    attrs = _attrs(node)
    names = [i for i in node.input if i]

    def read(ins):
        if all(isinstance(f, Folded) for f in ins):
            return fold(op, ins, attrs)
        if op == "Shape":  # of an activation: its (N, C, H, W), batch 1
            shape = nchw(ins[0])[attrs.get("start", 0):attrs.get("end")]
            return Folded((len(shape),), shape)
        if node.domain not in ("", "ai.onnx"):
            raise refuse(name, op, f"is an op of the domain {node.domain!r} rfcalc does not know", CALL)
        layer, applied = read_op(op, name, attrs, ins)
        trainable, frozen = _params(op, names, ins, counted)
        return layer, replace(applied, trainable=trainable, non_trainable=frozen)

    def weights():  # the identity escape hatch: the node's own float initializers, trainable
        return _params(op, names, [from_tensor(inits[n]) if n in inits else None for n in names], counted)

    shape = expect.get(node.output[0])
    return Node(name, op, tuple(names), node.output[0], read, frozenset({node.name}), weights,
                channels_last(shape) if shape and len(shape) > 1 else None)


def from_onnx(model, input_shape=None, identity=()):
    """Analyse an ONNX model (a path or a ``ModelProto``); rows channels-last, as for Keras.

    ``input_shape`` (H, W, C) fills in dynamic sizes; ``identity`` names nodes (or op types) to
    treat as identity. Needs onnx (``pip install 'rfcalc[onnx]'``), never onnxruntime.

    >>> from_onnx("resnet50.onnx").rf  # doctest: +SKIP
    (427, 427)
    """
    from ..dsl import parse_shape

    proto = load_onnx(model)
    label = proto.graph.name or "onnx"
    if not isinstance(model, type(proto)):
        label = os.path.splitext(os.path.basename(os.fspath(model)))[0]
    _opset(proto)
    identity = (identity,) if isinstance(identity, str) else tuple(identity)
    if isinstance(input_shape, str):
        input_shape = parse_shape(input_shape)
    graph = proto.graph
    inits = {t.name: t for t in graph.initializer}
    in_name, shape = _input(proto, inits, input_shape)
    dynamic = any(d is None for d in (_dims(graph.input[[i.name for i in graph.input].index(in_name)]) or ())[1:])
    expect = {} if dynamic else {v.name: _dims(v) for v in (*graph.value_info, *graph.output)}
    counted: set = set()
    names = display_names(graph.node)
    nodes = [_node(n, nm, expect, counted, inits) for n, nm in zip(graph.node, names)]
    inputs = {in_name: (input_field(shape), in_name)}
    inputs.update({name: (from_tensor(t), name) for name, t in inits.items()})
    walked = walk(nodes, inputs, shape[:2], identity, "ONNX", last=in_name)
    missing = [n for n in identity if n not in walked.used]
    if missing:
        raise RFError(f"identity names no node of '{label}'. Received: {', '.join(missing)}")
    if not walked.rows:
        raise RFError(f"'{label}' has no node that reads its input")
    return Analysis(label, shape, tuple(walked.rows))


def count_weights(model) -> int:
    """All float initializer elements of a model (dims only): the parameter total a framework reports."""
    proto = load_onnx(model)
    return sum(prod(t.dims) for t in proto.graph.initializer if t.data_type in (1, 10, 11, 16))


__all__ = ["from_onnx", "load_onnx", "display_names", "Field"]
