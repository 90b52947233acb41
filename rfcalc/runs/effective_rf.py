"""The effective receptive field (ERF) of a model with its real weights (Luo et al. 2016).

The gradient of one output unit (the centre one, summed over channels) with respect to the input,
in absolute value, summed over input channels and averaged over ``samples`` inputs (random normal,
or the images given), is the ERF heatmap. It is summarised by the side of the smallest square,
centred on the unit's theoretical field, that holds 50/90/99% of the gradient mass, and by a
moment-based Gaussian sigma (the heatmap's standard deviation about its centroid, per axis).
Named ``effective_rf`` rather than ``erf`` so that importing it never hides ``rfcalc.erf``.

>>> smallest_square([[0, 1, 0], [1, 4, 1], [0, 1, 0]], (1, 1), 0.5)
1
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from fractions import Fraction
from math import prod

from ..errors import RFError, ShapeError
from .probe_limits import check_analysis, check_cost, check_depthwise_strides, check_inputs, check_model, sample_bytes

FRACTIONS = (0.5, 0.9, 0.99)
_BATCH_BYTES = 512 * 2 ** 20  # activations of one gradient pass; fewer than 64 samples when they are large


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
    cube holding 50/90/99% of the mass.
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

    @property
    def ratio(self) -> dict:
        """Each square's side over the theoretical field's side (geometric mean of its sides)."""
        if self.rf is None:
            return {f: None for f in self.sides}
        side = prod(self.rf) ** (1 / len(self.rf))
        return {f: s / side for f, s in self.sides.items()}

    def to_dict(self, heatmap: bool = False) -> dict:
        out = {
            "target": self.target, "layer": self.layer, "input_shape": list(self.input_shape),
            "unit": list(self.unit), "samples": self.samples, "source": self.source,
            "rf": list(self.rf) if self.rf else None,
            "centre": [float(c) for c in self.centre],
            "sides": {f"{round(f * 100)}%": s for f, s in self.sides.items()},
            "ratio": {f"{round(f * 100)}%": (round(r, 4) if r is not None else None) for f, r in self.ratio.items()},
            "centroid": [round(c, 4) for c in self.centroid],
            "sigma": [round(s, 4) for s in self.sigma],
            "sigma_method": "moments (standard deviation of the heatmap about its centroid)",
        }
        if heatmap:
            out["heatmap"] = self.heatmap.tolist()
        return out


def check_seed(seed) -> None:
    """Raise ``RFError`` unless ``seed`` is an integer numpy accepts as a seed (0 to 2**32 - 1)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2 ** 32:
        raise RFError(f"seed must be an integer from 0 to 2**32 - 1. Received: seed={seed!r}")


def summarise(label, name, shape, unit, samples, source, heat, span, dead: str) -> ErfResult:
    """The ``ErfResult`` of a heat map summed over ``samples`` inputs: normalised, with moments and squares.

    ``span`` is the unit's field (``Row.field_of``) to centre the squares on, or None to centre them
    on the centroid; ``dead`` is the message when the map is zero everywhere. Shared by the gradient
    ERF and the onnxruntime one (``onnx_erf``).
    """
    heat = heat / samples
    total = heat.sum()
    if not total > 0:
        raise RFError(dead)
    heat /= total
    centroid, sigma = moments(heat)
    if span is None:  # no analysis: centre on the centroid, to the nearest half pixel
        rf, centre = None, tuple(Fraction(round(2 * c), 2) for c in centroid)
    else:
        rf = tuple(hi - lo + 1 for lo, hi in span)
        centre = tuple(Fraction(lo + hi, 2) for lo, hi in span)
    sides = {f: smallest_square(heat, centre, f) for f in FRACTIONS}
    return ErfResult(label, name, tuple(shape), unit, samples, source, rf, centre, sides, centroid, sigma, heat)


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
        raise ShapeError(f"images must be (N, ..., C) matching the input {tuple(shape)}. Received: images of shape {tuple(np.shape(images))}")
    return x, f"{x.shape[0]} given image(s)"


def _rank(layer) -> int:
    try:
        return len(layer.output.shape)
    except (AttributeError, ValueError):  # a layer called twice has no single output
        return 0


def erf(model_or_spec, input_shape=None, layer=None, samples=32, images=None, seed=0) -> ErfResult:
    """Effective receptive field of the centre unit of ``layer`` (default: the last spatial layer).

    A spec is built with fresh Glorot weights (``seed``); a Keras model keeps its weights. An .onnx
    path or ``ModelProto`` is measured with onnxruntime by finite differences (``onnx_erf``), no TensorFlow.

    >>> r = erf("c3,c3", input_shape="16x16x1", samples=4)  # doctest: +SKIP
    >>> r.sides[0.99], r.rf  # doctest: +SKIP
    (5, (5, 5))
    """
    from ..sources import is_onnx_model
    if is_onnx_model(model_or_spec):
        from .onnx_erf import erf_onnx
        return erf_onnx(model_or_spec, input_shape, layer, samples, images, seed)
    import numpy as np
    from .probe_model import _keras, resolve_target, with_weights
    keras, tf = _keras()
    check_seed(seed)
    target, shape = resolve_target(model_or_spec, input_shape)
    if images is None and isinstance(samples, int) and samples > 0:
        check_inputs(samples, shape)  # random inputs are made at once: bound them first
    if target.model is None:  # a spec: refuse what cannot be built or run before building it
        built = target.analysis(shape)
        check_depthwise_strides([r.layer for r in built.layers])
        check_analysis(built)
        rows = samples if images is None else (len(images) if np.ndim(images) == len(shape) + 1 else 1)
        check_cost(built, max(1, int(rows)), f"the ERF of {target.label[:40]!r} on {'x'.join(map(str, shape))} "
                   f"({rows} inputs, gradients)")  # before the spec is built: its weights alone may be huge
        keras.utils.set_random_seed(seed)
        model = target.build(shape)
    else:
        model = with_weights(target.model, shape)
    try:
        analysis = target.analysis(shape)
    except (RFError, ImportError):
        analysis = None  # an ERF needs no analysis; the theoretical square is then unknown
    name = layer
    if name is None:
        if analysis is not None:
            spatial = [r.name for r in analysis.layers if r.spatial]
            name = spatial[-1] if spatial else None
        if name is None:
            maps = [lay.name for lay in model.layers
                    if _rank(lay) == len(shape) + 1 and type(lay).__name__ != "InputLayer"]
            name = maps[-1] if maps else None
    try:
        out = model.get_layer(name).output
    except (ValueError, AttributeError):
        raise RFError(f"no layer named {name!r}; the layers are: {', '.join(l.name for l in model.layers)}") from None
    if len(out.shape) != len(shape) + 1:
        raise RFError(f"layer {name!r} has no spatial output (shape {tuple(out.shape)}); pick a conv or pooling layer")
    sub = keras.Model(model.inputs, out)
    check_model(sub, shape)  # activations of one sample, before any is allocated
    if analysis is not None:  # time and weights, before any gradient runs
        rows = samples if images is None else (len(images) if np.ndim(images) == len(shape) + 1 else 1)
        check_cost(analysis, max(1, int(rows)), f"the ERF of {target.label[:40]!r} on "
                   f"{'x'.join(map(str, shape))} ({rows} inputs, gradients)", upto=name)
    per_sample = sample_bytes(shape, [tuple(lay.output.shape)[1:] for lay in sub.layers
                                      if _rank(lay) == len(shape) + 1])
    unit = tuple((int(n) - 1) // 2 for n in out.shape[1:-1])
    x, source = _inputs(images, samples, shape, seed)

    def grads(batch):  # eager: one or two batches, so a trace would cost more than it saves
        with tf.GradientTape() as tape:
            tape.watch(batch)
            y = sub(batch, training=False)
            loss = tf.reduce_sum(y[(slice(None),) + unit])
        return tape.gradient(loss, batch)

    heat = np.zeros(shape[:-1], dtype=np.float64)
    batch = max(1, min(64, _BATCH_BYTES // max(1, per_sample)))  # bounded memory per gradient pass
    for lo in range(0, len(x), batch):
        try:
            g = grads(tf.constant(x[lo:lo + batch])).numpy()
        except tf.errors.ResourceExhaustedError:
            raise RFError(f"TensorFlow ran out of memory for the ERF on {tuple(shape)}; "
                          f"try a smaller --input") from None
        heat += np.abs(g).sum(axis=-1).sum(axis=0)
    span = None
    if analysis is not None:
        try:
            row = analysis.row(name)
        except RFError:
            row = None
        if row is not None and row.spatial:  # a map made from a global pool has no field to centre on
            span = row.field_of(unit)  # exact after upsampling, where fields depend on the phase
    return summarise(target.label, name, shape, unit, len(x), source, heat, span,
                     f"the gradient of unit {unit} of {name!r} is zero for every input (dead units?); "
                     f"try other images or another layer")
