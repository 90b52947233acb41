"""from_keras on 1-D, 3-D and encoder-decoder models against Keras itself.

The models are written with Keras' own classes (tests/keras_stacks.py draws them at random), so
the oracle is Keras: every row's output shape must equal the Keras layer's output shape and its
parameters the layer's ``count_params()``. One model with many layers per example keeps the run short.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

sys.path.insert(0, str(Path(__file__).parent))
import keras_stacks as ks  # noqa: E402

from rfcalc.errors import RFError  # noqa: E402

pytestmark = [pytest.mark.tf]

keras = None


@pytest.fixture(autouse=True, scope="module")
def _keras():
    global keras
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")


def assert_rows_match_keras(model, analysis):
    by_name = {row.name: row for row in analysis.layers}
    for layer in model.layers[1:]:
        row = by_name[layer.name]
        assert row.output_shape == tuple(layer.output.shape[1:]), (layer.name, row.output_shape)
        assert row.params == layer.count_params(), (layer.name, row.params, layer.count_params())
    assert analysis.total_params == model.count_params()


def analyse(recipes, shape):
    """``(model, from_keras(model))``; ``(None, None)`` when nothing builds or TensorFlow cannot run it."""
    import numpy as np

    from rfcalc import from_keras
    from rfcalc.errors import ShapeError

    model = ks.build(keras, recipes, shape)
    if model is None:
        return None, None
    try:
        return model, from_keras(model)
    except ShapeError as err:
        if "TensorFlow refuses" not in str(err):
            raise
    # Keras' symbolic shape for a 'same' transposed conv with output_padding may be one TensorFlow
    # cannot produce; rfcalc says so, and running the model must fail too
    with pytest.raises(Exception):  # noqa: B017 - TensorFlow raises AbortedError / InvalidArgumentError
        model(np.zeros((1,) + tuple(shape), "float32"))
    return None, None


SLOW = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.slow
@pytest.mark.parametrize("rank", [1, 3])
def test_random_stacks_of_rank_1_and_3_match_keras_shapes_and_params(rank):
    @SLOW
    @given(ks.stack(rank))
    def check(drawn):
        model, analysis = analyse(*drawn)
        if model is not None:
            assert_rows_match_keras(model, analysis)
            assert len(analysis.input_shape) == rank + 1

    check()


@pytest.mark.slow
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_random_encoder_decoders_match_keras_shapes_and_params(rank):
    @SLOW
    @given(ks.encoder_decoder(rank))
    def check(drawn):
        model, analysis = analyse(*drawn)
        if model is not None:
            assert_rows_match_keras(model, analysis)

    check()


def _one(cls, shape, **kwargs):
    return [(cls, kwargs)], shape


# one Keras layer of each new kind, read on a small input: shapes, params and the field it makes
EVERY_KIND = {
    "causal conv1d moves the field left": (
        _one("Conv1D", (16, 2), filters=3, kernel_size=3, padding="causal", dilation_rate=2),
        (5,),
    ),
    "conv3d": (_one("Conv3D", (6, 7, 8, 2), filters=2, kernel_size=(3, 1, 2), strides=(1, 2, 1)), (3, 1, 2)),
    "max pool 1d": (_one("MaxPooling1D", (9, 2), pool_size=3, strides=2, padding="same"), (3,)),
    "avg pool 3d": (_one("AveragePooling3D", (4, 6, 6, 1), pool_size=2), (2, 2, 2)),
    "zero padding 1d": (_one("ZeroPadding1D", (5, 2), padding=(1, 3)), (1,)),
    "cropping 3d": (_one("Cropping3D", (5, 6, 7, 1), cropping=((1, 0), (0, 2), (1, 1))), (1, 1, 1)),
    "depthwise conv1d": (_one("DepthwiseConv1D", (10, 3), kernel_size=4, depth_multiplier=2), (4,)),
    "separable conv1d": (_one("SeparableConv1D", (10, 3), filters=5, kernel_size=3, dilation_rate=2), (5,)),
    "conv1d transpose": (_one("Conv1DTranspose", (5, 2), filters=3, kernel_size=3, strides=2), (2,)),
    "conv2d transpose output padding": (
        _one("Conv2DTranspose", (4, 5, 1), filters=2, kernel_size=3, strides=2, padding="same", output_padding=1),
        (2, 2),
    ),
    "conv3d transpose": (_one("Conv3DTranspose", (3, 3, 3, 2), filters=1, kernel_size=2, strides=2), (1, 1, 1)),
    "upsampling 1d": (_one("UpSampling1D", (5, 2), size=3), (1,)),
    "upsampling 2d bilinear": (_one("UpSampling2D", (4, 4, 1), size=2, interpolation="bilinear"), (2, 2)),
    "upsampling 3d": (_one("UpSampling3D", (2, 3, 4, 1), size=(1, 2, 2)), (1, 1, 1)),
    "resizing by 2 nearest": (_one("Resizing", (4, 6, 1), factors=(2, 2), interpolation="nearest"), (1, 1)),
    "global max pool 1d": (_one("GlobalMaxPooling1D", (7, 3)), None),
    "global avg pool 3d": (_one("GlobalAveragePooling3D", (2, 3, 4, 3)), None),
}


@pytest.mark.parametrize("drawn, rf", EVERY_KIND.values(), ids=EVERY_KIND.keys())
def test_every_new_kind_is_read_with_keras_shapes_and_params(drawn, rf):
    model, analysis = analyse(*drawn)
    assert_rows_match_keras(model, analysis)
    row = analysis.layers[-1]
    assert row.kind == drawn[0][0][0]
    assert (tuple(row.rf) if row.rf is not None else None) == rf


def test_causal_conv_start_is_left_of_the_unit():
    model, analysis = analyse(*_one("Conv1D", (16, 1), filters=1, kernel_size=3, padding="causal", dilation_rate=2))
    row = analysis.layers[-1]
    assert row.field_of((0,)) == ((-4, 0),)  # unit 0 reads samples -4, -2, 0: only the past
    assert row.field_of((7,)) == ((3, 7),)


REFUSED = {
    "resizing by 3/2": (_one("Resizing", (4, 4, 1), height=6, width=6), "Resizing"),
    "resizing down": (_one("Resizing", (8, 8, 1), height=4, width=4), "Resizing"),
    "bicubic upsampling": (_one("UpSampling2D", (4, 4, 1), size=2, interpolation="bicubic"), "bicubic"),
    "channels_first conv1d": (
        _one("Conv1D", (3, 8), filters=2, kernel_size=3, data_format="channels_first"),
        "channels_first",
    ),
}


@pytest.mark.parametrize("drawn, text", REFUSED.values(), ids=REFUSED.keys())
def test_layers_rfcalc_cannot_follow_are_refused_by_name(drawn, text):
    from rfcalc import from_keras

    ((cls, kwargs),) = drawn[0]
    x = inp = keras.Input(shape=drawn[1])
    x = getattr(keras.layers, cls)(**kwargs, name="odd")(x)
    with pytest.raises(RFError) as err:
        from_keras(keras.Model(inp, x))
    assert "odd" in str(err.value) and text in str(err.value)
    assert "\n" not in str(err.value)


# ----------------------------------------------------------------------------- to_keras


def _dims(draw, rank, lo, hi):
    return tuple(draw(st.integers(lo, hi)) for _ in range(rank))


@st.composite
def layer_values(draw, rank):
    """rfcalc layer values of one rank (what a spec parses to), the settings Keras can build."""
    from rfcalc.layers import (
        BatchNorm,
        Conv,
        ConvTranspose,
        Crop,
        DepthwiseConv,
        Pool,
        SeparableConv,
        Upsample,
        ZeroPad,
    )

    kinds = ["conv", "conv", "tconv", "pool", "up", "zp", "crop", "bn"] + (["dw", "sep"] if rank < 3 else [])
    kind = draw(st.sampled_from(kinds))
    k = _dims(draw, rank, 1, 4)
    one = (1,) * rank
    stride, dilation = (_dims(draw, rank, 1, 3), one) if draw(st.booleans()) else (one, _dims(draw, rank, 1, 3))
    padding = draw(st.sampled_from(["same", "valid"] + (["causal"] if rank == 1 and kind == "conv" else [])))
    if kind == "conv":
        return Conv(k, stride, dilation, draw(st.integers(1, 3)), padding, use_bias=draw(st.booleans()))
    if kind in ("dw", "sep"):  # TensorFlow runs depthwise convs with equal strides only (check_depthwise_strides)
        stride = (stride[0],) * rank
    if kind == "dw":
        return DepthwiseConv(k, stride, dilation, draw(st.integers(1, 2)), padding)
    if kind == "sep":
        return SeparableConv(k, stride, dilation, draw(st.integers(1, 3)), draw(st.integers(1, 2)), padding)
    if kind == "tconv":
        s = _dims(draw, rank, 1, 3)
        extra = tuple(draw(st.integers(0, v - 1)) for v in s) if draw(st.booleans()) else None
        return ConvTranspose(k, s, one, draw(st.integers(1, 3)), padding if padding != "causal" else "same", extra)
    if kind == "pool":
        return Pool(
            draw(st.sampled_from(["max", "avg"])),
            _dims(draw, rank, 1, 3),
            _dims(draw, rank, 1, 3),
            draw(st.sampled_from(["same", "valid"])),
        )
    if kind == "up":
        return Upsample(
            _dims(draw, rank, 1, 3), draw(st.sampled_from(["nearest", "bilinear"] if rank == 2 else ["nearest"]))
        )
    pads = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(rank))
    return {"zp": ZeroPad, "crop": Crop}[kind](pads) if kind != "bn" else BatchNorm()


@pytest.mark.slow
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_to_keras_builds_random_stacks_of_every_rank_as_analysed(rank):
    from rfcalc import analyze, to_keras
    from rfcalc.errors import ShapeError

    side = {1: (8, 40), 2: (6, 20), 3: (4, 9)}[rank]

    @SLOW
    @given(st.lists(layer_values(rank), min_size=1, max_size=8), st.data())
    def check(layers, data):
        shape = tuple(data.draw(st.integers(*side)) for _ in range(rank)) + (data.draw(st.integers(1, 3)),)
        try:
            analysis = analyze(tuple(layers), input_shape=shape)
        except ShapeError:
            return  # an axis shrank to nothing: Keras refuses those too (test_keras_shapes)
        model = to_keras(tuple(layers), input_shape=shape)
        assert [type(k).__name__ for k in model.layers] == [row.kind for row in analysis.layers]
        assert_rows_match_keras(model, analysis)

    check()


BAD_SPECS = {
    "3-D depthwise conv (Keras has none)": ("dw3", "8x8x8x1", "DepthwiseConv"),
    "bilinear upsampling on a signal": ("up2/bilinear", "16x1", "bilinear"),
    "stride and dilation together": ("c3s2d2", "16x1", "dilation_rate"),
    "causal 2-D conv": ("c3/causal", "8x8x1", "causal"),
    "explicit padding": ("c3/pad1:0", "16x1", "zero-padding layer"),
    "reflection padding": ("zp1/reflect", "8x8x1", "ReflectionPadding2D"),
}


@pytest.mark.parametrize("spec, shape, words", BAD_SPECS.values(), ids=BAD_SPECS.keys())
def test_to_keras_refuses_in_one_line_before_building(spec, shape, words):
    from rfcalc import to_keras

    with pytest.raises(RFError) as err:
        to_keras(spec, input_shape=shape)
    assert words in str(err.value).splitlines()[0]  # a spec error adds the spec with a caret below


def test_unet_of_ronneberger_2015_built_and_read_back():
    from rfcalc import analyze, from_keras, to_keras

    spec = UNET
    model = to_keras(spec, input_shape="572x572x1")
    assert tuple(model.layers[-1].output.shape[1:]) == (388, 388, 2)
    back = from_keras(model)
    ours = analyze(spec, input_shape="572x572x1")
    assert [(r.output_shape, r.params, r.rf, r.rf_min) for r in back.layers] == [
        (r.output_shape, r.params, r.rf, r.rf_min) for r in ours.layers
    ]
    assert back.total_params == model.count_params()


UNET = (
    "c3-64/valid*2,p2,c3-128/valid*2,p2,c3-256/valid*2,p2,c3-512/valid*2,p2,c3-1024/valid*2,"
    "t2s2-512,c3-512/valid*2,t2s2-256,c3-256/valid*2,t2s2-128,c3-128/valid*2,t2s2-64,c3-64/valid*2,c1-2"
)


def test_unet_with_its_cropped_skips_is_read_as_keras_counts_it():
    import warnings

    from rfcalc import from_keras

    model = ks.unet(keras)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # up-convs and cropped skips are centred half a step apart
        analysis = from_keras(model)
    assert_rows_match_keras(model, analysis)
    assert analysis.total_params == 31_030_658 and analysis.layers[-1].output_shape == (388, 388, 2)
    last = analysis.layers[-1]
    assert last.rf == (204, 204) and last.rf_min == (9, 9)  # the deepest path; the top skip path


def test_wavenet_fields_end_at_the_current_sample():
    import warnings

    from rfcalc import analyze, from_keras

    assert analyze("c2d1..512/causal", input_shape="16000x1").rf == (1024,)  # van den Oord et al. 2016
    assert analyze("c2d1..512/causal*3", input_shape="16000x1").rf == (3070,)
    model = ks.wavenet(keras)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = from_keras(model)
    assert_rows_match_keras(model, analysis)
    last = analysis.layers[-1]
    assert last.rf == (3071,)  # three stacks and the causal input conv
    assert last.field_of((15999,)) == ((12929, 15999),) and last.field_of((0,)) == ((-3070, 0),)
