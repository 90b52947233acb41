"""A depth-first dive for one finished stack, to seed the exact search with a cost to beat.

Depth-first in vocabulary order, with the same bounds as the search (layers still needed, budgets,
minimum output), so a dive whose depth bound is the least that works goes nearly straight to a
stack: in a WaveNet space, `c2d1..8192/causal` after a few hundred steps, where a breadth-first
pass would first meet every shallower set of dilations. It proves nothing; the search does.

>>> from rfcalc.designer.space import space
>>> f = dive(space("c3,p2"), (32, 32, 3), Goal(rf=(8, 8)), Limits(max_depth=3))
>>> f.path, f.params
((0, 1, 0), 10144)
"""

from __future__ import annotations

from ..errors import RFError
from ..propagate import apply_layer, input_field
from .bounds import layers_left, reach_bound
from .search import Found, Goal, Limits, head_cost, reached


def dive(space, input_shape, goal: Goal, limits: Limits, head=(), nodes: int = 20_000):
    """The first finished stack depth-first within ``limits`` (a ``Found``), or None (none, or ``nodes`` ran out)."""
    sizes = tuple(input_shape[:-1])
    target = goal.rf if goal.rf is not None else sizes
    bounds = reach_bound(space, len(sizes))
    stages = space.stages()
    cache: dict = {}
    heads: dict = {}
    stack = [(input_field(tuple(input_shape)), 0, 0, 0, 0, ())]
    while stack and nodes > 0:
        nodes -= 1
        field, stage, pos, p, m, path = stack.pop()
        d = len(path)
        if d and pos in space.accepting and reached(field, goal, sizes):
            extra = head_cost(head, field, heads) if head else (0, 0)
            if (
                extra is not None
                and (limits.max_params is None or p + extra[0] <= limits.max_params)
                and (limits.max_macs is None or m + extra[1] <= limits.max_macs)
            ):
                return Found(path, p + extra[0], m + extra[1], d, field)
            if not head:
                continue
        left = limits.max_depth - d
        if max(1, space.need[pos], layers_left(field, bounds, target, left, goal.allow_holes)) > left:
            continue
        children = []
        for choice, to in space.moves[pos]:
            key = (field, stage, choice)
            if key not in cache:
                layer = space.layer_at(choice, stage)
                try:
                    cache[key] = (apply_layer(layer, field), min(stage + any(s > 1 for s in layer.stride), stages - 1))
                except RFError:
                    cache[key] = None
            if cache[key] is None:
                continue
            applied, nstage = cache[key]
            np_, nm = p + applied.params, m + applied.macs
            out = applied.field
            if (
                (limits.max_params is not None and np_ > limits.max_params)
                or (limits.max_macs is not None and nm > limits.max_macs)
                or (goal.min_output and any(a < b for a, b in zip(out.shape, goal.min_output)))
            ):
                continue
            children.append((out, nstage, to, np_, nm, path + (choice,)))
        stack.extend(reversed(children))  # the first choice is explored first
    return None
