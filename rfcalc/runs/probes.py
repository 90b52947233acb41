"""Gradient probes: ``probe`` measures receptive field, jump and start per layer and checks the analysis.

``probe(spec_or_model)`` takes the gradient of output units with respect to the input in a clone
of the model whose gradients mark exactly the pixels a unit reads (``probe_model``); the bounding
box of that support is the measured field. It is an oracle for ``analyze``/``from_keras`` that
shares no arithmetic with them. ``erf`` (the effective receptive field on real weights) lives in
``effective_rf`` and is re-exported here. Method and references: docs/probes.md.

>>> LayerProbe("conv2d", "Conv2D", (8, 8, 1), (3, 3), (3, 3), (1, 1), (0, 0), (3, 3), (1, 1), (0, 0)).agree
True
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field as dc_field
from fractions import Fraction

from .effective_rf import erf  # noqa: F401 (re-exported: rfcalc.erf, rfcalc.runs.probes.erf)
from ..errors import RFError
from .probe_limits import check_analysis, check_depthwise_strides
from .probe_model import bbox, gradient_support, resolve_target, support_model

Pair = tuple[int, int]
MAX_PROBE_SIDE = 4096  # a field that needs a bigger input than this is not probed


def _num(x):
    if x is None:
        return None
    x = Fraction(x)
    return int(x) if x.denominator == 1 else float(x)


def _pair(v):
    return None if v is None else [_num(x) for x in v]


@dataclass(frozen=True)
class LayerProbe:
    """One layer: the probed unit, measured and analytic rf/jump/start, and whether they agree.

    A measured jump is None on an axis of output size 1; ``clipped`` means the support touched the
    input border, so the field may be larger than measured.
    """

    name: str
    kind: str
    output_shape: tuple
    unit: Pair
    rf: Pair | None
    jump: tuple
    start: tuple
    analytic_rf: Pair | None
    analytic_jump: Pair | None
    analytic_start: tuple | None
    clipped: bool = False
    flags: tuple = ()

    @property
    def agree(self) -> bool:
        if self.rf is None or self.clipped or self.analytic_rf is None:
            return False
        same = tuple(self.rf) == tuple(self.analytic_rf)
        for axis in (0, 1):
            if self.jump[axis] is not None:
                same &= self.jump[axis] == self.analytic_jump[axis]
            if self.start[axis] is not None:
                same &= Fraction(self.start[axis]) == Fraction(self.analytic_start[axis])
        return bool(same)

    def to_dict(self) -> dict:
        return {
            "name": self.name, "kind": self.kind, "output_shape": list(self.output_shape),
            "unit": list(self.unit),
            "measured": {"rf": _pair(self.rf), "jump": _pair(self.jump), "start": _pair(self.start)},
            "analytic": {"rf": _pair(self.analytic_rf), "jump": _pair(self.analytic_jump),
                         "start": _pair(self.analytic_start)},
            "agree": self.agree, "clipped": self.clipped, "flags": list(self.flags),
        }


@dataclass(frozen=True)
class ProbeResult:
    """Per-layer probes; ``measured``/``analytic`` are those of ``layer`` (the last probed by default).

    ``probe_shape`` is the input the probe ran on: larger than ``input_shape`` when a field did not
    fit, and the analytic values are those at ``probe_shape`` ('same' padding moves ``start``).
    ``analysis`` is the target's analysis at ``input_shape``.
    """

    target: str
    input_shape: tuple
    probe_shape: tuple
    layers: tuple
    layer: str
    passes: int
    seconds: float
    analysis: object = dc_field(default=None, repr=False, compare=False)

    @property
    def selected(self) -> LayerProbe:
        return next(p for p in self.layers if p.name == self.layer)

    @property
    def measured(self) -> dict:
        return self.selected.to_dict()["measured"]

    @property
    def analytic(self) -> dict:
        return self.selected.to_dict()["analytic"]

    @property
    def agree(self) -> bool:
        return all(p.agree for p in self.layers)

    @property
    def rf(self):
        return self.selected.rf

    def to_dict(self) -> dict:
        return {
            "target": self.target, "input_shape": list(self.input_shape),
            "probe_shape": list(self.probe_shape), "layer": self.layer,
            "measured": self.measured, "analytic": self.analytic, "agree": self.agree,
            "passes": self.passes, "seconds": round(self.seconds, 4),
            "layers": [p.to_dict() for p in self.layers],
        }

    def __repr__(self) -> str:
        p = self.selected
        return (f"ProbeResult({self.target!r}, layer={self.layer!r}, rf={p.rf}, analytic_rf={p.analytic_rf}, "
                f"agree={self.agree}, layers={len(self.layers)}, passes={self.passes})")


def _units(size: int) -> tuple[int, int]:
    """The centre unit and its next neighbour on one axis (the same unit when the axis has one)."""
    u = (size - 1) // 2
    return u, min(u + 1, size - 1)


def probe_size(target, shape, names=None):
    """The smallest input (grown from ``shape``) on which the probed units' fields lie inside, with a margin.

    Returns ``(shape, analysis_at_shape)``. The analysis only sizes the input here; what is measured
    comes from gradients.
    """
    shape = list(shape)
    for _ in range(64):
        analysis = target.analysis(tuple(shape))
        grow = [0, 0]
        for row in analysis.layers:
            if not row.spatial or (names is not None and row.name not in names):
                continue
            for axis in (0, 1):
                u, v = _units(row.output_shape[axis])
                half = Fraction(row.rf[axis] - 1, 2)
                lo = row.start[axis] + u * row.jump[axis] - half
                hi = row.start[axis] + v * row.jump[axis] + half
                if lo < 1 or hi > shape[axis] - 2:
                    need = max(shape[axis] + max(2, row.jump[axis]), row.rf[axis] + 2 * row.jump[axis] + 4)
                    grow[axis] = max(grow[axis], need)
        if not any(grow):
            return tuple(shape), analysis
        for axis in (0, 1):
            shape[axis] = max(shape[axis], grow[axis])
        if max(shape[:2]) > MAX_PROBE_SIDE:
            break
    raise RFError(f"the receptive field needs an input larger than {MAX_PROBE_SIDE} pixels to probe. "
                  f"Received: input_shape={tuple(shape)}")


def _measure(mask_u, mask_v, unit, neighbour, shape):
    box_u, box_v = bbox(mask_u), bbox(mask_v)
    if box_u is None:
        return None, (None, None), (None, None), False
    rf, jump, start, clipped = [], [], [], False
    for axis in (0, 1):
        (lo, hi), n = box_u[axis], shape[axis]
        clipped |= lo == 0 or hi == n - 1
        rf.append(hi - lo + 1)
        centre = Fraction(lo + hi, 2)
        j = None
        if neighbour[axis] != unit[axis] and box_v is not None:
            lo_v, hi_v = box_v[axis]
            clipped |= lo_v == 0 or hi_v == n - 1
            step = Fraction(lo_v + hi_v, 2) - centre
            j = int(step) if step.denominator == 1 else step
        jump.append(j)
        start.append(centre - unit[axis] * j if j is not None else (centre if unit[axis] == 0 else None))
    return tuple(rf), tuple(jump), tuple(start), clipped


def probe(model_or_spec, input_shape=None, layer=None, head=None, compiled=True) -> ProbeResult:
    """Measure rf, jump and start of every spatial layer with gradients; compare with the analysis.

    ``model_or_spec``: a spec string, a Keras model, or a model file / ``keras:Name``. ``layer`` names
    the layer reported on top (default: the last spatial one); layers after it are not probed.

    >>> r = probe("c3,p2,c3s2")  # doctest: +SKIP
    >>> r.measured["rf"], r.analytic["rf"], r.agree  # doctest: +SKIP
    ([10, 10], [10, 10], True)
    """
    t0 = time.perf_counter()
    target, shape = resolve_target(model_or_spec, input_shape, head)
    analysis = target.analysis(shape)
    if target.model is None:  # a spec is built here: refuse what Keras or TensorFlow cannot run, first
        check_depthwise_strides([r.layer for r in analysis.layers])
        check_analysis(analysis)
    rows = [r for r in analysis.layers if r.spatial]
    if layer is not None:
        chosen = analysis.row(layer)  # RFError naming the layers when unknown
        if not chosen.spatial:
            raise RFError(f"layer {layer!r} has no spatial output to probe (it is {chosen.kind}); "
                          f"pick one of: {', '.join(r.name for r in rows)}")
        rows = rows[:rows.index(chosen) + 1]
    if not rows:
        raise RFError(f"{target.label!r} has no spatial layer to probe")
    names = tuple(r.name for r in rows)
    try:
        pshape, panalysis = probe_size(target, shape, names)
        smodel, kept = support_model(target.build(pshape), pshape, names)
    except RFError:
        if target.model is None:
            raise
        pshape, panalysis = shape, analysis  # a model that cannot grow: probe at its size, flag clipping
        smodel, kept = support_model(target.build(pshape), pshape, names)
    picks, units = [], []
    for k, out in enumerate(smodel.outputs):
        h, w = int(out.shape[1]), int(out.shape[2])
        (ui, vi), (uj, vj) = _units(h), _units(w)
        picks += [(k, ui, uj), (k, vi, vj)]
        units.append(((ui, uj), (vi, vj), (h, w, int(out.shape[3]))))
    masks, passes = gradient_support(smodel, pshape, picks, compiled=compiled)
    probes = []
    for k, name in enumerate(kept):
        unit, neighbour, out_shape = units[k]
        rf, jump, start, clipped = _measure(masks[2 * k], masks[2 * k + 1], unit, neighbour, pshape)
        row = panalysis.row(name)
        size = tuple(row.output_shape[:2]) + (analysis.row(name).output_shape[2],)  # widths as given
        probes.append(LayerProbe(name, row.kind, size, unit, rf, jump, start,
                                 row.rf, row.jump, row.start, clipped, row.flags))
    top = layer if layer in kept else probes[-1].name
    return ProbeResult(target.label, tuple(shape), tuple(pshape), tuple(probes), top, passes,
                       time.perf_counter() - t0, analysis)
