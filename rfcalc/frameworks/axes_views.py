"""Views and joins of ``axes_fields.Tensor`` values: the (N, C, spatial...) image a window op reads,
the row a node shows, broadcasts and exact unions of fields, and joins along a spatial axis.

``to_image`` reads a spatial axis that is the outer piece of blocks of ``b`` (its inner piece in
the channels: space-to-depth) as a ``b``-wide window of stride ``b``, and a channel piece inside a
spatial axis (depth-to-space) as a repetition of each unit: exact per-phase fields.

>>> from rfcalc.frameworks import axes as X
>>> from rfcalc.propagate import input_field
>>> t = on(input_field((8, 8, 3)), X.reshape(X.transpose(X.reshape(X.image((8, 8), 3), (1, 3, 4, 2, 4, 2)),
...                                                        (0, 3, 5, 1, 2, 4)), (1, 12, 4, 4)))
>>> img, bound = to_image(t, "Conv")
>>> img.shape, img.rf, img.jump
((4, 4, 12), (2, 2), (2, 2))
"""

from __future__ import annotations

from .. import phases as PH
from ..propagate import Field
from . import axes as X
from .axes_fields import Tensor, each_table, layout_of, mix, on, remap, settle, shape_of  # noqa: F401 (on: doctest)


def to_image(t: Tensor, what: str) -> tuple:
    """The (N, C, spatial...) field a window op reads (Conv, pooling, Pad, Resize), and whether it is an
    upper bound (never, so far: kept for views that could only be bounded).

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
        # no position left to tell units apart: the window op's input is read as one without a field
        sizes = layout.shape[2:]
        return Tensor((*sizes, layout.shape[1]), None, None, X.image(sizes, layout.shape[1])), False
    if X.extra_of(layout)[1] is not None:
        raise X.Unfollowed(f"{what} reads (N, C, spatial...) tensors; this one has extra entries: {X.roles(layout)}")
    plans = []
    for k in range(r):
        ps = [p for p in layout.axes[2 + k] if p.dim != X.BATCH]
        others = [(i, p) for i, p in layout.pieces(k) if i != 2 + k]
        if (
            not any(p.spatial for p in ps)
            or any(p.spatial and p.dim != k for p in ps)
            or any(i != 1 for i, _ in others)
        ):
            raise X.Unfollowed(
                f"{what} reads its axis {2 + k} as {X.axis_name(k, r)}, but the tensor is {X.roles(layout)}"
            )
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

    axes_, narrow = each_table(t, step)
    return Tensor((*sizes, channels), axes_, narrow, X.image(sizes, channels)), False


def view(t: Field) -> Field:
    """What a row shows: the (N, C, spatial...) image view where the tensor has one (a space-to-depth
    output as its blocks, with their window), else the field on the canonical axes."""
    if not isinstance(t, Tensor) or t.axes is None or t.layout is None or t.layout.canonical:
        return t
    if not _viewable(t.layout):  # the common case of a tensor in another layout: no message to build
        return t
    try:
        return to_image(t, "a row")[0]
    except X.Unfollowed:
        return t


def _viewable(layout) -> bool:
    """Whether ``to_image`` can read ``layout`` (the same tests, without the messages)."""
    r = len(layout.sizes)
    if layout.rank != r + 2 or any(p.dim != X.BATCH for p in layout.axes[0]) or X.extra_of(layout)[1] is not None:
        return False
    for k in range(r):
        ps = layout.axes[2 + k]
        if not any(p.spatial for p in ps) or any(p.spatial and p.dim != k for p in ps):
            return False
        if any(i not in (1, 2 + k) for i, _ in layout.pieces(k)):
            return False
    return True


def broadcast_to(t: Tensor, sizes) -> Field:
    """A field on canonical sizes ``sizes`` where ``t`` has size 1 on some: every unit reads unit 0."""
    if t.axes is None:
        return t

    def step(k, ax):
        return ax if t.shape[k] == sizes[k] else remap(ax, 1, 0, lambda v: [0])

    axes_, narrow = each_table(t, step)
    return Field((*sizes, t.shape[-1]), axes_, narrow)


MARGIN = 64  # units past either end of an axis whose fields a listed union keeps exactly (at least the axis' size)


def listed(tables, n: int) -> PH.Axis:
    """The union of tables of different jumps, unit by unit: each of the ``n`` units reads what any
    table's unit reads, and so does each unit up to ``M = max(n, MARGIN)`` past either end (padding
    positions a later window reads: each table continues its own grid there). The period is
    ``n + 2M``: entries ``n .. n+M-1`` are the units after the axis, the last ``M`` those before it
    (unit ``-j`` is entry ``n+2M-j``). The shift is 0: the tables have no common jump, and rows show
    jump 0 for it. Units further out than ``M`` repeat the table: no real layer reads that far past
    a map (a window or dilation wider than the map and 64 units).

    >>> a, b = PH.window(PH.UNIT, 3, 2, 1, 1), PH.UNIT                 # jumps 2 and 1
    >>> t = listed([a, b], 4)
    >>> [t.at(u) for u in (-1, 0, 3, 4)], t.period
    ([(-3, -1), (-1, 1), (3, 7), (4, 9)], 132)
    """
    m = max(n, MARGIN)
    units = [*range(n + m), *range(-m, 0)]
    return PH.gather(n + 2 * m, 0, [[(t, u) for t in tables] for u in units])


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
            table = listed(tables, n)
            if len(set(zip(table.lo[:n], table.hi[:n]))) == 1 and table.cover is None:  # every unit reads the same
                table = PH.Axis(1, 0, table.lo[:1], table.hi[:1])
            axes_.append(table)
        paths = [(f.narrow or f.axes)[k] for f in fields]
        narrow.append(min(paths, key=lambda a: min(a.widths(n))))
    narrowed = None if all(a is b for a, b in zip(axes_, narrow)) else tuple(narrow)
    return Field(tuple(shape), tuple(axes_), narrowed), same


def concat_spatial(parts, k: int, layout: X.Layout) -> tuple[Tensor, tuple[str, ...]]:
    """Join fields along canonical axis ``k`` (each part whole on it): unit ``v`` is unit ``v - offset`` of
    its part. Parts of one jump repeat with it (the units past the ends continue the first part's grid,
    as for a roll). Parts of different jumps (an upsampled part beside another) have none: the axis is
    listed unit by unit, the units past the ends continuing the end parts' own grids, as ``listed`` does
    for a union (repeating the first part's jump there read units far across the join).
    """
    sizes = [p.shape[k] for p in parts]
    total = sum(sizes)
    where = []
    for j, n in enumerate(sizes):
        where += [(j, u) for u in range(n)]
    first = parts[0].axes[k]
    step = first.shift * total // first.period if first.shift * total % first.period == 0 else 0
    m = max(total, MARGIN)

    def joined(tables):
        body = [[(tables[j], u)] for j, u in where]
        if step and all(t.shift * first.period == first.shift * t.period for t in tables):
            return PH.gather(total, step, body)
        ends = [[(tables[-1], sizes[-1] + i)] for i in range(m)] + [[(tables[0], i - m)] for i in range(m)]
        return PH.gather(total + 2 * m, 0, body + ends)

    axes_, narrow = [], []
    flags: tuple[str, ...] = ()
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
    narrowed = None if all(p.narrow is None for p in parts) else tuple(narrow)
    out = Tensor(shape_of(layout, parts[0]), tuple(axes_), narrowed, layout)
    return out, flags


__all__ = ["to_image", "view", "broadcast_to", "union", "concat_spatial"]
