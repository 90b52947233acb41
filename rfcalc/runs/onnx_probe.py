"""Probes without TensorFlow: measure an ONNX model's fields with onnxruntime on a positive copy.

Method (docs/frameworks.md): the copy has every weight positive (``1/(fan_in·k)``, so values
neither vanish nor overflow through ~60 layers), biases, BatchNorm shifts and means zero, and
every op that could cancel a positive value or make one from nothing replaced (activations and
normalisations by Identity, ``Sub`` by ``Add``). Max pooling stays: on inputs >= 0 the max is
positive exactly when one of its inputs is. A unit of the copy is then positive exactly when its
field holds a positive input pixel, and the field's bounding box follows from ``2H + 2W`` inputs,
cumulative masks (rows <= r, rows >= r, the same for columns): the first mask that reaches a unit
is its field's edge. The analysis is not consulted; it only lists the layers to probe.

onnx, onnxruntime and numpy are imported inside the functions.
"""

from __future__ import annotations

import time

from ..errors import RFError

LINEARISED = frozenset({  # ops replaced by Identity in the copy (input 0 passes through)
    "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Celu", "Softplus",
    "Softsign", "Gelu", "Erf", "Exp", "Log", "Neg", "Abs", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round",
    "Sign", "Mish", "Softmax", "LogSoftmax", "Clip", "ThresholdedRelu", "Shrink", "PRelu", "Pow",
    "InstanceNormalization", "LayerNormalization", "GroupNormalization", "LpNormalization",
    "BatchNormalization",  # a per-channel affine map: Identity keeps exactly the support it would
})
ZERO_INPUTS = {"Conv": (2,), "Gemm": (2,), "ConvTranspose": (2,)}  # biases
SETTINGS = frozenset({"Resize", "Upsample", "Pad", "Clip", "Dropout", "Reshape", "Slice", "Expand", "Tile"})
BATCH = 16  # masks per onnxruntime run


def _fill(dims, fan: int):
    import numpy as np

    return np.full(tuple(dims), 1.0 / max(fan, 1), dtype=np.float32)


def positive_copy(proto, outputs):
    """A copy of ``proto`` whose units are positive exactly where their field reads a positive pixel.

    ``outputs`` are the tensor names the copy returns (the probed layers' outputs).
    """
    import math

    import onnx
    from onnx import helper, numpy_helper

    model = onnx.ModelProto()
    model.CopyFrom(proto)
    graph = model.graph
    _prune(graph, outputs)
    role = {}  # initializer name -> (op, input index) of its first consumer
    for node in graph.node:
        for i, name in enumerate(node.input):
            role.setdefault(name, (node.op_type, i))
    for t in graph.initializer:
        if t.data_type not in (1, 10, 11, 16):
            continue
        op, i = role.get(t.name, ("", 0))
        dims = list(t.dims)
        if op in SETTINGS:
            continue
        if i in ZERO_INPUTS.get(op, ()):
            value = _fill(dims, 1) * 0
        elif len(dims) <= 1:
            value = _fill(dims, 1)
        else:  # conv kernels (F, C/g, kh, kw) and matrices: 1/(fan_in·k)
            k = math.isqrt(math.prod(dims[2:])) if len(dims) > 2 else 1
            value = _fill(dims, math.prod(dims[1:]) // max(k, 1))
        t.CopyFrom(numpy_helper.from_array(value.astype(helper.tensor_dtype_to_np_dtype(t.data_type)), t.name))
    for node in graph.node:
        if node.op_type in LINEARISED:
            keep, out = node.input[0], node.output[0]
            del node.input[:], node.output[:], node.attribute[:]
            node.input.append(keep)
            node.output.append(out)
            node.op_type, node.domain = "Identity", ""
        elif node.op_type == "Sub":
            node.op_type = "Add"
    del graph.value_info[:]
    del graph.output[:]
    graph.output.extend(helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None) for n in outputs)
    return model


def _prune(graph, outputs) -> None:
    """Keep only the nodes the probed outputs depend on (the head after Flatten pins the batch size),
    and turn an Identity of an initializer (exporters' deduplicated weights) into its own initializer."""
    from onnx import TensorProto

    inits = {t.name: t for t in graph.initializer}
    for node in list(graph.node):
        if node.op_type == "Identity" and node.input[0] in inits and node.output[0] not in inits:
            t = TensorProto()
            t.CopyFrom(inits[node.input[0]])
            t.name = node.output[0]
            graph.initializer.append(t)
            inits[t.name] = t
    producer = {o: n for n in graph.node for o in n.output}
    need, todo = set(), list(outputs)
    while todo:
        name = todo.pop()
        node = producer.get(name)
        if node is not None and id(node) not in need:
            need.add(id(node))
            todo.extend(i for i in node.input if i and i not in inits)
    keep = [n for n in graph.node if id(n) in need]
    del graph.node[:]
    graph.node.extend(keep)
    used = {i for n in keep for i in n.input}
    live = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(live)


def _masks(h: int, w: int) -> list:
    """The 2H + 2W cumulative masks as (axis, 'lo' | 'hi', r): rows (axis 0) or columns <= r ('lo') or >= r."""
    return [(axis, side, r) for axis, n in ((0, h), (1, w)) for r in range(n) for side in ("lo", "hi")]


def _images(chunk, h: int, w: int, c: int):
    import numpy as np

    x = np.zeros((len(chunk), c, h, w), np.float32)
    for b, (axis, side, r) in enumerate(chunk):
        n = (h, w)[axis]
        sl = slice(0, r + 1) if side == "lo" else slice(r, n)
        if axis == 0:
            x[b, :, sl, :] = 1
        else:
            x[b, :, :, sl] = 1
    return x


def _inside(row, shape) -> bool:
    """The fields of the units the probe reads (the centre one and its neighbour) lie inside the input."""
    from .probes import _units

    pairs = [_units(n) for n in row.output_shape[:-1]]
    units = [tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)]
    return all(0 < lo and hi < n - 1 for u in units for (lo, hi), n in zip(row.field_of(u), shape))


def probe_onnx(model, input_shape=None, layer=None):
    """Measure rf, jump and start of every spatial layer of an ONNX model with onnxruntime.

    Returns the ``ProbeResult`` of ``rfcalc.probe``; it probes at the model's size, so without
    ``layer`` it probes the layers up to the first whose probed units' fields leave the input
    (with ``layer``, up to that one: such fields are measured ``clipped``).

    >>> probe_onnx("tests/fixtures/onnx/resnet18.onnx", layer="layer1.0.conv1").agree  # doctest: +SKIP
    True
    """
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as err:
        raise RFError(f"ONNX probes need onnxruntime: pip install 'rfcalc[onnx]'. Received: {err}") from None
    from ..frameworks.onnx import display_names, from_onnx, load_onnx
    from .probes import LayerProbe, ProbeResult, _measure_boxes, _units

    t0 = time.perf_counter()
    proto = load_onnx(model)
    analysis = from_onnx(model, input_shape)
    rows = [r for r in analysis.layers if r.spatial]
    if layer is not None:
        chosen = analysis.row(layer)
        if not chosen.spatial:
            raise RFError(f"layer {layer!r} has no spatial output to probe (it is {chosen.kind}); "
                          f"pick one of: {', '.join(r.name for r in rows)}")
        rows = rows[:rows.index(chosen) + 1]
    else:  # a field that leaves the input can only be measured clipped: stop before the first one
        fits = [_inside(row, analysis.input_shape) for row in rows]
        rows = rows[:fits.index(False)] if False in fits else rows
        rows = rows or [r for r in analysis.layers if r.spatial][:1]
    if not rows:
        raise RFError(f"{analysis.spec!r} has no spatial layer to probe")
    tensor = {n: node.output[0] for n, node in zip(display_names(proto.graph.node), proto.graph.node)}
    copy = positive_copy(proto, [tensor[r.name] for r in rows])
    if len(analysis.input_shape) != 3:
        raise RFError(f"the onnxruntime probe measures 2-D models (N, C, H, W). Received: input shape "
                      f"{analysis.input_shape} (channels last)")
    h, w, c = analysis.input_shape
    inp = next(i for i in copy.graph.input if i.name not in {t.name for t in copy.graph.initializer})
    for d, v in zip(inp.type.tensor_type.shape.dim, ("N", c, h, w)):
        d.Clear()
        if isinstance(v, str):
            d.dim_param = v
        else:
            d.dim_value = v
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3  # the BatchNorm weights the copy no longer reads are not news
    session = ort.InferenceSession(copy.SerializeToString(), options, providers=["CPUExecutionProvider"])
    units = [(_units(r.output_shape[0]), _units(r.output_shape[1])) for r in rows]
    picks = [((ui, uj), (vi, vj)) for (ui, vi), (uj, vj) in units]
    reach = [[{"lo": {}, "hi": {}}, {"lo": {}, "hi": {}}] for _ in rows]  # per layer, axis, side: unit -> r
    masks, passes = _masks(h, w), 0
    for b in range(0, len(masks), BATCH):
        chunk = masks[b:b + BATCH]
        outs = session.run(None, {inp.name: _images(chunk, h, w, c)})
        passes += 1
        for k, out in enumerate(outs):
            seen = np.asarray(out).sum(axis=1) > 0  # (batch, H', W')
            for (axis, side, r), hit in zip(chunk, seen):
                got = reach[k][axis][side]
                for unit in picks[k]:
                    if hit[unit]:
                        got[unit] = min(got.get(unit, r), r) if side == "lo" else max(got.get(unit, r), r)
    probes = []
    for k, row in enumerate(rows):
        u, v = picks[k]
        boxes = []
        for unit in (u, v):
            box = tuple((reach[k][a]["lo"].get(unit), reach[k][a]["hi"].get(unit)) for a in (0, 1))
            boxes.append(None if any(lo is None or hi is None for lo, hi in box) else box)
        rf, jump, start, clipped = _measure_boxes(boxes[0], boxes[1], u, v, (h, w))
        probes.append(LayerProbe(row.name, row.kind, row.output_shape, u, rf, jump, start,
                                 row.rf, row.jump, row.start, clipped, row.flags))
    top = layer if layer is not None else probes[-1].name
    return ProbeResult(analysis.spec, (h, w, c), (h, w, c), tuple(probes), top, passes,
                       time.perf_counter() - t0, analysis)
