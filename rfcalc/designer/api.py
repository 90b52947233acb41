"""``rfcalc.design(...)``: the cheapest stacks of a vocabulary that reach a receptive field, as a ``Design``.

Checks the request, runs the exact search (``designer.search``), re-analyses every stack on the front
with ``analyze`` (so each row is what ``rfcalc SPEC`` prints), and, when nothing reaches the goal,
finds which bound to relax and by how much.

>>> d = design(32, layers="c3,c5,p2", max_depth=6)
>>> d.best("params").spec, d.best("params").analysis.rf
('p2*5,c3', (96, 96))
"""

from __future__ import annotations

import re
import time
from dataclasses import replace

from ..analysis import HEADS, analyze
from ..dsl import format_spec, parse
from ..errors import RFError, SpecError
from .dive import dive
from .result import OBJECTIVES, Design, DesignRow
from .search import Goal, Limits, search
from .space import DEFAULT_VOCABULARY, DILATIONS, STRIDES, like as like_space, space

MAX_DEPTH = 64
MAX_STATES = 400_000
SECONDS = 60.0


def _sizes(value, rank: int, what: str) -> tuple:
    """``32``, ``"32"``, ``"32x24"`` or ``(32, 24)`` as one positive size per axis (ASCII digits only)."""
    if isinstance(value, str):
        parts = re.split(r"\s*[x×,]\s*", value.strip().lower())
        if not all(p.isascii() and p.isdigit() for p in parts):
            raise SpecError(f"{what} is N or HxW in ASCII digits, as in 32 or 32x32. Received: {value!r}")
        value = tuple(int(p) for p in parts)
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * rank
    if not isinstance(value, (tuple, list)):
        raise SpecError(f'{what} is N or HxW, as in 32 or "32x32" or (32, 32). Received: {value!r}')
    value = tuple(value)
    if len(value) == 1:
        value *= rank
    if len(value) != rank or any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in value):
        raise SpecError(f"{what} needs {rank} positive sizes for a {rank}-D input. Received: {value!r}")
    return value


def _input(input_shape) -> tuple:
    if isinstance(input_shape, str):
        from ..dsl import parse_shape

        input_shape = parse_shape(input_shape)
    if not isinstance(input_shape, (tuple, list)):
        raise SpecError(f"input_shape is sizes then channels, as in (32, 32, 3). Received: input_shape={input_shape!r}")
    shape = tuple(input_shape)
    if len(shape) < 2 or any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in shape):
        raise SpecError(f"input_shape is sizes then channels, as in (32, 32, 3). Received: input_shape={shape!r}")
    return shape


def _positive(name: str, value):
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise SpecError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return value


def design(
    rf=None,
    *,
    input_shape=(32, 32, 3),
    layers=None,
    like=None,
    cover=False,
    max_params=None,
    max_macs=None,
    max_depth=12,
    min_output=None,
    filters=None,
    head=None,
    minimize="params",
    top=None,
    allow_holes=False,
    dilations=DILATIONS,
    strides=STRIDES,
    max_states=MAX_STATES,
    seconds=SECONDS,
) -> Design:
    """The Pareto front (params, MACs, depth) of stacks that reach field ``rf`` (or ``cover`` the input).

    ``layers``: the vocabulary (default the notebook's ``c3,c5,p2``); ``like``: a template whose
    order and kinds are kept. Budgets and ``max_depth`` bound the declared space; within it the
    front is exact. ``max_states``/``seconds`` stop a search that grows too big: the result then
    says it is not proven optimal.

    >>> design("32", cover=False, max_depth=5).best("depth").spec
    'p2*3,c5'
    """
    shape = _input(input_shape)
    rank = len(shape) - 1
    if (rf is None) == (not cover):
        raise SpecError(
            f"give a target field (rf=32) or cover=True, one of the two. Received: rf={rf!r}, cover={cover!r}"
        )
    if layers is not None and like is not None:
        raise SpecError("give a vocabulary (layers=) or a template (like=), not both")
    if minimize not in OBJECTIVES:
        raise SpecError(f"minimize is one of {', '.join(OBJECTIVES)}. Received: minimize={minimize!r}")
    target = _sizes(rf, rank, "the target field") if rf is not None else None
    sizes = shape[:-1]
    if target is not None and all(t == 1 for t in target):
        raise SpecError("a field of 1 is the input pixel itself: there is nothing to design. Received: rf=1")
    minimum = _sizes(min_output, rank, "the minimum output") if min_output is not None else None
    if minimum is not None and any(m > n for m, n in zip(minimum, sizes)):
        raise SpecError(
            f"the minimum output {'x'.join(map(str, minimum))} is larger than the "
            f"{'x'.join(map(str, sizes))} input: no stack shrinks to something bigger"
        )
    _positive("max_params", max_params)
    _positive("max_macs", max_macs)
    _positive("top", top)
    _positive("max_states", max_states)
    if seconds is not None and (
        not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds < float("inf")
    ):
        raise SpecError(
            f"seconds is a number of seconds, 0 or more (or None: no time limit). Received: seconds={seconds!r}"
        )
    if head is not None and (not isinstance(head, str) or not head.strip()):
        raise SpecError(f"head is 'seed' or a spec such as \"flat,fc10\" (or None). Received: head={head!r}")
    for name, values in (("dilations", dilations), ("strides", strides)):
        if (
            not isinstance(values, (tuple, list))
            or not values
            or any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in values)
        ):
            raise SpecError(f"{name} are positive integers, as in (1, 2, 4). Received: {name}={values!r}")
    if not isinstance(max_depth, int) or isinstance(max_depth, bool) or not 1 <= max_depth <= MAX_DEPTH:
        raise SpecError(f"max_depth is 1..{MAX_DEPTH}. Received: max_depth={max_depth!r}")
    head_layers = parse(HEADS.get(head, head), rank=rank) if head is not None else ()
    limit = max(target) if target else max(sizes)
    grammar = (
        like_space(like, filters, dilations, strides, rank)
        if like is not None
        else space(layers if layers is not None else DEFAULT_VOCABULARY, filters, limit, rank)
    )
    goal = Goal(target, bool(cover), minimum, bool(allow_holes))
    limits = Limits(max_depth, max_params, max_macs, max_states, seconds)
    began = time.monotonic()
    outcome = _solve(grammar, shape, goal, limits, head_layers)
    elapsed = time.monotonic() - began
    if not outcome.front:
        raise RFError(_unreachable(grammar, shape, goal, limits, head_layers, outcome))
    rows = []
    for found in outcome.front:
        stack = grammar.layers(found.path)
        a = analyze(stack + head_layers, shape)
        if (a.total_params, a.total_macs) != (found.params, found.macs):  # the search and analyze share apply_layer
            raise AssertionError(f"design: {a.spec} re-analyses to other totals than the search found")
        rows.append(DesignRow(a, found.depth, format_spec(stack)))
    return Design.build(
        tuple(rows),
        minimize=minimize,
        top=top,
        input_shape=shape,
        goal=goal,
        limits=limits,
        space=grammar.label,
        mode="like" if like is not None else "layers",
        head=head,
        outcome=outcome,
        stacks=grammar.count(max_depth),
        seconds=elapsed,
    )


def _seeds(grammar, shape, goal, limits, head) -> tuple:
    """Finished stacks from the shallowest depth that has any (iterative deepening: depth-first dives, then
    breadth-first searches), and the probes' work.

    They prune the full search from its first layer: without them a breadth-first search meets its
    first finished stack only at that depth, after every shallower state (WaveNet-style spaces,
    where every stack of one depth costs the same, have millions).
    """
    began = time.monotonic()
    for depth in range(1, limits.max_depth + 1):  # depth-first dives first: cheap when the bounds are tight
        found = dive(grammar, shape, goal, Limits(depth, limits.max_params, limits.max_macs), head)
        if found is not None:
            return (found,), [0, 0, 0]
        if limits.seconds is not None and time.monotonic() - began > limits.seconds / 4:
            break
    budget = None if limits.seconds is None else limits.seconds / 2  # half the time at most; the rest searches
    work = [0, 0, 0]  # states, labels, layer steps of the probes, reported with the search's
    for depth in range(1, limits.max_depth):
        left = None if budget is None else budget - (time.monotonic() - began)
        if left is not None and left <= 0:
            break
        out = search(
            grammar,
            shape,
            goal,
            Limits(depth, limits.max_params, limits.max_macs, max(1, limits.max_states // 2), left),
            head,
        )
        work = [work[0] + out.states, work[1] + out.labels, work[2] + out.transitions]
        if out.front or not out.proven:
            return out.front, work
    return (), work


def _solve(grammar, shape, goal, limits, head):
    """Seeds, then the exact search in the time left; the outcome counts the probes' work too."""
    began = time.monotonic()
    seeds, probed = _seeds(grammar, shape, goal, limits, head)
    rest = None if limits.seconds is None else max(0.0, limits.seconds - (time.monotonic() - began))
    outcome = search(grammar, shape, goal, replace(limits, seconds=rest), head, seeds)
    return replace(
        outcome,
        states=outcome.states + probed[0],
        labels=outcome.labels + probed[1],
        transitions=outcome.transitions + probed[2],
    )


def _describe(goal: Goal) -> str:
    if goal.cover:
        return "cover the whole input"
    return f"reach a {'x'.join(map(str, goal.rf))} field"


def _unreachable(grammar, shape, goal, limits, head, outcome) -> str:
    """One line: what no stack reaches, and which bound to relax to how much (found by searching again)."""
    what = f"no stack of {grammar.label!r} with at most {limits.max_depth} layers can {_describe(goal)}"
    if not outcome.proven:
        stop = outcome.cuts[-1]
        amount = f"{limits.max_states:,} states" if stop == "states" else f"{limits.seconds:g} s"
        return (
            f"{what} was found before the search stopped at its {stop} limit ({amount}): raise "
            f"{'--max-states' if stop == 'states' else '--timeout'}, or narrow the vocabulary or the depth"
        )
    quick = dict(max_states=limits.max_states // 4 or 1, seconds=(limits.seconds or 60) / 4)
    fixes = []
    deepest_proven = True
    if "depth" in outcome.cuts:
        for depth in sorted({min(2 * limits.max_depth, MAX_DEPTH), min(4 * limits.max_depth, MAX_DEPTH), MAX_DEPTH}):
            out = _solve(grammar, shape, goal, Limits(depth, limits.max_params, limits.max_macs, **quick), head)
            if out.front:
                fixes.append(f"raise --max-depth to {min(f.depth for f in out.front)}")
                break
            deepest_proven = out.proven
    for cut, name, field in (("params", "--max-params", "params"), ("macs", "--max-macs", "macs")):
        if cut in outcome.cuts:
            relaxed = Limits(
                limits.max_depth,
                None if cut == "params" else limits.max_params,
                None if cut == "macs" else limits.max_macs,
                **quick,
            )
            out = _solve(grammar, shape, goal, relaxed, head)
            if out.front:
                fixes.append(f"raise {name} to {min(getattr(f, field) for f in out.front):,}")
    if "min-output" in outcome.cuts:
        smaller = goal.min_output
        while max(smaller) > 1:  # the largest minimum output that some stack still meets
            smaller = tuple(max(1, m - 1) for m in smaller)
            out = _solve(
                grammar,
                shape,
                Goal(goal.rf, goal.cover, smaller, goal.allow_holes),
                Limits(limits.max_depth, limits.max_params, limits.max_macs, **quick),
                head,
            )
            if out.front:
                fixes.append(f"lower --min-output to {'x'.join(map(str, smaller))}")
                break
    if fixes:
        return f"{what} within the bounds: {' or '.join(fixes)}"
    if "params" in outcome.cuts or "macs" in outcome.cuts:  # each budget alone too tight: what one stack needs
        out = _solve(grammar, shape, goal, Limits(limits.max_depth, **quick), head)
        if out.front:
            f = min(out.front, key=lambda f: (f.params, f.macs))
            spec = format_spec(grammar.layers(f.path))
            return (
                f"{what} within the bounds: raise --max-params to {f.params:,} and --max-macs to "
                f"{f.macs:,} (for {spec})"
            )
    if "depth" in outcome.cuts and deepest_proven:
        return f"{what}: even {MAX_DEPTH} layers (the most design searches) do not get there on this input"
    if "depth" in outcome.cuts:
        return (
            f"{what}, and searches with more layers found none in their time: raise --max-depth "
            f"and --timeout, or narrow the vocabulary"
        )
    widest = "x".join(map(str, outcome.widest)) if outcome.widest else "1"
    return (
        f"{what} on a {'x'.join(map(str, shape[:-1]))} input: the widest field any stack reaches is "
        f"{widest}; relaxing one bound alone does not help (try a larger input, strides or dilations)"
    )
