"""ONNX in: ``from_onnx(path | ModelProto)`` reads a model as protobuf data and analyses it.

The file is read as protobuf data by ``onnx_wire`` (no onnx import, which alone takes seconds):
nothing in it is executed, external data is never opened, and weights are known by their dims, so a model whose initializers
carry no data (or whose external data files are missing) analyses all the same. Each node
becomes a ``graph.Node`` for the shared walk; ``onnx_ops`` maps its op, ``onnx_fold`` folds the
constant chains exporters emit. Rows are channels-last, as for Keras. Conventions: docs/frameworks.md.

Analysing imports nothing outside the standard library; ``load_onnx`` (for probes) imports onnx.
"""

from __future__ import annotations

import os
from dataclasses import replace as dc_replace
from math import prod

from ..analysis import Analysis
from ..errors import RFError, ShapeError
from ..propagate import Applied, input_field
from . import onnx_wire as wire
from .axes_fields import Tensor, onnx_shape
from .axes_views import view
from .graph import Node, refuse, walk
from .onnx_external import with_external
from .onnx_fold import Folded, fold, from_tensor
from .onnx_ops import read_op
from .onnx_params import layer_params, roles_of
from .onnx_windows import CALL

LATEST = 23  # the opset a file that names none is read as (any opset is read: ops differ by name)


def load_onnx(source):
    """The onnx ``ModelProto`` of a path (parsed without external data) or the proto itself (for probes).

    >>> load_onnx("missing.onnx")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    rfcalc.errors.RFError: no ONNX model file at 'missing.onnx'
    """
    if type(source).__name__ == "ModelProto":
        return source
    read_model(source)  # the same checks and messages as from_onnx
    try:
        import onnx
    except ImportError as err:
        raise RFError(f"this needs onnx: pip install 'rfcalc[onnx]'. Received: {err}") from None
    return onnx.load(os.fspath(source), load_external_data=False)


def read_model(source) -> wire.Model:
    """The structure of an ONNX model (a path, bytes or a ``ModelProto``), read from its protobuf bytes."""
    if hasattr(source, "SerializeToString"):
        data, label = source.SerializeToString(), "the model"
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data, label = source, "the bytes"
    else:
        if not isinstance(source, (str, os.PathLike)):
            raise TypeError(f"an ONNX model is a path, bytes or an onnx.ModelProto. Received: {type(source).__name__}")
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise RFError(f"no ONNX model file at {path!r}")
        with open(path, "rb") as fh:
            data, label = fh.read(), repr(path)
    try:
        model = wire.parse(data)
    except wire.WireError as err:
        raise RFError(f"{label} is not an ONNX model (protobuf), or it is truncated: {err}") from None
    if not model.graph.node or model.ir_version < 1:
        raise RFError(f"{label} is not an ONNX model, or it is truncated: it has no graph nodes")
    if isinstance(source, (str, os.PathLike)):  # small tables torch wrote to the external data file
        model = with_external(model, os.path.dirname(os.path.abspath(os.fspath(source))))
    return model


def _opset(model: wire.Model) -> int:
    """The default domain's opset (attributes that became inputs are read in either form)."""
    for domain in ("", "ai.onnx"):
        if domain in model.opsets:
            return model.opsets[domain]
    return LATEST


def _input(model, inits, input_shape) -> tuple[str, tuple]:
    graph = model.graph
    ins = [i for i in graph.input if i.name not in inits]
    if len(ins) != 1:
        names = ", ".join(i.name for i in ins) or "none"
        raise ShapeError(f"rfcalc analyses models with one image input; this graph has {len(ins)}: {names}")
    dims = ins[0].dims
    if dims is None or not 3 <= len(dims) <= 5:
        raise ShapeError(
            f"input '{ins[0].name}' has shape {dims}; rfcalc reads (N, C, L) signals, (N, C, H, W) "
            "images and (N, C, D, H, W) volumes"
        )
    own = (*dims[2:], dims[1])
    if input_shape is not None:
        input_shape = tuple(int(v) for v in input_shape)
        if len(input_shape) != len(own) or any(o is not None and o != v for o, v in zip(own, input_shape)):
            raise ShapeError(
                f"input '{ins[0].name}' takes (spatial sizes, channels) = {own}. Received: input_shape={input_shape}"
            )
        own = input_shape
    if None in own:
        letters = {2: "L, C", 3: "H, W, C", 4: "D, H, W, C"}.get(len(own), "H, W, C")
        raise ShapeError(
            f"input '{ins[0].name}' has dynamic sizes {own} (spatial sizes, channels): pass input_shape=({letters})"
        )
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


def _check(name, op, out, theirs) -> None:
    """rfcalc's ONNX shape of an output (its current layout, batch 1) against the file's own."""
    if theirs is None:
        return
    ours = onnx_shape(out)
    if len(ours) != len(theirs) or any(t is not None and t != o for o, t in zip(ours[1:], theirs[1:])):
        raise ShapeError(
            f"layer '{name}' ({op}): rfcalc computes the ONNX shape {ours} but the file has "
            f"{tuple(theirs)}; rfcalc does not understand this layer's settings"
        )


def _bounded(t):
    return dc_replace(t, bound=True) if hasattr(t, "bound") and t.axes is not None else t


def _node(
    node, name: str, expect, stored: dict, inits: dict, known: dict, opset: int, roles: dict, aliases: dict
) -> Node:
    op = node.op_type
    attrs = node.attrs
    slots = list(node.input)
    names = [i for i in slots if i]
    more = tuple(node.output[1:])

    def read(ins):
        it = iter(ins)  # by position again: an empty name is an optional input left out
        ins = [next(it) if n else Folded(None) for n in slots]
        if all(isinstance(f, Folded) for f in ins):
            value = fold(op, ins, attrs, aliases)
            dims = known.get(node.output[0])
            if value.dims is None and dims is not None:  # a chain rfcalc does not infer: the file's own shape
                value = dc_replace(value, dims=dims)
            # every output by name, the first included (BatchNormalization in training mode, as weight
            # standardisation writes it, has three: the walk sets each output from this tuple)
            return (None, value, (value, *(Folded(None),) * len(more))) if more else value
        if op in ("Shape", "Size"):  # of an activation: its ONNX shape in its current layout, batch 1
            shape = onnx_shape(next(f for f in ins if not isinstance(f, Folded)))
            if op == "Size":
                return Folded((), (prod(shape),))
            shape = shape[attrs.get("start", 0) : attrs.get("end")]
            return Folded((len(shape),), shape)
        if node.domain not in ("", "ai.onnx"):
            raise refuse(name, op, f"is an op of the domain {node.domain!r} rfcalc does not know", CALL)
        if op in ("Conv", "ConvTranspose") and len(ins) > 1 and not (isinstance(ins[1], Folded) and ins[1].dims):
            why = (
                "reads a weight computed at run time whose shape rfcalc cannot infer (and the file records none)"
                if isinstance(ins[1], Folded)
                else "takes its weight from an activation (a dynamic convolution)"
            )
            raise refuse(name, op, why, CALL)
        layer, a, *rest = read_op(op, name, attrs, ins, opset, len(node.output))
        if "bound" in a.flags or any(f.bound for f in ins if type(f) is Tensor):  # an upper bound stays one
            a = dc_replace(a, field=_bounded(a.field), flags=tuple(dict.fromkeys(a.flags + ("bound",))))
            rest = [tuple(_bounded(f) for f in rest[0])] if rest else rest
        _check(name, op, a.field, expect.get(node.output[0]))
        for k, f in zip(more, rest[0] if rest else ()):
            _check(name, op, f, expect.get(k))
        trainable, frozen = layer_params(op, ins, stored)
        shown = view(a.field)  # the row shows the image view; the walk passes the tensor on
        applied = Applied(shown, trainable, frozen, a.macs, a.padding, a.flags)
        if shown is a.field and not rest:
            return layer, applied
        return layer, applied, (a.field, *(rest[0] if rest else ()))

    def weights():  # the identity escape hatch: the node's own float initializers, trainable
        return layer_params(op, [from_tensor(inits[n], roles[n]) for n in names if n in inits], stored)

    return Node(
        name, op, tuple(names), node.output[0], read, frozenset({node.name}), weights, outputs=(node.output[0], *more)
    )


def from_onnx(model, input_shape=None, identity=()):
    """Analyse an ONNX model (a path or a ``ModelProto``); rows channels-last, as for Keras.

    ``model`` is a path, the file's bytes or an onnx ``ModelProto``. ``input_shape`` (H, W, C) fills
    in dynamic sizes; ``identity`` names nodes (or op types) to treat as identity. Imports neither
    onnx nor onnxruntime.

    >>> from_onnx("resnet50.onnx").rf  # doctest: +SKIP
    (427, 427)
    """
    from ..dsl import parse_shape

    proto = read_model(model)
    label = proto.graph.name or "onnx"
    if isinstance(model, (str, os.PathLike)):
        label = os.path.splitext(os.path.basename(os.fspath(model)))[0]
    opset = _opset(proto)
    if not isinstance(identity, (str, tuple, list, set, frozenset)):
        raise TypeError(
            f"identity is a node name or op type, or a sequence of them. Received: {type(identity).__name__}"
        )
    identity = (identity,) if isinstance(identity, str) else tuple(identity)
    if isinstance(input_shape, str):
        input_shape = parse_shape(input_shape)
    graph = proto.graph
    inits = {t.name: t for t in graph.initializer}
    in_name, shape = _input(proto, inits, input_shape)
    dynamic = any(d is None for d in next(i.dims for i in graph.input if i.name == in_name)[1:])
    expect = {} if dynamic else {v.name: v.dims for v in (*graph.value_info, *graph.output)}
    known = {v.name: v.dims for v in graph.value_info if v.dims is not None and None not in v.dims}
    stored: dict = {}
    roles = roles_of(inits, ((v.name, v.meta) for v in (*graph.value_info, *graph.input)), graph.meta)
    aliases: dict = {}  # onnx_fold's exact values of constants read through Identity aliases, this read only
    names = display_names(graph.node)
    nodes = [_node(n, nm, expect, stored, inits, known, opset, roles, aliases) for n, nm in zip(graph.node, names)]
    inputs = {in_name: (input_field(shape), in_name)}
    inputs.update({name: (from_tensor(t, roles[name]), name) for name, t in inits.items()})
    try:
        walked = walk(nodes, inputs, shape[:-1], identity, "ONNX", last=in_name)
    except RFError:
        raise
    except (TypeError, KeyError, IndexError, ValueError, ZeroDivisionError, AttributeError) as err:
        # a damaged file can decode to a graph with impossible attributes: one line, not a traceback
        raise RFError(f"'{label}' has a malformed graph ({type(err).__name__}: {err})") from None
    missing = [n for n in identity if n not in walked.used]
    if missing:
        raise RFError(f"identity names no node of '{label}'. Received: {', '.join(missing)}")
    if not walked.rows:
        raise RFError(f"'{label}' has no node that reads its input")
    return Analysis(label, shape, tuple(walked.rows), stored_params=sum(stored.values()))


__all__ = ["from_onnx", "read_model", "load_onnx", "display_names"]
