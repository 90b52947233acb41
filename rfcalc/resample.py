"""Resizing by ONNX's rules, exactly: per output unit, the input units it reads (``Resize`` layers).

Output unit ``u`` samples the input at ``x(u)``, set by the coordinate transform (``s`` the
scale, ``n``/``m`` the input and output sizes):

==========================  =====================================================
half_pixel                  ``(u + ½)/s − ½``
pytorch_half_pixel          the same, and ``0`` when ``m = 1``
half_pixel_symmetric        ``n/2·(1 − m/(s·n)) + (u + ½)/s − ½``
align_corners               ``u·(n − 1)/(m − 1)``, and ``0`` when ``m = 1``
asymmetric                  ``u/s``
tf_half_pixel_for_nn        ``(u + ½)/s``
==========================  =====================================================

and reads, by mode, the units around ``x`` whose weight is not zero (``f = ⌊x⌋``, ``r = x − f``;
a whole ``x`` reads ``x`` alone, all other weights being 0): nearest one unit (``round_prefer_floor``
takes ``f`` when ``r ≤ ½``, ``round_prefer_ceil`` when ``r < ½``, ``floor`` ``f``, ``ceil`` ``f + 1``,
``simple`` (Upsample, Resize-10) ``f`` when upsampling and ``f + 1`` when downsampling); linear
``f, f + 1``; cubic ``f − 1 .. f + 2`` (Keys' kernel with ``cubic_a``; a tap whose weight is
exactly 0 is not read). The runtime clamps taps past the border to the edge pixel (or, with
``exclude_outside``, drops them); rfcalc keeps them at their place outside the input, as it
keeps every padding position, so the field of a unit, clamped to the input, is exactly the set
of pixels the runtime reads. ``x(u)`` is affine in ``u`` with slope ``b/a`` (lowest terms), so
the taps repeat every ``a`` output units, ``b`` input units further on: a phase table of period
``a``; where that period is longer than the axis, the table covers the axis instead. All
arithmetic is Fraction. Derivation: docs/arithmetic.md.

>>> taps(Fraction(3, 4), "linear"), taps(Fraction(-1, 4), "nearest", "floor"), taps(Fraction(2), "cubic")
([0, 1], [-1], [2])
"""

from __future__ import annotations

from fractions import Fraction
from math import floor, gcd

from . import phases as PH
from .layers import NEAREST_MODES, RESIZE_MODES as MODES, TRANSFORMS  # noqa: F401 (the vocabulary)

HALF = Fraction(1, 2)


def source(u: int, n: int, m: int, s: Fraction, transform: str) -> Fraction:
    """The input position ``x(u)`` output unit ``u`` samples (``n`` inputs, ``m`` outputs, scale ``s``).

    >>> source(1, 5, 7, Fraction(3, 2), "align_corners")
    Fraction(2, 3)
    """
    if transform == "align_corners":
        return Fraction(u * (n - 1), m - 1) if m > 1 else Fraction(0)
    if transform == "asymmetric":
        return u / s
    if transform == "tf_half_pixel_for_nn":
        return (u + HALF) / s
    x = (u + HALF) / s - HALF
    if transform == "pytorch_half_pixel" and m == 1:
        return Fraction(0)
    if transform == "half_pixel_symmetric":
        x += Fraction(n, 2) * (1 - Fraction(m) / (s * n))
    return x


def slope(n: int, m: int, s: Fraction, transform: str) -> Fraction:
    """How far ``x`` moves per output unit (``x(u + 1) − x(u)``; for one output unit: ``n``)."""
    if m == 1 and transform in ("align_corners", "pytorch_half_pixel"):
        return Fraction(n)
    if transform == "align_corners":
        return Fraction(n - 1, m - 1)
    return 1 / s


def cubic_weight(d: Fraction, a: Fraction) -> Fraction:
    """Keys' cubic kernel at distance ``d`` (ONNX's ``cubic_coeff_a`` is ``a``)."""
    d = abs(d)
    if d <= 1:
        return ((a + 2) * d - (a + 3)) * d * d + 1
    if d < 2:
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return Fraction(0)


def taps(
    x: Fraction, mode: str, nearest_mode: str = "round_prefer_floor", a: Fraction = Fraction(-3, 4), down: bool = False
) -> list[int]:
    """The input units (unclamped) read with a non-zero weight by a sample at ``x``."""
    f = floor(x)
    if x == f:
        return [f]
    r = x - f
    if mode == "nearest":
        if nearest_mode == "simple":
            return [f + 1 if down else f]
        up = {"round_prefer_floor": r > HALF, "round_prefer_ceil": r >= HALF, "floor": False, "ceil": True}
        return [f + 1 if up[nearest_mode] else f]
    if mode == "linear":
        return [f, f + 1]
    weights = (cubic_weight(1 + r, a), cubic_weight(r, a), cubic_weight(1 - r, a), cubic_weight(2 - r, a))
    return [f - 1 + i for i, w in enumerate(weights) if w != 0]


def table(
    ax: PH.Axis,
    n: int,
    m: int,
    s: Fraction,
    transform: str,
    mode: str,
    nearest_mode: str,
    a: Fraction,
    covers: bool = True,
) -> PH.Axis:
    """The phase table after resizing an axis of ``n`` units (table ``ax``) to ``m`` units.

    The taps repeat every ``a`` output units (``b`` input units on, ``b/a`` the slope); the table
    takes the shorter of that period and one covering the ``m`` units (then units past the axis
    continue it as padding does). ``OverflowError`` past ``phases.MAX_PERIOD``.
    """
    J = slope(n, m, s, transform)
    down = s < 1
    best: tuple[int, int] | None = None
    for per, step in ((J.denominator, J.numerator), (m, n)):  # the true period; the whole axis
        k = ax.period // gcd(step, ax.period)  # so the input shift is a whole number of input periods
        if best is None or per * k < best[0]:
            best = (per * k, step * k)
    assert best is not None  # the loop above runs twice
    period, units = best
    if period > PH.MAX_PERIOD:
        raise OverflowError(period)
    rows = [[(ax, i) for i in taps(source(v, n, m, s, transform), mode, nearest_mode, a, down)] for v in range(period)]
    return PH.gather(period, units // ax.period * ax.shift, rows, covers)
