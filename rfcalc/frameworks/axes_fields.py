"""Fields that follow axis roles: a ``Tensor`` is a ``Field`` on the canonical axes plus its ``Layout``.

The field stays on the canonical spatial axes whatever the tensor's layout (``axes.Layout``), so
layout ops change only the layout. Ops that act on spatial pieces rewrite the per-axis phase
tables (``phases.Axis``) exactly, through one map ``remap``: new unit ``v`` reads a list of old
units, and unit ``v + P`` the same list ``Q`` old units on. On top of it:

- ``mix``: every unit reads all units that differ from it only in the mixed pieces (a Softmax or
  Reduce over tokens: the whole span; over a window's tokens: the window);
- ``settle``: pieces gone from the layout (reduced or picked away) renumber what is left;
- ``pick``: a Slice / Gather / Split on one piece (crops and strided picks);
- ``to_image``: the (N, C, spatial...) view a Conv or pooling reads, where a spatial axis may be
  the outer piece of a canonical axis whose inner piece sits in the channels (space-to-depth:
  a window of the block's size and stride).

>>> from rfcalc.propagate import input_field
>>> from rfcalc.frameworks import axes as X
>>> t = tensor(input_field((8, 8, 3)))
>>> y = mix(t, [2, 3])                    # every unit reads all of H and W
>>> y.rf, y.jump
((8, 8), (0, 0))
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd, prod

from .. import phases as PH
from ..errors import ShapeError
from ..propagate import Field
from . import axes as X


@dataclass(frozen=True, slots=True)
class Tensor(Field):
    """A ``Field`` with the roles of its tensor's axes (``layout``: an ``axes.Layout``); ``bound``: the
    field is an upper bound (an earlier op could only be bounded)."""

    layout: object = None
    bound: bool = False


def tensor(field: Field, layout=None) -> Tensor:
    """``field`` with ``layout`` (default: the ONNX layout of a channels-last field: N, C, spatial...).

    >>> tensor(Field((4, 4, 3))).layout.shape
    (1, 3, 4, 4)
    """
    if layout is None:
        layout = layout_of(field)
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


def _fields(field: Field, step) -> tuple:
    """Apply ``step(k, table)`` to every canonical axis table (and the narrow ones)."""
    axes = tuple(step(k, a) for k, a in enumerate(field.axes))
    narrow = None if field.narrow is None else tuple(step(k, a) for k, a in enumerate(field.narrow))
    return axes, narrow


def _mix_table(ax: PH.Axis, size: int, pieces, mixed) -> PH.Axis:
    """Unit ``u`` reads every unit that agrees with it on the pieces not in ``mixed``."""
    if not mixed:
        return ax
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
    mixed_pieces = {p for i in axes for p in layout.axes[i] if p.spatial}
    if not mixed_pieces or t.axes is None:
        return t

    def step(k, ax):
        pieces = [p for _, p in layout.pieces(k)]
        return _mix_table(ax, layout.sizes[k], pieces, {p for p in pieces if p in mixed_pieces})
    axes_, narrow = _fields(t, step)
    return Tensor(t.shape, axes_, narrow, layout)


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
        return remap(ax, sizes[k], 0, taps)
    axes_new = tuple(tuple(strides.get(p, p) for p in a) for a in layout.axes)
    new_layout = X.Layout(axes_new, tuple(sizes))
    if t.axes is None:
        return Tensor(_shape(new_layout, t), None, None, new_layout)
    axes_, narrow = _fields(t, step)
    return Tensor(_shape(new_layout, t), axes_, narrow, new_layout)


def _shape(layout: X.Layout, t: Field) -> tuple:
    """The channels-last shape of a tensor on ``layout``: canonical sizes, then the elements per position."""
    total = prod(layout.shape)
    if t.axes is None or not layout.sizes or all(n == 1 for n in layout.sizes) and not any(
            p.spatial for a in layout.axes for p in a):  # no positions left: the tensor's own shape
        return _collapsed_shape(layout.shape)
    per = total // prod(layout.sizes)
    return (*layout.sizes, per)


def _collapsed_shape(shape) -> tuple:
    shape = tuple(shape)
    return (*shape[2:], shape[1]) if 3 <= len(shape) <= 5 else shape[1:]


def on(t: Field, layout: X.Layout) -> Tensor:
    """The same field on a new layout (a layout op: the elements are the same, only their order moved)."""
    return Tensor(_shape(layout, t) if t.axes is not None else _collapsed_shape(layout.shape), t.axes, t.narrow,
                  layout)


def pick(t: Tensor, i: int, coords) -> Tensor:
    """Keep the coordinates ``coords`` (a list) of tensor axis ``i`` (a Slice, Gather or Split part)."""
    layout = layout_of(t)
    axis = [p for p in layout.axes[i] if p.dim != X.BATCH]
    coords = list(coords)
    n = X.extent(layout.axes[i])
    if not axis or all(p.dim == X.CHANNEL for p in axis):
        return on(t, X.replace_axis(layout, i, (X.Piece(X.CHANNEL, len(coords)),)))
    inner = prod(p.extent for p in axis[1:])
    if inner > 1:  # only the outermost piece may be cut: whole blocks of the inner ones
        outer = list(dict.fromkeys(c // inner for c in coords))
        if coords != [o * inner + j for o in outer for j in range(inner)]:
            raise X.Unfollowed(f"cutting {X.words(layout, i)} (size {n}) at {_brief(coords)}: rfcalc cuts only "
                               "whole blocks of its inner pieces")
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
    axes_, narrow = _fields(t, step)
    return Tensor(_shape(new_layout, t), axes_, narrow, new_layout)


def _brief(coords) -> str:
    return str(coords) if len(coords) <= 6 else f"[{coords[0]}, {coords[1]}, ..., {coords[-1]}] ({len(coords)})"


def to_image(t: Tensor, what: str) -> tuple:
    """The (N, C, spatial...) field a window op reads (Conv, pooling, Pad, Resize), and whether it is an
    upper bound (every position had been merged into one).

    Tensor axis ``2 + k`` must hold pieces of canonical axis ``k`` (with channel pieces among them:
    depth-to-space), and ``k``'s other pieces may sit only in the channel axis (space-to-depth):
    unit ``v`` of the new axis reads the canonical units its pieces number, over every value of
    the pieces in the channels. So an outer piece of blocks of ``b`` reads a ``b``-wide window of
    stride ``b``, and a channel piece ``b`` inside the axis repeats each unit ``b`` times.
    """
    layout = layout_of(t)
    r = len(layout.sizes)
    if layout.canonical or t.axes is None:
        return t, False
    if layout.rank != r + 2 or any(p.dim != X.BATCH for p in layout.axes[0]):
        raise X.Unfollowed(f"{what} reads (N, C, spatial...) tensors; this one is {X.roles(layout)}")
    if all(n == 1 for n in layout.sizes) and not any(p.spatial for a in layout.axes for p in a):
        # every position merged into one (after a class token or maps of other sizes were joined): each
        # unit of the view reads at most the field of all of them
        sizes = layout.shape[2:]
        axes_ = tuple(remap(a, 1, 0, lambda v: [0]) for a in t.axes)
        return Tensor((*sizes, layout.shape[1]), axes_, None, X.image(sizes, layout.shape[1])), True
    plans = []
    for k in range(r):
        ps = [p for p in layout.axes[2 + k] if p.dim != X.BATCH]
        others = [(i, p) for i, p in layout.pieces(k) if i != 2 + k]
        if not any(p.spatial for p in ps) or any(p.spatial and p.dim != k for p in ps) or any(i != 1 for i, _ in others):
            raise X.Unfollowed(f"{what} reads its axis {2 + k} as {X.axis_name(k, r)}, but the tensor is "
                               f"{X.roles(layout)}")
        combos = [0]
        for _, p in others:
            combos = [c + i * p.stride for c in combos for i in range(p.extent)]
        plans.append((ps, combos))
    channels = layout.shape[1]
    sizes = tuple(X.extent(layout.axes[2 + k]) for k in range(r))

    def step(k, ax):
        ps, combos = plans[k]
        if len(ps) == 1 and ps[0].stride == 1 and len(combos) == 1:
            return ax
        if ps[0].spatial:
            period, jump, inner = X.extent(ps[1:]), ps[0].stride, ps[1:]
        else:
            period, jump, inner = sizes[k], 0, ps

        def taps(v):
            base = 0
            for p in reversed(inner):
                v, c = divmod(v, p.extent)
                base += c * p.stride if p.spatial else 0
            return [base + c for c in combos]
        return remap(ax, period, jump, taps)
    axes_, narrow = _fields(t, step)
    return Tensor((*sizes, channels), axes_, narrow, X.image(sizes, channels)), False


def merged(t: Tensor) -> Tensor:
    """Every position merged into one: each canonical axis of size 1 reads the union of all its units,
    and the tensor's spatial pieces become channels (nothing tells its positions apart any more)."""
    layout = layout_of(t)
    axes = tuple(tuple(X.Piece(X.CHANNEL, p.extent) if p.spatial else p for p in a) for a in layout.axes)
    mixed = mix(t, range(layout.rank))
    return settle(mixed, X.Layout(tuple(X._norm(a) for a in axes), layout.sizes))


def view(t: Field) -> Field:
    """What a row shows: the (N, C, spatial...) image view where the tensor has one (a space-to-depth
    output as its blocks, with their window), else the field on the canonical axes."""
    if not isinstance(t, Tensor) or t.axes is None or t.layout is None or t.layout.canonical:
        return t
    try:
        return to_image(t, "a row")[0]
    except X.Unfollowed:
        return t


def broadcast_to(t: Tensor, sizes) -> Field:
    """A field on canonical sizes ``sizes`` where ``t`` has size 1 on some: every unit reads unit 0."""
    if t.axes is None:
        return t

    def step(k, ax):
        return ax if t.shape[k] == sizes[k] else remap(ax, 1, 0, lambda v: [0])
    axes_, narrow = _fields(t, step)
    return Field((*sizes, t.shape[-1]), axes_, narrow)


def union(fields, shape) -> tuple:
    """The exact union of several fields on the same canonical sizes (every unit reads what any reads),
    and whether their jumps agreed. Tables of different jumps are listed unit by unit.

    >>> a = Field((4, 1), (PH.UNIT,))
    >>> b = Field((4, 1), (remap(PH.UNIT, 1, 0, lambda v: [0, 1, 2, 3]),))
    >>> f, same = union([a, b], (4, 1))
    >>> [f.axes[0].at(u) for u in range(4)], same
    ([(0, 3), (0, 3), (0, 3), (0, 3)], False)
    """
    fields = [f for f in fields if f.axes is not None]
    if not fields:
        return Field(tuple(shape)), True
    axes_, narrow, same = [], [], True
    for k, n in enumerate(shape[:-1]):
        tables = [f.axes[k] for f in fields]
        if all(t.shift * tables[0].period == tables[0].shift * t.period for t in tables):
            axes_.append(PH.merge(tables)[0])
        else:
            same = False
            first = tables[0]
            step = first.shift * n // first.period if first.shift * n % first.period == 0 else 0
            table = PH.gather(n, step, [[(t, u) for t in tables] for u in range(n)])
            if len(set(zip(table.lo, table.hi))) == 1 and table.cover is None:  # every unit reads the same
                table = PH.Axis(1, 0, table.lo[:1], table.hi[:1])
            axes_.append(table)
        paths = [(f.narrow or f.axes)[k] for f in fields]
        narrow.append(min(paths, key=lambda a: min(a.widths(n))))
    narrow = None if all(a is b for a, b in zip(axes_, narrow)) else tuple(narrow)
    return Field(tuple(shape), tuple(axes_), narrow), same


def concat_spatial(parts, k: int, layout: X.Layout) -> Tensor:
    """Join fields along canonical axis ``k`` (each part whole on it): unit ``v`` is unit ``v - offset`` of its part."""
    sizes = [p.shape[k] for p in parts]
    total = sum(sizes)
    where = []
    for j, n in enumerate(sizes):
        where += [(j, u) for u in range(n)]
    first = parts[0].axes[k]
    step = first.shift * total // first.period if first.shift * total % first.period == 0 else 0

    def joined(tables):
        return PH.gather(total, step, [[(tables[j], u)] for j, u in where])
    axes_, narrow = [], []
    flags = ()
    for a in range(len(parts[0].axes)):
        if a == k:
            axes_.append(joined([p.axes[k] for p in parts]))
            narrow.append(joined([(p.narrow or p.axes)[k] for p in parts]))
        else:
            tables = [p.axes[a] for p in parts]
            if any(tb != tables[0] for tb in tables):
                table = union([Field(p.shape, p.axes) for p in parts], parts[0].shape)[0].axes[a]
                flags = ("bound",)  # each part's units read their own part's field: the union is an upper bound
            else:
                table = tables[0]
            axes_.append(table)
            narrow.append(table)
    if all(p.narrow is None for p in parts):
        narrow = None
    out = Tensor(_shape(layout, parts[0]), tuple(axes_), None if narrow is None else tuple(narrow), layout)
    return out, flags


__all__ = ["Tensor", "tensor", "layout_of", "onnx_shape", "remap", "mix", "settle", "on", "pick", "to_image",
           "merged", "view", "broadcast_to", "union", "concat_spatial"]
