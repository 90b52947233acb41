"""Per-axis fields of every output phase: the exact first and last input pixel of any unit.

After upsampling or a transposed conv, output units of different phases read different input
pixels. Per axis the map from output unit to field is periodic: with a period of ``P`` output
units and a shift of ``T`` input pixels per period, unit ``u = q·P + p`` reads the pixels
``lo[p] + q·T .. hi[p] + q·T``. Plain downsampling stacks have ``P = 1`` (the textbook recurrence,
jump ``T``); the jump is ``T/P`` in general. Every layer maps an output unit to the units of its
input it reads (its taps); the field of a unit is the union of the fields of its taps. Positions
outside the input (padding, or the edge rows an interpolation clamps to) continue the grid, as
for padding. Derivation and a worked example: docs/arithmetic.md.

>>> a = window(UNIT, 3, 2, 1, 1)          # c3s2, 'same' on an even axis pads 0..1 before
>>> upsample(a, 2).lo, upsample(a, 2).hi, upsample(a, 2).jump
((-1, -1), (1, 1), 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import gcd

MAX_PERIOD = 1 << 16  # phases kept per axis; upsampling factors that multiply past this are refused
MAX_COVER_BITS = 1 << 20  # holes are followed exactly in fields up to this wide (a 128 KiB mask)
UNTRACKED = -1  # a cover past MAX_COVER_BITS: the field may have holes; lo and hi stay exact


@dataclass(frozen=True, slots=True)
class Axis:
    """The fields of one period of output units on one axis (``lo > hi``: the unit reads nothing).

    ``cover`` per phase: None when the unit reads every pixel of ``lo..hi``, else a bit mask (bit b:
    pixel ``lo + b`` is read; holes from dilation or a stride no window covered) or ``UNTRACKED``.
    """

    period: int
    shift: int
    lo: tuple
    hi: tuple
    cover: tuple | None = None

    def at(self, u: int) -> tuple[int, int]:
        """First and last input pixel of output unit ``u``.

        >>> upsample(UNIT, 2).at(3)
        (1, 1)
        """
        q, p = divmod(u, self.period)
        return self.lo[p] + q * self.shift, self.hi[p] + q * self.shift

    @property
    def jump(self):
        """Input pixels per output unit: an int, or a Fraction (below 1 after upsampling)."""
        q, r = divmod(self.shift, self.period)
        return q if r == 0 else Fraction(self.shift, self.period)

    def widths(self, size: int) -> list[int]:
        """Field widths of the phases that output units ``0..size-1`` take."""
        if self.period == 1:
            return [max(self.hi[0] - self.lo[0] + 1, 0)]
        return [max(h - lo + 1, 0) for lo, h in zip(self.lo[: max(1, min(self.period, size))], self.hi)]

    def phase_cover(self, p: int):
        return self.cover[p] if self.cover is not None else None


UNIT = Axis(1, 1, (0,), (0,))


def _spread(cover, rf: int, taps: int, spacing: int):
    """The cover after ``taps`` copies of one field ``spacing`` pixels apart; None when contiguous."""
    if cover is None and (taps == 1 or spacing <= rf):
        return None  # shifted copies of a full span that overlap or touch: still full
    if cover == UNTRACKED or rf + (taps - 1) * spacing > MAX_COVER_BITS:
        return UNTRACKED  # strided dilated stacks double their width per layer: do not follow them
    out = (1 << rf) - 1 if cover is None else cover
    have = 1  # out holds `have` taps; doubling takes log2(taps) shifts of a mask that may be rf bits wide
    while have < taps:
        more = min(have, taps - have)
        out |= out << (more * spacing)
        have += more
    return None if out & (out + 1) == 0 else out


def _union(spans, lo: int, hi: int):
    """Cover of the union of ``(lo, hi, cover)`` spans spanning ``lo..hi``."""
    if all(c is None for _, _, c in spans):
        reach = None
        for a, b, _ in sorted(spans):
            if reach is not None and a > reach + 1:
                break
            reach = b if reach is None else max(reach, b)
        else:
            return None
    if hi - lo + 1 > MAX_COVER_BITS or any(c == UNTRACKED for _, _, c in spans):
        return UNTRACKED
    union = 0
    for a, b, c in spans:
        union |= ((1 << (b - a + 1)) - 1 if c is None else c) << (a - lo)
    return None if union & (union + 1) == 0 else union


def gather(period: int, shift: int, taps, covers: bool = True) -> Axis:
    """The table whose unit ``v < period`` reads the units ``taps[v]`` (pairs ``(table, unit)``)."""
    los: list[int] = []
    his: list[int] = []
    covs: list[int | None] = []
    for v in range(period):
        spans = []
        for tab, u in taps[v]:
            q, p = divmod(u, tab.period)
            a, b = tab.lo[p] + q * tab.shift, tab.hi[p] + q * tab.shift
            if a <= b:
                spans.append((a, b, tab.phase_cover(p)))
        if not spans:  # a transposed conv whose taps all miss this unit: it reads nothing
            los.append(v * shift // period + 1)
            his.append(v * shift // period)
            covs.append(None)
            continue
        if len(spans) == 1 and spans[0][2] is None:  # one full span: what _union gives it, at once
            lo, hi, cov = spans[0]
        else:
            lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
            cov = _union(spans, lo, hi)
        los.append(lo)
        his.append(hi)
        covs.append(cov if covers else None)
    cover = None if all(c is None for c in covs) else tuple(covs)
    return _reduce(period, shift, tuple(los), tuple(his), cover)


def _prime_factors(n: int):
    f = 2
    while f * f <= n:
        if n % f == 0:
            yield f
            while n % f == 0:
                n //= f
        f += 1
    if n > 1:
        yield n


def _bounded(period: int) -> int:
    """``period``, refused (as ``_reduce`` would) before a table of that many phases is built."""
    if period > MAX_PERIOD:
        raise OverflowError(period)
    return period


def _reduce(period, shift, lo, hi, cover) -> Axis:
    """The same fields written with the shortest period."""
    if period > MAX_PERIOD:
        raise OverflowError(period)
    for f in list(_prime_factors(period)):
        while period % f == 0 and shift % f == 0:
            p2, t2 = period // f, shift // f
            same = all(lo[p] == lo[p - p2] + t2 and hi[p] == hi[p - p2] + t2 for p in range(p2, period))
            if not same or (cover is not None and any(cover[p] != cover[p - p2] for p in range(p2, period))):
                break
            period, shift, lo, hi = p2, t2, lo[:p2], hi[:p2]
            cover = cover[:p2] if cover is not None else None
    return Axis(period, shift, lo, hi, cover)


def window(ax: Axis, k: int, s: int, d: int, pb: int, covers: bool = True) -> Axis:
    """A sliding window (conv or pool): output ``v`` reads ``v·s − pb + t·d`` for ``t < k``.

    >>> window(UNIT, 3, 1, 1, 1)
    Axis(period=1, shift=1, lo=(-1,), hi=(1,), cover=None)
    """
    if ax.period == 1 and ax.lo[0] <= ax.hi[0]:
        lo, hi, t = ax.lo[0], ax.hi[0], ax.shift
        c = _spread(ax.phase_cover(0), hi - lo + 1, k, d * t) if covers else None
        return Axis(1, t * s, (lo - pb * t,), (hi + ((k - 1) * d - pb) * t,), None if c is None else (c,))
    period = ax.period // gcd(ax.period, s)
    shift = ax.shift * period * s // ax.period
    return gather(period, shift, [[(ax, v * s - pb + t * d) for t in range(k)] for v in range(period)], covers)


def offset(ax: Axis, c: int) -> Axis:
    """Padding (``c`` = −before) or cropping (``c`` = before): output ``v`` reads ``v + c``."""
    if ax.period == 1:
        return Axis(1, ax.shift, (ax.lo[0] + c * ax.shift,), (ax.hi[0] + c * ax.shift,), ax.cover)
    return gather(ax.period, ax.shift, [[(ax, v + c)] for v in range(ax.period)])


def upsample(ax: Axis, f: int, bilinear: bool = False, covers: bool = True) -> Axis:
    """UpSampling by ``f``: 'nearest' reads ``⌊v/f⌋``; 'bilinear' (half-pixel) the inputs around
    ``(v + 1/2)/f − 1/2`` (one when that is whole, as its other weight is zero)."""
    period = _bounded(ax.period * f)
    taps = []
    for v in range(period):
        if bilinear:
            num, den = 2 * v + 1 - f, 2 * f
            taps.append([(ax, num // den)] + ([(ax, -(-num // den))] if num % den else []))
        else:
            taps.append([(ax, v // f)])
    return gather(period, ax.shift, taps, covers)


def transposed(ax: Axis, k: int, s: int, d: int, pb: int, covers: bool = True) -> Axis:
    """A transposed conv: output ``v`` reads the inputs ``i`` with ``i·s − pb + t·d = v`` (``t < k``)."""
    period = _bounded(ax.period * s)
    taps = [[(ax, (v + pb - t * d) // s) for t in range(k) if (v + pb - t * d) % s == 0] for v in range(period)]
    return gather(period, ax.shift, taps, covers)


def merge(tables, sizes=None, covers: bool = True) -> tuple[Axis, bool]:
    """The union of several paths' fields on one axis, and whether they were aligned (same jump).

    Misaligned paths (different jumps) keep the first path's period and shift; the units of one
    period then hold the union of the paths' fields of those units.
    """
    first = tables[0]
    if all(t == first for t in tables[1:]) and (covers or first.cover is None):
        return first, True  # one table: its own union (a residual whose branch kept the field)
    aligned = all(Fraction(t.shift, t.period) == Fraction(first.shift, first.period) for t in tables)
    period = first.period
    for t in tables[1:]:
        period = period * t.period // gcd(period, t.period)
    if not aligned:
        period = first.period
    shift = first.shift * period // first.period
    merged = gather(period, shift, [[(t, v) for t in tables] for v in range(period)], covers)
    return merged, aligned
