"""One ONNX node in: the allow-list that maps an op on NCHW tensors to an rfcalc layer and an ``Applied``.

rfcalc's fields and rows are channels-last, as Keras' are: an ONNX tensor (N, C, H, W) is the
field shape (H, W, C), (N, C, L) is (L, C) and (N, C, D, H, W) is (D, H, W, C), so the same
network read from Keras and from ONNX gives the same rows. Windows (Conv, ConvTranspose,
pooling) are read in ``onnx_windows``. Parameters are not computed here: the adapter counts them
from the initializers' dims. Conventions: docs/frameworks.md.

>>> from rfcalc.propagate import input_field
>>> layer, out = read_op("Pad", "pad", {"pads": [0, 0, 1, 2, 0, 0, 1, 2]}, [input_field((8, 8, 3))])
>>> out.field.shape, out.padding
((10, 12, 3), ((1, 1), (2, 2)))
"""

from __future__ import annotations

from dataclasses import replace
from math import prod

from ..errors import ShapeError
from ..layers import BatchNorm, Crop, Dense, Flatten, GlobalPool, Identity, Upsample, ZeroPad
from ..propagate import Applied, Field, apply_layer, input_field, merge_fields
from .graph import refuse
from .keras_layers import elementwise_merge
from .onnx_fold import Folded
from .onnx_windows import CALL, nchw, spatial as _spatial, window

PASS_THROUGH = frozenset(
    {
        "Relu",
        "LeakyRelu",
        "Sigmoid",
        "HardSigmoid",
        "HardSwish",
        "Tanh",
        "Elu",
        "Selu",
        "Celu",
        "Softplus",
        "Softsign",
        "Gelu",
        "Erf",
        "Exp",
        "Log",
        "Neg",
        "Abs",
        "Sqrt",
        "Reciprocal",
        "Floor",
        "Ceil",
        "Round",
        "Sign",
        "Mish",
        "Softmax",
        "LogSoftmax",
        "Identity",
        "Dropout",
        "Cast",
        "Clip",
        "ThresholdedRelu",
        "Shrink",
        "Sin",
        "Cos",
        "PRelu",
        "InstanceNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "LpNormalization",
        "Pow",
    }
)
MERGES = frozenset({"Add", "Sub", "Mul", "Div", "Sum", "Max", "Min", "Mean"})
WINDOWS = frozenset({"Conv", "MaxPool", "AveragePool", "LpPool", "ConvTranspose"})
GLOBAL = {
    "GlobalAveragePool": "avg",
    "GlobalMaxPool": "max",
    "GlobalLpPool": "avg",
    "ReduceMean": "avg",
    "ReduceMax": "max",
    "ReduceSum": "avg",
    "ReduceL2": "avg",
}
RESHAPES = frozenset({"Flatten", "Reshape", "Squeeze", "Unsqueeze"})
SUPPORTED = (
    PASS_THROUGH
    | MERGES
    | WINDOWS
    | RESHAPES
    | set(GLOBAL)
    | {"BatchNormalization", "Concat", "Pad", "Slice", "Gemm", "MatMul", "Resize", "Upsample"}
)


def channels_last(shape) -> tuple:
    """rfcalc's shape of an ONNX tensor: (N, C, H, W) -> (H, W, C), (N, C, L) -> (L, C); (N, F) -> (F,)."""
    shape = tuple(shape)
    return (*shape[2:], shape[1]) if 3 <= len(shape) <= 5 else shape[1:]


def _collapsed(shape) -> Field:
    return Field(tuple(shape))


def _opt(ins, i):
    """The folded value of optional input ``i`` (None when left out or not known)."""
    return ins[i].value if len(ins) > i and isinstance(ins[i], Folded) else None


def _resize(name, op, field: Field, ins, attrs):
    """Resize / Upsample by whole factors, nearest or (half-pixel) linear: the core's Upsample."""
    field = _spatial(name, op, field)
    shape = nchw(field)
    mode = attrs.get("mode", "nearest")
    scales = attrs.get("scales") or _opt(ins, 2 if op == "Resize" else 1)
    sizes = _opt(ins, 3) if op == "Resize" else None
    if not scales and sizes:
        scales = [o / n for o, n in zip(sizes, shape)]
    if not scales:
        raise ShapeError("its scales or sizes are computed at run time from values rfcalc cannot fold")
    factors = list(scales)[2:]
    if list(scales)[:2] != [1, 1] or any(not float(f).is_integer() or f < 1 for f in factors):
        raise refuse(
            name, op, f"scales by {list(scales)}; rfcalc reads whole-number upsampling of the spatial axes", CALL
        )
    coords = attrs.get("coordinate_transformation_mode", "half_pixel")
    if mode == "linear" and coords not in ("half_pixel", "pytorch_half_pixel"):
        raise refuse(
            name,
            op,
            f"interpolates with coordinate_transformation_mode={coords!r}; rfcalc reads the half-pixel rule",
            CALL,
        )
    if mode not in ("nearest", "linear"):
        raise refuse(name, op, f"interpolates with mode={mode!r}; rfcalc reads nearest and linear", CALL)
    layer = Upsample(tuple(int(f) for f in factors), "bilinear" if mode == "linear" else "nearest")
    return layer, apply_layer(layer, field)


def _reshaped(op, name, field: Field, target: tuple):
    """Flatten/Reshape/Squeeze/Unsqueeze to the ONNX shape ``target``: a field only if nothing moved."""
    if tuple(target) == nchw(field):
        return Identity(op), Applied(field)
    if len(target) == 2 and target[1] == prod(field.shape):
        return (
            (Flatten(), apply_layer(Flatten(), field))
            if field.rf is not None
            else (Identity(op), Applied(_collapsed((target[1],))))
        )
    if 2 <= len(target) <= 5 and prod(target) == prod(field.shape):
        return Identity(op), Applied(_collapsed(channels_last(target)))
    raise refuse(
        name,
        op,
        f"reshapes {nchw(field)} to {tuple(target)}; rfcalc follows (N, C, H, W) and (N, features) tensors only",
        CALL,
    )


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
    axes = attrs.get("axes") or _opt(ins, 1)
    if op == "Squeeze":
        keep = [i for i, d in enumerate(shape) if (d != 1 if axes is None else i not in [a % len(shape) for a in axes])]
        return tuple(shape[i] for i in keep)
    out = list(shape)
    for a in sorted(a % (len(shape) + len(axes)) for a in axes):
        out.insert(a, 1)
    return tuple(out)


def _axis(field: Field, axis: int) -> int | None:
    """An ONNX axis (batch counted) as an axis of rfcalc's channels-last shape (None: the batch axis)."""
    axis %= len(field.shape) + 1
    if not axis:
        return None
    if field.spatial:
        return -1 if axis == 1 else axis - 2
    return axis - 1


def _slice(name, op, field: Field, ins, attrs):
    starts, ends = (_opt(ins, 1), _opt(ins, 2)) if len(ins) > 2 else (attrs.get("starts"), attrs.get("ends"))
    axes = _opt(ins, 3) or attrs.get("axes") or list(range(len(starts or ())))
    steps = _opt(ins, 4) or [1] * len(starts or ())
    if starts is None or ends is None or axes is None or steps is None:
        raise ShapeError("its starts, ends, axes or steps are computed at run time from values rfcalc cannot fold")
    shape = nchw(field)
    crops, channels = [[0, 0] for _ in shape[2:]], field.shape[-1]
    for b, e, a, st in zip(starts, ends, axes, steps):
        a %= len(shape)
        n = shape[a]
        b, e = (max(0, min(n, v + n if v < 0 else v)) for v in (b, e))
        if st != 1:
            raise refuse(name, op, f"slices with step {st}; rfcalc reads Slice as a crop", CALL)
        if a == 0:
            raise refuse(name, op, "slices the batch axis", CALL)
        if a == 1:
            channels = e - b
        else:
            crops[a - 2] = [b, n - e]
    layer = Crop(tuple((before, after) for before, after in crops))
    applied = apply_layer(layer, field)
    out = applied.field
    return layer, replace(applied, field=replace(out, shape=out.shape[:-1] + (channels,)))


def _pad(name, op, field: Field, ins, attrs):
    mode = attrs.get("mode", "constant")
    pads = _opt(ins, 1) or attrs.get("pads")
    if pads is None:
        raise ShapeError("its pads are computed at run time from values rfcalc cannot fold")
    rank = len(field.shape) + 1
    axes = _opt(ins, 3) or list(range(rank))
    full = [0] * (2 * rank)
    for i, a in enumerate(axes):
        full[a % rank], full[a % rank + rank] = pads[i], pads[i + len(axes)]
    if full[0] or full[1] or full[rank] or full[rank + 1] or min(full) < 0:
        raise refuse(name, op, f"pads the batch or channel axis or crops (pads={list(pads)})", CALL)
    if mode not in ("constant", "reflect", "edge"):
        raise refuse(name, op, f"pads in mode {mode!r}", CALL)
    layer = ZeroPad(tuple((full[a], full[a + rank]) for a in range(2, rank)), mode)
    applied = apply_layer(layer, field)
    return layer, applied if mode == "constant" else replace(applied, flags=applied.flags + (mode,))


def _dense(name, op, field: Field, weight: Folded | None, attrs, bias: bool):
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
    if len(data) == 1 and data[0].spatial and data[0].rf is None:
        stand_in = [input_field(f.shape) if f is data[0] else f for f in ins]
        layer, applied = _read(op, name, attrs, stand_in)
        return layer, replace(applied, field=_collapsed(applied.field.shape))
    return _read(op, name, attrs, ins)


def _read(op: str, name: str, attrs: dict, ins: list):
    data = [f for f in ins if isinstance(f, Field)]
    if op not in SUPPORTED:
        raise refuse(name, op, "is not in rfcalc's list of ONNX ops", CALL)
    if op in MERGES and len(data) > 1:
        return Identity(op), elementwise_merge(op, data)
    if op == "Concat":
        if len(data) != len(ins):
            raise refuse(name, op, "concatenates an image with a constant", CALL)
        axis = _axis(data[0], attrs.get("axis", 1))
        if axis is None:
            raise refuse(name, op, "concatenates along the batch axis", CALL)
        return Identity(op), merge_fields(data, axis)
    (field,) = data
    if op in PASS_THROUGH or op in MERGES:
        return Identity(op), Applied(field)
    if op in WINDOWS:
        return window(op, name, attrs, field, ins[1] if op in ("Conv", "ConvTranspose") else None)
    if op in ("Resize", "Upsample"):
        return _resize(name, op, field, ins, attrs)
    if op == "BatchNormalization":
        return BatchNorm(), Applied(field)
    if op in GLOBAL:
        field = _spatial(name, op, field)
        rank = len(field.shape) - 1
        layer = GlobalPool(GLOBAL[op], rank)
        if op.startswith("Reduce"):
            axes = attrs.get("axes") or _opt(ins, 1)
            if sorted(a % (rank + 2) for a in axes or ()) != list(range(2, rank + 2)):
                raise refuse(name, op, f"reduces axes {axes}; rfcalc reads it over all spatial axes only", CALL)
            if not attrs.get("keepdims", 1):
                return layer, apply_layer(layer, field)
        return layer, Applied(_collapsed((1,) * rank + (field.shape[-1],)))
    if op in RESHAPES:
        return _reshaped(op, name, field, _target(op, attrs, field, ins))
    if op == "Slice":
        return _slice(name, op, _spatial(name, op, field), ins, attrs)
    if op == "Pad":
        return _pad(name, op, _spatial(name, op, field), ins, attrs)
    weight = ins[1] if len(ins) > 1 and isinstance(ins[1], Folded) else None
    return _dense(name, op, field, weight, attrs, op == "Gemm" and len(ins) > 2 and ins[2].dims is not None)
