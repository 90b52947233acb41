"""Bounds that let the design search drop partial stacks: layers still needed, and their least cost.

Each is a lower bound on what every completion of a prefix must add, so pruning with it keeps every
Pareto-optimal stack (docs/design.md, "Why the front is exact").
"""

from __future__ import annotations

from math import prod

from ..arithmetic import effective_kernel
from ..errors import RFError
from ..phases import UNTRACKED
from ..propagate import Field, apply_layer, input_field


def reach_bound(space, rank: int):
    """Per axis, the largest effective kernel, stride and tap count of any choice: bounds on growth."""
    ks = [max(effective_kernel(c.kernel[a], c.dilation[a]) for c in space.choices) for a in range(rank)]
    ss = [max(c.stride[a] for c in space.choices) for a in range(rank)]
    taps = [max(c.kernel[a] for c in space.choices) for a in range(rank)]
    return ks, ss, taps


def _read(axis, rf: int) -> int:
    """How many input pixels unit 0 reads on one axis (its field's width when there are no holes)."""
    cover = axis.cover[0] if axis.cover is not None else None
    return rf if cover is None or cover == UNTRACKED or axis.period != 1 else bin(cover).count("1")


def layers_left(field: Field, bounds, target, limit: int, holes_ok: bool) -> int:
    """A lower bound on the layers any stack needs after ``field`` to reach ``target`` (``limit`` + 1: never).

    Span: each layer widens the field by at most (K−1)·jump, and the jump grows at most S times.
    Pixels read: a layer of k taps at most multiplies them by k, and a field without holes reads
    every pixel of its width, so it needs width ≤ read·k^n.
    """
    ks, ss, taps = bounds
    need = 0
    for a, (r, j, k, s, kt, t) in enumerate(zip(field.rf, field.jump, ks, ss, taps, target)):
        n, width, jump = 0, r, j
        while width < t:
            if n >= limit or (k == 1 and s == 1):
                return limit + 1
            width, jump, n = width + (k - 1) * jump, jump * s, n + 1
        need = max(need, n)
        if not holes_ok:
            read, n = _read(field.axes[a], r), 0
            while read < t:
                if n >= limit or kt == 1:
                    return limit + 1
                read, n = read * kt, n + 1
            need = max(need, n)
    return need


def dominated_later(front, p: int, m: int, d: int, path: tuple) -> bool:
    """A finished stack beats every completion of a partial one with path ``path``: completions cost at least
    (p, m) and are at least ``d`` deep (lower bounds for the layers still needed). On equal costs it wins
    when it comes first in vocabulary order, which every completion then follows."""
    n = len(path)
    return any(
        fp <= p and fm <= m and fd <= d and (fp < p or fm < m or fd < d or fpath[:n] < path)
        for fp, fm, fd, fpath in front
    )


def cheapest_layer(space, channels: int, rank: int):
    """Lower bounds on the params and MACs per output pixel of any one layer after a state with ``channels``
    channels: each choice on the thinnest input it can get (those channels, or fewer from a later layer);
    0 when a pooling is a choice."""
    outs = [channels]
    for stage in range(space.stages()):
        for c in range(len(space.choices)):
            layer = space.layer_at(c, stage)
            outs.append(getattr(layer, "filters", channels))
    thin = min(outs)
    params, macs = [], []
    for stage in range(space.stages()):
        for c in range(len(space.choices)):
            layer = space.layer_at(c, stage)
            size = tuple(effective_kernel(layer.kernel[a], layer.dilation[a]) for a in range(rank))
            try:
                applied = apply_layer(layer, input_field(size + (thin,)))
            except RFError:
                return 0, 0
            params.append(applied.params)
            macs.append(applied.macs // max(1, prod(applied.field.shape[:-1])))
    return min(params), min(macs)
