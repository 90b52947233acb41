"""One Keras layer call in: the allow-list that maps it to an rfcalc layer value and an ``Applied``.

Every layer goes through ``propagate.apply_layer`` / ``merge_fields`` so the formulas live in one
place; ``frameworks.keras.from_keras`` walks the graph and calls ``map_layer`` once per layer call.
Nothing here imports Keras: layers are read through their attributes. Conventions: docs/keras.md.

>>> from types import SimpleNamespace as Op
>>> pool = Op(name="pool", pool_size=(2, 2), strides=(2, 2), padding="valid", data_format="channels_last")
>>> layer, applied = map_layer(pool, "MaxPooling2D", [input_field((8, 8, 3))])
>>> applied.field.shape, applied.field.rf, applied.field.jump
((4, 4, 3), (2, 2), (2, 2))
"""

from __future__ import annotations

from dataclasses import replace

from .. import arithmetic as A
from ..errors import ShapeError, UnsupportedLayerError
from ..layers import (
    BatchNorm, Conv, Crop, Dense, DepthwiseConv, Flatten, GlobalPool, Identity, Pool,
    SeparableConv, ZeroPad,
)
from ..propagate import Applied, Field, apply_layer, input_field, merge_fields  # noqa: F401 (doctests)

MERGES = frozenset({"Add", "Multiply", "Average", "Subtract", "Maximum", "Minimum"})
PASS_THROUGH = frozenset({  # leave shape and field alone, no weights
    "Activation", "ReLU", "LeakyReLU", "Softmax", "ELU", "Dropout", "SpatialDropout2D",
    "GaussianNoise", "GaussianDropout", "AlphaDropout", "Rescaling", "Identity",
})
SPATIAL_CLASSES = frozenset({
    "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D", "AveragePooling2D",
    "GlobalAveragePooling2D", "GlobalMaxPooling2D", "ZeroPadding2D", "Cropping2D",
})
SUPPORTED = frozenset(MERGES | PASS_THROUGH | SPATIAL_CLASSES | {
    "Concatenate", "PReLU", "BatchNormalization", "LayerNormalization", "Flatten", "Reshape", "Dense",
    "Normalization"})
# keras.ops applied to KerasTensors (``x + 3``, ``ops.relu(x)``): elementwise, so the field passes through
ELEMENTWISE_OPS = frozenset({
    "Add", "Subtract", "Multiply", "Divide", "TrueDivide", "Maximum", "Minimum", "Negative", "Abs",
    "Square", "Sqrt", "Clip", "Relu", "Relu6", "Sigmoid", "HardSigmoid", "HardSilu", "Silu", "Tanh", "Gelu",
})


def _pair(values) -> tuple[int, int]:
    return tuple(int(v) for v in values)


def _act(op) -> str:
    fn = getattr(op, "activation", None)
    return getattr(fn, "__name__", "linear") if fn is not None else "linear"


def _prod(values) -> int:
    n = 1
    for v in values:
        n *= int(v)
    return n


def unsupported(name: str, cls: str, why: str = "is not in rfcalc's list of Keras layers") -> UnsupportedLayerError:
    """The error for a layer rfcalc cannot analyse, with the identity escape hatch spelled out.

    >>> print(unsupported("up", "UpSampling2D"))  # doctest: +ELLIPSIS
    layer 'up' (UpSampling2D) is not in rfcalc's list of Keras layers. If it ... --identity up on the CLI
    """
    return UnsupportedLayerError(
        f"layer '{name}' ({cls}) {why}. If it leaves the shape and the receptive field unchanged, "
        f"treat it as identity: from_keras(model, identity=({name!r},)) in Python, "
        f"--identity {name} on the CLI")


def _conv(op, cls, field):
    k, s, d = _pair(op.kernel_size), _pair(op.strides), _pair(op.dilation_rate)
    common = dict(kernel=k, stride=s, dilation=d, padding=op.padding, activation=_act(op), use_bias=op.use_bias)
    if cls == "DepthwiseConv2D":
        return DepthwiseConv(depth_multiplier=int(op.depth_multiplier), **common), None
    if cls == "SeparableConv2D":
        return SeparableConv(filters=int(op.filters), depth_multiplier=int(op.depth_multiplier), **common), None
    layer = Conv(filters=int(op.filters), **common)
    groups = int(getattr(op, "groups", 1))
    if groups == 1:
        return layer, None
    c_in = field.shape[-1]
    if c_in % groups or layer.filters % groups:
        raise ShapeError(f"Conv2D '{op.name}': channels must divide by groups. "
                         f"Received: input channels={c_in}, filters={layer.filters}, groups={groups}")
    applied = apply_layer(layer, field)
    oh, ow, _ = applied.field.shape
    (kh, kw), per_group = k, c_in // groups  # each filter reads only its group's channels
    return layer, replace(applied, trainable=A.conv_params(kh, kw, per_group, layer.filters, layer.use_bias),
                          macs=A.conv_macs(oh, ow, kh, kw, per_group, layer.filters),
                          flags=applied.flags + (f"groups={groups}",))


def _batchnorm(op, field):
    axis = int(op.axis)
    if axis not in (-1, len(field.shape)):
        raise unsupported(op.name, "BatchNormalization", f"normalises axis {axis}, not the channel axis")
    c = field.shape[-1]
    trainable, frozen = A.batchnorm_params(c)
    if not (op.center and op.scale):
        trainable = c * (int(op.center) + int(op.scale))
    if getattr(op, "renorm", False):
        frozen += 3 * c  # moving_stddev, renorm_mean, renorm_stddev
    return BatchNorm(), Applied(field, trainable, frozen)


def _layernorm(op, field):
    full = (None,) + field.shape
    axes = op.axis if isinstance(op.axis, (list, tuple)) else [op.axis]
    n = _prod(full[a] for a in axes)
    rms = getattr(op, "rms_scaling", False)
    return Identity("LayerNormalization"), Applied(field, n * (int(op.scale or rms) + int(op.center and not rms)))


def _collapsed(shape, hw=()) -> Field:
    """A tensor without receptive field: flat, or an image-shaped tensor made from one (rf ``None``)."""
    return Field(tuple(hw) + tuple(shape))


def _reshape(op, field):
    target = list(op.target_shape)
    if -1 in target:
        known = _prod(t for t in target if t != -1)
        target[target.index(-1)] = _prod(field.shape) // known
    target = tuple(int(t) for t in target)
    if target == field.shape:
        return Identity("Reshape"), Applied(field)
    return Identity("Reshape"), Applied(_collapsed(target))  # pixels rearranged: no field to follow


def _normalization(op, field):
    frozen = 0
    if getattr(op, "input_mean", None) is None:  # adapt() weights: mean, variance (kept axes) and a count
        full = (None,) + field.shape
        kept = [full[a if a >= 0 else a + len(full)] for a in op.axis]
        frozen = 2 * _prod(kept) + 1
    return Identity("Normalization"), Applied(field, 0, frozen)


def elementwise_merge(cls: str, fields: list) -> Applied:
    """Elementwise merge with Keras/numpy broadcasting (a squeeze-excitation gate of shape (1, 1, C)).

    The result has the full-size paths' field; a broadcast input that still has a field counts in
    ``rf``/``rf_min`` too (a gate made by a global pool has none). Alignment is checked among
    full-size paths only; the flag ``broadcast`` marks the merge.

    >>> gated = elementwise_merge("Multiply", [input_field((4, 4, 2)), input_field((1, 1, 2))])
    >>> gated.field.shape, gated.field.rf, gated.flags
    ((4, 4, 2), (1, 1), ('broadcast',))
    """
    shapes = [f.shape for f in fields]
    if len(set(shapes)) == 1:
        return merge_fields(fields)
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    out = []
    for dims in zip(*padded):
        sizes = set(dims) - {1}
        if len(sizes) > 1:
            raise ShapeError(f"{cls} cannot broadcast its inputs together. Received: shapes={shapes}")
        out.append(sizes.pop() if sizes else 1)
    out = tuple(out)
    full = [f for f, p in zip(fields, padded) if p == out] or fields[:1]
    rest = [f for f in fields if not any(f is g for g in full)]
    spread = [replace(f, shape=out) if f.rf is not None and len(out) == len(f.shape) else Field(out)
              for f in full + rest]
    merged = merge_fields(spread)
    aligned = merge_fields([replace(f, shape=out) if f.rf is not None else f for f in full]) if len(full) > 1 else None
    flags = tuple(x for x in merged.flags if x != "misaligned") + (aligned.flags if aligned else ()) + ("broadcast",)
    return replace(merged, flags=flags)


def map_layer(op, cls: str, fields: list):
    """``(layer value, Applied)`` for one call of an allow-listed Keras layer on its input fields.

    An image-shaped input without a field (after ``GlobalPooling2D(keepdims=True)`` or a Reshape)
    is sized and counted as usual, and its output has no field either.
    """
    if cls not in SUPPORTED:
        raise unsupported(op.name, cls)
    if len(fields) == 1 and fields[0].spatial and fields[0].rf is None:
        layer, applied = _map(op, cls, [input_field(fields[0].shape)])  # a stand-in field for the sizes
        return layer, replace(applied, field=_collapsed(applied.field.shape))
    return _map(op, cls, fields)


def _map(op, cls: str, fields: list):
    if cls in MERGES:
        return Identity(cls), elementwise_merge(cls, fields)
    if cls == "Concatenate":
        axis = int(op.axis)  # Keras counts the batch axis, rfcalc's shapes do not
        if axis == 0:
            raise unsupported(op.name, cls, "concatenates along the batch axis")
        return Identity(cls), merge_fields(fields, axis - 1 if axis > 0 else axis)
    if len(fields) != 1:
        raise unsupported(op.name, cls, f"takes {len(fields)} inputs")
    (field,) = fields
    if cls in SPATIAL_CLASSES and getattr(op, "data_format", "channels_last") != "channels_last":
        raise unsupported(op.name, cls, "uses data_format='channels_first'; rfcalc reads channels_last models")
    if cls in PASS_THROUGH:
        return Identity(cls), Applied(field)
    if cls == "PReLU":
        shape = list(field.shape)
        for axis in op.shared_axes or ():
            shape[axis - 1] = 1
        return Identity(cls), Applied(field, _prod(shape))
    if cls in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
        layer, applied = _conv(op, cls, field)
    elif cls in ("MaxPooling2D", "AveragePooling2D"):
        layer = Pool("max" if cls.startswith("Max") else "avg", _pair(op.pool_size), _pair(op.strides), op.padding)
        applied = None
    elif cls in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        layer = GlobalPool("max" if "Max" in cls else "avg")
        applied = apply_layer(layer, field)
        if getattr(op, "keepdims", False):  # a 1x1 map, but no longer a map of the image: rf None all the same
            applied = Applied(_collapsed(applied.field.shape, (1, 1)))
    elif cls == "ZeroPadding2D":
        layer, applied = ZeroPad(tuple(_pair(p) for p in op.padding)), None
    elif cls == "Cropping2D":
        layer, applied = Crop(tuple(_pair(p) for p in op.cropping)), None
    elif cls == "BatchNormalization":
        layer, applied = _batchnorm(op, field)
    elif cls == "Flatten":
        layer, applied = Flatten(), None
    elif cls == "Dense":
        if getattr(op, "lora_enabled", False):
            raise unsupported(op.name, cls, "has LoRA weights enabled")
        layer, applied = Dense(int(op.units), _act(op), bool(op.use_bias)), None
    elif cls == "Reshape":
        layer, applied = _reshape(op, field)
    elif cls == "LayerNormalization":
        layer, applied = _layernorm(op, field)
    elif cls == "Normalization":
        layer, applied = _normalization(op, field)
    else:
        raise unsupported(op.name, cls)
    return layer, applied if applied is not None else apply_layer(layer, field)


def as_identity(op, cls: str, fields: list):
    """A layer the caller asked to treat as identity: field unchanged (merged if several), Keras' own weights.

    >>> from types import SimpleNamespace as Op
    >>> as_identity(Op(trainable_weights=[Op(shape=(3,))]), "LayerScale", [input_field((4, 4, 3))])[1].trainable
    3
    """
    applied = merge_fields(fields) if len(fields) > 1 else Applied(fields[0])
    trainable = sum(_prod(w.shape) for w in getattr(op, "trainable_weights", ()))
    frozen = sum(_prod(w.shape) for w in getattr(op, "non_trainable_weights", ()))
    flags = applied.flags + ("identity",)
    return Identity(cls), replace(applied, trainable=trainable, non_trainable=frozen, flags=flags)
