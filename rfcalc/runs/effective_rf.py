"""The effective receptive field (ERF) of a model with its real weights (Luo et al. 2016).

The gradient of one output unit (the centre one, summed over channels) with respect to the input,
in absolute value, summed over input channels and averaged over ``samples`` inputs (random normal,
or the images given), is the ERF heatmap. It is summarised by the side of the smallest square,
centred on the unit's theoretical field, that holds 50/90/99% of the gradient mass, and by a
moment-based Gaussian sigma (the heatmap's standard deviation about its centroid, per axis).
Named ``effective_rf`` rather than ``erf`` so that importing it never hides ``rfcalc.erf``. The
summary (``ErfResult``, ``smallest_square``, ``moments``) lives in ``erf_result``, shared with ``onnx_erf``.
"""

from __future__ import annotations

from ..errors import RFError
from ..tfquiet import quiet_retracing
from .erf_result import FRACTIONS, ErfResult, _inputs, check_seed, moments, settled, smallest_square, summarise
from .erf_stats import MAX_SAMPLES, MIN_SAMPLES, TOLERANCE
from .probe_limits import check_analysis, check_cost, check_depthwise_strides, check_inputs, check_model, sample_bytes

__all__ = ["erf", "ErfResult", "FRACTIONS", "check_seed", "moments", "smallest_square", "summarise"]

# estimated activations of one gradient pass (``sample_bytes``: every layer's output x3): a step of
# MIN_SAMPLES at 224x224 through ResNet50 (8 x 426 MiB estimated; a traced pass holds ~0.4 GiB)
_BATCH_BYTES = 4 * 2**30


def _rank(layer) -> int:
    try:
        return len(layer.output.shape)
    except (AttributeError, ValueError):  # a layer called twice has no single output
        return 0


def _gradient_pass(tf, sub, unit, shape):
    """``batch -> d(sum over channels of sub(batch)[unit]) / d batch``, traced once for every batch size.

    One graph per ERF layer: the forward and backward passes of a batch run as one TensorFlow
    function, without Python between the layers, and without the weights' gradients (eager
    ``GradientTape`` computes them for every conv of a model whose weights are trainable).
    """
    index = (slice(None),) + tuple(unit)

    @tf.function(input_signature=[tf.TensorSpec((None, *shape), tf.float32)])
    def grads(batch):
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(batch)
            loss = tf.reduce_sum(sub(batch, training=False)[index])
        return tape.gradient(loss, batch)

    return grads


def erf(
    model_or_spec, input_shape=None, layer=None, samples=None, images=None, seed=0, tolerance=TOLERANCE
) -> ErfResult:
    """Effective receptive field of the centre unit of ``layer`` (default: the last spatial layer).

    ``samples=None`` draws random inputs ``MIN_SAMPLES`` at a time until every side and area ratio
    has a bootstrap standard error within ``tolerance`` of its value, at most ``MAX_SAMPLES``; an
    integer forces that many; ``images`` are all used.

    A spec is built with fresh Glorot weights (``seed``); a Keras model keeps its weights. An .onnx
    path or ``ModelProto`` is measured with onnxruntime by finite differences (``onnx_erf``), no TensorFlow.

    >>> r = erf("c3,c3", input_shape="16x16x1", samples=4)  # doctest: +SKIP
    >>> r.sides[0.99], r.rf  # doctest: +SKIP
    (5, (5, 5))
    """
    from ..sources import is_onnx_model

    if is_onnx_model(model_or_spec):
        from .onnx_erf import erf_onnx

        return erf_onnx(model_or_spec, input_shape, layer, samples, images, seed, tolerance=tolerance)
    import numpy as np

    from .probe_model import _keras, resolve_target, with_weights

    keras, tf = _keras()
    check_seed(seed)
    adaptive = samples is None and images is None
    if adaptive:
        samples = MAX_SAMPLES
    target, shape = resolve_target(model_or_spec, input_shape)
    if images is None and isinstance(samples, int) and samples > 0:
        check_inputs(samples, shape)  # random inputs are made at once: bound them first
    if target.model is None:  # a spec: refuse what cannot be built or run before building it
        built = target.analysis(shape)
        check_depthwise_strides([r.layer for r in built.layers])
        check_analysis(built)
        rows = samples if images is None else (len(images) if np.ndim(images) == len(shape) + 1 else 1)
        check_cost(
            built,
            max(1, int(rows)),
            f"the ERF of {target.label[:40]!r} on {'x'.join(map(str, shape))} ({rows} inputs, gradients)",
        )  # before the spec is built: its weights alone may be huge
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
            maps = [
                lay.name for lay in model.layers if _rank(lay) == len(shape) + 1 and type(lay).__name__ != "InputLayer"
            ]
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
        check_cost(
            analysis,
            max(1, int(rows)),
            f"the ERF of {target.label[:40]!r} on {'x'.join(map(str, shape))} ({rows} inputs, gradients)",
            upto=name,
        )
    per_sample = sample_bytes(
        shape, [tuple(lay.output.shape)[1:] for lay in sub.layers if _rank(lay) == len(shape) + 1]
    )
    unit = tuple((int(n) - 1) // 2 for n in out.shape[1:-1])
    x, source = _inputs(images, samples, shape, seed)
    span = None
    if analysis is not None:
        try:
            row = analysis.row(name)
        except RFError:
            row = None
        if row is not None and row.spatial:  # a map made from a global pool has no field to centre on
            span = row.field_of(unit)  # exact after upsampling, where fields depend on the phase

    grads = _gradient_pass(tf, sub, unit, shape)
    maps = []
    batch = max(1, min(64, _BATCH_BYTES // max(1, per_sample)))  # bounded memory per gradient pass
    step = MIN_SAMPLES if adaptive else len(x)
    stopping = f"cap of {MAX_SAMPLES} reached" if adaptive else ("all images" if images is not None else "forced")
    for chunk in range(0, len(x), step):
        for lo in range(chunk, min(len(x), chunk + step), batch):
            try:
                with quiet_retracing(tf):  # one traced pass per ERF layer: a report traces several
                    g = grads(tf.constant(x[lo : min(lo + batch, chunk + step)])).numpy()
            except tf.errors.ResourceExhaustedError:
                raise RFError(
                    f"TensorFlow ran out of memory for the ERF on {tuple(shape)}; try a smaller --input"
                ) from None
            maps.extend(np.abs(g).sum(axis=-1))
        if adaptive and len(maps) < len(x) and settled(maps, span, tolerance):
            stopping = f"stable after {len(maps)} (standard errors within {tolerance:.0%})"
            break
    if adaptive:
        source = f"{len(maps)} random normal inputs"
    return summarise(
        target.label,
        name,
        shape,
        unit,
        source,
        maps,
        span,
        f"the gradient of unit {unit} of {name!r} is zero for every input (dead units?); "
        f"try other images or another layer",
        stopping,
    )
