"""One layer applied to one ``Field``: the output field plus that layer's parameters and MACs.

A ``Field`` is what flows between layers: the tensor shape (spatial sizes, then channels) and,
while the tensor still has spatial extent, per axis the exact field of every output phase
(``phases.Axis``; one phase for plain downsampling stacks). ``rf`` is the largest field over the
output units (and merged paths), ``rf_min`` the smallest, ``start`` the centre of unit 0's field.
``analysis`` folds this over a chain; ``frameworks.keras`` walks a graph with it.

>>> from rfcalc.layers import Conv
>>> out = apply_layer(Conv((3, 3)), input_field((32, 32, 3)))
>>> out.field.shape, out.field.rf, out.params
((32, 32, 32), (3, 3), 896)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import prod

from . import arithmetic as A, phases as PH, resample as RS
from .errors import ShapeError, SymbolError
from .layers import (
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
    Resize,
    SeparableConv,
    Sym,
    Upsample,
    ZeroPad,
)
from .phases import MAX_COVER_BITS, UNTRACKED  # noqa: F401 (re-exported)

Pair = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Field:
    """Shape and per-axis phase tables of one tensor; ``axes`` is None once spatial extent is gone.

    ``narrow`` holds the narrowest merged path's tables (None: the same as ``axes``), for ``rf_min``.
    """

    shape: tuple[int, ...]
    axes: tuple | None = None
    narrow: tuple | None = None

    @property
    def spatial(self) -> bool:
        return 2 <= len(self.shape) <= 4

    @property
    def rank(self) -> int:
        return len(self.shape) - 1

    @property
    def rf(self) -> Pair | None:
        if self.axes is None:
            return None
        return tuple(max(a.widths(n)) for a, n in zip(self.axes, self.shape))

    @property
    def rf_min(self) -> Pair | None:
        if self.axes is None:
            return None
        return tuple(min(a.widths(n)) for a, n in zip(self.narrow or self.axes, self.shape))

    @property
    def jump(self):
        return None if self.axes is None else tuple(a.jump for a in self.axes)

    @property
    def start(self):
        """Per axis, the centre of the field of output unit 0 (pixel i is centred at i)."""
        return None if self.axes is None else tuple(Fraction(a.lo[0] + a.hi[0], 2) for a in self.axes)

    def _covers(self) -> list:
        return [
            c
            for a, n in zip(self.axes or (), self.shape)
            if a.cover is not None
            for c in a.cover[: max(1, min(a.period, n))]
        ]

    @property
    def holes(self) -> bool:
        """Some output unit's field spans pixels it does not read (known exactly)."""
        return any(c is not None and c != UNTRACKED for c in self._covers())

    @property
    def holes_untracked(self) -> bool:
        """The field is too wide to follow and may have holes."""
        covers = self._covers()
        return UNTRACKED in covers and all(c is None or c == UNTRACKED for c in covers)


@dataclass(frozen=True, slots=True)
class Applied:
    """What one layer did: its output field, parameters, MACs, padding and notes."""

    field: Field
    trainable: int = 0
    non_trainable: int = 0
    macs: int = 0
    padding: tuple | None = None
    flags: tuple[str, ...] = ()

    @property
    def params(self) -> int:
        return self.trainable + self.non_trainable


def input_field(shape) -> Field:
    """The field of the network input (spatial sizes, then channels): every pixel sees itself.

    >>> input_field((32, 32, 3)).rf, input_field((16000, 1)).jump
    ((1, 1), (1,))
    """
    shape = tuple(shape)
    if 2 <= len(shape) <= 4:
        return Field(shape, (PH.UNIT,) * (len(shape) - 1))
    return Field(shape)


def _numbers(layer, *values: int | Sym) -> tuple[int, ...]:
    """``values``, once none of them is a symbol (a ``SymbolError`` naming the first one that is)."""
    ints = []
    for v in values:
        if isinstance(v, Sym):
            raise SymbolError(
                f"{layer.keras_class} has the symbol {v}; bind it to a number (--set {v.name}=3) or use --symbolic"
            )
        ints.append(v)
    return tuple(ints)


RANK_WORDS = {
    1: "1-D input (length, channels)",
    2: "2-D input (height, width, channels)",
    3: "3-D input (depth, height, width, channels)",
}


def _spatial_input(layer, field: Field, rank: int | None = None):
    if not field.spatial or field.axes is None and field.rank not in (1, 2, 3):
        want = "spatial input" if rank is None else RANK_WORDS.get(rank, "spatial input")
        raise ShapeError(f"{layer.keras_class} needs a {want}. Received: input_shape={field.shape}")
    if rank is not None and field.rank != rank:
        raise ShapeError(f"{layer.keras_class} needs a {RANK_WORDS[rank]}. Received: input_shape={field.shape}")
    return field.shape


def _map_axes(field: Field, step, sizes) -> tuple:
    """Apply ``step(axis_index, table, covers)`` to every axis of ``axes`` (and of ``narrow``)."""
    if field.axes is None:
        return None, None
    try:
        axes = tuple(step(i, a, True) for i, a in enumerate(field.axes))
        narrow = None if field.narrow is None else tuple(step(i, a, False) for i, a in enumerate(field.narrow))
    except OverflowError:
        raise ShapeError(
            f"the output phases repeat only every more than {PH.MAX_PERIOD:,} units "
            f"(upsampling factors that do not cancel). Received: output sizes={tuple(sizes)}"
        ) from None
    return axes, narrow


def _window(layer, field: Field, k, s, d, padding):
    """Sizes, padding and field steps for a sliding window; shared by conv and pooling."""
    shape = _spatial_input(layer, field, len(k))
    out, pads, flags = [], [], []
    explicit = isinstance(padding, tuple)
    for axis, n in enumerate(shape[:-1]):
        k_eff = A.effective_kernel(k[axis], d[axis])
        pad = padding[axis] if explicit else padding
        if pad == "same":  # the common case first, without the dispatch of window_padding
            before, after = A.same_padding(n, k_eff, s[axis])
            size = A.ceil_div(n, s[axis])
        else:
            before, after = A.window_padding(n, k_eff, s[axis], pad)
            size = A.padded_output_size(n, k_eff, s[axis], before, after)
        if size < 1:
            raise ShapeError(
                f"{layer.keras_class}: a {k_eff}-pixel window does not fit its {n}-pixel input "
                f"with {pad!r} padding. Received: input_shape={field.shape}, kernel={tuple(k)}, "
                f"dilation={tuple(d)}"
            )
        out.append(size)
        pads.append((before, after))
        if s[axis] > k_eff:
            flags.append("skips")  # stride longer than the window: some input pixels are never read
        elif after < (n + before + after - k_eff) % s[axis]:
            flags.append("drops")  # the last rows/columns are left unread
    if field.narrow is None and field.axes is not None:  # one path: the common case, without the closures
        axes = tuple(PH.window(a, k[i], s[i], d[i], pads[i][0]) for i, a in enumerate(field.axes))
        return out, tuple(pads), axes, None, tuple(dict.fromkeys(flags)) if flags else ()
    axes, narrow = _map_axes(field, lambda i, a, c: PH.window(a, k[i], s[i], d[i], pads[i][0], c), out)
    return out, tuple(pads), axes, narrow, tuple(dict.fromkeys(flags))


def _conv(layer, field: Field) -> Applied:
    _numbers(layer, *layer.kernel, *layer.stride, *layer.dilation)
    out, pads, axes, narrow, flags = _window(layer, field, layer.kernel, layer.stride, layer.dilation, layer.padding)
    c_in = field.shape[-1]  # _window has checked that the input is spatial
    taps, positions = prod(layer.kernel), prod(out)
    # the 2-D formulas are products; a kernel of any rank enters as its tap count (kh·kw·kd, 1)
    if isinstance(layer, Conv):
        (f,) = _numbers(layer, layer.filters)
        params = A.conv_params(taps, 1, c_in, f, layer.use_bias)
        macs = A.conv_macs(positions, 1, taps, 1, c_in, f)
    elif isinstance(layer, DepthwiseConv):
        (m,) = _numbers(layer, layer.depth_multiplier)
        f = c_in * m
        params = A.depthwise_params(taps, 1, c_in, m, layer.use_bias)
        macs = A.depthwise_macs(positions, 1, taps, 1, c_in, m)
    else:
        f, m = _numbers(layer, layer.filters, layer.depth_multiplier)
        params = A.separable_params(taps, 1, c_in, f, m, layer.use_bias)
        macs = A.separable_macs(positions, 1, taps, 1, c_in, f, m)
    if layer.padding == "causal":
        flags = flags + ("causal",)
    return Applied(Field((*out, f), axes, narrow), params, 0, macs, pads, flags)


def _transposed(layer: ConvTranspose, field: Field) -> Applied:
    r = len(layer.kernel)
    numbers = _numbers(layer, *layer.kernel, *layer.stride, *layer.dilation, layer.filters)
    k, s, d, f = numbers[:r], numbers[r : 2 * r], numbers[2 * r : 3 * r], numbers[-1]
    shape = _spatial_input(layer, field, len(k))
    out, pads, flags = [], [], []
    for axis, n in enumerate(shape[:-1]):
        k_eff = A.effective_kernel(k[axis], d[axis])
        pad = layer.padding[axis] if isinstance(layer.padding, tuple) else layer.padding
        op = layer.output_padding[axis] if layer.output_padding is not None else None
        size, before, after = A.transpose_output(n, k_eff, s[axis], pad, op)
        if pad == "same" and size >= 1 and A.ceil_div(size, s[axis]) != n:
            raise ShapeError(
                f"{layer.keras_class}: no 'same' conv maps {size} units back to {n} (TensorFlow "
                f"refuses this output_padding). Received: input_shape={field.shape}, kernel={k}, "
                f"strides={s}, output_padding={layer.output_padding}"
            )
        if size < 1:
            raise ShapeError(
                f"{layer.keras_class}: the output shrinks to {size} units. Received: "
                f"input_shape={field.shape}, kernel={k}, strides={s}, padding={layer.padding!r}"
            )
        out.append(size)
        pads.append((before, after))
    axes, narrow = _map_axes(field, lambda i, a, c: PH.transposed(a, k[i], s[i], d[i], pads[i][0], c), out)
    c_in = shape[-1]
    taps = prod(k)
    params = A.conv_params(taps, 1, c_in, f, layer.use_bias)
    macs = A.conv_macs(prod(shape[:-1]), 1, taps, 1, c_in, f)  # every input unit scatters its kernel
    out_field = Field((*out, f), axes, narrow)
    rf_min = out_field.rf_min
    if rf_min is not None and 0 in rf_min:
        flags.append("empty")  # some output units lie between the taps of every input unit: they read nothing
    return Applied(out_field, params, 0, macs, tuple(pads), tuple(flags))


def _upsample(layer: Upsample, field: Field) -> Applied:
    size = _numbers(layer, *layer.size)
    shape = _spatial_input(layer, field, len(size))
    out = [n * f for n, f in zip(shape[:-1], size)]
    bilinear = layer.interpolation == "bilinear"
    axes, narrow = _map_axes(field, lambda i, a, c: PH.upsample(a, size[i], bilinear, c), out)
    return Applied(Field((*out, shape[-1]), axes, narrow))


def _resize(layer: Resize, field: Field) -> Applied:
    """Resize by ONNX's rules: per axis the exact taps of every output unit (``resample.table``)."""
    shape = _spatial_input(layer, field, len(layer.size))
    sizes = shape[:-1]
    size = _numbers(layer, *layer.size)
    scales = layer.scale or tuple(Fraction(m, n) for m, n in zip(size, sizes))
    step = lambda i, a, c: RS.table(
        a, sizes[i], size[i], scales[i], layer.transform, layer.mode, layer.nearest_mode, layer.cubic_a, c
    )
    axes, narrow = _map_axes(field, step, size)
    return Applied(Field((*size, shape[-1]), axes, narrow))


def _pool(layer: Pool, field: Field) -> Applied:
    _numbers(layer, *layer.kernel, *layer.stride)
    out, pads, axes, narrow, flags = _window(layer, field, layer.kernel, layer.stride, layer.dilation, layer.padding)
    return Applied(Field((*out, field.shape[-1]), axes, narrow), padding=pads, flags=flags)


def _shift(layer, field: Field, pads, sign: int) -> Applied:
    """ZeroPadding (sign +1) and Cropping (sign -1): sizes change, the field moves, rf stays."""
    shape = _spatial_input(layer, field, len(pads))
    sizes = []
    for axis, n in enumerate(shape[:-1]):
        before, after = pads[axis]
        size = n + sign * (before + after)
        if size < 1:
            raise ShapeError(
                f"{layer.keras_class} crops {before + after} pixels from a {n}-pixel axis. "
                f"Received: input_shape={field.shape}, cropping={pads}"
            )
        sizes.append(size)
    axes, narrow = _map_axes(field, lambda i, a, c: PH.offset(a, -sign * pads[i][0]), sizes)
    flags = (layer.mode,) if sign > 0 and layer.mode != "constant" else ()  # the border copies real pixels
    return Applied(Field((*sizes, shape[-1]), axes, narrow), padding=tuple(pads) if sign > 0 else None, flags=flags)


def _dense(layer: Dense, field: Field) -> Applied:
    (units,) = _numbers(layer, layer.units)
    n_in = field.shape[-1]
    positions = prod(field.shape[:-1]) if field.spatial else 1  # a Dense on (..., C) works at every position
    params = A.dense_params(n_in, units, layer.use_bias)
    out = Field(field.shape[:-1] + (units,), field.axes, field.narrow)
    return Applied(out, params, 0, A.dense_macs(positions, n_in, units))


def apply_layer(layer, field: Field) -> Applied:
    """Apply one layer to one input field (raises ``ShapeError``/``SymbolError`` on bad input).

    >>> from rfcalc.layers import Pool
    >>> out = apply_layer(Pool("max", (2, 2)), input_field((32, 32, 32)))
    >>> out.field.shape, out.field.jump
    ((16, 16, 32), (2, 2))
    """
    if isinstance(layer, (Conv, DepthwiseConv, SeparableConv)):
        return _conv(layer, field)
    if isinstance(layer, Pool):
        return _pool(layer, field)
    if isinstance(layer, ConvTranspose):
        return _transposed(layer, field)
    if isinstance(layer, Upsample):
        return _upsample(layer, field)
    if isinstance(layer, Resize):
        return _resize(layer, field)
    if isinstance(layer, BatchNorm):
        trainable, frozen = A.batchnorm_params(field.shape[-1])
        return Applied(field, trainable, frozen)
    if isinstance(layer, GlobalPool):
        return Applied(Field((_spatial_input(layer, field, layer.rank)[-1],)))
    if isinstance(layer, Flatten):
        return Applied(Field((prod(field.shape),)))
    if isinstance(layer, Dense):
        return _dense(layer, field)
    if isinstance(layer, ZeroPad):
        return _shift(layer, field, layer.pads, +1)
    if isinstance(layer, Crop):
        return _shift(layer, field, layer.crops, -1)
    if isinstance(layer, Identity):
        return Applied(field)
    raise TypeError(f"apply_layer: not a layer: {layer!r}")


def merge_fields(fields, concat_axis: int | None = None) -> Applied:
    """Merge branches (Add, Multiply, Average: ``concat_axis=None``; Concatenate: the axis).

    ``rf`` is the largest field over the paths and output units, ``rf_min`` the smallest. Paths
    whose jump or centre differ are misaligned (flag ``misaligned``): with different jumps the
    merged fields keep the first path's jump and hold the union of the paths' fields of the units
    of one period (for unit 0 what a gradient probe measures).

    >>> a = input_field((8, 8, 3))
    >>> b = apply_layer(Conv((3, 3)), a).field
    >>> m = merge_fields([a, b], concat_axis=-1)
    >>> m.field.shape, m.field.rf, m.field.rf_min, m.flags
    ((8, 8, 35), (3, 3), (1, 1), ())
    """
    fields = list(fields)
    first = fields[0]
    if concat_axis is None:
        shape = first.shape
        for f in fields[1:]:
            if f.shape != shape:
                raise ShapeError(f"merging tensors of different shapes. Received: shapes={[f.shape for f in fields]}")
    else:
        axis = concat_axis % len(first.shape)
        rest = [f.shape[:axis] + f.shape[axis + 1 :] for f in fields]
        if any(r != rest[0] for r in rest) or any(len(f.shape) != len(first.shape) for f in fields):
            raise ShapeError(
                f"Concatenate needs equal shapes except on axis {concat_axis}. "
                f"Received: shapes={[f.shape for f in fields]}"
            )
        shape = list(first.shape)
        shape[axis] = sum(f.shape[axis] for f in fields)
        shape = tuple(shape)
    spatial = [f for f in fields if f.axes is not None and len(f.axes) == len(shape) - 1]
    if not spatial or not 2 <= len(shape) <= 4:
        return Applied(Field(shape))
    axes: list = []
    paths_min: list = []
    aligned = True
    for i, n in enumerate(shape[:-1]):
        table, same_jump = PH.merge([f.axes[i] for f in spatial])
        axes.append(table)
        aligned = aligned and same_jump
        paths = [(f.narrow or f.axes)[i] for f in spatial]
        paths_min.append(min(paths, key=lambda a: min(a.widths(n))))
    aligned = aligned and all(f.start == spatial[0].start for f in spatial)
    narrow = None if all(a is b for a, b in zip(axes, paths_min)) else tuple(paths_min)
    return Applied(Field(shape, tuple(axes), narrow), flags=() if aligned else ("misaligned",))
