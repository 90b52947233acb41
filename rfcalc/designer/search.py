"""The exact search behind ``rfcalc design``: a layer-by-layer dynamic programme over stack states.

A state is what decides every stack's future: the ``Field`` after the stack so far (shape with
channels, rf, jump, start, hole mask, per axis), the filter stage and the grammar position. Each
state keeps the labels (params, MACs, depth, path) that no other label of the same state beats on
all three; a label also dies when a finished stack already beats every stack it could become.
Transitions are ``propagate.apply_layer``, the analysis' own arithmetic. Why this keeps every
Pareto-optimal stack: docs/design.md.

>>> from rfcalc.designer.space import space
>>> out = search(space("c3,c5,p2"), (32, 32, 3), Goal(rf=(8, 8)), Limits(max_depth=4))
>>> [(f.params, f.macs, f.depth) for f in out.front][:2]
[(896, 13824, 4), (896, 55296, 3)]
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from math import prod

from ..errors import RFError
from ..propagate import Field, apply_layer, input_field
from .bounds import cheapest_layer, dominated_later, layers_left, reach_bound

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


def _beaten(labels, new) -> bool:
    """Insert ``new`` (params, macs, depth, path) into a Pareto list unless a label beats or ties it first."""
    p, m, d, path = new
    for e in labels:
        if e[0] <= p and e[1] <= m and e[2] <= d and (e[0] < p or e[1] < m or e[2] < d or e[3] <= path):
            return True
    labels[:] = [e for e in labels if not (p <= e[0] and m <= e[1] and d <= e[2])]
    labels.append(new)
    return False


def _share(rf, target) -> Fraction:
    """How far a field has come towards the target: its least ratio over the axes."""
    return min(Fraction(r, t) for r, t in zip(rf, target))


def head_cost(head, field: Field, cache: dict):
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


class _Steps:
    """Fields interned as small ints, and each (field, stage, choice) step computed once with ``apply_layer``."""

    def __init__(self, space, goal: Goal, target):
        self.space, self.goal, self.target = space, goal, target
        self.fields: list = []
        self.ids: dict = {}
        self.cache: dict = {}
        self.stages = space.stages()
        self.cuts: set = set()
        self.widest = None

    def intern(self, field: Field) -> int:
        fid = self.ids.get(field)
        if fid is None:
            fid = self.ids[field] = len(self.fields)
            self.fields.append(field)
        return fid

    def step(self, fid: int, stage: int, choice: int):
        """``(params, macs, field id, stage)`` after one more layer, or None when it cannot be a design's prefix."""
        key = (fid, stage, choice)
        if key in self.cache:
            return self.cache[key]
        layer = self.space.layer_at(choice, stage)
        try:
            applied = apply_layer(layer, self.fields[fid])
        except RFError:
            applied = None  # the window does not fit what is left of the input
        out = None
        if applied is not None:
            field = applied.field
            if self.goal.min_output and any(a < b for a, b in zip(field.shape, self.goal.min_output)):
                self.cuts.add("min-output")  # sizes never grow again: no stack through here ends big enough
            else:
                share = _share(field.rf, self.target)
                if self.widest is None or share > self.widest[0]:
                    self.widest = (share, field.rf)
                nstage = min(stage + any(s > 1 for s in layer.stride), self.stages - 1)
                out = (applied.params, applied.macs, self.intern(field), nstage)
        self.cache[key] = out
        return out


def search(space, input_shape, goal: Goal, limits: Limits = Limits(), head=(), seeds=()) -> Outcome:
    """All Pareto-optimal stacks (params, MACs, depth) of ``space`` that reach ``goal`` within ``limits``.

    ``seeds``: finished stacks (``Found``, from a shallower search) that prune from the start.
    """
    begin = time.monotonic()
    sizes = tuple(input_shape[:-1])
    target = goal.rf if goal.rf is not None else sizes
    bounds = reach_bound(space, len(sizes))
    steps = _Steps(space, goal, target)
    start = steps.intern(input_field(tuple(input_shape)))
    archive: dict = {}  # (field id, stage, pos) -> Pareto labels (params, macs, depth, path)
    front: list = []  # finished stacks as labels (params, macs, depth, path); details in found
    found: dict = {}
    done: dict = {}  # field id -> reached(field)
    heads: dict = {}
    cuts = steps.cuts
    inserted = transitions = 0
    proven = True
    per_layer: dict = {}  # channels -> lower bounds on one more layer's (params, macs per output pixel)
    # the fewest output pixels any later layer can have: sizes stay when no choice strides or pads 'valid'
    keeps = all(set(c.stride) == {1} and c.padding in ("same", "causal") for c in space.choices)
    fewest = prod(goal.min_output) if goal.min_output else 1
    for f in seeds:
        if f.depth <= limits.max_depth and not _beaten(front, (f.params, f.macs, f.depth, f.path)):
            found[f.path] = f
    frontier = [((start, 0, 0), (0, 0, 0, ()))]
    for depth in range(limits.max_depth + 1):
        touched: dict = {}
        for done_labels, (key, label) in enumerate(frontier):
            fid, stage, pos = key
            p, m, d, path = label
            if d and pos in space.accepting:
                if fid not in done:
                    done[fid] = reached(steps.fields[fid], goal, sizes)
                if done[fid]:
                    field = steps.fields[fid]
                    extra = head_cost(head, field, heads) if head else (0, 0)
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
            left = limits.max_depth - d
            need = max(1, space.need[pos], layers_left(steps.fields[fid], bounds, target, left, goal.allow_holes))
            channels = steps.fields[fid].shape[-1]
            if channels not in per_layer:
                per_layer[channels] = cheapest_layer(space, channels, len(sizes))
            lp, lm = per_layer[channels]
            pixels = prod(steps.fields[fid].shape[:-1]) if keeps else fewest
            if dominated_later(front, p + need * lp, m + need * lm * pixels, d + need, path):
                continue
            if need > left:
                if space.moves[pos]:
                    cuts.add("depth")
                continue
            for choice, to in space.moves[pos]:
                transitions += 1
                step = steps.step(fid, stage, choice)
                if step is None:
                    continue
                np_, nm = p + step[0], m + step[1]
                if limits.max_params is not None and np_ > limits.max_params:
                    cuts.add("params")
                    continue
                if limits.max_macs is not None and nm > limits.max_macs:
                    cuts.add("macs")
                    continue
                nkey = (step[2], step[3], to)
                labels = archive.get(nkey)
                if labels is None:
                    labels = archive[nkey] = []
                if not _beaten(labels, (np_, nm, d + 1, path + (choice,))):
                    inserted += 1
                    touched[nkey] = labels
            if inserted > limits.max_states:
                cuts.add("states")
                proven = False
                break
            if limits.seconds is not None and done_labels % 32 == 0 and time.monotonic() - begin > limits.seconds:
                cuts.add("time")
                proven = False
                break
        if not proven:
            break
        frontier = sorted(
            ((key, lab) for key, labels in touched.items() for lab in labels if lab[2] == depth + 1),
            key=lambda kl: kl[1][3],
        )
        if not frontier:
            break
    result = tuple(sorted((found[lab[3]] for lab in front), key=lambda f: (f.params, f.macs, f.depth, f.path)))
    return Outcome(
        result,
        proven,
        tuple(c for c in CUTS if c in cuts),
        len(archive),
        sum(len(v) for v in archive.values()),
        transitions,
        steps.widest and steps.widest[1],
    )
