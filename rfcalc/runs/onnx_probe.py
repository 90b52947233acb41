"""Probes without TensorFlow: measure an ONNX model's fields with onnxruntime on a positive copy.

Method (docs/frameworks.md): the copy has every weight positive (``1/(fan_in·k)``, so values
neither vanish nor overflow through ~60 layers), biases, BatchNorm shifts and means zero, and
every op that could cancel a positive value or make one from nothing replaced (activations and
normalisations by Identity, ``Sub`` by ``Add``). Max pooling stays: on inputs >= 0 the max is
positive exactly when one of its inputs is. A unit of the copy is then positive exactly when its
field holds a positive input pixel, and the field's bounding box follows from ``2·sum(sizes)``
inputs (rank 1, 2 or 3), cumulative masks (positions <= r, positions >= r, on one axis at a time):
the first mask that reaches a unit is its field's edge. The units probed and what is made of their
boxes (rf, rf_min over every output phase, jump, start, each unit against ``Row.field_of``) are
those of the gradient probe (``probes._plan``, ``probes.layer_probe``). The analysis is not
consulted for the measurement; it lists the layers and plans the units.

onnx, onnxruntime and numpy are imported inside the functions.
"""

from __future__ import annotations

import time

from ..errors import RFError
from ..frameworks.onnx_pointwise import POINTWISE
from .probe_result import ProbeResult, _plan, layer_probe, phases, probed_names

# ops replaced by Identity in the copy (input 0 passes through); BatchNormalization is a per-channel
# affine map: Identity keeps exactly the support it would
LINEARISED = POINTWISE | frozenset({"Softmax", "LogSoftmax", "BatchNormalization"})
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
    for node in graph.node:  # Keys' cubic kernel has negative lobes: no positive copy reads the same taps
        if node.op_type == "Resize" and any(a.name == "mode" and a.s == b"cubic" for a in node.attribute):
            raise RFError(
                f"the probe cannot measure layer '{node.name or node.output[0]}' (Resize, mode 'cubic'): "
                "its negative weights cancel in a positive copy; probe a layer before it "
                "(layer=...) or compare with onnxruntime by differences (rfcalc erf)"
            )
    role = {}  # initializer name -> (op, input index) of its first consumer
    for node in graph.node:
        for i, name in enumerate(node.input):
            role.setdefault(name, (node.op_type, i))
    for t in graph.initializer:
        op, i = role.get(t.name, ("", 0))
        if (op, i) == ("Resize", 3) and t.data_type == onnx.TensorProto.INT64:  # sizes pin the batch: make it BATCH
            t.CopyFrom(_batch_sizes(t))
        if t.data_type not in (1, 10, 11, 16):
            continue
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
        if node.op_type == "Constant" and role.get(node.output[0]) == ("Resize", 3):
            for a in node.attribute:
                if a.name == "value" and a.t.data_type == onnx.TensorProto.INT64:
                    a.t.CopyFrom(_batch_sizes(a.t))
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


def _batch_sizes(t):
    """A Resize ``sizes`` tensor with its batch entry set to the probe's ``BATCH``."""
    from onnx import numpy_helper

    sizes = numpy_helper.to_array(t).copy()
    sizes[0] = BATCH
    return numpy_helper.from_array(sizes, t.name)


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


def _masks(sizes) -> list:
    """The 2·sum(sizes) cumulative masks as (axis, 'lo' | 'hi', r): positions <= r ('lo') or >= r on one axis.

    >>> _masks((2,))
    [(0, 'lo', 0), (0, 'hi', 0), (0, 'lo', 1), (0, 'hi', 1)]
    """
    return [(axis, side, r) for axis, n in enumerate(sizes) for r in range(n) for side in ("lo", "hi")]


def _images(chunk, sizes, c: int):
    """A batch (BATCH, C, *sizes) of the masks in ``chunk``: 1 on the mask, 0 elsewhere (and in the images after)."""
    import numpy as np

    x = np.zeros((BATCH, c) + tuple(sizes), np.float32)
    for b, (axis, side, r) in enumerate(chunk):
        index = [b, slice(None)] + [slice(None)] * len(sizes)
        index[2 + axis] = slice(0, r + 1) if side == "lo" else slice(r, sizes[axis])
        x[tuple(index)] = 1
    return x


def _session(copy, sizes, c: int):
    """An onnxruntime session of ``copy`` with its image input fixed to (N, c, *sizes), and that input's name."""
    import onnxruntime as ort

    inp = next(i for i in copy.graph.input if i.name not in {t.name for t in copy.graph.initializer})
    for d, v in zip(inp.type.tensor_type.shape.dim, ("N", c) + tuple(sizes)):
        d.Clear()
        if isinstance(v, str):
            d.dim_param = v
        else:
            d.dim_value = v
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3  # the BatchNorm weights the copy no longer reads are not news
    return ort.InferenceSession(copy.SerializeToString(), options, providers=["CPUExecutionProvider"]), inp.name


def measure_spans(session, name, sizes, c: int, picks) -> tuple:
    """Per probed output ``k``, per unit in ``picks[k]``: its field's (first, last) input pixel per axis, or None.

    Runs the 2·sum(sizes) cumulative masks through ``session``: the smallest r whose mask
    'positions <= r' reaches a unit is its field's first pixel on that axis, the largest r whose
    'positions >= r' reaches it the last. Returns (spans, passes).
    """
    import numpy as np

    rank = len(sizes)
    lo = [np.full((len(u), rank), np.iinfo(np.int64).max) for u in picks]
    hi = [np.full((len(u), rank), -1) for u in picks]
    index = [tuple(np.array([u[a] for u in units]) for a in range(rank)) for units in picks]
    masks, passes = _masks(sizes), 0
    for b in range(0, len(masks), BATCH):
        chunk = masks[b : b + BATCH]
        try:
            outs = session.run(None, {name: _images(chunk, sizes, c)})
        except Exception as err:  # onnxruntime's own failures have no common base class of ours
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise RFError(f"onnxruntime cannot run the probe's copy of the model: {first}") from None
        passes += 1
        for k, out in enumerate(outs):
            seen = np.asarray(out).sum(axis=1) > 0  # (batch, *spatial)
            for (axis, side, r), hit in zip(chunk, seen):
                reached = hit[index[k]]  # one bool per unit
                if side == "lo":
                    lo[k][reached, axis] = np.minimum(lo[k][reached, axis], r)
                else:
                    hi[k][reached, axis] = np.maximum(hi[k][reached, axis], r)
    spans = []
    for k, units in enumerate(picks):
        spans.append(
            tuple(
                None if hi[k][i].min() < 0 else tuple((int(lo[k][i, a]), int(hi[k][i, a])) for a in range(rank))
                for i in range(len(units))
            )
        )
    return tuple(spans), passes


def _inside_prefix(analysis, names, sizes) -> tuple:
    """The leading ``names`` whose probed units' fields lie inside the input (the probe runs at its size)."""
    keep = []
    for n in names:
        row = analysis.row(n)
        _, units = _plan(row.output_shape[:-1], phases(analysis, n), row)
        if not all(lo > 0 and hi < size - 1 for u in units for (lo, hi), size in zip(row.field_of(u), sizes)):
            break
        keep.append(n)
    return tuple(keep)


def _image_shaped(proto, analysis, names, tensor) -> tuple:
    """The ``names`` whose tensors are (N, C, spatial...) images as their rows show them: a row of a
    tensor in another layout (NHWC around a LayerNorm, tokens) is not what the masks read."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(proto)
    except Exception:  # noqa: BLE001 - onnx's checker has no common base class; probe every row then
        return tuple(names)
    dims = {}
    for v in (*inferred.graph.value_info, *inferred.graph.output):
        shape = v.type.tensor_type.shape
        dims[v.name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in shape.dim)
    keep = []
    for n in names:
        d = dims.get(tensor[n])
        want = analysis.row(n).output_shape
        if d is None or (
            len(d) == len(want) + 1 and all(a is None or a == b for a, b in zip(d[1:], (want[-1], *want[:-1])))
        ):
            keep.append(n)
    return tuple(keep)


def probe_onnx(model, input_shape=None, layer=None):
    """Measure rf, rf_min, jump and start of every spatial layer of an ONNX model with onnxruntime.

    Rank 1, 2 and 3 (NCL, NCHW, NCDHW). The units probed, the measurement and the ``ProbeResult``
    are those of ``rfcalc.probe``: after upsampling or a transposed conv every output phase is
    probed and each unit's field is compared with ``Row.field_of``. It probes at the model's size
    (or ``input_shape``), so without ``layer`` it probes the layers up to the first whose probed
    units' fields leave the input; with ``layer``, such fields are measured ``clipped``.

    >>> probe_onnx("tests/fixtures/onnx/resnet18.onnx", layer="layer1.0.conv1").agree  # doctest: +SKIP
    True
    """
    try:
        import numpy  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as err:
        raise RFError(f"ONNX probes need onnxruntime: pip install 'rfcalc[onnx]'. Received: {err}") from None
    from ..frameworks.onnx import display_names, from_onnx, load_onnx

    t0 = time.perf_counter()
    proto = load_onnx(model)
    analysis = from_onnx(model, input_shape)
    names = probed_names(analysis, layer, analysis.spec)
    shape = tuple(analysis.input_shape)
    tensor = {n: node.output[0] for n, node in zip(display_names(proto.graph.node), proto.graph.node)}
    names = _image_shaped(proto, analysis, names, tensor) or names
    if layer is None:  # a field that leaves the input is only measured clipped: stop before the first one
        names = _inside_prefix(analysis, names, shape[:-1]) or names[:1]
    from .probe_limits import check_cost

    check_cost(
        analysis,
        len(_masks(shape[:-1])),
        f"probing {analysis.spec[:40]!r} on {'x'.join(map(str, shape))} "
        f"with onnxruntime ({len(_masks(shape[:-1]))} runs)",
        factor=1,
        upto=names[-1],
    )
    copy = positive_copy(proto, [tensor[n] for n in names])
    sizes, c = shape[:-1], shape[-1]
    session, name = _session(copy, sizes, c)
    plans = []
    for n in names:
        period = phases(analysis, n)
        plans.append((*_plan(analysis.row(n).output_shape[:-1], period, analysis.row(n)), period))
    spans, passes = measure_spans(session, name, sizes, c, [units for _, units, _ in plans])
    probes = tuple(
        layer_probe(n, analysis, analysis, first, units, period, s, shape)
        for n, (first, units, period), s in zip(names, plans, spans)
    )
    top = layer if layer is not None else probes[-1].name
    return ProbeResult(
        analysis.spec, shape, shape, probes, top, passes, time.perf_counter() - t0, analysis, runs="onnxruntime run(s)"
    )
