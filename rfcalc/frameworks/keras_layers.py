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

import re
from dataclasses import replace
from math import prod

from .. import arithmetic as A
from ..errors import ShapeError, UnsupportedLayerError
from ..layers import (
    BatchNorm,
    Conv,
    ConvTranspose,
    Crop,
    Dense,
    DepthwiseConv,
    Flatten,
    GlobalPool,
    Identity,
    Pool,
    SeparableConv,
    Upsample,
    ZeroPad,
)
from ..propagate import Applied, Field, apply_layer, input_field, merge_fields  # noqa: F401 (doctests)
from .graph import refuse

MERGES = frozenset({"Add", "Multiply", "Average", "Subtract", "Maximum", "Minimum"})
PASS_THROUGH = frozenset(
    {  # leave shape and field alone, no weights
        "Activation",
        "ReLU",
        "LeakyReLU",
        "Softmax",
        "ELU",
        "Dropout",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "SpatialDropout3D",
        "GaussianNoise",
        "GaussianDropout",
        "AlphaDropout",
        "Rescaling",
        "Identity",
    }
)
# the windowed and spatial layers, one per rank Keras has: Conv1D ... Conv3DTranspose, UpSampling2D
RANKED = re.compile(
    r"(Conv|DepthwiseConv|SeparableConv|MaxPooling|AveragePooling|GlobalAveragePooling|"
    r"GlobalMaxPooling|ZeroPadding|Cropping|UpSampling)([123])D(Transpose)?"
)
SPATIAL_CLASSES = frozenset(
    [
        f"{f}{r}D"
        for f in (
            "Conv",
            "MaxPooling",
            "AveragePooling",
            "GlobalAveragePooling",
            "GlobalMaxPooling",
            "ZeroPadding",
            "Cropping",
            "UpSampling",
        )
        for r in (1, 2, 3)
    ]
    + [f"{f}{r}D" for f in ("DepthwiseConv", "SeparableConv") for r in (1, 2)]
    + [f"Conv{r}DTranspose" for r in (1, 2, 3)]
    + ["Resizing"]
)
SUPPORTED = frozenset(
    MERGES
    | PASS_THROUGH
    | SPATIAL_CLASSES
    | {
        "Concatenate",
        "PReLU",
        "BatchNormalization",
        "LayerNormalization",
        "Flatten",
        "Reshape",
        "Dense",
        "Normalization",
    }
)
INTERPOLATIONS = ("nearest", "bilinear")  # what rfcalc follows exactly; bicubic and lanczos read wider

# keras.ops applied to KerasTensors (``x + 3``, ``ops.relu(x)``): elementwise, so the field passes through
ELEMENTWISE_OPS = frozenset(
    {
        "Add",
        "Subtract",
        "Multiply",
        "Divide",
        "TrueDivide",
        "Maximum",
        "Minimum",
        "Negative",
        "Abs",
        "Square",
        "Sqrt",
        "Clip",
        "Relu",
        "Relu6",
        "Sigmoid",
        "HardSigmoid",
        "HardSilu",
        "Silu",
        "Tanh",
        "Gelu",
    }
)


def _ints(values) -> tuple[int, ...]:
    return tuple(int(v) for v in (values if isinstance(values, (list, tuple)) else (values,)))


def _act(op) -> str:
    fn = getattr(op, "activation", None)
    return getattr(fn, "__name__", "linear") if fn is not None else "linear"


def _prod(values) -> int:
    return prod(int(v) for v in values)


def unsupported(name: str, cls: str, why: str = "is not in rfcalc's list of Keras layers") -> UnsupportedLayerError:
    """The error for a layer rfcalc cannot analyse, with the identity escape hatch spelled out.

    >>> print(unsupported("up", "Lambda"))  # doctest: +ELLIPSIS
    layer 'up' (Lambda) is not in rfcalc's list of Keras layers. If it ... --identity up on the CLI
    """
    return refuse(name, cls, why)


def _conv(op, cls, field):
    k, s, d = _ints(op.kernel_size), _ints(op.strides), _ints(op.dilation_rate)
    common = dict(kernel=k, stride=s, dilation=d, padding=op.padding, activation=_act(op), use_bias=op.use_bias)
    if cls.startswith("DepthwiseConv"):
        return DepthwiseConv(depth_multiplier=int(op.depth_multiplier), **common), None
    if cls.startswith("SeparableConv"):
        return SeparableConv(filters=int(op.filters), depth_multiplier=int(op.depth_multiplier), **common), None
    if cls.endswith("Transpose"):
        extra = None if op.output_padding is None else _ints(op.output_padding)
        return ConvTranspose(filters=int(op.filters), output_padding=extra, **common), None
    layer = Conv(filters=int(op.filters), **common)
    groups = int(getattr(op, "groups", 1))
    if groups == 1:
        return layer, None
    c_in = field.shape[-1]
    if c_in % groups or layer.filters % groups:
        raise ShapeError(
            f"{cls} '{op.name}': channels must divide by groups. "
            f"Received: input channels={c_in}, filters={layer.filters}, groups={groups}"
        )
    applied = apply_layer(layer, field)
    taps = prod(k) * (c_in // groups)  # each filter reads only its group's channels
    return layer, replace(
        applied,
        trainable=taps * layer.filters + layer.filters * int(layer.use_bias),
        macs=prod(applied.field.shape[:-1]) * taps * layer.filters,
        flags=applied.flags + (f"groups={groups}",),
    )


def _upsample(op, cls, field):
    """UpSampling1D/2D/3D, and Resizing by whole factors, as an ``Upsample`` layer."""
    interpolation = getattr(op, "interpolation", "nearest")
    if interpolation not in INTERPOLATIONS:
        raise unsupported(
            op.name, cls, f"interpolates with {interpolation!r}; rfcalc follows 'nearest' and 'bilinear' only"
        )
    if cls != "Resizing":
        return Upsample(_ints(op.size), interpolation)
    h, w = field.shape[:2] if len(field.shape) == 3 else (None, None)
    size = (int(op.height), int(op.width))
    if h is None or size[0] % h or size[1] % w:
        raise unsupported(
            op.name,
            cls,
            f"resizes {field.shape[:-1]} to {size}, not by whole factors; rfcalc follows integer upsampling only",
        )
    factors = (size[0] // h, size[1] // w)
    if factors[0] != factors[1] and (op.crop_to_aspect_ratio or op.pad_to_aspect_ratio):
        raise unsupported(op.name, cls, f"crops or pads to the aspect ratio while scaling by {factors}")
    return Upsample(factors, interpolation)


def _pads(values) -> tuple:
    """Keras' ``padding``/``cropping``: ``(a, b)`` for 1-D, ``((a, b), ...)`` per axis otherwise."""
    values = tuple(values)
    if values and not isinstance(values[0], (tuple, list)):
        return (_ints(values),)
    return tuple(_ints(p) for p in values)


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
    broadcast: list[int] = []
    for dims in zip(*padded):
        sizes = set(dims) - {1}
        if len(sizes) > 1:
            raise ShapeError(f"{cls} cannot broadcast its inputs together. Received: shapes={shapes}")
        broadcast.append(sizes.pop() if sizes else 1)
    out = tuple(broadcast)
    full = [f for f, p in zip(fields, padded) if p == out] or fields[:1]
    rest = [f for f in fields if not any(f is g for g in full)]
    spread = [
        replace(f, shape=out) if f.rf is not None and len(out) == len(f.shape) else Field(out) for f in full + rest
    ]
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
    ranked = RANKED.fullmatch(cls)
    family = ranked.group(1) + (ranked.group(3) or "") if ranked else cls
    if family in ("Conv", "DepthwiseConv", "SeparableConv", "ConvTranspose"):
        layer, applied = _conv(op, cls, field)
    elif family in ("MaxPooling", "AveragePooling"):
        layer = Pool("max" if cls.startswith("Max") else "avg", _ints(op.pool_size), _ints(op.strides), op.padding)
        applied = None
    elif family in ("GlobalAveragePooling", "GlobalMaxPooling"):
        layer = GlobalPool("max" if "Max" in cls else "avg", len(field.shape) - 1)
        applied = apply_layer(layer, field)
        if getattr(op, "keepdims", False):  # a 1x1 map, but no longer a map of the image: rf None all the same
            applied = Applied(_collapsed(applied.field.shape, (1,) * (len(field.shape) - 1)))
    elif family in ("UpSampling", "Resizing"):
        layer, applied = _upsample(op, cls, field), None
    elif family == "ZeroPadding":
        layer, applied = ZeroPad(_pads(op.padding)), None
    elif family == "Cropping":
        layer, applied = Crop(_pads(op.cropping)), None
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
