"""Frozen layer values: what a spec string or a Keras model becomes.

Spatial settings are per-axis tuples, one entry per spatial axis: ``(3,)`` for a 1-D layer,
``(3, 3)`` for 2-D, ``(3, 3, 3)`` for 3-D; the rank of a layer is the length of its kernel (or
pads), and ``keras_class`` follows it (``Conv1D``, ``Conv2D``, ``Conv3D``). A value may be a
``Sym`` (a named integer from a spec such as ``c{k}*{n}``); numeric analysis needs them bound,
``symbolic`` keeps them.

>>> Conv(kernel=(3, 3)).filters, Conv((3,)).keras_class, Conv((3,)).stride
(32, 'Conv1D', (1,))
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .errors import SpecError
from .symbols import MAX_LAYERS, Dim, Repeat, Schedule, Sym, bind, symbols_of  # noqa: F401 (the layer vocabulary)

Pair = tuple[Dim, ...]  # one entry per spatial axis
Pads = tuple[tuple[int, int], ...]  # one (before, after) pair per spatial axis

PADDINGS = ("same", "valid")
ACTIVATIONS = ("linear", "relu", "softmax", "sigmoid", "tanh", "gelu", "swish", "elu", "relu6", "selu")
PAD_MODES = ("constant", "reflect", "edge")
INTERPOLATIONS = ("nearest", "bilinear")


def _check_positive(owner: str, field: str, values) -> None:
    for v in values:
        if isinstance(v, int) and v < 1:
            raise SpecError(f"{owner}: {field} must be a positive integer. Received: {field}={v}")


def _check_choice(owner: str, field: str, value, choices) -> None:
    if value not in choices:
        raise SpecError(f"{owner}: {field} must be one of {', '.join(choices)}. Received: {field}={value!r}")


def _check_rank(owner: str, rank: int, **values) -> None:
    if not 1 <= rank <= 3:
        raise SpecError(f"{owner}: rfcalc knows 1-D, 2-D and 3-D layers. Received: {_received(values)}")
    for value in values.values():
        if value is not None and len(value) != rank:
            raise SpecError(f"{owner}: every per-axis setting needs {rank} entries. Received: {_received(values)}")


def _received(values: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items() if v is not None)


def _explicit_pads(owner: str, rank: int, pads) -> Pads:
    """Validate explicit (before, after) pairs, one per axis."""
    ok = (
        isinstance(pads, tuple)
        and len(pads) == rank
        and all(isinstance(p, tuple) and len(p) == 2 and all(isinstance(v, int) and v >= 0 for v in p) for p in pads)
    )
    if not ok:
        raise SpecError(
            f"{owner}: explicit padding is one (before, after) pair of non-negative integers "
            f"per axis ({rank} here). Received: padding={pads!r}"
        )
    return pads


def _axes(layer, *names: str) -> None:
    """Fill per-axis defaults (None: ones) and check every per-axis field has one entry per axis."""
    rank = len(layer.kernel)
    for name in names:
        if getattr(layer, name) is None:
            object.__setattr__(layer, name, (1,) * rank)
        else:
            object.__setattr__(layer, name, tuple(getattr(layer, name)))
    _check_rank(
        type(layer).__name__ if rank not in (1, 2, 3) else layer.keras_class,
        rank,
        **{"kernel": layer.kernel, **{n: getattr(layer, n) for n in names}},
    )


def _check_padding(layer, causal_ok: bool) -> None:
    owner, rank = layer.keras_class, len(layer.kernel)
    if isinstance(layer.padding, tuple):
        _explicit_pads(owner, rank, layer.padding)
    elif layer.padding == "causal":
        if not causal_ok or rank != 1:
            raise SpecError(
                f"{owner}: padding='causal' is for 1-D convolutions (Conv1D) only. "
                f"Received: padding='causal', kernel={layer.kernel}"
            )
    else:
        _check_choice(owner, "padding", layer.padding, PADDINGS)


def _check_conv(layer, *counts: str, ranks=(1, 2, 3), causal_ok=False) -> None:
    """The checks every conv kind shares, plus its own positive counts (filters, multiplier)."""
    object.__setattr__(layer, "kernel", tuple(layer.kernel))
    rank = len(layer.kernel)
    if rank in (1, 2, 3) and rank not in ranks:
        kind = type(layer).__name__
        raise SpecError(
            f"{kind}: Keras has no {rank}-D {kind} (only {', '.join(f'{r}-D' for r in ranks)}). "
            f"Received: kernel={layer.kernel}"
        )
    _axes(layer, "stride", "dilation")
    owner = layer.keras_class
    for field in ("kernel", "stride", "dilation"):
        _check_positive(owner, field, getattr(layer, field))
    for field in counts:
        _check_positive(owner, field, (getattr(layer, field),))
    _check_padding(layer, causal_ok)


@dataclass(frozen=True, slots=True)
class Conv:
    """Conv1D/2D/3D. Defaults are the notebook's: 32 filters, stride 1, 'same', ReLU, bias.

    ``padding`` is 'same', 'valid', 'causal' (1-D only: all padding before) or explicit
    ``((before, after), ...)`` pairs, one per axis (ONNX / PyTorch pads).
    """

    kernel: Pair
    stride: Pair = None  # type: ignore[assignment]  # None: ones, filled in by __post_init__
    dilation: Pair = None  # type: ignore[assignment]  # None: ones, filled in by __post_init__
    filters: Dim = 32
    padding: str | Pads = "same"
    activation: str = "relu"
    use_bias: bool = True

    @property
    def keras_class(self) -> str:
        return f"Conv{len(self.kernel)}D"

    def __post_init__(self):
        _check_conv(self, "filters", causal_ok=True)


@dataclass(frozen=True, slots=True)
class DepthwiseConv:
    """DepthwiseConv1D/2D: one kernel per input channel (times ``depth_multiplier``)."""

    kernel: Pair
    stride: Pair = None  # type: ignore[assignment]  # None: ones, filled in by __post_init__
    dilation: Pair = None  # type: ignore[assignment]  # None: ones, filled in by __post_init__
    depth_multiplier: Dim = 1
    padding: str | Pads = "same"
    activation: str = "relu"
    use_bias: bool = True

    @property
    def keras_class(self) -> str:
        return f"DepthwiseConv{len(self.kernel)}D"

    def __post_init__(self):
        _check_conv(self, "depth_multiplier", ranks=(1, 2))


@dataclass(frozen=True, slots=True)
class SeparableConv:
    """SeparableConv1D/2D: a depthwise conv followed by a pointwise (1x1) conv to ``filters``."""

    kernel: Pair
    stride: Pair = None  # type: ignore[assignment]  # None: ones, filled in by __post_init__
    dilation: Pair = None  # type: ignore[assignment]  # None: ones, filled in by __post_init__
    filters: Dim = 32
    depth_multiplier: Dim = 1
    padding: str | Pads = "same"
    activation: str = "relu"
    use_bias: bool = True

    @property
    def keras_class(self) -> str:
        return f"SeparableConv{len(self.kernel)}D"

    def __post_init__(self):
        _check_conv(self, "filters", "depth_multiplier", ranks=(1, 2))


@dataclass(frozen=True, slots=True)
class ConvTranspose:
    """Conv1DTranspose/2D/3D: output unit ``u`` reads input ``i`` where ``i·s − pad_before + t·d = u``.

    ``padding`` 'same'/'valid' as Keras (TensorFlow's rule; ``output_padding`` None lets Keras
    infer the size), or explicit ``(before, after)`` pairs cropped from the full output (ONNX).

    >>> ConvTranspose((3, 3), (2, 2)).keras_class
    'Conv2DTranspose'
    """

    kernel: Pair
    stride: Pair = None  # type: ignore[assignment]  # None: ones, filled in by __post_init__
    dilation: Pair = None  # type: ignore[assignment]  # None: ones, filled in by __post_init__
    filters: Dim = 32
    padding: str | Pads = "same"
    output_padding: Pair | None = None
    activation: str = "relu"
    use_bias: bool = True

    @property
    def keras_class(self) -> str:
        return f"Conv{len(self.kernel)}DTranspose"

    def __post_init__(self):
        _check_conv(self, "filters")
        if self.output_padding is not None:
            object.__setattr__(self, "output_padding", tuple(self.output_padding))
            _check_rank(self.keras_class, len(self.kernel), kernel=self.kernel, output_padding=self.output_padding)
            for p, s in zip(self.output_padding, self.stride):
                if isinstance(p, int) and (p < 0 or (isinstance(s, int) and p >= s)):
                    raise SpecError(
                        f"{self.keras_class}: output_padding must be at least 0 and below the stride. "
                        f"Received: output_padding={self.output_padding}, strides={self.stride}"
                    )


@dataclass(frozen=True, slots=True)
class Pool:
    """MaxPooling1D/2D/3D (``op='max'``) or AveragePooling (``op='avg'``); stride defaults to the pool size."""

    op: str
    kernel: Pair
    stride: Pair = None  # type: ignore[assignment]  # None: the pool size, filled in by __post_init__
    padding: str | Pads = "valid"

    def __post_init__(self):
        object.__setattr__(self, "kernel", tuple(self.kernel))
        _check_choice(f"Pooling{len(self.kernel)}D", "op", self.op, ("max", "avg"))
        if self.stride is None:
            object.__setattr__(self, "stride", self.kernel)
        object.__setattr__(self, "stride", tuple(self.stride))
        _check_rank(self.keras_class, len(self.kernel), pool_size=self.kernel, strides=self.stride)
        _check_positive(self.keras_class, "pool_size", self.kernel)
        _check_positive(self.keras_class, "strides", self.stride)
        _check_padding(self, False)

    @property
    def keras_class(self) -> str:
        return f"{'Max' if self.op == 'max' else 'Average'}Pooling{len(self.kernel)}D"

    @property
    def dilation(self) -> Pair:
        return (1,) * len(self.kernel)


@dataclass(frozen=True, slots=True)
class Upsample:
    """UpSampling1D/2D/3D: every input unit repeated ``size`` times ('nearest'), or 2-D 'bilinear'
    (TensorFlow's half-pixel rule: output ``u`` reads the two inputs around ``(u + 1/2)/f − 1/2``).

    >>> Upsample((2,)).keras_class
    'UpSampling1D'
    """

    size: Pair
    interpolation: str = "nearest"

    def __post_init__(self):
        object.__setattr__(self, "size", tuple(self.size))
        _check_rank(self.keras_class, len(self.size), size=self.size)
        _check_positive(self.keras_class, "size", self.size)
        _check_choice(self.keras_class, "interpolation", self.interpolation, INTERPOLATIONS)
        if self.interpolation == "bilinear" and len(self.size) != 2:
            raise SpecError(
                f"{self.keras_class}: 'bilinear' interpolation is 2-D only (as in Keras). "
                f"Received: size={self.size}, interpolation='bilinear'"
            )

    @property
    def keras_class(self) -> str:
        return f"UpSampling{len(self.size)}D"


@dataclass(frozen=True, slots=True)
class BatchNorm:
    """BatchNormalization over the last axis: 4·C parameters, 2·C of them non-trainable."""

    keras_class = "BatchNormalization"


@dataclass(frozen=True, slots=True)
class GlobalPool:
    """GlobalAveragePooling1D/2D/3D (``op='avg'``) or GlobalMaxPooling (``op='max'``) over ``rank`` axes."""

    op: str
    rank: int = 2

    def __post_init__(self):
        _check_choice("GlobalPooling", "op", self.op, ("max", "avg"))
        _check_choice("GlobalPooling", "rank", self.rank, (1, 2, 3))

    @property
    def keras_class(self) -> str:
        return f"Global{'Max' if self.op == 'max' else 'Average'}Pooling{self.rank}D"


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


PAD_CLASSES = {"constant": "ZeroPadding", "reflect": "ReflectionPadding", "edge": "ReplicationPadding"}


@dataclass(frozen=True, slots=True)
class ZeroPad:
    """ZeroPadding1D/2D/3D: ``pads`` is one (before, after) pair per axis.

    ``mode`` 'reflect' or 'edge' (ONNX Pad, PyTorch ReflectionPad/ReplicationPad) fills the border
    with copies of real pixels: the field arithmetic is the same, the row is flagged.

    >>> ZeroPad(((1, 1),)).keras_class, ZeroPad(((1, 1), (2, 2)), "reflect").keras_class
    ('ZeroPadding1D', 'ReflectionPadding2D')
    """

    pads: Pads
    mode: str = "constant"

    def __post_init__(self):
        object.__setattr__(self, "pads", tuple(tuple(p) for p in self.pads))
        _check_choice("ZeroPadding", "mode", self.mode, PAD_MODES)
        _explicit_pads(self.keras_class, len(self.pads), self.pads)

    @property
    def keras_class(self) -> str:
        return f"{PAD_CLASSES.get(self.mode, 'ZeroPadding')}{len(self.pads)}D"


@dataclass(frozen=True, slots=True)
class Crop:
    """Cropping1D/2D/3D: ``crops`` is one (before, after) pair per axis."""

    crops: Pads

    def __post_init__(self):
        object.__setattr__(self, "crops", tuple(tuple(p) for p in self.crops))
        _explicit_pads(self.keras_class, len(self.crops), self.crops)

    @property
    def keras_class(self) -> str:
        return f"Cropping{len(self.crops)}D"


@dataclass(frozen=True, slots=True)
class Identity:
    """A layer that leaves shape and field alone (activation, dropout, rescaling, ...)."""

    label: str = "Identity"

    @property
    def keras_class(self) -> str:
        return self.label


Layer = (
    Conv
    | DepthwiseConv
    | SeparableConv
    | ConvTranspose
    | Pool
    | Upsample
    | BatchNorm
    | GlobalPool
    | Flatten
    | Dense
    | ZeroPad
    | Crop
    | Identity
)
Node = Layer | Repeat | Schedule

SPATIAL = (Conv, DepthwiseConv, SeparableConv, Pool)  # sliding windows
CONVS = (Conv, DepthwiseConv, SeparableConv, ConvTranspose)


def rank_of(layer) -> int | None:
    """The number of spatial axes a layer works on; None for rank-free layers (BatchNorm, Dense, ...).

    >>> rank_of(Conv((3, 1, 1))), rank_of(Dense(10))
    (3, None)
    """
    for name in ("kernel", "size", "pads", "crops"):
        value = getattr(layer, name, None)
        if value is not None:
            return len(value)
    return layer.rank if isinstance(layer, GlobalPool) else None


def with_dilation(layer, d: int):
    """``layer`` with dilation ``d`` on every axis (a step of a dilation schedule).

    >>> with_dilation(Conv((2,)), 4).dilation
    (4,)
    """
    return replace(layer, dilation=(d,) * len(layer.kernel))
