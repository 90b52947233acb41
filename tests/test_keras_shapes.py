"""analyze() against real Keras layers, built here layer by layer (not through rfcalc.frameworks.keras).

Keras is the final judge: each random stack is run eagerly on a real tensor, and every layer's
output shape and ``count_params()`` must equal rfcalc's row. A second test checks the oracle's
padding convention against TensorFlow itself: with all-ones kernels and average pooling the
gradient of output unit (0, 0) is non-zero exactly on the input pixels it depends on.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from oracle import axis_unit_deps  # noqa: E402

from rfcalc import analyze  # noqa: E402
from rfcalc.errors import ShapeError  # noqa: E402
from rfcalc.layers import (  # noqa: E402
    BatchNorm,
    Conv,
    Crop,
    Dense,
    DepthwiseConv,
    Flatten,
    GlobalPool,
    Pool,
    SeparableConv,
    ZeroPad,
)

pytestmark = [pytest.mark.tf, pytest.mark.slow]

tf = keras = np = L = None  # imported by the fixture below, so that `-m "not tf"` never loads TensorFlow


@pytest.fixture(autouse=True, scope="module")
def _tensorflow():
    global tf, keras, np, L
    tf = pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    np = pytest.importorskip("numpy")
    L = keras.layers


def keras_layer(layer, ones=False):
    """The Keras layer an rfcalc layer stands for, written out by hand."""
    init = {"kernel_initializer": "ones", "bias_initializer": "zeros"} if ones else {}
    if isinstance(layer, Conv):
        return L.Conv2D(
            layer.filters,
            layer.kernel,
            layer.stride,
            layer.padding,
            dilation_rate=layer.dilation,
            activation=layer.activation,
            use_bias=layer.use_bias,
            **init,
        )
    if isinstance(layer, DepthwiseConv):
        init = {"depthwise_initializer": "ones", "bias_initializer": "zeros"} if ones else {}
        return L.DepthwiseConv2D(
            layer.kernel,
            layer.stride,
            layer.padding,
            layer.depth_multiplier,
            dilation_rate=layer.dilation,
            activation=layer.activation,
            use_bias=layer.use_bias,
            **init,
        )
    if isinstance(layer, SeparableConv):
        init = (
            {"depthwise_initializer": "ones", "pointwise_initializer": "ones", "bias_initializer": "zeros"}
            if ones
            else {}
        )
        return L.SeparableConv2D(
            layer.filters,
            layer.kernel,
            layer.stride,
            layer.padding,
            dilation_rate=layer.dilation,
            depth_multiplier=layer.depth_multiplier,
            activation=layer.activation,
            use_bias=layer.use_bias,
            **init,
        )
    if isinstance(layer, Pool):
        cls = L.MaxPooling2D if layer.op == "max" else L.AveragePooling2D
        return cls(layer.kernel, layer.stride, layer.padding)
    if isinstance(layer, BatchNorm):
        return L.BatchNormalization()
    if isinstance(layer, ZeroPad):
        return L.ZeroPadding2D(layer.pads)
    if isinstance(layer, Crop):
        return L.Cropping2D(layer.crops)
    if isinstance(layer, GlobalPool):
        return L.GlobalAveragePooling2D() if layer.op == "avg" else L.GlobalMaxPooling2D()
    if isinstance(layer, Flatten):
        return L.Flatten()
    if isinstance(layer, Dense):
        return L.Dense(layer.units, activation=layer.activation, use_bias=layer.use_bias)
    raise AssertionError(layer)


# Keras's Conv2D refuses stride > 1 together with dilation > 1 (even on different axes), so a
# window draws one or the other; DepthwiseConv2D and SeparableConv2D take both
pairs = st.tuples(st.integers(1, 4), st.integers(1, 4))
step = st.one_of(
    st.tuples(st.tuples(st.integers(1, 3), st.integers(1, 3)), st.just((1, 1))),
    st.tuples(st.just((1, 1)), st.tuples(st.integers(1, 3), st.integers(1, 3))),
)
paddings = st.sampled_from(["same", "valid"])
side = st.tuples(st.integers(0, 2), st.integers(0, 2))


@st.composite
def window(draw, kinds=("conv", "dw", "sep", "max", "avg"), bias=None, act=None):
    kind = draw(st.sampled_from(kinds))
    k, (s, d), padding = draw(pairs), draw(step), draw(paddings)
    if kind in ("dw", "sep") and draw(st.booleans()):  # these two accept stride and dilation together
        s, d = (
            draw(st.tuples(st.integers(1, 3), st.integers(1, 3))),
            draw(st.tuples(st.integers(1, 3), st.integers(1, 3))),
        )
    use_bias = draw(st.booleans()) if bias is None else bias
    activation = act or "relu"
    if kind == "conv":
        return Conv(k, s, d, draw(st.integers(1, 4)), padding, activation, use_bias)
    if kind == "dw":
        return DepthwiseConv(k, s, d, draw(st.integers(1, 2)), padding, activation, use_bias)
    if kind == "sep":
        return SeparableConv(k, s, d, draw(st.integers(1, 4)), draw(st.integers(1, 2)), padding, activation, use_bias)
    return Pool(kind, k, draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3)))), padding)


any_layer = st.one_of(
    window(),
    window(),
    st.just(BatchNorm()),
    st.builds(ZeroPad, st.tuples(side, side)),
    st.builds(Crop, st.tuples(side, side)),
    st.builds(Dense, st.integers(1, 4)),
)
heads = st.sampled_from([(), (Flatten(), Dense(3)), (GlobalPool("avg"), Dense(2, "softmax")), (GlobalPool("max"),)])


def run_keras(layers, shape):
    """Apply the Keras layers eagerly to a real tensor; per layer, the output shape and params."""
    x = tf.zeros((1, *shape))
    out = []
    for layer in layers:
        k = keras_layer(layer)
        x = k(x)
        out.append((tuple(x.shape[1:]), k.count_params()))
    return out


def keras_refuses(layers, shape) -> bool:
    """Keras raises, or (AveragePooling2D on a too-small input) returns an empty tensor."""
    try:
        out = run_keras(layers, shape)
    except Exception:  # ValueError from Keras' shape checks, or an op error from TensorFlow
        return True
    return any(0 in s for s, _ in out)


REFUSED = {
    "valid conv wider than the input": ("c5/valid", (4, 4, 1)),
    "max pool wider than the input": ("p3", (2, 2, 1)),
    "avg pool wider than the input": ("a3", (2, 5, 1)),
    "dilated depthwise wider than the input": ("dw3d3/valid", (6, 6, 1)),
    "crop everything": ("crop2:2x0", (4, 4, 1)),
}


@pytest.mark.parametrize("spec, shape", REFUSED.values(), ids=REFUSED.keys())
def test_stacks_rfcalc_refuses_keras_refuses_too(spec, shape):
    from rfcalc import parse

    with pytest.raises(ShapeError):
        analyze(spec, shape)
    assert keras_refuses(parse(spec), shape)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(any_layer, min_size=1, max_size=4),
    heads,
    st.tuples(st.integers(6, 20), st.integers(6, 20), st.integers(1, 3)),
)
def test_random_stacks_match_keras_shapes_and_params(layers, head, shape):
    layers = tuple(layers) + head
    try:
        a = analyze(layers, shape)
    except ShapeError:
        assert keras_refuses(layers, shape)
        return
    ours = [(row.output_shape, row.params) for row in a.layers]
    assert ours == run_keras(layers, shape)


NAMED = {
    "notebook model2": ("c3,c3,p2,flat,fc20,fc10/softmax", (32, 32, 3)),
    "same stride 2 on odd and even sizes": ("c3s2-4,c3s2-4,a3s2/same", (15, 16, 2)),
    "valid pooling drops rows": ("p3s2,p2", (11, 10, 1)),
    "dilated valid": ("c3d2-2/valid,dw3d3/valid,sep2d2-3/valid", (20, 20, 2)),
    "pads and crops": ("zp1:2x0:3,crop2:0x1,c2x3s1x2-2/valid", (9, 9, 1)),
    "batchnorm and depth multiplier": ("c3-5/nobias,bn,dw3m3,sep3m2-4/nobias,gap,fc2", (8, 8, 3)),
}


@pytest.mark.parametrize("spec, shape", NAMED.values(), ids=NAMED.keys())
def test_named_specs_match_keras(spec, shape):
    from rfcalc import parse

    a = analyze(spec, shape)
    assert [(r.output_shape, r.params) for r in a.layers] == run_keras(parse(spec), shape)


# ---- the oracle's padding convention, judged by TensorFlow's gradients -------------------------

grad_layer = st.one_of(
    window(("conv", "dw", "sep", "avg"), bias=False, act="linear"),
    st.builds(ZeroPad, st.tuples(side, side)),
    st.builds(Crop, st.tuples(side, side)),
)


def gradient_support(layers, shape):
    x = tf.ones((1, *shape))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x
        for layer in layers:
            y = keras_layer(layer, ones=True)(y)
        target = tf.reduce_sum(y[0, 0, 0, :])
    g = tape.gradient(target, x)[0].numpy().sum(axis=-1)
    return {(int(i), int(j)) for i, j in zip(*np.nonzero(g))}


def oracle_support(layers, shape):
    rows, cols = [], []
    for layer in layers:
        if isinstance(layer, (Conv, DepthwiseConv, SeparableConv, Pool)):
            d = getattr(layer, "dilation", (1, 1))
            rows.append(("win", layer.kernel[0], layer.stride[0], d[0], layer.padding))
            cols.append(("win", layer.kernel[1], layer.stride[1], d[1], layer.padding))
        else:
            kind, p = ("pad", layer.pads) if isinstance(layer, ZeroPad) else ("crop", layer.crops)
            rows.append((kind, *p[0]))
            cols.append((kind, *p[1]))
    r = axis_unit_deps(rows, shape[0], 0, real_only=True)
    c = axis_unit_deps(cols, shape[1], 0, real_only=True)
    return {(i, j) for i in r for j in c}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(grad_layer, min_size=1, max_size=3), st.tuples(st.integers(6, 16), st.integers(6, 16)))
def test_oracle_dependency_sets_match_tensorflow_gradients(layers, hw):
    shape = (*hw, 2)
    try:
        analyze(tuple(layers), shape)
    except ShapeError:
        return
    assert gradient_support(layers, shape) == oracle_support(layers, shape)


@pytest.mark.parametrize(
    "spec, shape",
    [
        ("c3s2-1/linear/nobias", (8, 8, 1)),
        ("c3s2-1/linear/nobias", (9, 9, 1)),
        ("c4-1/linear/nobias", (7, 7, 1)),
        ("a3s2/same", (10, 11, 1)),
    ],
)
def test_same_padding_puts_the_odd_pixel_after(spec, shape):
    """TensorFlow's gradient shows where unit (0, 0) reads: on an even input with stride 2 the
    window starts at pixel 0 (no padding before); on an odd input it starts at -1."""
    from rfcalc import parse

    layers = parse(spec)
    support = gradient_support(layers, shape)
    row = analyze(layers, shape).layers[0]
    lowest = min(i for i, _ in support)
    assert lowest == 0
    # rfcalc's padding before = how far the field of unit 0 reaches before pixel 0
    (top, _), (left, _) = row.padding
    assert max(i for i, _ in support) == row.rf[0] - 1 - top
    assert max(j for _, j in support) == row.rf[1] - 1 - left
