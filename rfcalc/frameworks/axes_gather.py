"""Fields through a gather of coordinates (ONNX GatherND) and through a constant mask (Where).

``gather_nd``: every index vector picks one coordinate on each gathered tensor axis, so one unit of
every canonical axis those axes hold. The index axes become the new axes: an index axis along which
the picked position of canonical axis ``k`` changes is a piece of ``k`` (its units renumbered in the
order the index axes give), one along which no position changes holds copies (channels). New unit
``u`` of ``k`` reads exactly the old unit its index vectors pick: any tap set (adaptive-pooling
windows that overlap, repeat or skip) is exact. Where one index axis moves two canonical axes at
once (a list of (h, w) points), it numbers the first; each unit of the other reads the union of
the positions it could be (``bound``: an upper bound, never smaller than the truth).

``silence``: units of canonical axis ``k`` a mask replaces by a constant read nothing.

>>> from rfcalc.propagate import input_field
>>> from rfcalc.frameworks import axes as X
>>> t = on(input_field((4, 4, 1)), X.transpose(X.image((4, 4), 1), (2, 3, 0, 1)))   # (H, W, N, C)
>>> wins = [[(h, w) for w in (0, 1, 1, 2, 2, 3)] for h in range(4)]                 # 4 x (3 windows of 2)
>>> y, bound = gather_nd(t, 0, (4, 3, 2, 2), [p for row in wins for p in row])
>>> y.layout.shape, y.shape, bound
((4, 3, 2, 1, 1), (4, 6, 1), False)
>>> [y.axes[1].at(u) for u in range(6)]
[(0, 0), (1, 1), (1, 1), (2, 2), (2, 2), (3, 3)]
"""

from __future__ import annotations

from math import prod

from . import axes as X
from .axes_fields import Tensor, each_table, layout_of, on, remap, shape_of


def _digits(axis) -> list:
    """Per piece of a tensor axis, ``(piece, divisor)``: its digit of coordinate ``c`` is ``c // divisor % extent``."""
    out, div = [], 1
    for p in reversed(axis):
        out.append((p, div))
        div *= p.extent
    return out[::-1]


def _positions(lay: X.Layout, b: int, coords, ks) -> dict:
    """Per canonical axis ``k`` in ``ks``, the old unit each index vector picks."""
    plans = [_digits(lay.axes[b + g]) for g in range(len(coords[0]) if coords else 0)]
    out: dict = {k: [] for k in ks}
    for c in coords:
        acc = dict.fromkeys(ks, 0)
        for cg, plan in zip(c, plans):
            for p, div in plan:
                if p.spatial:
                    acc[p.dim] += (cg // div) % p.extent * p.stride
        for k in ks:
            out[k].append(acc[k])
    return out


def _depends(values, dims, j) -> bool:
    """Whether ``values`` (row-major over ``dims``) change along axis ``j``."""
    st = prod(dims[j + 1 :])
    return any(v != values[i - (i // st) % dims[j] * st] for i, v in enumerate(values))


def gather_nd(t: Tensor, b: int, index_dims, coords) -> tuple[Tensor, bool]:
    """``(output, bound)`` of a GatherND of ``t`` with ``batch_dims=b``: ``coords`` (from
    ``gathernd.picks``) are the coordinates each index vector picks on tensor axes ``b .. b+m-1``."""
    lay = layout_of(t)
    index_dims = tuple(index_dims)
    m, new_dims = index_dims[-1], index_dims[:-1]
    gathered = range(b, b + m)
    if any(p.dim == X.EXTRA for g in gathered for p in lay.axes[g]):
        raise X.Unfollowed(f"gathers from an axis with extra entries (a class token): {X.roles(lay)}")
    ks = sorted({p.dim for g in gathered for p in lay.axes[g] if p.spatial})
    for k in ks:
        elsewhere = sorted({i for i, _ in lay.pieces(k) if i not in gathered})
        if elsewhere:
            raise X.Unfollowed(
                f"gathers on axes {list(gathered)} of {X.roles(lay)}: {X.axis_name(k, len(lay.sizes))} has "
                f"pieces on axes {elsewhere} too; rfcalc gathers whole spatial axes"
            )
    rest = lay.axes[b + m :]
    if t.axes is None or not ks:  # no field to move (or only channels picked): the roles of the new axes
        axes = (*lay.axes[:b], *(_norm_c(d) for d in new_dims[b:]), *rest)
        new = X.Layout(axes, lay.sizes) if t.axes is not None else X.flat([X.extent(a) for a in axes], lay.sizes)
        return on(t, new), False
    pos = _positions(lay, b, coords, ks)
    owner = {}
    for j in range(b, len(new_dims)):
        deps = [k for k in ks if new_dims[j] > 1 and _depends(pos[k], new_dims, j)]
        owner[j] = deps[0] if deps else None
    sizes, axes_new, bound, buckets = list(lay.sizes), [], False, {}
    strides = [prod(new_dims[j + 1 :]) for j in range(len(new_dims))]
    for k in ks:
        own = [j for j in owner if owner[j] == k]
        sizes[k] = prod(new_dims[j] for j in own)
        place = {j: prod(new_dims[i] for i in own[n + 1 :]) for n, j in enumerate(own)}
        units: list[set] = [set() for _ in range(sizes[k])]
        for i, s in enumerate(pos[k]):
            units[sum((i // strides[j]) % new_dims[j] * place[j] for j in own)].add(s)
        bound = bound or any(len(u) > 1 for u in units)
        buckets[k] = [sorted(u) for u in units]
        axes_new += [(j, (X.Piece(k, new_dims[j], place[j]),)) for j in own]
    mine = dict(axes_new)
    axes = (*lay.axes[:b], *(X._norm(mine[j]) if j in mine else _norm_c(new_dims[j]) for j in range(b, len(new_dims))))
    new = X.Layout((*axes, *rest), tuple(sizes))
    if not any(p.spatial for a in new.axes for p in a):
        raise X.Unfollowed(f"gathers single positions of {X.roles(lay)}: the output keeps no spatial axis to follow")

    def step(k, ax):
        if k not in buckets:
            return ax
        return remap(ax, sizes[k], lay.sizes[k], lambda v: buckets[k][v])

    axes_, narrow = each_table(t, step)
    return Tensor(shape_of(new, t), axes_, narrow, new), bound


def _norm_c(d: int) -> tuple:
    return X._norm((X.Piece(X.CHANNEL, d),))


def silence(t: Tensor, k: int, alive) -> Tensor:
    """``t`` whose units ``u`` of canonical axis ``k`` with ``alive[u]`` false read nothing (a constant there).

    >>> from rfcalc.propagate import input_field
    >>> y = silence(on(input_field((4, 1)), X.image((4,), 1)), 0, [True, False, True, True])
    >>> [y.axes[0].at(u) for u in range(4)]
    [(0, 0), (2, 1), (2, 2), (3, 3)]
    """
    if t.axes is None or all(alive):
        return t
    n = layout_of(t).sizes[k]

    def step(j, ax):
        return ax if j != k else remap(ax, n, n, lambda v: [v] if alive[v] else [])

    axes_, narrow = each_table(t, step)
    return Tensor(t.shape, axes_, narrow, t.layout, t.bound)


__all__ = ["gather_nd", "silence"]
