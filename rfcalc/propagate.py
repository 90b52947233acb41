"""One layer applied to one ``Field``: the output field plus that layer's parameters and MACs.

A ``Field`` is what flows between layers: the tensor shape and, while the tensor still has
spatial extent, the receptive field (largest and smallest over merged paths), jump and start
per axis. ``analysis`` folds this over a chain; ``frameworks.keras`` walks a graph with it.

>>> from rfcalc.layers import Conv
>>> out = apply_layer(Conv((3, 3)), input_field((32, 32, 3)))
>>> out.field.shape, out.field.rf, out.params
((32, 32, 32), (3, 3), 896)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import prod

from . import arithmetic as A
from .errors import ShapeError, SymbolError
from .layers import (
    BatchNorm, Conv, Crop, Dense, DepthwiseConv, Flatten, GlobalPool, Identity, Pool,
    SeparableConv, Sym, ZeroPad,
)

Pair = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Field:
    """Shape and receptive field of one tensor; ``rf`` etc. are ``None`` once spatial extent is gone."""

    shape: tuple[int, ...]
    rf: Pair | None = (1, 1)
    rf_min: Pair | None = (1, 1)
    jump: Pair | None = (1, 1)
    start: tuple[Fraction, Fraction] | None = (Fraction(0), Fraction(0))
    # Per axis, which pixels of its span the field of unit 0 reads: None when all of them, else a
    # bit mask (bit b = the b-th pixel of the span). Holes come from dilation, or from a stride
    # that an earlier window did not cover (gridding). UNTRACKED: a field too wide to follow.
    cover: tuple[int | None, int | None] = (None, None)

    @property
    def spatial(self) -> bool:
        return len(self.shape) == 3

    @property
    def holes(self) -> bool:
        """The field of unit 0 spans pixels it does not read (known exactly)."""
        return self.rf is not None and any(c not in (None, UNTRACKED) for c in self.cover)

    @property
    def holes_untracked(self) -> bool:
        """The field is too wide to follow and may have holes."""
        return self.rf is not None and UNTRACKED in self.cover and not self.holes


MAX_COVER_BITS = 1 << 20  # holes are followed exactly in fields up to this wide (a 128 KiB mask)
UNTRACKED = -1  # a cover past MAX_COVER_BITS: the field may have holes; rf, jump and start stay exact


def _spread(cover, rf: int, taps: int, spacing: int):
    """The cover after a window of ``taps`` taps ``spacing`` pixels apart; None when contiguous."""
    if cover is None and (taps == 1 or spacing <= rf):
        return None  # shifted copies of a full span that overlap or touch: still full
    if cover == UNTRACKED or rf + (taps - 1) * spacing > MAX_COVER_BITS:
        return UNTRACKED  # strided dilated stacks double their width per layer: do not follow them
    out = (1 << rf) - 1 if cover is None else cover
    have = 1  # out holds `have` taps; doubling takes log2(taps) shifts of a mask that may be rf bits wide
    while have < taps:
        more = min(have, taps - have)
        out |= out << (more * spacing)
        have += more
    return None if out & (out + 1) == 0 else out


@dataclass(frozen=True, slots=True)
class Applied:
    """What one layer did: its output field, parameters, MACs, padding and notes."""

    field: Field
    trainable: int = 0
    non_trainable: int = 0
    macs: int = 0
    padding: tuple[Pair, Pair] | None = None
    flags: tuple[str, ...] = ()

    @property
    def params(self) -> int:
        return self.trainable + self.non_trainable


def input_field(shape) -> Field:
    """The field of the network input: every pixel sees itself.

    >>> input_field((32, 32, 3)).rf
    (1, 1)
    """
    shape = tuple(shape)
    if len(shape) == 3:
        return Field(shape)
    return Field(shape, None, None, None, None)


def _numbers(layer, *values):
    for v in values:
        if isinstance(v, Sym):
            raise SymbolError(f"{layer.keras_class} has the symbol {v}; bind it to a number "
                              f"(--set {v.name}=3) or use --symbolic")
    return values


def _spatial_input(layer, field: Field):
    if not field.spatial:
        raise ShapeError(f"{layer.keras_class} needs a spatial input (H, W, C). Received: input_shape={field.shape}")
    return field.shape


def _window(layer, field: Field, k: Pair, s: Pair, d: Pair, padding: str):
    """Sizes, padding and field steps for a sliding window; shared by conv and pooling."""
    h, w, _ = _spatial_input(layer, field)
    out, pads, rf, rf_min, jump, start, cover, flags = [], [], [], [], [], [], [], []
    for axis, n in enumerate((h, w)):
        k_eff = A.effective_kernel(k[axis], d[axis])
        size = A.output_size(n, k_eff, s[axis], padding)
        if size < 1:
            raise ShapeError(
                f"{layer.keras_class}: a {k_eff}-pixel window does not fit its {n}-pixel input "
                f"with 'valid' padding. Received: input_shape={field.shape}, kernel={tuple(k)}, "
                f"dilation={tuple(d)}")
        before, after = A.window_padding(n, k_eff, s[axis], padding)
        r, j, st = A.rf_step(field.rf[axis], field.jump[axis], field.start[axis], k_eff, s[axis], before)
        cover.append(_spread(field.cover[axis], field.rf[axis], k[axis], d[axis] * field.jump[axis]))
        out.append(size)
        pads.append((before, after))
        rf.append(r)
        rf_min.append(field.rf_min[axis] + (k_eff - 1) * field.jump[axis])
        jump.append(j)
        start.append(st)
        if s[axis] > k_eff:
            flags.append("skips")  # stride longer than the window: some input pixels are never read
        elif padding == "valid" and (n - k_eff) % s[axis]:
            flags.append("drops")  # 'valid' leaves the last rows/columns unread
    out_field = Field((out[0], out[1], 0), tuple(rf), tuple(rf_min), tuple(jump), tuple(start), tuple(cover))
    return out, tuple(pads), out_field, tuple(dict.fromkeys(flags))


def _with_channels(field: Field, c: int) -> Field:
    h, w, _ = field.shape
    return Field((h, w, c), field.rf, field.rf_min, field.jump, field.start, field.cover)


def _conv(layer, field: Field) -> Applied:
    (kh, kw), (sh, sw), (dh, dw) = layer.kernel, layer.stride, layer.dilation
    _numbers(layer, kh, kw, sh, sw, dh, dw)
    (oh, ow), pads, out, flags = _window(layer, field, layer.kernel, layer.stride, layer.dilation, layer.padding)
    c_in = field.shape[-1]  # _window has checked that the input is (H, W, C)
    if isinstance(layer, Conv):
        (f,) = _numbers(layer, layer.filters)
        params = A.conv_params(kh, kw, c_in, f, layer.use_bias)
        macs = A.conv_macs(oh, ow, kh, kw, c_in, f)
    elif isinstance(layer, DepthwiseConv):
        (m,) = _numbers(layer, layer.depth_multiplier)
        f = c_in * m
        params = A.depthwise_params(kh, kw, c_in, m, layer.use_bias)
        macs = A.depthwise_macs(oh, ow, kh, kw, c_in, m)
    else:
        f, m = _numbers(layer, layer.filters, layer.depth_multiplier)
        params = A.separable_params(kh, kw, c_in, f, m, layer.use_bias)
        macs = A.separable_macs(oh, ow, kh, kw, c_in, f, m)
    return Applied(_with_channels(out, f), params, 0, macs, pads, flags)


def _pool(layer: Pool, field: Field) -> Applied:
    _numbers(layer, *layer.kernel, *layer.stride)
    _, pads, out, flags = _window(layer, field, layer.kernel, layer.stride, (1, 1), layer.padding)
    return Applied(_with_channels(out, field.shape[-1]), padding=pads, flags=flags)


def _shift(layer, field: Field, pads, sign: int) -> Applied:
    """ZeroPadding2D (sign +1) and Cropping2D (sign -1): sizes change, the field moves, rf stays."""
    h, w, c = _spatial_input(layer, field)
    sizes, start = [], []
    for axis, n in enumerate((h, w)):
        before, after = pads[axis]
        size = n + sign * (before + after)
        if size < 1:
            raise ShapeError(f"{layer.keras_class} crops {before + after} pixels from a {n}-pixel axis. "
                             f"Received: input_shape={field.shape}, cropping={pads}")
        sizes.append(size)
        start.append(field.start[axis] - sign * before * field.jump[axis])
    out = Field((sizes[0], sizes[1], c), field.rf, field.rf_min, field.jump, tuple(start), field.cover)
    return Applied(out, padding=tuple(tuple(p) for p in pads) if sign > 0 else None)


def _dense(layer: Dense, field: Field) -> Applied:
    (units,) = _numbers(layer, layer.units)
    n_in = field.shape[-1]
    positions = field.shape[0] * field.shape[1] if field.spatial else 1
    params = A.dense_params(n_in, units, layer.use_bias)
    out = Field(field.shape[:-1] + (units,), field.rf, field.rf_min, field.jump, field.start, field.cover)
    return Applied(out, params, 0, A.dense_macs(positions, n_in, units))


def _flat(shape) -> Field:
    return Field(shape, None, None, None, None)


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
    if isinstance(layer, BatchNorm):
        trainable, frozen = A.batchnorm_params(field.shape[-1])
        return Applied(field, trainable, frozen)
    if isinstance(layer, GlobalPool):
        return Applied(_flat((_spatial_input(layer, field)[-1],)))
    if isinstance(layer, Flatten):
        return Applied(_flat((prod(field.shape),)))
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

    ``rf`` is the largest field over the paths and ``rf_min`` the smallest. Paths whose jump or
    centre differ are misaligned (flag ``misaligned``): then ``rf`` and ``start`` are those of the
    union of the fields of unit 0 (what a gradient probe measures), with the first path's jump.

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
        rest = [f.shape[:axis] + f.shape[axis + 1:] for f in fields]
        if any(r != rest[0] for r in rest) or any(len(f.shape) != len(first.shape) for f in fields):
            raise ShapeError(f"Concatenate needs equal shapes except on axis {concat_axis}. "
                             f"Received: shapes={[f.shape for f in fields]}")
        shape = list(first.shape)
        shape[axis] = sum(f.shape[axis] for f in fields)
        shape = tuple(shape)
    spatial = [f for f in fields if f.rf is not None]
    if not spatial or len(shape) != 3:
        return Applied(_flat(shape))
    rf, start, cover = [], [], []
    for i in range(2):  # the bounding box of all paths' fields of unit 0; for aligned paths: the largest
        lows = [f.start[i] - Fraction(f.rf[i] - 1, 2) for f in spatial]
        lo = min(lows)
        hi = max(f.start[i] + Fraction(f.rf[i] - 1, 2) for f in spatial)
        rf.append(int(hi - lo) + 1)
        start.append((lo + hi) / 2)
        cover.append(_union_cover(spatial, lows, lo, i, rf[-1]))
    rf_min = tuple(min(f.rf_min[i] for f in spatial) for i in range(2))
    aligned = all(f.jump == spatial[0].jump and f.start == spatial[0].start for f in spatial)
    out = Field(shape, tuple(rf), rf_min, spatial[0].jump, tuple(start), tuple(cover))
    return Applied(out, flags=() if aligned else ("misaligned",))


def _union_cover(fields, lows, lo, i: int, width: int):
    """The cover of the union of the fields (each starting at ``lows[k]``) on axis ``i``."""
    if all(f.cover[i] is None for f in fields):  # full spans: a hole only where they do not touch
        reach = None
        for low, f in sorted(zip(lows, fields), key=lambda p: p[0]):
            if reach is not None and low > reach + 1:
                break
            reach = max(reach if reach is not None else low, low + f.rf[i] - 1)
        else:
            return None
    if width > MAX_COVER_BITS or any(f.cover[i] == UNTRACKED for f in fields):
        return UNTRACKED
    union = 0
    for f, low in zip(fields, lows):
        mask = (1 << f.rf[i]) - 1 if f.cover[i] is None else f.cover[i]
        union |= mask << int(low - lo)
    return None if union & (union + 1) == 0 else union
