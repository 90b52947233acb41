"""The summary of an effective receptive field, shared by the gradient ERF (``effective_rf``) and the
onnxruntime one (``onnx_erf``): the ``ErfResult``, the smallest centred squares, the moments, the inputs.

numpy loads inside the functions that need it.

>>> smallest_square([[0, 1, 0], [1, 4, 1], [0, 1, 0]], (1, 1), 0.5)
1
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from fractions import Fraction
from math import prod

from ..errors import RFError, ShapeError
from .erf_stats import (
    AREA_THRESHOLDS,
    area_ratios as _area_ratios,
    pixel_counts,
    ring_masses,
    squares,
    stable,
    standard_errors,
)

FRACTIONS = (0.5, 0.9, 0.99)


def smallest_square(heatmap, centre, fraction) -> int:
    """Side of the smallest square centred at ``centre`` (pixel i centred at i) holding ``fraction`` of the mass.

    Any rank: a segment of a 1-D heatmap, a square of a 2-D one, a cube of a 3-D one. A whole-pixel
    centre gives odd sides, a half-pixel one even sides.

    >>> smallest_square([[1, 1], [1, 1]], (0.5, 0.5), 0.9), smallest_square([0, 1, 6, 1, 0], (2,), 0.8)
    (2, 3)
    """
    import numpy as np

    a = np.asarray(heatmap, dtype=np.float64)
    total = a.sum()
    if total <= 0:
        return 0
    centre = [Fraction(c).limit_denominator(2) for c in centre]
    side = 1 if centre[0].denominator == 1 else 2
    limit = 2 * max(a.shape) + sum(2 * int(abs(c)) for c in centre) + 3
    while side <= limit:
        half = Fraction(side - 1, 2)
        box = []
        for c, n in zip(centre, a.shape):
            lo, hi = max(0, int(-(-(c - half) // 1))), min(n - 1, int((c + half) // 1))
            box.append(slice(lo, hi + 1) if hi >= lo else slice(0, 0))
        if a[tuple(box)].sum() >= fraction * total * (1 - 1e-9):
            return side
        side += 2
    return side


def moments(heatmap):
    """Centroid and moment-based sigma, one per axis, of a non-negative map of any rank.

    >>> moments([[0, 0, 0], [1, 0, 1], [0, 0, 0]])
    ((1.0, 1.0), (0.0, 1.0))
    """
    import numpy as np

    a = np.asarray(heatmap, dtype=np.float64)
    total = a.sum()
    centroid, sigma = [], []
    for axis in range(a.ndim):
        p = a.sum(axis=tuple(x for x in range(a.ndim) if x != axis)) / total
        pos = np.arange(a.shape[axis])
        m = float(p @ pos)
        centroid.append(m)
        sigma.append(float(np.sqrt(p @ (pos - m) ** 2)))
    return tuple(centroid), tuple(sigma)


@dataclass(frozen=True)
class ErfResult:
    """ERF heatmap (the input's spatial shape: L, H×W or D×H×W; sums to 1) and its summary.

    ``rf``/``centre`` are the theoretical field's; ``sides`` the smallest centred segment, square or
    cube holding 50/90/99% of the mass; ``area_ratio`` RepLKNet's high-contribution area ratios
    (t = 20/30/50/99%: the smallest centred square holding t, its area inside the input over the
    input's area; ``area_sides`` their sides); ``*_se`` bootstrap standard errors over the samples;
    ``stopping`` why sampling stopped.
    """

    target: str
    layer: str
    input_shape: tuple
    unit: tuple
    samples: int
    source: str
    rf: tuple | None
    centre: tuple
    sides: dict
    centroid: tuple
    sigma: tuple
    heatmap: object = dc_field(repr=False, compare=False)
    area_ratio: dict = dc_field(default_factory=dict)
    area_sides: dict = dc_field(default_factory=dict)
    sides_se: dict = dc_field(default_factory=dict)
    area_ratio_se: dict = dc_field(default_factory=dict)
    stopping: str = ""

    @property
    def ratio(self) -> dict:
        """Each square's side over the theoretical field's side (geometric mean of its sides)."""
        if self.rf is None:
            return {f: None for f in self.sides}
        side = prod(self.rf) ** (1 / len(self.rf))
        return {f: s / side for f, s in self.sides.items()}

    def to_dict(self, heatmap: bool = False) -> dict:
        out = {
            "target": self.target,
            "layer": self.layer,
            "input_shape": list(self.input_shape),
            "unit": list(self.unit),
            "samples": self.samples,
            "source": self.source,
            "rf": list(self.rf) if self.rf else None,
            "centre": [float(c) for c in self.centre],
            "sides": {f"{round(f * 100)}%": s for f, s in self.sides.items()},
            "ratio": {f"{round(f * 100)}%": (round(r, 4) if r is not None else None) for f, r in self.ratio.items()},
            "centroid": [round(c, 4) for c in self.centroid],
            "sigma": [round(s, 4) for s in self.sigma],
            "sigma_method": "moments (standard deviation of the heatmap about its centroid)",
            "sides_se": {f"{round(f * 100)}%": round(e, 4) for f, e in self.sides_se.items()},
            "area_ratio": {
                f"{round(t * 100)}%": {
                    "side": self.area_sides[t],
                    "ratio": round(r, 6),
                    "se": round(self.area_ratio_se.get(t, 0.0), 6),
                }
                for t, r in self.area_ratio.items()
            },
            "area_ratio_method": "RepLKNet (Ding et al. 2022): smallest centred square holding t of the mean "
            "|gradient|, its area inside the input over the input's area; no log10 rescaling",
            "stopping": self.stopping,
        }
        if heatmap:
            out["heatmap"] = self.heatmap.tolist()
        return out


def check_seed(seed) -> None:
    """Raise ``RFError`` unless ``seed`` is an integer numpy accepts as a seed (0 to 2**32 - 1)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise RFError(f"seed must be an integer from 0 to 2**32 - 1. Received: seed={seed!r}")


def _centre(heat, span):
    """``(rf, centre)``: the field's size and centre, or (None, the centroid to the nearest half pixel)."""
    if span is None:
        return None, tuple(Fraction(round(2 * c), 2) for c in moments(heat)[0])
    return tuple(hi - lo + 1 for lo, hi in span), tuple(Fraction(lo + hi, 2) for lo, hi in span)


def estimate(per_sample, span):
    """Sides, area ratios and their bootstrap standard errors from one map per sample (any scale).

    Returns ``(sides, sides_se, area_ratio, area_se, area_sides)``; ``span`` as in ``summarise``.
    """
    import numpy as np

    a = np.asarray(per_sample, dtype=np.float64)
    heat = a.sum(axis=0)
    if not heat.sum() > 0:
        return None
    shape = a.shape[1:]
    _, centre = _centre(heat, span)
    norm = a / heat.sum() * len(a)  # each sample's map on the mean's scale, so resamples weigh alike
    rings = ring_masses(norm, centre)
    counts = pixel_counts(shape, centre)
    total = rings.sum(axis=0)
    sides_se, area_se = standard_errors(rings, counts, shape, FRACTIONS)
    return (
        squares(total, FRACTIONS),
        sides_se,
        _area_ratios(total, counts, shape),
        area_se,
        squares(total, AREA_THRESHOLDS),
    )


def settled(per_sample, span, tolerance) -> bool:
    """Whether the estimate from ``per_sample`` maps is stable (``erf_stats.stable``); False while all are zero."""
    e = estimate(per_sample, span)
    return e is not None and stable(e[0], e[1], e[2], e[3], tolerance)


def summarise(label, name, shape, unit, source, per_sample, span, dead: str, stopping: str = "") -> ErfResult:
    """The ``ErfResult`` of one heat map per sample: averaged, normalised, with moments, squares and errors.

    ``span`` is the unit's field (``Row.field_of``) to centre the squares on, or None to centre them
    on the centroid; ``dead`` is the message when the map is zero everywhere. Shared by the gradient
    ERF and the onnxruntime one (``onnx_erf``).
    """
    import numpy as np

    per_sample = np.asarray(per_sample, dtype=np.float64)
    samples = len(per_sample)
    heat = per_sample.sum(axis=0) / samples
    total = heat.sum()
    if not total > 0:
        raise RFError(dead)
    heat /= total
    centroid, sigma = moments(heat)
    rf, centre = _centre(heat, span)
    sides = {f: smallest_square(heat, centre, f) for f in FRACTIONS}
    _, sides_se, area, area_se, area_sides = estimate(per_sample, span)
    return ErfResult(
        label, name, tuple(shape), unit, samples, source, rf, centre, sides, centroid, sigma, heat,
        area, area_sides, sides_se, area_se, stopping,
    )  # fmt: skip


def _inputs(images, samples, shape, seed):
    import numpy as np

    if images is None:
        if samples < 1:
            raise RFError(f"samples must be a positive integer. Received: samples={samples}")
        rng = np.random.default_rng(seed)
        return rng.standard_normal((samples,) + tuple(shape)).astype(np.float32), f"{samples} random normal inputs"
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == len(shape) - 1 and shape[-1] == 1:  # one grey image / one mono signal
        x = x[None, ..., None]
    elif x.ndim == len(shape):
        x = x[None]
    if x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != tuple(shape):
        raise ShapeError(
            f"images must be (N, ..., C) matching the input {tuple(shape)}. Received: images of shape {tuple(np.shape(images))}"
        )
    return x, f"{x.shape[0]} given image(s)"
