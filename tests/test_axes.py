"""The axis-role algebra (rfcalc.frameworks.axes) against numpy: random transposes and reshapes of an
index tensor say where every canonical position lands; the layout's pieces must say the same."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from rfcalc.errors import RFError, ShapeError
from rfcalc.frameworks import axes as X


def _coords(layout: X.Layout) -> list:
    """Per spatial axis k, an array of the tensor's shape: the canonical coordinate on k of each element,
    read from the pieces alone."""
    shape = layout.shape
    out = [np.zeros(shape, np.int64) for _ in layout.sizes]
    for i, axis in enumerate(layout.axes):
        idx = np.arange(shape[i]).reshape([-1 if j == i else 1 for j in range(len(shape))])
        for p in reversed(axis):  # row-major: the last piece is the innermost
            c, idx = idx % p.extent, idx // p.extent
            if p.spatial:
                out[p.dim] = out[p.dim] + c * p.stride
    return out


def _start(sizes, c):
    layout = X.image(sizes, c)
    shape = layout.shape
    truth = [
        np.broadcast_to(np.arange(n).reshape([-1 if j == 2 + k else 1 for j in range(len(shape))]), shape)
        for k, n in enumerate(sizes)
    ]
    return layout, truth


def _divisors(n):
    return [d for d in range(2, n) if n % d == 0]


@st.composite
def programs(draw):
    rank = draw(st.integers(1, 3))
    sizes = tuple(draw(st.sampled_from([1, 2, 3, 4, 6, 8])) for _ in range(rank))
    c = draw(st.sampled_from([1, 2, 3, 4, 6]))
    steps = []
    shape = [1, c, *sizes]
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["perm", "split", "merge", "unsqueeze"]))
        if kind == "perm":
            perm = draw(st.permutations(list(range(len(shape)))))
            steps.append(("perm", tuple(perm)))
            shape = [shape[p] for p in perm]
        elif kind == "split":
            i = draw(st.integers(0, len(shape) - 1))
            ds = _divisors(shape[i])
            if not ds:
                continue
            d = draw(st.sampled_from(ds))
            shape = shape[:i] + [d, shape[i] // d] + shape[i + 1 :]
            steps.append(("reshape", tuple(shape)))
        elif kind == "merge" and len(shape) > 1:
            i = draw(st.integers(0, len(shape) - 2))
            shape = shape[:i] + [shape[i] * shape[i + 1]] + shape[i + 2 :]
            steps.append(("reshape", tuple(shape)))
        elif kind == "unsqueeze":
            i = draw(st.integers(0, len(shape)))
            shape = shape[:i] + [1] + shape[i:]
            steps.append(("reshape", tuple(shape)))
    return sizes, c, steps


@settings(max_examples=300, deadline=None)
@given(programs())
def test_transposes_and_reshapes_put_every_position_where_numpy_does(program):
    sizes, c, steps = program
    layout, truth = _start(sizes, c)
    for kind, arg in steps:
        if kind == "perm":
            layout = X.transpose(layout, arg)
            truth = [np.transpose(t, arg) for t in truth]
        else:
            try:
                layout = X.reshape(layout, arg)
            except X.Unfollowed:
                return  # an unprovable regrouping is refused, never guessed
            truth = [np.reshape(t, arg) for t in truth]
        assert layout.shape == truth[0].shape if truth else True
        for ours, theirs in zip(_coords(layout), truth):
            assert np.array_equal(ours, theirs), (steps, X.roles(layout))


def test_most_random_programs_are_followed():
    followed = 0
    layout = X.image((8, 8), 6)
    for target in [(1, 6, 4, 2, 4, 2), (1, 6, 64), (6, 8, 8), (1, 2, 3, 8, 8), (1, 48, 8), (1, 6, 8, 4, 2)]:
        X.reshape(layout, target)
        followed += 1
    assert followed == 6


def test_space_to_depth_and_back_is_the_identity():
    x = X.image((8, 8), 3)
    s2d = X.reshape(X.transpose(X.reshape(x, (1, 3, 4, 2, 4, 2)), (0, 3, 5, 1, 2, 4)), (1, 12, 4, 4))
    back = X.reshape(X.transpose(X.reshape(s2d, (1, 2, 2, 3, 4, 4)), (0, 3, 4, 1, 5, 2)), (1, 3, 8, 8))
    assert back == x
    assert X.roles(s2d) == "(batch, H inner 2 · W inner 2 · channels 3, H outer (blocks of 2), W outer (blocks of 2))"


def test_channel_shuffle_keeps_a_channel_axis():
    x = X.image((4, 4), 12)
    y = X.reshape(X.transpose(X.reshape(x, (1, 3, 4, 4, 4)), (0, 2, 1, 3, 4)), (1, 12, 4, 4))
    assert y == x  # channels are interchangeable: a shuffle is the same layout


def test_tokens_are_named():
    t = X.transpose(X.reshape(X.image((4, 6), 8), (1, 8, 24)), (0, 2, 1))
    assert X.roles(t) == "(batch, tokens (H · W), channels (8))"


@pytest.mark.parametrize(
    "case,call,words",
    [
        ("bad_perm", lambda: X.transpose(X.image((4, 4), 3), (0, 1, 1, 2)), "permutation"),
        ("short_perm", lambda: X.transpose(X.image((4, 4), 3), (0, 1, 2)), "permutation"),
        ("count_changes", lambda: X.reshape(X.image((4, 4), 3), (1, 3, 4, 5)), "elements"),
        ("huge_target", lambda: X.reshape_target((1, 3, 4, 4), (10**6, 10**6)), "elements"),
        ("past_the_limit", lambda: X.reshape_target((1, 3, 4, 4), (10**7, 10**7)), "refuses"),
        ("two_minus_ones", lambda: X.reshape_target((1, 3, 4, 4), (-1, -1)), "one -1"),
        ("minus_one_on_zero", lambda: X.reshape_target((1, 3, 4, 4), (0, 0, 0, 0, -1, 0), 1), "divide"),
        ("squeeze_non_unit", lambda: X.squeeze(X.image((4, 4), 3), [2]), "size 1"),
        ("axis_outside", lambda: X.squeeze(X.image((4, 4), 3), [7]), "outside"),
    ],
)
def test_bad_layout_ops_are_one_clear_error(case, call, words):
    with pytest.raises(ShapeError, match=words):
        call()


def test_an_unprovable_regrouping_is_refused_naming_the_axes():
    tokens = X.reshape(X.image((3, 2), 1), (1, 6))
    with pytest.raises(X.Unfollowed, match=r"piece of 3 \(H\)"):
        X.reshape(tokens, (1, 2, 3))
    assert issubclass(X.Unfollowed, RFError)
