"""Fields that follow axis roles: a ``Tensor`` is a ``Field`` on the canonical axes plus its ``Layout``.

The field stays on the canonical spatial axes whatever the tensor's layout (``axes.Layout``), so
layout ops change only the layout. Ops that act on spatial pieces rewrite the per-axis phase
tables (``phases.Axis``) exactly, through one map ``remap``: new unit ``v`` reads a list of old
units, and unit ``v + P`` the same list ``Q`` old units on. On top of it:

- ``mix``: every unit reads all units that differ from it only in the mixed pieces (a Softmax or
  Reduce over tokens: the whole span; over a window's tokens: the window);
- ``settle``: pieces gone from the layout (reduced or picked away) renumber what is left;
- ``pick``: a Slice / Gather / Split on one piece (crops and strided picks);
Views of a tensor (the image a Conv reads, joins of several) are in ``axes_views``.

>>> from rfcalc.propagate import input_field
>>> from rfcalc.frameworks import axes as X
>>> t = tensor(input_field((8, 8, 3)))
>>> y = mix(t, [2, 3])                    # every unit reads all of H and W
>>> y.rf, y.jump
((8, 8), (0, 0))
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import gcd, prod

from .. import phases as PH
from ..errors import ShapeError
from ..propagate import Field
from . import axes as X


@dataclass(frozen=True, slots=True)
class Tensor(Field):
    """A ``Field`` with the roles of its tensor's axes (``layout``: an ``axes.Layout``); ``bound``: the
    field is an upper bound (an earlier op could only be bounded)."""

    # always given (every construction passes one); the default only satisfies dataclass field order
    layout: X.Layout = None  # type: ignore[assignment]
    bound: bool = False


def tensor(field: Field, layout=None) -> Tensor:
    """``field`` with ``layout`` (default: the ONNX layout of a channels-last field: N, C, spatial...).

    >>> tensor(Field((4, 4, 3))).layout.shape
    (1, 3, 4, 4)
    """
    if layout is None:
        if isinstance(field, Tensor) and field.layout is not None:
            return field
        layout = layout_of(field)
    elif isinstance(field, Tensor) and field.layout is layout:
        return field
    return Tensor(field.shape, field.axes, field.narrow, layout)


def layout_of(field: Field):
    """The layout a field carries, or the (N, C, spatial...) one of its channels-last shape."""
    if isinstance(field, Tensor) and field.layout is not None:
        return field.layout
    s = field.shape
    if field.spatial:
        return X.image(s[:-1], s[-1]) if field.axes is not None else X.flat((1, s[-1], *s[:-1]))
    return X.flat((1, *s))


def onnx_shape(field: Field) -> tuple:
    """The ONNX shape (batch 1) of the tensor ``field`` holds, in its current layout."""
    return layout_of(field).shape


def remap(ax: PH.Axis, period: int, step: int, taps) -> PH.Axis:
    """The table whose unit ``v < period`` reads the old units ``taps(v)`` and unit ``v + period`` those
    ``step`` units on.

    >>> remap(PH.UNIT, 1, 2, lambda v: [0, 1])    # a 2-wide window of stride 2
    Axis(period=1, shift=2, lo=(0,), hi=(1,), cover=None)
    """
    m = ax.period // gcd(step, ax.period) if step else 1
    big = period * m
    if big > PH.MAX_PERIOD:
        raise ShapeError(f"the field repeats only every {big:,} units; rfcalc follows at most {PH.MAX_PERIOD:,}")
    shift = ax.shift * step * m // ax.period
    lists = [[(ax, t + (v // period) * step) for t in taps(v % period)] for v in range(big)]
    return PH.gather(big, shift, lists)


def each_table(field: Field, step) -> tuple:
    """Apply ``step(k, table)`` to every canonical axis table (and the narrow ones)."""
    assert field.axes is not None, "each_table needs a field with axis tables"
    axes = tuple(step(k, a) for k, a in enumerate(field.axes))
    narrow = None if field.narrow is None else tuple(step(k, a) for k, a in enumerate(field.narrow))
    return axes, narrow


def _mix_table(ax: PH.Axis, size: int, pieces, mixed) -> PH.Axis:
    """Unit ``u`` reads every unit that agrees with it on the pieces not in ``mixed``."""
    if not mixed:
        return ax
    return _mixed(ax, size, tuple(pieces), frozenset(mixed))


@lru_cache(maxsize=1024)
def _mixed(ax: PH.Axis, size: int, pieces: tuple, mixed: frozenset) -> PH.Axis:
    """``_mix_table``, remembered: attention mixes the same table the same way for Q, K and V, block
    after block."""
    moved = [p for p in pieces if p in mixed]
    kept = [p for p in pieces if p not in mixed]
    combos = [0]
    for p in moved:
        combos = [c + i * p.stride for c in combos for i in range(p.extent)]
    top = max(p.stride * p.extent for p in moved)
    if not kept:
        return remap(ax, 1, 0, lambda v: combos)
    if top < size:  # a kept piece above the mixed ones: the pattern repeats every `top` units
        period, step = top, top
    else:
        period, step = max(p.stride * p.extent for p in kept), 0

    def taps(v):
        base = v - sum(((v // p.stride) % p.extent) * p.stride for p in moved)
        return [base + c for c in combos]

    return remap(ax, period, step, taps)


def mix(t: Tensor, axes) -> Tensor:
    """Each unit reads all units that differ from it only on the tensor axes ``axes`` (same layout).

    Mixing along channel pieces keeps the field; along all of a spatial axis, every unit reads its
    whole span (jump 0); along pieces of it, the span of the block they number.
    """
    layout = layout_of(t)
    axes = list(axes)
    mixed_pieces = {p for i in axes for p in layout.axes[i] if p.spatial}
    if not mixed_pieces or t.axes is None:
        return t

    def step(k, ax):
        pieces = [p for _, p in layout.pieces(k)]
        return _mix_table(ax, layout.sizes[k], pieces, {p for p in pieces if p in mixed_pieces})

    axes_, narrow = each_table(t, step)
    i, extra = X.extra_of(layout)
    if extra is not None and i in axes:  # the extra entries are mixed in: every entry reads what all do
        every = add_extra(axes_, extra.field)
        layout = X.replace_axis(layout, i, (X.Extra(extra.extent, every), *layout.axes[i][1:]))
        axes_, narrow = every, None
    return Tensor(t.shape, axes_, narrow, layout)


def spans(tables) -> tuple:
    """Per axis the one span all units of ``tables`` read together (period 1, jump 0)."""
    return tuple(PH.Axis(1, 0, (min(a.lo),), (max(a.hi),)) if a.period == 1 and a.shift == 0 else None for a in tables)


def with_extras(layout: X.Layout, layouts) -> X.Layout:
    """``layout`` whose extra entries read what those of every one of ``layouts`` read (a merge)."""
    i, extra = X.extra_of(layout)
    if extra is None:
        return layout
    field = None
    for lay in layouts:
        _, e = X.extra_of(lay)
        if e is not None and e.field is not None:
            field = e.field if field is None else add_extra(field, e.field)
    return X.replace_axis(layout, i, (X.Extra(extra.extent, field), *layout.axes[i][1:]))


def add_extra(tables, extra) -> tuple:
    """``tables`` (each every unit reading one span: a whole-axis mix) joined with an extra entry's spans."""
    if extra is None:
        return tuple(tables)
    return tuple(PH.merge([a, e])[0] for a, e in zip(tables, extra))


def settle(t: Tensor, layout: X.Layout) -> Tensor:
    """``t`` on ``layout``, some of whose spatial pieces are gone (already mixed, or picked to one).

    Each canonical axis is renumbered by the pieces left (none: one unit); its shape follows.
    """
    old = layout_of(t)
    sizes, strides = [], {}
    step_of = {}
    for k, n in enumerate(old.sizes):
        have = sorted({p for _, p in layout.pieces(k)}, key=lambda p: p.stride)
        allp = {p for _, p in old.pieces(k)}
        if set(have) == allp:
            sizes.append(n)
            continue
        if not set(have) <= allp:
            raise X.Unfollowed(f"the pieces of {X.axis_name(k, len(old.sizes))} do not come from the input")
        new, stride, pos = 1, {}, []
        for p in have:
            stride[p] = X.Piece(k, p.extent, new)
            pos.append((p, new))
            new *= p.extent
        sizes.append(new)
        strides.update(stride)
        step_of[k] = pos

    def step(k, ax):
        if k not in step_of:
            return ax
        pos = step_of[k]

        def taps(v):
            return [sum(((v // s) % p.extent) * p.stride for p, s in pos)]

        return remap(ax, sizes[k], old.sizes[k], taps)

    axes_new = tuple(tuple(strides.get(p, p) for p in a) for a in layout.axes)
    new_layout = X.Layout(axes_new, tuple(sizes))
    if t.axes is None:
        return Tensor(shape_of(new_layout, t), None, None, new_layout)
    axes_, narrow = each_table(t, step)
    return Tensor(shape_of(new_layout, t), axes_, narrow, new_layout)


def shape_of(layout: X.Layout, t: Field) -> tuple:
    """The channels-last shape of a tensor on ``layout``: canonical sizes, then the elements per position."""
    if (
        t.axes is None
        or not layout.sizes
        or all(n == 1 for n in layout.sizes)
        and not any(p.spatial for a in layout.axes for p in a)
    ):  # no positions left: the tensor's own shape
        return collapsed_shape(layout.shape)
    per = prod(p.extent for a in layout.axes for p in a if p.dim in (X.CHANNEL, X.BATCH))
    return (*layout.sizes, per)


def collapsed_shape(shape) -> tuple:
    shape = tuple(shape)
    return (*shape[2:], shape[1]) if 3 <= len(shape) <= 5 else shape[1:]


def on(t: Field, layout: X.Layout) -> Tensor:
    """The same field on a new layout (a layout op: the elements are the same, only their order moved)."""
    return Tensor(
        shape_of(layout, t) if t.axes is not None else collapsed_shape(layout.shape), t.axes, t.narrow, layout
    )


def pick(t: Tensor, i: int, coords) -> Tensor:
    """Keep the coordinates ``coords`` (a list) of tensor axis ``i`` (a Slice, Gather or Split part)."""
    layout = layout_of(t)
    coords = list(coords)
    if layout.axes[i] and layout.axes[i][0].dim == X.EXTRA:
        return _pick_extra(t, layout, i, coords)
    axis = [p for p in layout.axes[i] if p.dim != X.BATCH]
    n = X.extent(layout.axes[i])
    if not axis or all(p.dim == X.CHANNEL for p in axis):
        return on(t, X.replace_axis(layout, i, (X.Piece(X.CHANNEL, len(coords)),)))
    inner = prod(p.extent for p in axis[1:])
    if inner > 1:  # only the outermost piece may be cut: whole blocks of the inner ones
        outer = list(dict.fromkeys(c // inner for c in coords))
        if coords != [o * inner + j for o in outer for j in range(inner)]:
            raise X.Unfollowed(
                f"cutting {X.words(layout, i)} (size {n}) at {_brief(coords)}: rfcalc cuts only "
                "whole blocks of its inner pieces"
            )
        coords = outer
    p = axis[0]
    if p.dim == X.CHANNEL:
        pieces = (X.Piece(X.CHANNEL, len(coords)), *axis[1:])
        return on(t, X.replace_axis(layout, i, pieces))
    k, s, e, m = p.dim, p.stride, p.extent, len(coords)
    size = layout.sizes[k]
    new_p = X.Piece(k, m, s)

    def restride(q):
        if q == p:
            return new_p
        if q.spatial and q.dim == k and q.stride > s:
            return X.Piece(k, q.extent, q.stride // e * m)
        return q

    axes_new = tuple(tuple(restride(q) for q in a) for a in layout.axes)
    sizes = list(layout.sizes)
    sizes[k] = size // e * m
    new_layout = X.Layout(tuple(X._norm(a) for a in axes_new), tuple(sizes))
    if t.axes is None:
        return on(t, new_layout)

    st = coords[1] - coords[0] if m > 1 else 1
    steady = all(b - a == st for a, b in zip(coords, coords[1:]))

    def step(j, ax):
        if j != k:
            return ax
        if steady and (s * e == size or m * st == e):  # a crop or a strided pick: the jump is its step
            return remap(ax, s, s * st, lambda v: [coords[0] * s + v])
        return remap(ax, s * m, s * e, lambda v: [coords[v // s] * s + v % s])

    axes_, narrow = each_table(t, step)
    return Tensor(shape_of(new_layout, t), axes_, narrow, new_layout)


def _pick_extra(t, layout, i, coords):
    """A pick along an axis with extra entries: positions only (the extras dropped), or one extra entry."""
    extra = layout.axes[i][0]
    if all(c >= extra.extent for c in coords):
        plain = X.replace_axis(layout, i, layout.axes[i][1:])
        return pick(on(t, plain), i, [c - extra.extent for c in coords])
    if len(coords) == 1:  # one extra entry (the class token): what it reads, on no position
        gone = X.Layout(
            tuple(
                tuple(X.Piece(X.CHANNEL, p.extent) if p.spatial else p for p in a) if j != i else ()
                for j, a in enumerate(layout.axes)
            ),
            layout.sizes,
        )
        new = X.Layout(tuple(X._norm(a) for a in gone.axes), tuple(1 for _ in layout.sizes))
        return Tensor(collapsed_shape(new.shape), None, None, new)  # no position: no field (as a pooled vector)
    raise X.Unfollowed(
        f"picking {_brief(coords)} from {X.words(layout, i)}: rfcalc picks positions, or one extra entry"
    )


def _brief(coords) -> str:
    return str(coords) if len(coords) <= 6 else f"[{coords[0]}, {coords[1]}, ..., {coords[-1]}] ({len(coords)})"


__all__ = [
    "Tensor",
    "tensor",
    "layout_of",
    "onnx_shape",
    "remap",
    "mix",
    "settle",
    "on",
    "pick",
    "spans",
    "add_extra",
    "with_extras",
    "each_table",
    "shape_of",
    "collapsed_shape",
]
