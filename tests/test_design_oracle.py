"""The design search against brute force: every stack of a small space, analysed one by one.

The oracle shares no code with rfcalc.design_*: it writes each stack as a spec string from
tokens, runs ``rfcalc.analyze`` on it, checks the goal from the analysis' rows, and takes the
Pareto front of (params, MACs, depth) by comparing every pair. Among stacks with equal costs the
front keeps the first in vocabulary order (the lexicographically least token sequence).
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import pytest
from hypothesis import given, settings, strategies as st

import rfcalc
from rfcalc.errors import RFError

# token -> (is a convolution, strides: moves the filter schedule on)
TOKENS = {
    "c3": (True, False),
    "c5": (True, False),
    "c3d2": (True, False),
    "c3s2": (True, True),
    "c4s2": (True, True),
    "p2": (False, True),
    "c2/causal": (True, False),
    "c2d2/causal": (True, False),
    "c2d4/causal": (True, False),
    "c3s2/causal": (True, True),
    "a2": (False, True),
    "p3s2": (False, True),
    "c2": (True, False),
}
VOCABS = [
    ("c3", "c5", "p2"),
    ("c3", "p2", "c3s2"),
    ("c3", "c3d2", "a2"),
    ("c5", "p3s2", "c3"),
    ("c2", "c3s2", "p2"),
    ("c3", "p2", "c4s2"),
    ("c3", "c5", "c2"),
]
HEAD = ",flat,fc20,fc10/softmax"


def oracle_spec(tokens, filters) -> str:
    parts, stage = [], 0
    for t in tokens:
        conv, down = TOKENS[t]
        parts.append(t + (f"-{filters[min(stage, len(filters) - 1)]}" if conv and filters else ""))
        stage += down
    return ",".join(parts)


@lru_cache(maxsize=200_000)
def analysed(spec: str, shape: tuple):
    try:
        return rfcalc.analyze(spec, input_shape=shape)
    except RFError:
        return None


def meets(a, shape, rf, cover, min_output, allow_holes) -> bool:
    last = [r for r in a.layers if r.spatial][-1]
    if not allow_holes and ({"holes", "holes?"} & set(last.flags)):
        return False
    sizes = last.output_shape[:-1]
    if min_output and any(o < m for o, m in zip(sizes, min_output)):
        return False
    if rf and any(r < t for r, t in zip(last.rf, rf)):
        return False
    if cover:
        first = last.field_of((0,) * len(sizes))
        final = last.field_of(tuple(n - 1 for n in sizes))
        for axis, n in enumerate(shape[:-1]):
            if first[axis][1] < n - 1 or final[axis][0] > 0:
                return False
    return True


def brute_front(
    vocab,
    shape,
    depth,
    rf=None,
    cover=False,
    max_params=None,
    max_macs=None,
    min_output=None,
    filters=None,
    head=False,
    allow_holes=False,
):
    feasible, count = [], 0
    for d in range(1, depth + 1):
        for combo in itertools.product(range(len(vocab)), repeat=d):
            tokens = [vocab[i] for i in combo]
            if not any(TOKENS[t][0] for t in tokens):
                continue
            count += 1
            spec = oracle_spec(tokens, filters)
            a = analysed(spec, shape)
            if a is None or not meets(a, shape, rf, cover, min_output, allow_holes):
                continue
            total = analysed(spec + HEAD, shape) if head else a
            if total is None:
                continue
            p, m = total.total_params, total.total_macs
            if (max_params is not None and p > max_params) or (max_macs is not None and m > max_macs):
                continue
            feasible.append(((p, m, d), combo, spec))
    best: dict = {}
    for cost, combo, spec in feasible:
        if cost not in best or combo < best[cost][0]:
            best[cost] = (combo, spec)
    front = set()
    for cost, (_combo, spec) in best.items():
        if not any(o != cost and all(x <= y for x, y in zip(o, cost)) for o in best):
            front.add((*cost, rfcalc.format_spec(rfcalc.parse(spec, rank=len(shape) - 1))))
    return front, count


def searched(vocab, shape, depth, **kw):
    head = kw.pop("head", False)
    try:
        d = rfcalc.design(
            kw.pop("rf", None),
            input_shape=shape,
            layers=",".join(vocab),
            max_depth=depth,
            head="seed" if head else None,
            top=None,
            **kw,
        )
    except RFError as err:
        assert str(err).startswith("no stack"), str(err)
        return set(), None
    return {(r.params, r.macs, r.depth, r.stack) for r in d.rows}, d


def check(vocab, shape, depth, **kw):
    expected, count = brute_front(vocab, shape, depth, **kw)
    got, d = searched(vocab, shape, depth, **kw)
    assert got == expected
    if d is not None:
        assert d.proven and d.stacks == count


CASES = {
    "notebook_vocabulary_cover_depth_6": (VOCABS[0], (32, 32, 3), 6, dict(cover=True)),
    "notebook_vocabulary_rf_20_min_output": (VOCABS[0], (32, 32, 3), 6, dict(rf=(20, 20), min_output=(4, 4))),
    "strided_conv_with_filter_schedule": (VOCABS[1], (16, 16, 3), 6, dict(rf=(12, 12), filters=(8, 16, 32))),
    "dilation_holes_refused": (VOCABS[2], (16, 16, 1), 5, dict(rf=(9, 9))),
    "dilation_holes_allowed": (VOCABS[2], (16, 16, 1), 5, dict(rf=(9, 9), allow_holes=True)),
    "overlapping_pool_non_square_input": (VOCABS[3], (20, 12, 3), 5, dict(rf=(15, 11))),
    "even_kernel_cover_with_head": (VOCABS[4], (12, 12, 3), 5, dict(cover=True, head=True)),
    "cover_needs_the_last_unit_too": (VOCABS[5], (7, 7, 3), 5, dict(cover=True)),
    "even_kernels_shift_the_field": (VOCABS[6], (7, 7, 3), 5, dict(cover=True)),
    "one_d_causal_dilations": (("c2/causal", "c2d2/causal", "c2d4/causal"), (40, 1), 6, dict(rf=(16,))),
    "one_d_causal_dilations_holes_allowed": (
        ("c2/causal", "c2d2/causal", "c2d4/causal"),
        (40, 1),
        5,
        dict(rf=(12,), allow_holes=True),
    ),
    "one_d_strided_causal_cover": (("c2/causal", "c3s2/causal", "p2"), (12, 1), 5, dict(cover=True)),
    "budgets_cut_the_front": (VOCABS[0], (32, 32, 3), 6, dict(rf=(16, 16), max_params=30_000, max_macs=3_000_000)),
}


@pytest.mark.parametrize("name", CASES)
def test_front_equals_brute_force(name):
    vocab, shape, depth, kw = CASES[name]
    check(vocab, shape, depth, **kw)


@settings(max_examples=40)
@given(
    vocab=st.sampled_from(VOCABS),
    size=st.sampled_from([(7, 7), (8, 8), (13, 13), (16, 16), (16, 10), (32, 32)]),
    depth=st.integers(1, 5),
    target=st.one_of(st.integers(2, 40), st.just("cover")),
    max_params=st.one_of(st.none(), st.integers(100, 200_000)),
    max_macs=st.one_of(st.none(), st.integers(1_000, 20_000_000)),
    min_output=st.one_of(st.none(), st.integers(1, 8)),
    filters=st.sampled_from([None, (16,), (8, 16, 32)]),
    head=st.booleans(),
    allow_holes=st.booleans(),
)
def test_front_equals_brute_force_for_any_target_and_budget(
    vocab, size, depth, target, max_params, max_macs, min_output, filters, head, allow_holes
):
    kw = dict(
        max_params=max_params,
        max_macs=max_macs,
        filters=filters,
        head=head,
        allow_holes=allow_holes,
        min_output=None if min_output is None else (min(min_output, size[0]), min(min_output, size[1])),
    )
    if target == "cover":
        kw["cover"] = True
    else:
        kw["rf"] = (target, target)
    check(vocab, size + (3,), depth, **kw)
