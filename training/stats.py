"""Spearman rank correlation without scipy: Pearson's r on average ranks (ties share their mean rank)."""

from __future__ import annotations

import math


def ranks(values) -> list[float]:
    """1-based ranks; tied values get the mean of the ranks they span.

    >>> ranks([10, 30, 20, 20])
    [1.0, 4.0, 2.5, 2.5]
    """
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def pearson(x, y) -> float | None:
    """Pearson's r, or None when it is undefined (fewer than two points, or a constant series)."""
    n = len(x)
    if n != len(y):
        raise ValueError(f"series differ in length: {n} and {len(y)}")
    if n < 2:
        return None
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def spearman(x, y) -> float | None:
    """Spearman's rho of two equal-length series.

    >>> spearman([1, 2, 3, 4], [10, 20, 30, 40]), spearman([1, 2, 3], [3, 2, 1])
    (1.0, -1.0)
    >>> round(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]), 3)
    0.8
    """
    return pearson(ranks(list(x)), ranks(list(y)))


def mean_se(values) -> tuple[float, float | None]:
    """Mean and standard error of the mean (sample standard deviation / sqrt(n); None for one value).

    >>> mean_se([1.0, 2.0, 3.0])
    (2.0, 0.5773502691896257)
    """
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    m = sum(values) / n
    if n < 2:
        return m, None
    var = sum((v - m) ** 2 for v in values) / (n - 1)
    return m, math.sqrt(var / n)


def slope_se(xs, ys) -> tuple[float, float | None] | None:
    """Least-squares slope of ``ys`` on ``xs`` and its standard error (None when undefined).

    >>> slope_se([0, 1, 2, 3], [0.0, 1.0, 2.0, 3.0])
    (1.0, 0.0)
    """
    n = len(xs)
    if n != len(ys):
        raise ValueError(f"series differ in length: {n} and {len(ys)}")
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    if n < 3:
        return b, None
    resid = sum((y - my - b * (x - mx)) ** 2 for x, y in zip(xs, ys))
    return b, math.sqrt(resid / (n - 2) / sxx)
