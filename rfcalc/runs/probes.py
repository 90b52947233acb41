"""Gradient probes: ``probe`` measures receptive field, jump and start per layer and checks the analysis.

``probe(spec_or_model)`` takes the gradient of output units with respect to the input in a clone
of the model whose gradients mark exactly the pixels a unit reads (``probe_model``); the bounding
box of that support is the measured field. It is an oracle for ``analyze``/``from_keras`` that
shares no arithmetic with them. The results (``LayerProbe``, ``ProbeResult``) and the choice of the
units to probe live in ``probe_result``, shared with the onnxruntime probe (``onnx_probe``). ``erf``
(the effective receptive field on real weights) lives in ``effective_rf`` and is re-exported here.
Method and references: docs/probes.md.

>>> from rfcalc import analyze
>>> phases(analyze("c3,p2,c3"), "conv2d_1")  # the units to probe repeat every (1, 1) units
(1, 1)
"""

from __future__ import annotations

import time
from math import ceil

from ..errors import RFError
from .effective_rf import erf  # re-exported: rfcalc.erf, rfcalc.runs.probes.erf
from .probe_limits import check_analysis, check_cost, check_depthwise_strides
from .probe_model import resolve_target, support_model
from .probe_passes import bbox, gradient_support
from .probe_result import MAX_PHASES, LayerProbe, ProbeResult, _plan, layer_probe, phases, probed_names

__all__ = ["probe", "erf", "probe_size", "LayerProbe", "ProbeResult", "phases", "probed_names", "MAX_PROBE_SIDE"]

MAX_PROBE_SIDE = 4096  # a field that needs a bigger input than this is not probed


def probe_size(target, shape, names=None):
    """The smallest input (grown from ``shape``) on which the probed units' fields lie inside, with a margin.

    Returns ``(shape, analysis_at_shape)``. The analysis only sizes the input here (``Row.field_of``
    of the units to probe); what is measured comes from gradients.
    """
    shape = list(shape)
    axes = range(len(shape) - 1)
    for _ in range(64):
        analysis = target.analysis(tuple(shape))
        grow = [0] * len(axes)
        for row in analysis.layers:
            if not row.spatial or (names is not None and row.name not in names):
                continue
            sizes, period = row.output_shape[:-1], phases(analysis, row.name)
            first, units = _plan(sizes, period, row)
            spans = [row.field_of(u) for u in units]
            for axis in axes:
                step = max(1, ceil(row.jump[axis]))
                lo = min(s[axis][0] for s in spans)
                hi = max(s[axis][1] for s in spans)
                short = max(1 - lo, hi - (shape[axis] - 2))  # a causal field lies wholly left of its unit
                if short > 0:
                    need = max(shape[axis] + max(2, 2 * short + step), row.rf[axis] + 2 * step + 4)
                    grow[axis] = max(grow[axis], need)
                missing = first[axis] + min(period[axis], MAX_PHASES) + 1 - sizes[axis]
                if missing > 0:  # too few units for every phase: a wider input has more
                    grow[axis] = max(grow[axis], shape[axis] + ceil(2 * missing * row.jump[axis]) + 2)
        if not any(grow):
            return tuple(shape), analysis
        for axis in axes:
            shape[axis] = max(shape[axis], grow[axis])
        if max(shape[:-1]) > MAX_PROBE_SIDE:
            break
    raise RFError(
        f"the receptive field needs an input larger than {MAX_PROBE_SIDE} pixels to probe. "
        f"Received: input_shape={tuple(shape)}"
    )


def _check_probe_cost(analysis, names, label) -> None:
    """The probe's time and weights, estimated before it builds anything: one batch row per probed unit (an
    upper bound: identities share the rows of the layer before them, known only once the clone exists)."""
    rows = sum(
        len(_plan(r.output_shape[:-1], phases(analysis, r.name), r)[1]) for r in analysis.layers if r.name in names
    )
    shape = "x".join(map(str, analysis.input_shape))
    try:
        check_cost(
            analysis,
            max(1, rows),
            f"probing {label[:40]!r} on {shape} ({rows} units, gradients)",
            upto=names[-1] if names else None,
        )
    except RFError as err:
        err.cost = True  # not a size problem a model could escape by probing at its own size
        raise


def probe(model_or_spec, input_shape=None, layer=None, head=None, compiled=True) -> ProbeResult:
    """Measure rf, rf_min, jump and start of every spatial layer with gradients; compare with the analysis.

    Works for inputs of rank 1, 2 and 3; after upsampling or a transposed conv every output phase
    is probed and each unit's measured field is compared with ``Row.field_of``.

    ``model_or_spec``: a spec string, a Keras model, or a model file / ``keras:Name``; an .onnx file or
    ``ModelProto`` is measured with onnxruntime instead (``onnx_probe``). ``layer`` names
    the layer reported on top (default: the last spatial one); layers after it are not probed.

    >>> r = probe("c3,p2,c3s2")  # doctest: +SKIP
    >>> r.measured["rf"], r.analytic["rf"], r.agree  # doctest: +SKIP
    ([10, 10], [10, 10], True)
    """
    from ..sources import is_onnx_model

    if is_onnx_model(model_or_spec):  # measured with onnxruntime, no TensorFlow
        from .onnx_probe import probe_onnx

        return probe_onnx(model_or_spec, input_shape, layer)
    t0 = time.perf_counter()
    target, shape = resolve_target(model_or_spec, input_shape, head)
    analysis = target.analysis(shape)
    if target.model is None:  # a spec is built here: refuse what Keras or TensorFlow cannot run, first
        check_depthwise_strides([r.layer for r in analysis.layers])
        check_analysis(analysis)
    names = probed_names(analysis, layer, target.label)
    try:
        pshape, panalysis = probe_size(target, shape, names)
        _check_probe_cost(panalysis, names, target.label)
        smodel, kept, index = support_model(target.build(pshape), pshape, names)
    except RFError as err:
        if target.model is None or getattr(err, "cost", False):
            raise
        pshape, panalysis = shape, analysis  # a model that cannot grow: probe at its size, flag clipping
        _check_probe_cost(panalysis, names, target.label)
        smodel, kept, index = support_model(target.build(pshape), pshape, names)
    rows, plans = {}, []  # one batch row per distinct (output, unit): identities share their input's
    for name, k in zip(kept, index):
        sizes = tuple(int(d) for d in smodel.outputs[k].shape[1:-1])
        period = phases(panalysis, name)
        first, units = _plan(sizes, period, panalysis.row(name))
        for u in units:
            rows.setdefault((k, u), len(rows))
        plans.append((first, units, period, k))
    masks, passes = gradient_support(smodel, pshape, list(rows), compiled=compiled)
    boxes = [bbox(m) for m in masks]
    probes = []
    for name, (first, units, period, k) in zip(kept, plans):
        spans = [boxes[rows[(k, u)]] for u in units]
        probes.append(layer_probe(name, analysis, panalysis, first, units, period, spans, pshape))
    top = layer if layer in kept else probes[-1].name
    return ProbeResult(
        target.label, tuple(shape), tuple(pshape), tuple(probes), top, passes, time.perf_counter() - t0, analysis
    )
