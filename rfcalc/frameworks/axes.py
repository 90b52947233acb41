"""Axis roles: what each axis of a tensor is, rewritten exactly by the ops that move axes.

rfcalc's fields live on the *canonical* axes of the network input: spatial axes ``0 .. r-1``
(their sizes fixed) and channels. A tensor in a graph may hold them in another order and grouping
(NHWC around a LayerNorm, tokens after a flatten, ``(g, C/g)`` channel groups, a spatial block moved
into channels). A ``Layout`` says, per tensor axis, which ``Piece`` values it holds, outer to inner:

- ``Piece("n", 1)``: the batch (always extent 1 here);
- ``Piece("c", e)``: ``e`` channels (channels are interchangeable: every channel of a position has
  the same field, so channel pieces carry only an extent);
- ``Piece(k, e, s)``: a piece of spatial axis ``k``: coordinate ``i < e`` moves ``i·s`` units along
  it. A whole axis is ``Piece(k, size, 1)``; its outer / inner halves after a split into blocks of
  ``b`` are ``Piece(k, size // b, b)`` and ``Piece(k, b, 1)``; tokens are several whole axes in one.

Every spatial axis' pieces, over the whole layout, form an exact mixed-radix numbering of its units.
Layout ops only rewrite pieces: ``transpose`` permutes axes, ``reshape`` splits and merges them in
row-major order (proven piece by piece: an extent that neither divides nor is divided by what the
next target axis needs is refused, ``Unfollowed``). Nothing here knows ONNX or Keras: both door's
Transpose / Permute and Reshape use these rewrites. Pure Python, exact integers.

>>> x = image((8, 8), 6)                      # an (N, C, H, W) tensor
>>> x.shape
(1, 6, 8, 8)
>>> s2d = transpose(reshape(x, (1, 6, 4, 2, 4, 2)), (0, 1, 3, 5, 2, 4))
>>> y = reshape(s2d, (1, 24, 4, 4))           # space-to-depth by 2
>>> roles(y)
'(batch, channels 6 · H inner 2 · W inner 2, H outer (blocks of 2), W outer (blocks of 2))'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from math import prod

from ..errors import RFError, ShapeError

BATCH, CHANNEL, EXTRA = "n", "c", "x"
NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
MAX_ELEMENTS = 1 << 40  # a shape past this is refused before anything is computed from it


class Unfollowed(RFError):
    """An axis mapping rfcalc cannot prove (the caller names the node and the op)."""


@dataclass(frozen=True, slots=True)
class Piece:
    """One factor of an axis: the batch (``"n"``), channels (``"c"``), or spatial axis ``dim`` (an int).

    >>> Piece(0, 4, 2).spatial, Piece("c", 8).spatial
    (True, False)
    """

    dim: object
    extent: int
    stride: int = 1

    @property
    def spatial(self) -> bool:
        return isinstance(self.dim, int)


@dataclass(frozen=True, slots=True)
class Extra:
    """``extent`` entries that are no position, first on an axis of positions (a class token joined to
    the tokens); ``field``: per spatial axis, the one span they read (``None``: nothing, a constant).

    >>> extent((Extra(1), Piece(0, 4, 1), Piece(1, 4, 1)))
    17
    """

    extent: int
    field: tuple | None = None
    dim = EXTRA
    stride = 1
    spatial = False


@dataclass(frozen=True, slots=True)
class Layout:
    """Per tensor axis, its pieces (outer to inner); ``sizes``: the canonical spatial sizes.

    >>> image((4,), 3).shape, image((4,), 3).rank
    ((1, 3, 4), 3)
    """

    axes: tuple
    sizes: tuple
    canon: bool = field(default=False, compare=False, repr=False)  # made by image(): canonical for sure

    @property
    def shape(self) -> tuple:
        return tuple(extent(a) for a in self.axes)

    @property
    def rank(self) -> int:
        return len(self.axes)

    def pieces(self, k: int) -> list:
        """The pieces of spatial axis ``k``, with the index of the tensor axis holding each."""
        return [(i, p) for i, a in enumerate(self.axes) for p in a if p.dim == k]

    @property
    def canonical(self) -> bool:
        """(N, C, spatial 0, spatial 1, ...), each spatial axis whole: the layout ops expect."""
        if self.canon:
            return True
        if self.rank != len(self.sizes) + 2:
            return False
        model = image(self.sizes, extent(self.axes[1]))
        return self is model or self == model


def extent(axis) -> int:
    """The size of a tensor axis: the product of its pieces' extents (plus its extra entries)."""
    extra = sum(p.extent for p in axis if p.dim == EXTRA)
    return prod(p.extent for p in axis if p.dim != EXTRA) + extra if extra else prod(p.extent for p in axis)


def extra_of(layout) -> tuple:
    """``(axis index, Extra)`` of the axis holding extra entries, or ``(None, None)``."""
    for i, a in enumerate(layout.axes):
        if a and a[0].dim == EXTRA:
            return i, a[0]
    return None, None


def plain(layout):
    """``layout`` with the extra entries' fields left out (to compare roles)."""
    i, e = extra_of(layout)
    return layout if e is None or e.field is None else replace_axis(layout, i, (Extra(e.extent), *layout.axes[i][1:]))


@lru_cache(maxsize=512)
def image(sizes, channels: int) -> Layout:
    """The layout of an ONNX activation (N, C, spatial...) on the canonical axes.

    >>> image((8, 8), 3).axes[2]
    (Piece(dim=0, extent=8, stride=1),)
    """
    sizes = tuple(sizes)
    return Layout(
        (
            (Piece(BATCH, 1),),
            _norm((Piece(CHANNEL, channels),)),
            *(_norm((Piece(k, n, 1),)) for k, n in enumerate(sizes)),
        ),
        sizes,
        True,
    )


def flat(shape, sizes=()) -> Layout:
    """A tensor without spatial roles (a feature vector, a constant): batch, then channels.

    >>> flat((1, 10)).axes
    ((Piece(dim='n', extent=1, stride=1),), (Piece(dim='c', extent=10, stride=1),))
    """
    shape = tuple(shape)
    first = (Piece(BATCH, 1),) if shape[:1] == (1,) else _norm((Piece(CHANNEL, shape[0]),)) if shape else ()
    return Layout((first, *(_norm((Piece(CHANNEL, d),)) for d in shape[1:]))[: len(shape)], tuple(sizes))


def _norm(pieces) -> tuple:
    """Drop unit pieces (the batch marker stays when alone), merge neighbours that continue each other."""
    out: list = []
    for p in pieces:
        if p.dim == EXTRA:
            out.append(p)
            continue
        if p.extent == 1 and p.dim != BATCH:
            continue
        if out and out[-1].dim == BATCH and out[-1].extent == 1:
            out.pop()
        if out and p.dim == CHANNEL and out[-1].dim == CHANNEL:
            out[-1] = Piece(CHANNEL, out[-1].extent * p.extent)
        elif out and p.spatial and out[-1].dim == p.dim and out[-1].stride == p.stride * p.extent:
            out[-1] = Piece(p.dim, out[-1].extent * p.extent, p.stride)
        elif p.dim == BATCH and out:
            continue
        else:
            out.append(p)
    return tuple(out)


def axis_name(k: int, rank: int) -> str:
    names = NAMES.get(rank)
    return names[k] if names and k < len(names) else f"axis {k}"


def _piece_full(layout: Layout, p: Piece) -> str:
    """A spatial piece's words with its place on its axis (whole, outer, inner, middle)."""
    assert isinstance(p.dim, int), p  # callers pass neither the batch nor the channel piece
    name = axis_name(p.dim, len(layout.sizes))
    n = layout.sizes[p.dim]
    if p.stride == 1 and p.extent == n:
        return name
    if p.stride * p.extent == n:
        return f"{name} outer (blocks of {p.stride})"
    if p.stride == 1:
        return f"{name} inner {p.extent}"
    return f"{name} middle {p.extent} (step {p.stride})"


def words(layout: Layout, i: int) -> str:
    """Axis ``i`` of ``layout`` in words, each spatial piece placed on its axis.

    >>> words(reshape(image((8,), 2), (1, 2, 4, 2)), 3)
    'L inner 2'
    """
    axis = layout.axes[i]
    if not axis:
        return "a unit axis"
    if axis[0].dim == EXTRA:
        rest = Layout(layout.axes[:i] + (axis[1:],) + layout.axes[i + 1 :], layout.sizes)
        return f"{axis[0].extent} extra + {words(rest, i)}"
    if all(p.dim == BATCH for p in axis):
        return "batch"
    if all(p.dim in (CHANNEL, BATCH) for p in axis):
        return f"channels ({extent(axis)})"
    parts = [f"channels {p.extent}" if p.dim == CHANNEL else _piece_full(layout, p) for p in axis if p.dim != BATCH]
    if len(parts) > 1 and all(p.spatial for p in axis if p.dim != BATCH):
        return f"tokens ({' · '.join(parts)})"
    return " · ".join(parts)


def roles(layout: Layout) -> str:
    """Every axis in words: ``(batch, H, W, channels (96))``.

    >>> roles(image((4, 4), 3))
    '(batch, channels (3), H, W)'
    """
    return "(" + ", ".join(words(layout, i) for i in range(layout.rank)) + ")"


def transpose(layout: Layout, perm) -> Layout:
    """Permute the axes (``perm`` as ONNX writes it: output axis i is input axis perm[i]).

    >>> transpose(image((4, 4), 3), (0, 2, 3, 1)).shape
    (1, 4, 4, 3)
    """
    perm = tuple(int(p) for p in perm)
    if sorted(perm) != list(range(layout.rank)):
        raise ShapeError(
            f"the permutation {list(perm)} does not order the {layout.rank} axes of a tensor of shape {layout.shape}"
        )
    return Layout(tuple(layout.axes[p] for p in perm), layout.sizes)


def check_size(shape, what: str = "the shape") -> tuple:
    """``shape`` as a tuple of non-negative ints, refused past ``MAX_ELEMENTS`` elements."""
    shape = tuple(int(d) for d in shape)
    if any(d < 0 for d in shape):
        raise ShapeError(f"{what} has a negative size. Received: {shape}")
    if prod(shape) > MAX_ELEMENTS:
        raise ShapeError(f"{what} {shape} has {prod(shape):,} elements; rfcalc refuses tensors past {MAX_ELEMENTS:,}")
    return shape


def reshape_target(shape, spec, allowzero: int = 0) -> tuple:
    """An ONNX Reshape's target with ``0`` (copy) and ``-1`` (infer) resolved; errors name the values.

    >>> reshape_target((1, 64, 7, 7), (0, -1))
    (1, 3136)
    """
    shape, spec = tuple(shape), [int(v) for v in spec]
    if spec.count(-1) > 1 or any(v < -1 for v in spec):
        raise ShapeError(f"a Reshape target holds at most one -1 and no other negative size. Received: {spec}")
    out = []
    for i, v in enumerate(spec):
        if v == 0 and not allowzero:
            if i >= len(shape):
                raise ShapeError(
                    f"a 0 in the Reshape target {spec} copies axis {i}, which a {len(shape)}-d "
                    f"input {shape} does not have"
                )
            v = shape[i]
        out.append(v)
    total = prod(shape)
    if -1 in out:
        known = prod(v for v in out if v != -1)
        if known == 0 or total % known:
            raise ShapeError(f"the Reshape target {spec} does not divide the {total:,} elements of {shape}")
        out[out.index(-1)] = total // known
    target = check_size(out, "the Reshape target")
    if prod(target) != total:
        raise ShapeError(
            f"the Reshape target {tuple(target)} has {prod(target):,} elements; its input {shape} has {total:,}"
        )
    return target


def reshape(layout: Layout, target) -> Layout:
    """The same elements in row-major order regrouped as ``target`` (no 0 or -1 in it).

    >>> y = reshape(image((4, 6), 2), (1, 2, 24))          # flatten space into tokens
    >>> y.axes[2]
    (Piece(dim=0, extent=4, stride=1), Piece(dim=1, extent=6, stride=1))
    >>> reshape(y, (1, 2, 4, 6)) == image((4, 6), 2)
    True
    """
    target = check_size(target, "the Reshape target")
    if prod(target) != prod(layout.shape):
        raise ShapeError(
            f"the Reshape target {target} has {prod(target):,} elements; its input "
            f"{layout.shape} has {prod(layout.shape):,}"
        )
    stream: list = []
    for a in layout.axes:  # the element order: axes in turn, each piece outer to inner
        if a and a[0].dim == EXTRA:  # an axis with extra entries moves whole, never split or merged
            stream.append(a)
            continue
        for p in a:
            if stream and p.dim == CHANNEL and isinstance(stream[-1], Piece) and stream[-1].dim == CHANNEL:
                stream[-1] = Piece(CHANNEL, stream[-1].extent * p.extent)  # interchangeable: one run
            else:
                stream.append(p)
    stream.reverse()  # a stack: the next piece is stream[-1]
    axes = []
    for d in target:
        taken: list = []
        need = d
        while stream and (need > 1 or not isinstance(stream[-1], tuple) and stream[-1].extent == 1):
            p = stream.pop()
            if isinstance(p, tuple):
                if need != extent(p) or taken:
                    raise Unfollowed(
                        f"reshaping {roles(layout)} of shape {layout.shape} to {target}: the axis with "
                        "extra entries (a class token) would be split or merged"
                    )
                taken.extend(p)
                need = 1
            elif p.extent == 1:
                taken.append(p)
            elif need % p.extent == 0:
                taken.append(p)
                need //= p.extent
            elif p.extent % need == 0:
                inner = p.extent // need
                taken.append(Piece(p.dim, need, p.stride * inner if p.spatial else 1))
                stream.append(Piece(p.dim, inner, p.stride if p.spatial else 1))
                need = 1
            else:
                raise Unfollowed(
                    f"reshaping {roles(layout)} of shape {layout.shape} to {target}: an axis of "
                    f"{d} would hold part of a piece of {p.extent} ({_piece_label(layout, p)}) "
                    "that it does not divide"
                )
        axes.append(_norm(taken))
    return Layout(tuple(axes), layout.sizes)


def _piece_label(layout: Layout, p: Piece) -> str:
    return f"channels {p.extent}" if p.dim == CHANNEL else "batch" if p.dim == BATCH else _piece_full(layout, p)


def squeeze(layout: Layout, axes=None) -> Layout:
    """Drop unit axes (all of them when ``axes`` is None).

    >>> squeeze(image((1, 4), 3), [2]).shape
    (1, 3, 4)
    """
    rank = layout.rank
    if axes is None:
        drop = {i for i, d in enumerate(layout.shape) if d == 1}
    else:
        drop = {_axis(a, rank) for a in axes}
        bad = [i for i in drop if layout.shape[i] != 1]
        if bad:
            raise ShapeError(
                f"Squeeze drops axis {bad[0]} of size {layout.shape[bad[0]]} (shape {layout.shape}); "
                "it drops axes of size 1 only"
            )
    return Layout(tuple(a for i, a in enumerate(layout.axes) if i not in drop), layout.sizes)


def unsqueeze(layout: Layout, axes) -> Layout:
    """Insert unit axes at ``axes`` (positions in the output).

    >>> unsqueeze(flat((1, 8)), [2, 3]).shape
    (1, 8, 1, 1)
    """
    rank = layout.rank + len(axes)
    at = sorted(_axis(a, rank) for a in axes)
    if len(set(at)) != len(at):
        raise ShapeError(f"Unsqueeze names an axis twice. Received: axes={list(axes)}")
    out = list(layout.axes)
    for a in at:
        out.insert(a, ())
    return Layout(tuple(out), layout.sizes)


def _axis(a, rank: int) -> int:
    a = int(a)
    if not -rank <= a < rank:
        raise ShapeError(f"axis {a} is outside a {rank}-d tensor")
    return a % rank


def axis_index(a, rank: int) -> int:
    """An ONNX axis (negative counts from the end) checked against ``rank``.

    >>> axis_index(-1, 4)
    3
    """
    return _axis(a, rank)


def flatten(layout: Layout, axis: int) -> Layout:
    """ONNX Flatten: the axes before ``axis`` as one, the rest as another.

    >>> flatten(image((2, 2), 3), 1).shape
    (1, 12)
    """
    shape = layout.shape
    axis = _axis(axis, len(shape) + 1) if axis != len(shape) else axis
    return reshape(layout, (prod(shape[:axis]), prod(shape[axis:])))


def replace_axis(layout: Layout, i: int, pieces) -> Layout:
    """``layout`` with axis ``i`` holding ``pieces`` instead (``None``: the axis removed)."""
    axes = list(layout.axes)
    if pieces is None:
        del axes[i]
    else:
        axes[i] = _norm(tuple(pieces))
    return Layout(tuple(axes), layout.sizes)


def with_sizes(layout: Layout, sizes) -> Layout:
    """The same axes on canonical axes of new sizes (after a crop or a projection)."""
    return Layout(layout.axes, tuple(sizes))


__all__ = [
    "Piece",
    "Layout",
    "Unfollowed",
    "image",
    "flat",
    "transpose",
    "reshape",
    "reshape_target",
    "squeeze",
    "unsqueeze",
    "flatten",
    "words",
    "Extra",
    "extra_of",
    "plain",
    "roles",
    "axis_index",
    "check_size",
    "extent",
]
