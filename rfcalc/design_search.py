"""The exact search behind ``rfcalc design``: a layer-by-layer dynamic programme over stack states.

A state is what decides every stack's future: the ``Field`` after the stack so far (shape with
channels, rf, jump, start, hole mask, per axis), the filter stage and the grammar position. Each
state keeps the labels (params, MACs, depth, path) that no other label of the same state beats on
all three; a label also dies when a finished stack already beats every stack it could become.
Transitions are ``propagate.apply_layer``, the analysis' own arithmetic. Why this keeps every
Pareto-optimal stack: docs/design.md.

>>> from rfcalc.design_space import space
>>> out = search(space("c3,c5,p2"), (32, 32, 3), Goal(rf=(8, 8)), Limits(max_depth=4))
>>> [(f.params, f.macs, f.depth) for f in out.front][:2]
[(896, 13824, 4), (896, 55296, 3)]
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction

from .arithmetic import effective_kernel
from .errors import RFError
from .propagate import Field, apply_layer, input_field

CUTS = ("depth", "params", "macs", "min-output", "states", "time")


@dataclass(frozen=True, slots=True)
class Goal:
    """What a finished stack must reach: ``rf`` per axis, or ``cover`` (every output unit sees the whole input)."""

    rf: tuple | None = None
    cover: bool = False
    min_output: tuple | None = None
    allow_holes: bool = False


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds of the declared space (depth, budgets) and of the search itself (states, seconds)."""

    max_depth: int = 12
    max_params: int | None = None
    max_macs: int | None = None
    max_states: int = 2_000_000
    seconds: float | None = 60.0


@dataclass(frozen=True, slots=True)
class Found:
    """One stack on the front: its choice path, totals (head included), depth and final field."""

    path: tuple
    params: int
    macs: int
    depth: int
    field: Field


@dataclass(frozen=True, slots=True)
class Outcome:
    """The front and what the search did: bounds that cut it, states and labels, whether it finished."""

    front: tuple
    proven: bool
    cuts: tuple
    states: int
    labels: int
    transitions: int
    widest: tuple | None


def reached(field: Field, goal: Goal, sizes) -> bool:
    """Whether a stack ending in ``field`` meets the goal (on an input of ``sizes`` pixels per axis).

    >>> from rfcalc.layers import Conv
    >>> f = apply_layer(Conv((3, 3)), input_field((8, 8, 3))).field
    >>> reached(f, Goal(rf=(3, 3)), (8, 8)), reached(f, Goal(cover=True), (8, 8))
    (True, False)
    """
    if field.rf is None:
        return False
    if not goal.allow_holes and (field.holes or field.holes_untracked):
        return False
    if goal.rf is not None and any(r < t for r, t in zip(field.rf, goal.rf)):
        return False
    if goal.cover:
        for r, j, s, n, out in zip(field.rf, field.jump, field.start, sizes, field.shape):
            half = Fraction(r - 1, 2)
            if s + half < n - 1 or s + (out - 1) * j - half > 0:  # unit 0 misses the end, the last unit the start
                return False
    return True


def _reach_bound(space, rank: int):
    """Per axis, the largest effective kernel and stride of any choice: an upper bound on growth."""
    ks = [max(effective_kernel(c.kernel[a], c.dilation[a]) for c in space.choices) for a in range(rank)]
    ss = [max(c.stride[a] for c in space.choices) for a in range(rank)]
    return ks, ss


def _can_reach(field: Field, steps: int, ks, ss, target) -> bool:
    """Whether ``steps`` more layers could grow the field to ``target``: each adds at most (K−1)·jump."""
    for r, j, k, s, t in zip(field.rf, field.jump, ks, ss, target):
        if s == 1:
            most = r + (k - 1) * j * steps
        else:
            most = r + (k - 1) * j * (s ** steps - 1) // (s - 1)
        if most < t:
            return False
    return True


def _beaten(labels, new) -> bool:
    """Insert ``new`` (params, macs, depth, path) into a Pareto list unless a label beats or ties it first."""
    p, m, d, path = new
    for e in labels:
        if e[0] <= p and e[1] <= m and e[2] <= d and (e[0] < p or e[1] < m or e[2] < d or e[3] <= path):
            return True
    labels[:] = [e for e in labels if not (p <= e[0] and m <= e[1] and d <= e[2])]
    labels.append(new)
    return False


def _dominated_later(front, p: int, m: int, d: int) -> bool:
    """A finished stack beats every completion of a partial one (costs p, m, depth d): it adds ≥ 1 layer, ≥ 0 cost."""
    return any(fp <= p and fm <= m and fd <= d + 1 and (fp < p or fm < m or fd < d + 1) for fp, fm, fd, _ in front)


def _share(rf, target) -> Fraction:
    return min(Fraction(r, t) for r, t in zip(rf, target))


def _head_cost(head, field: Field, cache: dict):
    if field not in cache:
        p = m = 0
        try:
            for layer in head:
                applied = apply_layer(layer, field)
                p, m, field = p + applied.params, m + applied.macs, applied.field
            cache[field] = (p, m)
        except RFError:
            cache[field] = None
    return cache[field]


def search(space, input_shape, goal: Goal, limits: Limits = Limits(), head=()) -> Outcome:
    """All Pareto-optimal stacks (params, MACs, depth) of ``space`` that reach ``goal`` within ``limits``."""
    begin = time.monotonic()
    start = input_field(tuple(input_shape))
    sizes = tuple(input_shape[:-1])
    rank = len(sizes)
    target = goal.rf if goal.rf is not None else sizes
    ks, ss = _reach_bound(space, rank)
    stages = space.stages()
    archive: dict = {}          # (field, stage, pos) -> Pareto labels [params, macs, depth, path]
    front: list = []            # finished stacks, as (params, macs, depth, path) labels + their Found
    found: dict = {}
    moves_cache: dict = {}
    heads: dict = {}
    cuts: set = set()
    kept = transitions = 0
    widest = None
    proven = True
    frontier = [((start, 0, 0), (0, 0, 0, ()))]
    for depth in range(limits.max_depth + 1):
        touched: dict = {}
        for key, label in frontier:
            field, stage, pos = key
            p, m, d, path = label
            if d and pos in space.accepting and reached(field, goal, sizes):
                extra = _head_cost(head, field, heads) if head else (0, 0)
                if extra is not None:
                    total = (p + extra[0], m + extra[1])
                    if limits.max_params is not None and total[0] > limits.max_params:
                        cuts.add("params")
                    elif limits.max_macs is not None and total[1] > limits.max_macs:
                        cuts.add("macs")
                    elif not _beaten(front, (*total, d, path)):
                        found[path] = Found(path, *total, d, field)
                if not head:
                    continue  # without a head every longer stack costs at least as much, one layer more
            if _dominated_later(front, p, m, d):
                continue
            steps = limits.max_depth - d
            if steps < max(1, space.need[pos]) or not _can_reach(field, steps, ks, ss, target):
                if space.moves[pos]:
                    cuts.add("depth")
                continue
            for choice, to in space.moves[pos]:
                step = moves_cache.get((field, stage, choice))
                if step is None:
                    layer = space.layer_at(choice, stage)
                    try:
                        applied = apply_layer(layer, field)
                        step = (applied, min(stage + any(s > 1 for s in layer.stride), stages - 1))
                    except RFError:
                        step = (None, stage)  # the window does not fit what is left of the input
                    moves_cache[(field, stage, choice)] = step
                transitions += 1
                applied, nstage = step
                if applied is None:
                    continue
                np_, nm = p + applied.params, m + applied.macs
                if limits.max_params is not None and np_ > limits.max_params:
                    cuts.add("params")
                    continue
                if limits.max_macs is not None and nm > limits.max_macs:
                    cuts.add("macs")
                    continue
                out = applied.field
                if goal.min_output and any(a < b for a, b in zip(out.shape, goal.min_output)):
                    cuts.add("min-output")  # sizes never grow again: no stack through here can end big enough
                    continue
                if widest is None or _share(out.rf, target) > _share(widest, target):
                    widest = out.rf
                nkey = (out, nstage, to)
                labels = archive.setdefault(nkey, [])
                before = len(labels)
                if not _beaten(labels, (np_, nm, d + 1, path + (choice,))):
                    kept += len(labels) - before
                    touched[nkey] = labels
            if len(archive) + kept > limits.max_states:
                cuts.add("states")
                proven = False
                break
            if limits.seconds is not None and transitions % 64 == 0 and time.monotonic() - begin > limits.seconds:
                cuts.add("time")
                proven = False
                break
        if not proven:
            break
        frontier = sorted(((key, lab) for key, labels in touched.items() for lab in labels if lab[2] == depth + 1),
                          key=lambda kl: kl[1][3])
        if not frontier:
            break
    result = tuple(sorted((found[lab[3]] for lab in front), key=lambda f: (f.params, f.macs, f.depth, f.path)))
    return Outcome(result, proven, tuple(c for c in CUTS if c in cuts), len(archive),
                   sum(len(v) for v in archive.values()), transitions, widest)
