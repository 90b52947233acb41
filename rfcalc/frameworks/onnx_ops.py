"""One ONNX node in: the allow-list that maps an op on NCHW tensors to an rfcalc layer and an ``Applied``.

rfcalc's fields and rows are channels-last, as Keras' are: an ONNX tensor (N, C, H, W) is the
field shape (H, W, C), so the same network read from Keras and from ONNX gives the same rows.
Explicit ``pads`` that equal TensorFlow's 'same' (or zero) read as 'same' ('valid'); others,
``SAME_LOWER`` and ``ceil_mode``'s extra after-padding become zero padding in front of a 'valid'
window, which is exact for rf, jump, start and shapes. Parameters are not computed here: the
adapter counts them from the initializers' dims. Conventions: docs/frameworks.md.

>>> from rfcalc.propagate import input_field
>>> layer, out = read_op("MaxPool", "pool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
...                      [input_field((112, 112, 64))])
>>> out.field.shape, out.field.rf, out.padding
((56, 56, 64), (3, 3), ((1, 1), (1, 1)))
"""

from __future__ import annotations

from dataclasses import replace
from math import prod

from .. import arithmetic as A
from ..errors import ShapeError
from ..layers import BatchNorm, Conv, Crop, Dense, DepthwiseConv, Flatten, GlobalPool, Identity, Pool, ZeroPad
from ..propagate import Applied, Field, apply_layer, merge_fields
from .graph import refuse
from .keras_layers import elementwise_merge
from .onnx_fold import Folded

CALL = "from_onnx(path"
PASS_THROUGH = frozenset({
    "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Celu", "Softplus",
    "Softsign", "Gelu", "Erf", "Exp", "Log", "Neg", "Abs", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round",
    "Sign", "Mish", "Softmax", "LogSoftmax", "Identity", "Dropout", "Cast", "Clip", "ThresholdedRelu",
    "Shrink", "Sin", "Cos", "PRelu", "InstanceNormalization", "LayerNormalization", "GroupNormalization",
    "LpNormalization", "Pow",
})
MERGES = frozenset({"Add", "Sub", "Mul", "Div", "Sum", "Max", "Min", "Mean"})
WINDOWS = frozenset({"Conv", "MaxPool", "AveragePool", "LpPool"})
GLOBAL = {"GlobalAveragePool": "avg", "GlobalMaxPool": "max", "GlobalLpPool": "avg",
          "ReduceMean": "avg", "ReduceMax": "max", "ReduceSum": "avg", "ReduceL2": "avg"}
RESHAPES = frozenset({"Flatten", "Reshape", "Squeeze", "Unsqueeze"})
NEEDS_ND = frozenset({"ConvTranspose", "Resize", "Upsample"})
SUPPORTED = PASS_THROUGH | MERGES | WINDOWS | RESHAPES | set(GLOBAL) | {
    "BatchNormalization", "Concat", "Pad", "Slice", "Gemm", "MatMul"}


def nchw(field: Field) -> tuple:
    """The ONNX shape (batch 1) of a tensor rfcalc holds as ``field``."""
    s = field.shape
    return (1, s[-1], *s[:-1]) if len(s) == 3 else (1, *s)


def channels_last(shape) -> tuple:
    """rfcalc's shape of an ONNX tensor: (N, C, H, W) -> (H, W, C); (N, F) -> (F,)."""
    shape = tuple(shape)
    return (*shape[2:], shape[1]) if len(shape) == 4 else shape[1:]


def _collapsed(shape) -> Field:
    return Field(tuple(shape), None, None, None, None)


def _spatial(name, op, field: Field) -> Field:
    if not isinstance(field, Field) or len(field.shape) != 3:
        shape = nchw(field) if isinstance(field, Field) else None
        raise refuse(name, op, f"reads a tensor of shape {shape}; rfcalc reads this op on (N, C, H, W) images", CALL)
    return field


def _pads(attrs, field: Field, k_eff, s, name, op):
    """Per axis (before, after) padding of a window from ``auto_pad`` / ``pads``."""
    auto = attrs.get("auto_pad", "NOTSET")
    n = field.shape[:2]
    if auto == "VALID":
        return ((0, 0), (0, 0))
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = [A.same_padding(n[i], k_eff[i], s[i]) for i in range(2)]
        return tuple(p[::-1] if auto == "SAME_LOWER" else p for p in pads)
    if auto != "NOTSET":
        raise refuse(name, op, f"has auto_pad={auto!r}", CALL)
    p = list(attrs.get("pads", [0, 0, 0, 0]))
    return ((p[0], p[2]), (p[1], p[3]))


def _ceil_extra(attrs, field, k_eff, s, pads):
    """PyTorch/ONNX ``ceil_mode``: the after-padding that makes the floor formula give the ceil size."""
    if not attrs.get("ceil_mode", 0):
        return pads
    out = []
    for i in range(2):
        n, (b, a) = field.shape[i], pads[i]
        size = -(-(n + b + a - k_eff[i]) // s[i]) + 1
        if (size - 1) * s[i] >= n + b:  # the last window must start inside the input or its left padding
            size -= 1
        out.append((b, max(a, (size - 1) * s[i] + k_eff[i] - n - b)))
    return tuple(out)


def windowed(make, pads, field: Field):
    """``make(padding)`` applied with explicit ``pads``: 'valid' or 'same' where they match, else padding first.

    >>> from rfcalc.propagate import input_field
    >>> _, out = windowed(lambda p: Conv((7, 7), (2, 2), padding=p), ((3, 3), (3, 3)), input_field((224, 224, 3)))
    >>> out.field.shape, out.field.start, out.padding
    ((112, 112, 32), (Fraction(0, 1), Fraction(0, 1)), ((3, 3), (3, 3)))
    """
    valid = make("valid")
    if all(p == (0, 0) for p in pads):
        return valid, apply_layer(valid, field)
    same = make("same")
    applied = apply_layer(same, field)
    if applied.padding == tuple(pads):
        return same, applied
    padded = apply_layer(ZeroPad(tuple(pads)), field).field
    return valid, replace(apply_layer(valid, padded), padding=tuple(pads))


def _window(op, name, attrs, field, weight):
    field = _spatial(name, op, field)
    if op == "Conv":
        k = tuple(weight.dims[2:]) if weight.dims else tuple(attrs["kernel_shape"])
    else:
        k = tuple(attrs["kernel_shape"])
    if len(k) != 2:
        raise refuse(name, op, f"has a {len(k)}-d kernel {k}; this rfcalc reads 2-D windows", CALL)
    s = tuple(attrs.get("strides", (1, 1)))
    d = tuple(attrs.get("dilations", (1, 1)))
    k_eff = tuple(A.effective_kernel(k[i], d[i]) for i in range(2))
    pads = _ceil_extra(attrs, field, k_eff, s, _pads(attrs, field, k_eff, s, name, op))
    if op != "Conv":
        if d != (1, 1):
            raise refuse(name, op, f"has dilations={list(d)}; rfcalc's pooling windows are not dilated", CALL)
        kind = "max" if op == "MaxPool" else "avg"
        return windowed(lambda p: Pool(kind, k, s, p), pads, field)
    c_in, filters, groups = field.shape[-1], weight.dims[0], int(attrs.get("group", 1))
    common = dict(kernel=k, stride=s, dilation=d, activation="linear")
    if groups == 1:
        return windowed(lambda p: Conv(filters=filters, padding=p, **common), pads, field)
    if groups == c_in and filters % c_in == 0:
        return windowed(lambda p: DepthwiseConv(depth_multiplier=filters // c_in, padding=p, **common), pads, field)
    if c_in % groups or filters % groups:
        raise ShapeError(f"channels must divide by groups. Received: input channels={c_in}, "
                         f"filters={filters}, group={groups}")
    layer, applied = windowed(lambda p: Conv(filters=filters, padding=p, **common), pads, field)
    oh, ow, _ = applied.field.shape
    return layer, replace(applied, macs=A.conv_macs(oh, ow, *k, c_in // groups, filters),
                          flags=applied.flags + (f"groups={groups}",))


def _reshaped(op, name, field: Field, target: tuple):
    """Flatten/Reshape/Squeeze/Unsqueeze to the ONNX shape ``target``: a field only if nothing moved."""
    if tuple(target) == nchw(field):
        return Identity(op), Applied(field)
    if len(target) == 2 and target[1] == prod(field.shape):
        return (Flatten(), apply_layer(Flatten(), field)) if field.rf is not None else (
            Identity(op), Applied(_collapsed((target[1],))))
    if len(target) in (2, 4) and prod(target) == prod(field.shape):
        return Identity(op), Applied(_collapsed(channels_last(target)))
    raise refuse(name, op, f"reshapes {nchw(field)} to {tuple(target)}; rfcalc follows (N, C, H, W) and "
                 "(N, features) tensors only", CALL)


def _target(op, attrs, field: Field, ins) -> tuple:
    shape = nchw(field)
    if op == "Flatten":
        axis = attrs.get("axis", 1) % len(shape)
        return (prod(shape[:axis]), prod(shape[axis:]))
    if op == "Reshape":
        spec = ins[1].value if len(ins) > 1 and isinstance(ins[1], Folded) else None
        if spec is None:
            raise ShapeError("its target shape is computed at run time from values rfcalc cannot fold")
        out = [shape[i] if v == 0 and not attrs.get("allowzero", 0) else v for i, v in enumerate(spec)]
        if -1 in out:
            known = prod(v for v in out if v != -1)
            out[out.index(-1)] = prod(shape) // known
        return tuple(out)
    axes = attrs.get("axes") or (ins[1].value if len(ins) > 1 and isinstance(ins[1], Folded) else None)
    if op == "Squeeze":
        keep = [i for i, d in enumerate(shape) if (d != 1 if axes is None else i not in [a % len(shape) for a in axes])]
        return tuple(shape[i] for i in keep)
    out = list(shape)
    for a in sorted(a % (len(shape) + len(axes)) for a in axes):
        out.insert(a, 1)
    return tuple(out)


def _axis(field: Field, axis: int) -> int:
    """An ONNX axis (batch counted) as an axis of rfcalc's channels-last shape."""
    rank = len(field.shape) + 1
    axis %= rank
    if len(field.shape) == 3:
        return {1: 2, 2: 0, 3: 1}[axis] if axis else -99
    return axis - 1 if axis else -99


def _slice(name, op, field: Field, ins, attrs):
    starts, ends = (ins[1].value, ins[2].value) if len(ins) > 2 else (attrs.get("starts"), attrs.get("ends"))
    axes = ins[3].value if len(ins) > 3 else attrs.get("axes", list(range(len(starts or ()))))
    steps = ins[4].value if len(ins) > 4 else [1] * len(starts or ())
    if starts is None or ends is None or axes is None or steps is None:
        raise ShapeError("its starts, ends, axes or steps are computed at run time from values rfcalc cannot fold")
    crops, shape = [[0, 0], [0, 0]], nchw(field)
    channels = field.shape[-1]
    for b, e, a, st in zip(starts, ends, axes, steps):
        a %= len(shape)
        n = shape[a]
        b, e = (max(0, min(n, v + n if v < 0 else v)) for v in (b, e))
        if st != 1:
            raise refuse(name, op, f"slices with step {st}; rfcalc reads Slice as a crop", CALL)
        if a == 0 or len(shape) != 4:
            raise refuse(name, op, f"slices axis {a} of a tensor of shape {shape}; rfcalc reads Slice as a crop", CALL)
        if a == 1:
            channels = e - b
        else:
            crops[a - 2] = [b, n - e]
    applied = apply_layer(Crop(tuple(tuple(c) for c in crops)), field)
    out = applied.field
    return Crop(tuple(tuple(c) for c in crops)), replace(applied, field=replace(out, shape=out.shape[:2] + (channels,)))


def _pad(name, op, field: Field, ins, attrs):
    mode = attrs.get("mode", "constant")
    pads = ins[1].value if len(ins) > 1 else attrs.get("pads")
    if pads is None:
        raise ShapeError("its pads are computed at run time from values rfcalc cannot fold")
    axes = ins[3].value if len(ins) > 3 and ins[3].value else list(range(4))
    full = [0] * 8
    for i, a in enumerate(axes):
        full[a % 4], full[a % 4 + 4] = pads[i], pads[i + len(axes)]
    if full[0] or full[1] or full[4] or full[5] or min(full) < 0:
        raise refuse(name, op, f"pads the batch or channel axis or crops (pads={list(pads)})", CALL)
    layer = ZeroPad(((full[2], full[6]), (full[3], full[7])))
    applied = apply_layer(layer, field)
    return layer, applied if mode == "constant" else replace(applied, flags=applied.flags + (mode,))


def _dense(name, op, field: Field, weight: Folded, attrs, bias: bool):
    if field.rf is not None:
        raise refuse(name, op, f"multiplies a (N, C, H, W) tensor; rfcalc reads {op} after Flatten", CALL)
    if weight is None or weight.dims is None or len(weight.dims) != 2 or attrs.get("transA", 0):
        raise refuse(name, op, "does not multiply by a constant 2-d weight", CALL)
    units = weight.dims[0] if attrs.get("transB", 0) else weight.dims[1]
    layer = Dense(units, "linear", bias)
    return layer, apply_layer(layer, field)


def read_op(op: str, name: str, attrs: dict, ins: list):
    """``(layer, Applied)`` for one allow-listed ONNX node; ``ins`` holds ``Field`` and ``Folded`` inputs.

    An image-shaped input without a field (a squeeze-excitation branch after a global pool) is
    sized as usual, and its output has no field either. Raises ``UnsupportedLayerError`` naming
    the node for an op or setting rfcalc does not read.
    """
    data = [f for f in ins if isinstance(f, Field)]
    if len(data) == 1 and len(data[0].shape) == 3 and data[0].rf is None:
        stand_in = [Field(f.shape) if f is data[0] else f for f in ins]
        layer, applied = _read(op, name, attrs, stand_in)
        return layer, replace(applied, field=_collapsed(applied.field.shape))
    return _read(op, name, attrs, ins)


def _read(op: str, name: str, attrs: dict, ins: list):
    data = [f for f in ins if isinstance(f, Field)]
    if op in NEEDS_ND:
        raise refuse(name, op, "needs rfcalc's N-d core (transposed convolution and upsampling), "
                     "which this build does not have", CALL)
    if op not in SUPPORTED:
        raise refuse(name, op, "is not in rfcalc's list of ONNX ops", CALL)
    if op in MERGES and len(data) > 1:
        return Identity(op), elementwise_merge(op, data)
    if op == "Concat":
        if len(data) != len(ins):
            raise refuse(name, op, "concatenates an image with a constant", CALL)
        axis = _axis(data[0], attrs.get("axis", 1))
        if axis == -99:
            raise refuse(name, op, "concatenates along the batch axis", CALL)
        return Identity(op), merge_fields(data, axis)
    (field,) = data
    if op in PASS_THROUGH or op in MERGES:
        return Identity(op), Applied(field)
    if op in WINDOWS:
        return _window(op, name, attrs, field, ins[1] if op == "Conv" else None)
    if op == "BatchNormalization":
        return BatchNorm(), Applied(field)
    if op in GLOBAL:
        field = _spatial(name, op, field)
        if op.startswith("Reduce"):
            axes = attrs.get("axes") or (ins[1].value if len(ins) > 1 else None)
            if sorted(a % 4 for a in axes or ()) != [2, 3]:
                raise refuse(name, op, f"reduces axes {axes}; rfcalc reads it over (H, W) only", CALL)
            if not attrs.get("keepdims", 1):
                return GlobalPool(GLOBAL[op]), apply_layer(GlobalPool(GLOBAL[op]), field)
        layer = GlobalPool(GLOBAL[op])
        return layer, Applied(_collapsed((1, 1, apply_layer(layer, field).field.shape[-1])))
    if op in RESHAPES:
        return _reshaped(op, name, field, _target(op, attrs, field, ins))
    if op == "Slice":
        return _slice(name, op, _spatial(name, op, field), ins, attrs)
    if op == "Pad":
        return _pad(name, op, _spatial(name, op, field), ins, attrs)
    weight = ins[1] if len(ins) > 1 and isinstance(ins[1], Folded) else None
    return _dense(name, op, field, weight, attrs, op == "Gemm" and len(ins) > 2)
