"""What a probe measured, shared by the gradient probe (``probes``) and the onnxruntime one (``onnx_probe``).

``LayerProbe`` / ``ProbeResult`` hold measured and analytic rf, rf_min, jump and start per layer;
``phases`` and ``_plan`` choose the units to probe; ``layer_probe`` turns measured spans into a
``LayerProbe``. No framework, no numpy: the measurement itself happens in the modules that run a network.

>>> LayerProbe("conv2d", "Conv2D", (8, 8, 1), (3, 3), (3, 3), (1, 1), (0, 0), (3, 3), (1, 1), (0, 0)).agree
True
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from fractions import Fraction
from math import gcd

from ..errors import RFError
from ..layers import ConvTranspose, Resize, Upsample


def _num(x):
    if x is None:
        return None
    x = Fraction(x)
    return int(x) if x.denominator == 1 else float(x)


def _pair(v):
    return None if v is None else [_num(x) for x in v]


@dataclass(frozen=True)
class LayerProbe:
    """One layer: the probed units, measured and analytic rf/rf_min/jump/start, and whether they agree.

    ``unit`` is the first probed unit (a multiple of the phase period near the centre); ``units``
    are it and the next ``max(phases)`` units along the diagonal, so after upsampling every phase
    of every axis is measured. ``spans`` are the measured (first, last) input pixels per axis of
    each unit, ``analytic_spans`` the analysis' ``Row.field_of``. A measured jump is None on an axis
    with too few units; ``clipped`` means a support touched the input border.
    """

    name: str
    kind: str
    output_shape: tuple
    unit: tuple
    rf: tuple | None
    jump: tuple
    start: tuple
    analytic_rf: tuple | None
    analytic_jump: tuple | None
    analytic_start: tuple | None
    clipped: bool = False
    flags: tuple = ()
    rf_min: tuple | None = None
    analytic_rf_min: tuple | None = None
    units: tuple = ()
    spans: tuple = ()
    analytic_spans: tuple = ()
    phases: tuple = ()
    complete: bool = True  # every phase was probed, so rf and rf_min are compared too
    compare_min: bool = True  # no merge before: rf_min is a unit's field, not a path's

    @property
    def agree(self) -> bool:
        if self.rf is None or self.clipped or self.analytic_rf is None:
            return False
        same = all(
            tuple(m) == tuple(a) if m is not None else any(lo > hi for lo, hi in a)
            for m, a in zip(self.spans, self.analytic_spans)
        )
        if self.complete:
            same &= tuple(self.rf) == tuple(self.analytic_rf)
            if self.compare_min and self.rf_min is not None and self.analytic_rf_min is not None:
                same &= all(
                    m == a or self._empty_explains(k, a)
                    for k, (m, a) in enumerate(zip(self.rf_min, self.analytic_rf_min))
                )
        for axis in range(len(self.rf)):
            if self.jump[axis] is not None:
                same &= Fraction(self.jump[axis]) == Fraction(self.analytic_jump[axis])
            if self.start[axis] is not None:
                same &= Fraction(self.start[axis]) == Fraction(self.analytic_start[axis])
        return bool(same)

    def _empty_explains(self, axis: int, analytic_min: int) -> bool:
        """In 2-D/3-D a unit that reads nothing hides its other axes' widths from the measured rf_min;
        its span agreed (empty), so the analysis' rf_min on ``axis`` is checked against the spans."""
        if all(m is not None for m in self.spans):
            return False
        return analytic_min == min(max(0, s[axis][1] - s[axis][0] + 1) for s in self.analytic_spans)

    def to_dict(self) -> dict:
        spans = lambda v: None if v is None else [list(p) for p in v]
        return {
            "name": self.name,
            "kind": self.kind,
            "output_shape": list(self.output_shape),
            "unit": list(self.unit),
            "measured": {
                "rf": _pair(self.rf),
                "rf_min": _pair(self.rf_min),
                "jump": _pair(self.jump),
                "start": _pair(self.start),
            },
            "analytic": {
                "rf": _pair(self.analytic_rf),
                "rf_min": _pair(self.analytic_rf_min),
                "jump": _pair(self.analytic_jump),
                "start": _pair(self.analytic_start),
            },
            "phases": list(self.phases),
            "fields": [
                {"unit": list(u), "measured": spans(m), "analytic": spans(a)}
                for u, m, a in zip(self.units, self.spans, self.analytic_spans)
            ],
            "agree": self.agree,
            "clipped": self.clipped,
            "flags": list(self.flags),
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
    runs: str = "gradient pass(es)"  # what one of ``passes`` is: an onnxruntime probe counts runs

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
            "target": self.target,
            "input_shape": list(self.input_shape),
            "probe_shape": list(self.probe_shape),
            "layer": self.layer,
            "measured": self.measured,
            "analytic": self.analytic,
            "agree": self.agree,
            "passes": self.passes,
            "seconds": round(self.seconds, 4),
            "layers": [p.to_dict() for p in self.layers],
        }

    def __repr__(self) -> str:
        p = self.selected
        return (
            f"ProbeResult({self.target!r}, layer={self.layer!r}, rf={p.rf}, analytic_rf={p.analytic_rf}, "
            f"agree={self.agree}, layers={len(self.layers)}, passes={self.passes})"
        )


MAX_PHASES = 64  # units probed per layer past the first, at most


def phases(analysis, name) -> tuple:
    """Per axis, a period (in output units) after which the fields of layer ``name`` repeat, shifted.

    The product of the upsampling factors (``Upsample`` sizes, ``ConvTranspose`` strides) before
    it: a multiple of the true period on every path, so probing that many neighbours sees every phase.

    >>> from rfcalc import analyze
    >>> phases(analyze("c3,p2,c3"), "conv2d_1")
    (1, 1)
    """
    period = [1] * (len(analysis.input_shape) - 1)
    for row in analysis.layers:
        if isinstance(row.layer, (Upsample, ConvTranspose)):
            factors = row.layer.size if isinstance(row.layer, Upsample) else row.layer.stride
            period = [p * int(f) for p, f in zip(period, factors)]
        elif isinstance(row.layer, Resize) and row.axes is not None:  # its own table's period holds every phase
            period = [p * a.period // gcd(p, a.period) for p, a in zip(period, row.axes)]
        if row.name == name:
            break
    return tuple(period)


def _plan(sizes, period, row=None) -> tuple:
    """(first unit, units): the first a multiple of the period near the centre, then the diagonal after it.

    Where ``row`` (the analysis' row) has units that read nothing along an axis (a transposed conv's
    stride longer than its kernel), the diagonal could pair every wide phase of one axis with an empty
    phase of another, hiding its width: then every phase of each axis is probed too, the other axes
    at a phase that reads.
    """
    first = tuple((n - 1) // 2 // p * p for n, p in zip(sizes, period))
    count = min(max(period), MAX_PHASES) + 1
    units = dict.fromkeys(tuple(min(u + k, n - 1) for u, n in zip(first, sizes)) for k in range(count))
    if row is not None and len(sizes) > 1:
        axes = [[min(f + q, n - 1) for q in range(min(p, MAX_PHASES))] for f, p, n in zip(first, period, sizes)]

        def reads(a: int, v: int) -> bool:  # a unit's field on one axis depends on that axis' coordinate only
            lo, hi = row.field_of(first[:a] + (v,) + first[a + 1 :])[a]
            return lo <= hi

        if not all(reads(a, v) for a, vs in enumerate(axes) for v in vs):
            home = tuple(next((v for v in vs if reads(a, v)), first[a]) for a, vs in enumerate(axes))
            for a, vs in enumerate(axes):
                for v in vs:
                    units.setdefault(home[:a] + (v,) + home[a + 1 :])
    return first, tuple(units)


def _merged_before(analysis, name) -> bool:
    for row in analysis.layers:
        if len(row.inputs) > 1:
            return True
        if row.name == name:
            return False
    return False


def _measure(spans, first, units, period, shape):
    """rf, rf_min, jump, start, per-unit spans and clipping from the measured fields of ``units``.

    ``spans`` are per unit the (first, last) input pixel per axis its field reads, measured by
    gradients (``bbox`` of the support) or by onnxruntime (``onnx_probe``). A unit that reads no
    input pixel (a transposed conv whose stride is longer than its kernel) has the span None and
    makes ``rf_min`` 0.
    """
    spans = list(spans)
    rank = len(first)
    found = [s for s in spans if s is not None]
    if not found:
        return None, None, (None,) * rank, (None,) * rank, tuple(spans), False
    clipped = any(lo == 0 or hi == n - 1 for s in found for (lo, hi), n in zip(s, shape))
    rf = tuple(max(s[a][1] - s[a][0] + 1 for s in found) for a in range(rank))
    # an empty unit of a 1-D output reads 0 samples; in 2-D/3-D its mask does not say which axis is empty
    rf_min = tuple(
        0 if len(found) < len(spans) and rank == 1 else min(s[a][1] - s[a][0] + 1 for s in found) for a in range(rank)
    )
    jump, start = [], []
    for a in range(rank):
        later = [s for u, s in zip(units, spans) if s is not None and u[a] == first[a] + period[a]]
        j = c0 = None
        if spans[0] is not None:
            c0 = Fraction(spans[0][a][0] + spans[0][a][1], 2)
            if later:
                step = (Fraction(later[0][a][0] + later[0][a][1], 2) - c0) / period[a]
                j = int(step) if step.denominator == 1 else step
        jump.append(j)
        start.append(c0 - first[a] * j if j is not None else (c0 if first[a] == 0 else None))
    return rf, rf_min, tuple(jump), tuple(start), tuple(spans), clipped


def probed_names(analysis, layer, label) -> tuple:
    """The spatial layers to probe: all of them, or those up to ``layer`` (an RFError when it has none).

    >>> from rfcalc import analyze
    >>> probed_names(analyze("c3,p2,c3"), "max_pooling2d", "c3,p2,c3")
    ('conv2d', 'max_pooling2d')
    """
    rows = [r for r in analysis.layers if r.spatial]
    if layer is not None:
        chosen = analysis.row(layer)  # RFError naming the layers when unknown
        if not chosen.spatial:
            raise RFError(
                f"layer {layer!r} has no spatial output to probe (it is {chosen.kind}); "
                f"pick one of: {', '.join(r.name for r in rows)}"
            )
        rows = rows[: rows.index(chosen) + 1]
    if not rows:
        raise RFError(f"{label!r} has no spatial layer to probe")
    return tuple(r.name for r in rows)


def layer_probe(name, analysis, panalysis, first, units, period, spans, pshape) -> LayerProbe:
    """The ``LayerProbe`` of layer ``name`` from the measured ``spans`` of ``units`` (planned by ``_plan``).

    ``panalysis`` is the analysis at the probed input ``pshape``, ``analysis`` the one at the size
    asked for (its channel count is reported).
    """
    rf, rf_min, jump, start, spans, clipped = _measure(spans, first, units, period, pshape[:-1])
    row = panalysis.row(name)
    size = tuple(row.output_shape[:-1]) + (analysis.row(name).output_shape[-1],)  # widths as given
    complete = all(first[a] + min(p, MAX_PHASES) < size[a] for a, p in enumerate(period)) and max(period) <= MAX_PHASES
    return LayerProbe(
        name,
        row.kind,
        size,
        first,
        rf,
        jump,
        start,
        row.rf,
        row.jump,
        row.start,
        clipped,
        row.flags,
        rf_min,
        row.rf_min,
        units,
        spans,
        tuple(row.field_of(u) for u in units),
        period,
        complete,
        not _merged_before(panalysis, name),
    )
