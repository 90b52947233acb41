"""Spearman's rho against the no-ties textbook formula and published worked examples."""

from __future__ import annotations

import itertools
import random

import pytest

from training.stats import ranks, spearman


def textbook_rho(x, y):
    """1 - 6 sum d^2 / (n (n^2 - 1)): valid only without ties, and shares no code with training.stats."""
    n = len(x)
    rx = {v: i + 1 for i, v in enumerate(sorted(x))}
    ry = {v: i + 1 for i, v in enumerate(sorted(y))}
    d2 = sum((rx[a] - ry[b]) ** 2 for a, b in zip(x, y))
    return 1 - 6 * d2 / (n * (n * n - 1))


@pytest.mark.parametrize("seed", range(20))
def test_matches_the_textbook_formula_without_ties(seed):
    rng = random.Random(seed)
    n = rng.randint(3, 12)
    x = rng.sample(range(1000), n)
    y = rng.sample(range(1000), n)
    assert spearman(x, y) == pytest.approx(textbook_rho(x, y), abs=1e-12)


CASES = {
    # Wikipedia's worked example (IQ vs hours of TV): rho = -29/165
    "wikipedia IQ/TV": (
        [106, 100, 86, 101, 99, 103, 97, 113, 112, 110],
        [7, 27, 2, 50, 28, 29, 20, 12, 6, 17],
        -29 / 165,
    ),
    "monotone but not linear": ([1, 2, 3, 4], [1, 8, 27, 64], 1.0),
    "reversed": ([1, 2, 3], [9, 5, 1], -1.0),
    # with ties: ranks [1.5, 1.5, 3] vs [1, 2, 3]; Pearson of ranks = sqrt(3)/2
    "tie in x": ([5, 5, 7], [1, 2, 3], 3**0.5 / 2),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_known_values(case):
    x, y, rho = CASES[case]
    assert spearman(x, y) == pytest.approx(rho, abs=1e-12)


@pytest.mark.parametrize("x, y", [([1], [2]), ([3, 3, 3], [1, 2, 3]), ([], [])])
def test_undefined_is_none(x, y):
    assert spearman(x, y) is None


def test_ranks_of_all_ties_are_the_mean_rank():
    for n in range(1, 6):
        assert ranks([7] * n) == [(n + 1) / 2] * n


def test_invariant_under_monotone_transforms():
    x, y = [3, 1, 4, 1.5, 5, 9, 2, 6], [2, 7, 1, 8, 2.5, 8.5, 0, 3]
    assert spearman(x, y) == pytest.approx(spearman([v**3 for v in x], [2**v for v in y]))
    assert all(spearman(p, p) == pytest.approx(1.0) for p in itertools.permutations([1, 2, 3, 4]))
