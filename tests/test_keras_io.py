"""Keras adapters against Keras itself: count_params(), output shapes, configs, published numbers."""

from __future__ import annotations

import pytest

from rfcalc import analyze
from rfcalc.errors import RFError, SymbolError

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from rfcalc.keras_io import to_keras  # noqa: E402

pytestmark = pytest.mark.tf


def notebook_model(n_convs: int):
    """model1 / model2 exactly as the course notebook writes them."""
    return keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            *[layers.Conv2D(32, kernel_size=(3, 3), padding="same", activation="relu") for _ in range(n_convs)],
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dense(20),
            layers.Dense(10, activation="softmax"),
        ]
    )


def _config(layer):
    config = layer.get_config()
    config.pop("name")
    return config


@pytest.mark.parametrize("spec, n_convs, params", [
    ("c3,p2", 1, 164_966),   # notebook model1
    ("c3,c3,p2", 2, 174_214),  # notebook model2
])
def test_to_keras_builds_the_notebook_models_layer_for_layer(spec, n_convs, params):
    ours, theirs = to_keras(spec, head="seed"), notebook_model(n_convs)
    assert ours.count_params() == theirs.count_params() == params
    assert [type(a) for a in ours.layers] == [type(b) for b in theirs.layers]
    assert [_config(a) for a in ours.layers] == [_config(b) for b in theirs.layers]
    assert ours.output_shape == theirs.output_shape == (None, 10)


@pytest.mark.parametrize("spec, shape", [
    ("c3s2/valid,dw3m2,sep3-8,a2/same,bn,gap,fc4", (17, 15, 3)),
    ("zp1:0x2:1,c5x3d2-4,crop1,id,gmp", (12, 12, 1)),
    ("c3-8/nobias/linear,p3s2,flat,fc5/softmax", (9, 9, 2)),
])
def test_to_keras_params_and_shapes_match_keras(spec, shape):
    model = to_keras(spec, input_shape=shape)
    analysis = analyze(spec, input_shape=shape)
    assert model.count_params() == analysis.total_params
    assert [tuple(layer.output.shape[1:]) for layer in model.layers] == [r.output_shape for r in analysis.layers]
    assert [layer.name for layer in model.layers] == [r.name for r in analysis.layers]


@pytest.mark.parametrize("spec, error, words", [
    ("c{k},p2", SymbolError, "{k}"),
    ("c3s2d2", RFError, "dilation_rate"),
    ("dw3s2d2", RFError, "DepthwiseConv2D"),
])
def test_to_keras_refuses_what_cannot_be_built(spec, error, words):
    with pytest.raises(error, match=words.replace("{", r"\{").replace("}", r"\}")):
        to_keras(spec)


# ---------------------------------------------------------------- from_keras

import warnings  # noqa: E402
from fractions import Fraction  # noqa: E402

from rfcalc.errors import ShapeError, UnsupportedLayerError  # noqa: E402
from rfcalc.keras_io import AlignmentWarning, analyze_source, from_keras  # noqa: E402


def _keras_layers(model):
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


def _size(weights) -> int:
    total = 0
    for w in weights:
        n = 1
        for d in w.shape:
            n *= int(d)
        total += n
    return total


def assert_matches_keras(model, analysis):
    """Keras is the oracle: count_params(), the trainable split and each layer's output shape."""
    assert analysis.total_params == model.count_params()
    assert analysis.trainable_params == _size(model.trainable_weights)
    rows = {r.name: r for r in analysis.layers}
    layers = _keras_layers(model)
    assert sorted(rows) == sorted(layer.name for layer in layers)
    for layer in layers:
        row = rows[layer.name]
        assert (row.kind, row.params) == (type(layer).__name__, layer.count_params()), layer.name
        assert row.trainable_params == _size(layer.trainable_weights), layer.name
        assert row.output_shape == tuple(layer.output.shape[1:]), layer.name


@pytest.mark.parametrize("n_convs, spec, params", [(1, "c3,p2", 164_966), (2, "c3,c3,p2", 174_214)])
def test_from_keras_reads_the_notebook_models_as_keras_counts_them(n_convs, spec, params):
    model = notebook_model(n_convs)
    analysis = from_keras(model)
    assert analysis.total_params == params
    assert_matches_keras(model, analysis)
    expected = analyze(spec, head="seed")  # same numbers, Keras' session-dependent names aside
    strip = lambda r: (r.kind, r.output_shape, r.params, r.macs, r.rf, r.jump, r.start)  # noqa: E731
    assert [strip(r) for r in analysis.layers] == [strip(r) for r in expected.layers]


ROUND_TRIP = [
    "c3,p2,flat,fc20,fc10/softmax",
    "c3,c3,p2",
    "c5s2/valid-16,p3s2/same,c3d2-8,a2,bn,gap,fc10/softmax",
    "zp2:1x0:1,c3x5-4/nobias,crop1x0,dw3s2m2,sep5-6/linear,id,gmp",
    "c1-4,c7x1,c1x7,flat,fc3",
]


@pytest.mark.parametrize("spec", ROUND_TRIP)
def test_from_keras_of_to_keras_equals_analyze_row_for_row(spec):
    shape = (20, 18, 3)
    assert from_keras(to_keras(spec, input_shape=shape)).layers == analyze(spec, input_shape=shape).layers


# keras.applications, built once per module (weights=None; sizes where the published numbers hold).
APPS = {
    "VGG16": dict(include_top=False, input_shape=(224, 224, 3)),
    "ResNet50": dict(input_shape=(224, 224, 3)),
    "MobileNet": dict(input_shape=(224, 224, 3)),
    "MobileNetV2": dict(input_shape=(96, 96, 3)),
    "InceptionV3": dict(input_shape=(224, 224, 3)),
}


@pytest.fixture(scope="module")
def apps():
    built = {}
    for name, kwargs in APPS.items():
        model = getattr(keras.applications, name)(weights=None, **kwargs)
        built[name] = (model, from_keras(model))
    return built


@pytest.mark.slow
@pytest.mark.parametrize("name", list(APPS))
def test_from_keras_matches_keras_on_applications(apps, name):
    model, analysis = apps[name]
    assert_matches_keras(model, analysis)
    assert analysis.spec == model.name


# google-research/receptive_field, RECEPTIVE_FIELD_TABLE.md (TF-Slim models, resolution 224):
# (Keras layer, slim end-point): rf, effective stride, effective padding.
PUBLISHED = [
    ("VGG16", "block1_conv1", 3, 1, 1),    # vgg_16/conv1/conv1_1
    ("VGG16", "block1_pool", 6, 2, 2),     # vgg_16/pool1
    ("VGG16", "block2_conv1", 10, 2, 4),
    ("VGG16", "block2_pool", 16, 4, 6),
    ("VGG16", "block3_conv2", 32, 4, 14),
    ("VGG16", "block3_pool", 44, 8, 18),
    ("VGG16", "block4_conv2", 76, 8, 34),
    ("VGG16", "block4_pool", 100, 16, 42),
    ("VGG16", "block5_conv2", 164, 16, 74),
    ("VGG16", "block5_pool", 212, 32, 90),   # vgg_16/pool5, the README's headline row
    ("InceptionV3", "mixed0", 63, 8, 18),    # Mixed_5b
    ("InceptionV3", "mixed1", 95, 8, 34),    # Mixed_5c
    ("InceptionV3", "mixed2", 127, 8, 50),   # Mixed_5d
    ("InceptionV3", "mixed3", 159, 16, 58),  # Mixed_6a
    ("InceptionV3", "mixed4", 351, 16, 154),
    ("InceptionV3", "mixed5", 543, 16, 250),
    ("InceptionV3", "mixed6", 735, 16, 346),
    ("InceptionV3", "mixed7", 927, 16, 442),  # Mixed_6e
    ("InceptionV3", "mixed8", 1055, 32, 490),  # Mixed_7a
    ("InceptionV3", "mixed9", 1183, 32, 554),  # Mixed_7b
    ("InceptionV3", "mixed10", 1311, 32, 618),  # Mixed_7c, the README's headline row
    ("MobileNet", "conv1", 3, 2, 0),          # mobilenet_v1 Conv2d_0
    ("MobileNet", "conv_pw_1", 7, 2, 2),      # Conv2d_1_pointwise
    ("MobileNet", "conv_pw_2", 11, 4, 2),
    ("MobileNet", "conv_pw_3", 19, 4, 6),
    ("MobileNet", "conv_pw_5", 43, 8, 14),
    ("MobileNet", "conv_pw_6", 59, 16, 14),
    ("MobileNet", "conv_pw_11", 219, 16, 94),
    ("MobileNet", "conv_pw_12", 251, 32, 94),
    ("MobileNet", "conv_pw_13", 315, 32, 126),  # Conv2d_13_pointwise, the README's headline row
]


@pytest.mark.slow
@pytest.mark.parametrize("app, layer, rf, jump, eff_pad", PUBLISHED)
def test_receptive_fields_match_the_published_table(apps, app, layer, rf, jump, eff_pad):
    row = apps[app][1].row(layer)
    assert (row.rf, row.jump, row.eff_pad) == ((rf, rf), (jump, jump), (eff_pad, eff_pad))


@pytest.mark.slow
def test_resnet50_matches_the_published_final_field_but_not_slims_stages(apps):
    # resnet_v1_50/block4: rf 483, stride 32 (published). Keras strides in the first unit of a stage
    # (slim: in the last), so stage ends differ: conv2_block3_out has jump 4 where slim's block1 has 8.
    # By hand: stem 7x7/2 + pool 3/2 -> 11 (jump 4); +3 blocks x 2·4 -> 35; +4 x 2·8 -> 99;
    # +6 x 2·16 -> 291; +3 x 2·32 -> 483. Keras pads explicitly (3, then 1), so eff_pad is
    # 3 + 1·2 + 3·4 + 4·8 + 6·16 + 3·32 = 241 (slim's 'SAME' at 224 gives 239).
    analysis = apps["ResNet50"][1]
    # eff_pad at the stage ends, same sum cut short: 3+2+12 = 17, +32 = 49, +96 = 145, +96 = 241.
    expected = {"conv2_block3_out": (35, 4, 17), "conv3_block4_out": (99, 8, 49),
                "conv4_block6_out": (291, 16, 145), "conv5_block3_out": (483, 32, 241)}
    got = {name: (analysis.row(name).rf[0], analysis.row(name).jump[0], analysis.row(name).eff_pad[0])
           for name in expected}
    assert got == expected


@pytest.mark.slow
def test_inception_v3_matches_the_keras_number_of_the_receptive_field_notebook(apps):
    # google-research/receptive_field RF_Keras_Applications.ipynb: Keras InceptionV3, node
    # conv2d_85 (the 86th Conv2D created, mixed10's 1x1 branch): rf 1183, stride 32, padding 554.
    model, analysis = apps["InceptionV3"]
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    suffix = lambda layer: int(layer.name.rsplit("_", 1)[1]) if layer.name[-1].isdigit() and "_" in layer.name else -1  # noqa: E731
    row = analysis.row(sorted(convs, key=suffix)[85].name)
    assert (row.rf, row.jump, row.eff_pad) == ((1183, 1183), (32, 32), (554, 554))
