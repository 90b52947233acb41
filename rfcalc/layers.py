"""Frozen layer values: what a spec string or a Keras model becomes.

Spatial settings are per-axis pairs ``(h, w)``. A value may be a ``Sym`` (a named integer
from a spec such as ``c{k}*{n}``); numeric analysis needs them bound, ``symbolic`` keeps them.

>>> Conv(kernel=(3, 3)).filters
32
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Union

from .errors import SpecError, SymbolError


@dataclass(frozen=True, slots=True)
class Sym:
    """A named positive integer in a spec, written ``{name}``."""

    name: str

    def __str__(self) -> str:
        return "{" + self.name + "}"


Dim = Union[int, Sym]
Pair = tuple[Dim, Dim]
Pads = tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))

PADDINGS = ("same", "valid")
ACTIVATIONS = ("linear", "relu", "softmax", "sigmoid", "tanh", "gelu", "swish", "elu", "relu6", "selu")


def _check_positive(owner: str, field: str, values) -> None:
    for v in values:
        if isinstance(v, int) and v < 1:
            raise SpecError(f"{owner}: {field} must be a positive integer. Received: {field}={v}")


def _check_choice(owner: str, field: str, value, choices) -> None:
    if value not in choices:
        raise SpecError(f"{owner}: {field} must be one of {', '.join(choices)}. Received: {field}={value!r}")


def _check_conv(layer, *counts: str) -> None:
    """The checks every conv kind shares, plus its own positive counts (filters, multiplier)."""
    owner = layer.keras_class
    for field in ("kernel", "stride", "dilation"):
        _check_positive(owner, field, getattr(layer, field))
    for field in counts:
        _check_positive(owner, field, (getattr(layer, field),))
    _check_choice(owner, "padding", layer.padding, PADDINGS)


@dataclass(frozen=True, slots=True)
class Conv:
    """Conv2D. Defaults are the notebook's: 32 filters, stride 1, 'same', ReLU, bias."""

    kernel: Pair
    stride: Pair = (1, 1)
    dilation: Pair = (1, 1)
    filters: Dim = 32
    padding: str = "same"
    activation: str = "relu"
    use_bias: bool = True

    keras_class = "Conv2D"

    def __post_init__(self):
        _check_conv(self, "filters")


@dataclass(frozen=True, slots=True)
class DepthwiseConv:
    """DepthwiseConv2D: one kernel per input channel (times ``depth_multiplier``)."""

    kernel: Pair
    stride: Pair = (1, 1)
    dilation: Pair = (1, 1)
    depth_multiplier: Dim = 1
    padding: str = "same"
    activation: str = "relu"
    use_bias: bool = True

    keras_class = "DepthwiseConv2D"

    def __post_init__(self):
        _check_conv(self, "depth_multiplier")


@dataclass(frozen=True, slots=True)
class SeparableConv:
    """SeparableConv2D: a depthwise conv followed by a 1x1 pointwise conv to ``filters``."""

    kernel: Pair
    stride: Pair = (1, 1)
    dilation: Pair = (1, 1)
    filters: Dim = 32
    depth_multiplier: Dim = 1
    padding: str = "same"
    activation: str = "relu"
    use_bias: bool = True

    keras_class = "SeparableConv2D"

    def __post_init__(self):
        _check_conv(self, "filters", "depth_multiplier")


@dataclass(frozen=True, slots=True)
class Pool:
    """MaxPooling2D (``op='max'``) or AveragePooling2D (``op='avg'``); stride defaults to the pool size."""

    op: str
    kernel: Pair
    stride: Pair | None = None
    padding: str = "valid"

    def __post_init__(self):
        _check_choice("Pooling2D", "op", self.op, ("max", "avg"))
        _check_positive(self.keras_class, "pool_size", self.kernel)
        if self.stride is None:
            object.__setattr__(self, "stride", self.kernel)
        _check_positive(self.keras_class, "strides", self.stride)
        _check_choice(self.keras_class, "padding", self.padding, PADDINGS)

    @property
    def keras_class(self) -> str:
        return "MaxPooling2D" if self.op == "max" else "AveragePooling2D"

    @property
    def dilation(self) -> Pair:
        return (1, 1)


@dataclass(frozen=True, slots=True)
class BatchNorm:
    """BatchNormalization over the last axis: 4·C parameters, 2·C of them non-trainable."""

    keras_class = "BatchNormalization"


@dataclass(frozen=True, slots=True)
class GlobalPool:
    """GlobalAveragePooling2D (``op='avg'``) or GlobalMaxPooling2D (``op='max'``)."""

    op: str

    def __post_init__(self):
        _check_choice("GlobalPooling2D", "op", self.op, ("max", "avg"))

    @property
    def keras_class(self) -> str:
        return "GlobalMaxPooling2D" if self.op == "max" else "GlobalAveragePooling2D"


@dataclass(frozen=True, slots=True)
class Flatten:
    """Flatten: the spatial extent ends here."""

    keras_class = "Flatten"


@dataclass(frozen=True, slots=True)
class Dense:
    """Dense. On a spatial input it acts on the last axis only, as Keras does (a 1x1 conv)."""

    units: Dim
    activation: str = "linear"
    use_bias: bool = True

    keras_class = "Dense"

    def __post_init__(self):
        _check_positive("Dense", "units", (self.units,))


@dataclass(frozen=True, slots=True)
class ZeroPad:
    """ZeroPadding2D: ``pads`` is ((top, bottom), (left, right))."""

    pads: Pads

    keras_class = "ZeroPadding2D"


@dataclass(frozen=True, slots=True)
class Crop:
    """Cropping2D: ``crops`` is ((top, bottom), (left, right))."""

    crops: Pads

    keras_class = "Cropping2D"


@dataclass(frozen=True, slots=True)
class Identity:
    """A layer that leaves shape and field alone (activation, dropout, rescaling, ...)."""

    label: str = "Identity"

    @property
    def keras_class(self) -> str:
        return self.label


@dataclass(frozen=True, slots=True)
class Repeat:
    """``body`` repeated ``count`` times; only kept when ``count`` is a symbol."""

    body: tuple
    count: Dim


Layer = Union[Conv, DepthwiseConv, SeparableConv, Pool, BatchNorm, GlobalPool, Flatten, Dense, ZeroPad, Crop, Identity]
Node = Union[Layer, Repeat]

SPATIAL = (Conv, DepthwiseConv, SeparableConv, Pool)


MAX_LAYERS = 100_000  # a spec that expands past this is refused before anything is built


def _subst(value, values: dict):
    if isinstance(value, Sym):
        if value.name not in values:
            return value
        n = values[value.name]
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise SymbolError(f"symbol {value} must be bound to a positive integer. Received: {value.name}={n!r}")
        return n
    if isinstance(value, tuple):
        return tuple(_subst(v, values) for v in value)
    return value


def symbols_of(nodes) -> tuple[str, ...]:
    """Names of the symbols in a layer tuple, in order of first appearance.

    >>> symbols_of((Conv((Sym("k"), Sym("k")), filters=Sym("C")),))
    ('k', 'C')
    """
    seen: dict[str, None] = {}

    def walk(value):
        if isinstance(value, Sym):
            seen.setdefault(value.name)
        elif isinstance(value, tuple):
            for v in value:
                walk(v)
        elif isinstance(value, Repeat):
            walk(value.body)
            walk(value.count)
        elif hasattr(value, "__dataclass_fields__"):
            for name in value.__dataclass_fields__:
                walk(getattr(value, name))

    walk(tuple(nodes))
    return tuple(seen)


def bind(nodes, values: dict) -> tuple:
    """Substitute numbers for symbols and unroll repeats whose count became a number.

    >>> bind((Repeat((Conv((Sym("k"), Sym("k"))),), Sym("n")),), {"k": 5, "n": 2})
    (Conv(kernel=(5, 5), stride=(1, 1), dilation=(1, 1), filters=32, padding='same', activation='relu', use_bias=True), Conv(kernel=(5, 5), stride=(1, 1), dilation=(1, 1), filters=32, padding='same', activation='relu', use_bias=True))
    """
    out: list = []

    def emit(node):
        if isinstance(node, Repeat):
            body = bind(node.body, values)
            count = _subst(node.count, values)
            if isinstance(count, Sym):
                out.append(Repeat(body, count))
                return
            if len(out) + len(body) * count > MAX_LAYERS:
                raise SpecError(f"the spec expands to {len(body) * count:,} layers; rfcalc analyses at most {MAX_LAYERS:,}")
            out.extend(body * count)
            return
        changes = {f.name: _subst(getattr(node, f.name), values) for f in fields(node)}
        out.append(replace(node, **changes) if changes else node)

    for node in nodes:
        emit(node)
    return tuple(out)
