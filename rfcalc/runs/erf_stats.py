"""Centred squares by rings, RepLKNet's high-contribution area ratios, their standard errors, early stopping.

Every input pixel ``p`` lies on the ring of the smallest square centred at ``c`` that holds it: side
``2·max_axis |p - c| + 1`` (odd for a whole-pixel centre, even for a half-pixel one). The mass of the
square of side ``s`` is the summed mass of the rings up to ``s``; so one ``bincount`` per sample gives
every square of every threshold, and a bootstrap over the samples (resampling their ring masses,
not their maps) costs a matrix product.

The **high-contribution area ratio** (Ding et al., "Scaling Up Your Kernels to 31x31", CVPR 2022,
``erf/analyze_erf.py``): for t = 20, 30, 50, 99 %, the area of the smallest centred square holding
t of the contribution, divided by the input's area (the square's part inside the input, so a ratio
never exceeds 1). Where rfcalc differs from their script is said in ``docs/probe.md``.

The **standard errors** are bootstrap ones (``BOOTSTRAP`` resamples of the samples, fixed seed).
The ERF **stops early** once every side and area ratio has a standard error at most ``TOLERANCE``
of its value (or under a quarter pixel, for a side), checked after every ``MIN_SAMPLES`` samples;
at most ``MAX_SAMPLES`` are drawn unless a count is forced.

>>> import numpy as np
>>> rings = ring_masses(np.array([[[0, 1, 0], [1, 4, 1], [0, 1, 0]]]), (1, 1))
>>> rings.tolist(), squares(rings[0], (0.5, 0.9))
([[0.0, 4.0, 0.0, 4.0]], {0.5: 1, 0.9: 3})
"""

from __future__ import annotations

from fractions import Fraction
from math import prod

AREA_THRESHOLDS = (0.2, 0.3, 0.5, 0.99)  # RepLKNet's
MIN_SAMPLES = 8  # first batch, and the step between checks
MAX_SAMPLES = 32  # the cap when no count is forced (the fixed count of before)
TOLERANCE = 0.02  # relative standard error at which the estimate counts as stable
BOOTSTRAP = 200


def side_map(shape, centre):
    """Per pixel of ``shape``, the side of the smallest square centred at ``centre`` holding it.

    >>> side_map((4,), (Fraction(3, 2),)).tolist()
    [4, 2, 2, 4]
    """
    import numpy as np

    doubled = [np.abs(2 * np.arange(n) - int(2 * Fraction(c))) for c, n in zip(centre, shape)]
    grid = np.meshgrid(*doubled, indexing="ij")
    return np.maximum.reduce(grid) + 1 if len(grid) > 1 else grid[0] + 1


def ring_masses(per_sample, centre):
    """``(samples, largest side + 1)``: per sample, the mass on each ring (column = the ring's side).

    ``per_sample``: one non-negative map per sample, of the input's spatial shape.
    """
    import numpy as np

    a = np.asarray(per_sample, dtype=np.float64)
    sides = side_map(a.shape[1:], centre).reshape(-1)
    n = int(sides.max()) + 1
    flat = a.reshape(len(a), -1)
    return np.stack([np.bincount(sides, weights=row, minlength=n) for row in flat])


def pixel_counts(shape, centre):
    """Pixels of the input on each ring (index = side)."""
    import numpy as np

    sides = side_map(shape, centre).reshape(-1)
    return np.bincount(sides, minlength=int(sides.max()) + 1)


def squares(rings, fractions) -> dict:
    """Side of the smallest centred square holding each fraction of the mass, from one ring-mass row."""
    import numpy as np

    cum = np.cumsum(np.asarray(rings, dtype=np.float64).reshape(-1))
    total = cum[-1]
    if not total > 0:
        return {f: 0 for f in fractions}
    return {f: max(1, int(np.searchsorted(cum, f * total * (1 - 1e-9), side="left"))) for f in fractions}


def area_ratios(rings, counts, shape) -> dict:
    """RepLKNet's ratio per threshold: pixels of the input inside the smallest centred square holding t, over all."""
    import numpy as np

    inside = np.cumsum(counts)
    area = prod(shape)
    return {t: float(inside[min(s, len(inside) - 1)]) / area for t, s in squares(rings, AREA_THRESHOLDS).items()}


def standard_errors(per_sample_rings, counts, shape, fractions, seed: int = 0):
    """Bootstrap standard errors ``(sides_se, area_se)`` over the samples (zero for one sample).

    >>> import numpy as np
    >>> r = np.array([[0, 1.0, 0, 2.0]] * 5)  # five identical samples of a 3x3 map
    >>> standard_errors(r, np.array([0, 1, 0, 8]), (3, 3), (0.5,))
    ({0.5: 0.0}, {0.2: 0.0, 0.3: 0.0, 0.5: 0.0, 0.99: 0.0})
    """
    import numpy as np

    r = np.asarray(per_sample_rings, dtype=np.float64)
    n = len(r)
    if n < 2:
        return {f: 0.0 for f in fractions}, {t: 0.0 for t in AREA_THRESHOLDS}
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n, [1 / n] * n, size=BOOTSTRAP).astype(np.float64)
    boot = weights @ r
    sides = np.array([[s for s in squares(b, fractions).values()] for b in boot], dtype=np.float64)
    areas = np.array([[a for a in area_ratios(b, counts, shape).values()] for b in boot])
    sd = lambda m: np.round(m.std(axis=0, ddof=1), 12)  # noqa: E731  (identical samples: 0, not 1e-16)
    return dict(zip(fractions, map(float, sd(sides)))), dict(zip(AREA_THRESHOLDS, map(float, sd(areas))))


def stable(sides, sides_se, areas, areas_se, tolerance: float = TOLERANCE) -> bool:
    """Whether every side and area ratio has a standard error within ``tolerance`` of its value.

    A side also counts as stable when its error is under a quarter pixel (sides are whole pixels).

    >>> stable({0.5: 3}, {0.5: 0.0}, {0.2: 0.1}, {0.2: 0.01})
    False
    """
    ok_sides = all(sides_se[f] <= max(0.25, tolerance * s) for f, s in sides.items())
    return ok_sides and all(areas_se[t] <= tolerance * a for t, a in areas.items())
