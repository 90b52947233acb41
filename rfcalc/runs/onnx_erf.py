"""The effective receptive field of an ONNX model with onnxruntime, without gradients.

The ERF of ``effective_rf`` (Luo et al. 2016: per input pixel, ``|d unit / d x_c|`` summed over
the input channels ``c`` and averaged over the inputs; the unit is the centre unit of a spatial
layer, summed over its channels) measured by central finite differences: every input element
``x_c[p]`` of every sample is moved by ``+h`` and ``-h`` and ``(y(x + h) - y(x - h)) / 2h`` is the
derivative. For a linear network that is exact up to rounding. The model runs with its own weights
(an ONNX file whose initializers carry no data is refused), in float32: onnxruntime's CPU ``Conv``
has no float64 kernel. The step ``h`` is ``2**-7`` times the inputs' RMS: in float32 the rounding
error of the quotient is about ``1e-7·|y| / h`` and the truncation error of a smooth net ``h²``,
balanced near ``h ≈ 1e-7 ** (1/3)``; a ReLU whose input lies within ``h`` of zero is averaged over its kink.

Only the input elements inside the unit's theoretical field (``Row.field_of``, clipped to the
input) are perturbed by default: outside it the derivative is zero by construction, which the
analysis states exactly (``field_only=False`` perturbs every element; the tests compare the two).
The cost, ``samples × positions × channels × 2`` forward rows, is bounded before anything runs
(``MAX_ROWS`` rows, ``MAX_WORK`` activation elements); the rows run in batches of at most
``_BATCH_BYTES`` of activations. The result is the ``ErfResult`` of the TensorFlow ERF.

onnx, onnxruntime and numpy are imported inside the functions.

>>> cost_rows((16, 16, 3), 8)
12288
"""

from __future__ import annotations

from math import prod

from ..errors import RFError
from .erf_result import _inputs, check_seed, settled, summarise
from .erf_stats import MAX_SAMPLES, MIN_SAMPLES, TOLERANCE

MAX_ROWS = 2**18  # forward rows (perturbed copies of one input) of one ERF
MAX_WORK = 2**33  # rows x activation elements of one row
_BATCH_BYTES = 256 * 2**20
STEP = 2.0**-7  # finite-difference step, times the inputs' RMS


def cost_rows(box, samples: int) -> int:
    """Forward rows a finite-difference ERF runs: two per perturbed element (``box``: sizes then channels) and sample.

    >>> cost_rows((32, 32, 3), 16)
    98304
    """
    return 2 * prod(box) * samples


def _no_data(t) -> bool:
    """Whether an initializer is non-empty but holds no values (stripped, or external data not loaded)."""
    if t.data_location == 1:  # EXTERNAL: load_onnx never opens external data
        return True
    return prod(t.dims) > 0 and not (
        t.raw_data or t.float_data or t.double_data or t.int32_data or t.int64_data or t.uint64_data or t.string_data
    )


def _copy(proto, tensor: str, label: str):
    """The model pruned to ``tensor`` (its one output), with every weight's data checked."""
    import onnx
    from onnx import helper

    from .onnx_probe import _prune

    model = onnx.ModelProto()
    model.CopyFrom(proto)
    _prune(model.graph, [tensor])
    empty = [t.name for t in model.graph.initializer if _no_data(t)]
    if empty:
        raise RFError(
            f"'{label}' carries no weights (initializer {empty[0]!r} has no data: a stripped file, or "
            f"external data); the ERF needs the model's own weights"
        )
    del model.graph.value_info[:]
    del model.graph.output[:]
    model.graph.output.append(helper.make_tensor_value_info(tensor, onnx.TensorProto.FLOAT, None))
    return model


def _pick(analysis, layer):
    """The row whose centre unit is measured: ``layer``, or the last spatial row."""
    if layer is None:
        spatial = [r for r in analysis.layers if r.spatial]
        if not spatial:
            raise RFError(f"'{analysis.spec}' has no spatial layer to take an ERF of")
        return spatial[-1]
    row = analysis.row(layer)
    if not row.spatial:
        raise RFError(f"layer {layer!r} has no spatial output (shape {row.output_shape}); pick a conv or pooling layer")
    return row


def _run(session, name, x):
    try:
        return session.run(None, {name: x})[0]
    except Exception as err:  # onnxruntime's own failures have no common base class of ours
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RFError(f"onnxruntime cannot run the model for the ERF: {first}") from None


def _box(span, sizes) -> tuple:
    """Per axis, the input positions of the field ``span`` that lie inside the input (a range).

    >>> _box(((-1, 1), (3, 9)), (8, 8))
    (range(0, 2), range(3, 8))
    """
    return tuple(range(max(0, lo), min(n - 1, hi) + 1) for (lo, hi), n in zip(span, sizes))


def erf_onnx(
    model, input_shape=None, layer=None, samples=None, images=None, seed=0, field_only=True, tolerance=TOLERANCE
):
    """Effective receptive field of the centre unit of ``layer`` (default: the last spatial layer) of an ONNX model.

    ``model``: an .onnx path or a ``ModelProto`` with its weights. Inputs and the ``ErfResult`` are
    those of ``rfcalc.erf`` (random normal inputs from ``seed``, or ``images`` channels-last).
    ``field_only``: perturb only the input inside the unit's theoretical field (the rest has zero effect).
    ``samples=None``: stop early once stable, as ``rfcalc.erf`` (the cost is bounded for ``MAX_SAMPLES``).

    >>> erf_onnx("model.onnx", input_shape=(16, 16, 3), samples=4).sides  # doctest: +SKIP
    {0.5: 3, 0.9: 5, 0.99: 5}
    """
    try:
        import numpy as np
        import onnxruntime  # noqa: F401
    except ImportError as err:
        raise RFError(f"the ONNX ERF needs onnxruntime: pip install 'rfcalc[onnx]'. Received: {err}") from None
    from ..frameworks.onnx import display_names, from_onnx, load_onnx
    from .onnx_probe import _session

    check_seed(seed)
    analysis = from_onnx(model, input_shape)
    shape = tuple(analysis.input_shape)
    row = _pick(analysis, layer)
    adaptive = samples is None and images is None
    if adaptive:
        samples = MAX_SAMPLES
    n = samples if images is None else (len(images) if np.ndim(images) == len(shape) + 1 else 1)
    if images is None and (not isinstance(samples, int) or isinstance(samples, bool) or samples < 1):
        raise RFError(f"samples must be a positive integer. Received: samples={samples!r}")
    proto = load_onnx(model)
    tensor = {nm: node.output[0] for nm, node in zip(display_names(proto.graph.node), proto.graph.node)}
    copy = _copy(proto, tensor[row.name], analysis.spec)  # no weights: said before the cost
    unit = tuple((int(s) - 1) // 2 for s in row.output_shape[:-1])
    span = row.field_of(unit)
    box = _box(span, shape[:-1]) if field_only else tuple(range(s) for s in shape[:-1])
    rows = cost_rows(tuple(len(b) for b in box) + shape[-1:], n)
    upto = analysis.layers[: analysis.layers.index(row) + 1]
    per_row = prod(shape) + sum(prod(r.output_shape) for r in upto)
    if rows > MAX_ROWS or rows * per_row > MAX_WORK:
        raise RFError(
            f"the finite-difference ERF of {shape} at {row.name!r} needs {rows:,} forward runs of {per_row:,} activations "
            f"each (at most {MAX_ROWS:,} runs, {MAX_WORK:,} in all); try fewer samples, a smaller --input or an earlier layer"
        )
    from .probe_limits import check_cost

    check_cost(
        analysis,
        rows,
        f"the finite-difference ERF of {analysis.spec[:40]!r} at {row.name!r} ({rows:,} onnxruntime runs)",
        factor=1,
        upto=row.name,
    )
    session, name = _session(copy, shape[:-1], shape[-1])
    x, source = _inputs(images, samples, shape, seed)
    x = np.moveaxis(x, -1, 1).astype(np.float32)  # channels first, as the model reads it
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    h = STEP * (rms if rms > 0 else 1.0)
    where = (slice(None), slice(None)) + unit
    size = x[0].size
    grid = np.meshgrid(range(shape[-1]), *box, indexing="ij")  # channels first, then the field's box
    elements = np.ravel_multi_index(tuple(g.reshape(-1) for g in grid), x.shape[1:])
    batch = max(2, min(1024, _BATCH_BYTES // (4 * per_row)) // 2 * 2)
    maps = []
    stopping = f"cap of {MAX_SAMPLES} reached" if adaptive else ("all images" if images is not None else "forced")
    for base in x:
        heat = np.zeros(size, np.float64)
        flat = base.reshape(-1)
        for lo in range(0, len(elements), batch // 2):
            idx = elements[lo : lo + batch // 2]
            xs = np.repeat(flat[None], 2 * len(idx), axis=0)
            xs[2 * np.arange(len(idx)), idx] += h
            xs[2 * np.arange(len(idx)) + 1, idx] -= h
            y = _run(session, name, xs.reshape((-1,) + base.shape))
            if tuple(y.shape[2:]) != tuple(row.output_shape[:-1]):
                raise RFError(
                    f"onnxruntime's {row.name!r} has spatial shape {tuple(y.shape[2:])}, the analysis "
                    f"{tuple(row.output_shape[:-1])}; the ERF's unit would be misplaced"
                )
            y = y[where].astype(np.float64).sum(axis=1)
            heat[idx] += np.abs(y[0::2] - y[1::2]) / (2 * h)
        maps.append(heat.reshape(x.shape[1:]).sum(axis=0))
        if adaptive and len(maps) % MIN_SAMPLES == 0 and len(maps) < len(x) and settled(maps, span, tolerance):
            stopping = f"stable after {len(maps)} (standard errors within {tolerance:.0%})"
            break
    if adaptive:
        source = f"{len(maps)} random normal inputs"
    source = f"{source}; central differences, step {h:.3g} (onnxruntime, float32)"
    return summarise(
        analysis.spec,
        row.name,
        shape,
        unit,
        source,
        maps,
        span,
        f"unit {unit} of {row.name!r} does not change with any input (dead units?); try other images or another layer",
        stopping,
    )
