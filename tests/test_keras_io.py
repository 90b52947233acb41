"""Keras adapters against Keras itself: count_params(), output shapes, configs, published numbers."""

from __future__ import annotations

import warnings

import pytest

from rfcalc import analyze
from rfcalc.errors import RFError, SymbolError

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from rfcalc.frameworks.keras import to_keras  # noqa: E402

pytestmark = pytest.mark.tf


def notebook_model(n_convs: int):
    """model1 / model2 exactly as the course notebook writes them (InputLayer(input_shape=...) included)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras 3: "Argument `input_shape` is deprecated"
        first = layers.InputLayer(input_shape=(32, 32, 3))
    return keras.Sequential(
        [
            first,
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


@pytest.mark.parametrize(
    "spec, n_convs, params",
    [
        ("c3,p2", 1, 164_966),  # notebook model1
        ("c3,c3,p2", 2, 174_214),  # notebook model2
    ],
)
def test_to_keras_builds_the_notebook_models_layer_for_layer(spec, n_convs, params):
    ours, theirs = to_keras(spec, head="seed"), notebook_model(n_convs)
    assert ours.count_params() == theirs.count_params() == params
    assert [type(a) for a in ours.layers] == [type(b) for b in theirs.layers]
    assert [_config(a) for a in ours.layers] == [_config(b) for b in theirs.layers]
    assert ours.output_shape == theirs.output_shape == (None, 10)


@pytest.mark.parametrize(
    "spec, shape",
    [
        ("c3s2/valid,dw3m2,sep3-8,a2/same,bn,gap,fc4", (17, 15, 3)),
        ("zp1:0x2:1,c5x3d2-4,crop1,id,gmp", (12, 12, 1)),
        ("c3-8/nobias/linear,p3s2,flat,fc5/softmax", (9, 9, 2)),
    ],
)
def test_to_keras_params_and_shapes_match_keras(spec, shape):
    model = to_keras(spec, input_shape=shape)
    analysis = analyze(spec, input_shape=shape)
    assert model.count_params() == analysis.total_params
    assert [tuple(layer.output.shape[1:]) for layer in model.layers] == [r.output_shape for r in analysis.layers]
    assert [layer.name for layer in model.layers] == [r.name for r in analysis.layers]


@pytest.mark.parametrize(
    "spec, error, words",
    [
        ("c{k},p2", SymbolError, "{k}"),
        ("c3s2d2", RFError, "dilation_rate"),
        ("dw3s2d2", RFError, "DepthwiseConv2D"),
    ],
)
def test_to_keras_refuses_what_cannot_be_built(spec, error, words):
    with pytest.raises(error, match=words.replace("{", r"\{").replace("}", r"\}")):
        to_keras(spec)


# ---------------------------------------------------------------- from_keras

from fractions import Fraction  # noqa: E402

from rfcalc.errors import ShapeError, UnsupportedLayerError  # noqa: E402
from rfcalc.frameworks.keras import AlignmentWarning, analyze_source, from_keras  # noqa: E402


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
    names = {layer.name for layer in layers}
    assert names <= set(rows)
    assert all(r.params == 0 for r in analysis.layers if r.name not in names)  # keras.ops calls: not layers
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
    "InceptionResNetV2": dict(include_top=False, input_shape=(224, 224, 3)),
}
IDENTITY = {"InceptionResNetV2": ("CustomScaleLayer",)}  # x + scale·residual: two inputs, no weights


@pytest.fixture(scope="module")
def apps():
    built = {}
    for name, kwargs in APPS.items():
        model = getattr(keras.applications, name)(weights=None, **kwargs)
        built[name] = (model, from_keras(model, identity=IDENTITY.get(name, ())))
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
    ("VGG16", "block1_conv1", 3, 1, 1),  # vgg_16/conv1/conv1_1
    ("VGG16", "block1_pool", 6, 2, 2),  # vgg_16/pool1
    ("VGG16", "block2_conv1", 10, 2, 4),
    ("VGG16", "block2_pool", 16, 4, 6),
    ("VGG16", "block3_conv2", 32, 4, 14),
    ("VGG16", "block3_pool", 44, 8, 18),
    ("VGG16", "block4_conv2", 76, 8, 34),
    ("VGG16", "block4_pool", 100, 16, 42),
    ("VGG16", "block5_conv2", 164, 16, 74),
    ("VGG16", "block5_pool", 212, 32, 90),  # vgg_16/pool5, the README's headline row
    ("InceptionV3", "mixed0", 63, 8, 18),  # Mixed_5b
    ("InceptionV3", "mixed1", 95, 8, 34),  # Mixed_5c
    ("InceptionV3", "mixed2", 127, 8, 50),  # Mixed_5d
    ("InceptionV3", "mixed3", 159, 16, 58),  # Mixed_6a
    ("InceptionV3", "mixed4", 351, 16, 154),
    ("InceptionV3", "mixed5", 543, 16, 250),
    ("InceptionV3", "mixed6", 735, 16, 346),
    ("InceptionV3", "mixed7", 927, 16, 442),  # Mixed_6e
    ("InceptionV3", "mixed8", 1055, 32, 490),  # Mixed_7a
    ("InceptionV3", "mixed9", 1183, 32, 554),  # Mixed_7b
    ("InceptionV3", "mixed10", 1311, 32, 618),  # Mixed_7c, the README's headline row
    ("InceptionResNetV2", "mixed_5b", 63, 8, 18),
    ("InceptionResNetV2", "mixed_6a", 415, 16, 186),
    ("InceptionResNetV2", "block17_20_ac", 2335, 16, 1146),  # PreAuxLogits
    ("InceptionResNetV2", "mixed_7a", 2399, 32, 1162),
    ("InceptionResNetV2", "conv_7b", 3039, 32, 1482),  # Conv2d_7b_1x1, the README's worked example
    ("MobileNet", "conv1", 3, 2, 0),  # mobilenet_v1 Conv2d_0
    ("MobileNet", "conv_pw_1", 7, 2, 2),  # Conv2d_1_pointwise
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
    expected = {
        "conv2_block3_out": (35, 4, 17),
        "conv3_block4_out": (99, 8, 49),
        "conv4_block6_out": (291, 16, 145),
        "conv5_block3_out": (483, 32, 241),
    }
    got = {
        name: (analysis.row(name).rf[0], analysis.row(name).jump[0], analysis.row(name).eff_pad[0]) for name in expected
    }
    assert got == expected


@pytest.mark.slow
def test_inception_v3_matches_the_keras_number_of_the_receptive_field_notebook(apps):
    # google-research/receptive_field RF_Keras_Applications.ipynb: Keras InceptionV3, node
    # conv2d_85 (the 86th Conv2D created, mixed10's 1x1 branch): rf 1183, stride 32, padding 554.
    model, analysis = apps["InceptionV3"]
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]

    def created(layer):  # Keras numbers auto-named layers in creation order: conv2d, conv2d_1, ...
        stem, _, n = layer.name.rpartition("_")
        return int(n) if stem and n.isdigit() else -1

    row = analysis.row(sorted(convs, key=created)[85].name)
    assert (row.rf, row.jump, row.eff_pad) == ((1183, 1183), (32, 32), (554, 554))


# ---------------------------------------------------------------- hand-built graphs


def _functional(build, shape=(16, 16, 4)):
    x = keras.Input(shape=shape, name="image")
    return keras.Model(x, build(x))


def residual(x):
    a = layers.Conv2D(4, 3, padding="same", name="res_a")(x)
    a = layers.Conv2D(4, 3, padding="same", name="res_b")(a)
    return layers.Add(name="res_add")([x, a])


def inception(x):
    b1 = layers.Conv2D(2, 1, name="b1")(x)
    b3 = layers.Conv2D(3, 3, padding="same", name="b3")(x)
    b5 = layers.Conv2D(4, 5, padding="same", name="b5")(x)
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name="bp")(x)
    return layers.Concatenate(name="mix")([b1, b3, b5, bp])


def strided_pair(x):
    a = layers.Conv2D(4, 3, strides=2, padding="same", name="conv_s2")(x)  # 'same' on 16 pads (0, 1)
    b = layers.MaxPooling2D(2, name="pool2")(x)
    return layers.Add(name="joined")([a, b])


# name, builder, merge row: rf, rf_min, jump, start, channels, inputs, flags (all worked out by hand)
GRAPHS = [
    ("residual block", residual, "res_add", 5, 1, 1, Fraction(0), 4, ("image", "res_b"), ()),
    ("inception block", inception, "mix", 5, 1, 1, Fraction(0), 2 + 3 + 4 + 4, ("b1", "b3", "b5", "bp"), ()),
    # conv: centre of unit 0 at 1 (window 0..2); pool: at 1/2 (window 0..1): jumps agree, centres do not
    ("misaligned merge", strided_pair, "joined", 3, 2, 2, Fraction(1), 4, ("conv_s2", "pool2"), ("misaligned",)),
]


@pytest.mark.parametrize(
    "name, build, row_name, rf, rf_min, jump, start, channels, inputs, flags", GRAPHS, ids=[g[0] for g in GRAPHS]
)
def test_merges_take_the_largest_and_smallest_field_over_paths(
    name, build, row_name, rf, rf_min, jump, start, channels, inputs, flags
):
    model = _functional(build)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        analysis = from_keras(model)
    row = analysis.row(row_name)
    assert (row.rf, row.rf_min, row.jump, row.start) == ((rf, rf), (rf_min, rf_min), (jump, jump), (start, start))
    assert row.output_shape[-1] == channels and row.inputs == inputs
    assert row.flags == flags
    assert any(issubclass(w.category, AlignmentWarning) for w in caught) == bool(flags)
    assert_matches_keras(model, analysis)


def test_a_misaligned_merge_warns_naming_the_layer_and_its_paths():
    with pytest.warns(AlignmentWarning, match=r"'joined' \(Add\).*conv_s2.*pool2"):
        from_keras(_functional(strided_pair))


def zoo(x):
    """One of each allow-listed layer that the applications above do not use."""
    y = layers.Rescaling(1 / 255, name="rescale")(x)
    y = layers.Normalization(name="norm")(y)
    y = layers.GaussianNoise(0.1, name="noise")(y)
    y = layers.Conv2D(8, 3, groups=2, padding="same", name="grouped")(y)
    y = layers.PReLU(shared_axes=[1, 2], name="prelu")(y)
    y = layers.BatchNormalization(center=False, name="bn_scale_only")(y)
    y = layers.LeakyReLU(name="leaky")(y)
    y = layers.SpatialDropout2D(0.1, name="sdrop")(y)
    y = layers.SeparableConv2D(8, 3, depth_multiplier=2, name="sep")(y)
    y = layers.ELU(name="elu")(y)
    frozen = layers.Conv2D(8, 1, name="frozen")
    frozen.trainable = False
    z = frozen(y)
    y = layers.Multiply(name="mul")([y, z])
    y = layers.Average(name="avg")([y, z])
    y = layers.Subtract(name="sub")([y, z])
    y = layers.Maximum(name="max")([y, z])
    y = layers.Cropping2D(((1, 0), (0, 2)), name="crop")(y)
    g = layers.GlobalMaxPooling2D(keepdims=True, name="gmp_keep")(y)
    g = layers.Conv2D(5, 1, name="head_conv")(g)
    g = layers.Reshape((5,), name="squeeze")(g)
    g = layers.Softmax(name="softmax")(g)
    h = layers.GlobalAveragePooling2D(name="gap")(y)
    h = layers.Dense(5, name="dense")(h)
    return layers.Add(name="logits")([g, h])


def test_every_allow_listed_layer_counts_as_keras_does():
    model = _functional(zoo, shape=(12, 10, 4))
    analysis = from_keras(model)
    assert_matches_keras(model, analysis)
    assert "groups=2" in analysis.row("grouped").flags
    assert analysis.row("frozen").non_trainable_params == 8 * 8 + 8
    # global pooling ends the field, keepdims or not; the 1x1 conv after it is sized but has no field
    assert [analysis.row(n).rf for n in ("crop", "gmp_keep", "head_conv", "squeeze", "gap", "logits")] == [
        analysis.row("crop").rf,
        None,
        None,
        None,
        None,
        None,
    ]
    assert analysis.row("crop").rf is not None
    assert analysis.rf == analysis.row("crop").rf


def squeeze_excite(x):
    y = layers.Conv2D(4, 3, padding="same", name="body")(x)
    s = layers.GlobalAveragePooling2D(name="squeeze")(y)
    s = layers.Reshape((1, 1, 4), name="unsqueeze")(s)
    s = layers.Conv2D(4, 1, activation="sigmoid", name="excite")(s)
    y = layers.Multiply(name="scale")([y, s])
    y = keras.ops.relu(y + 3.0)  # keras.ops on KerasTensors: elementwise operations, not layers
    return layers.LayerNormalization(name="ln")(y)


def test_a_squeeze_excite_gate_is_broadcast_onto_the_local_field():
    model = _functional(squeeze_excite)
    analysis = from_keras(model)
    assert_matches_keras(model, analysis)
    assert [analysis.row(n).rf for n in ("squeeze", "unsqueeze", "excite")] == [None, None, None]
    scale = analysis.row("scale")  # the body's 3x3 field; the global gate is marked, not measured
    assert (scale.rf, scale.rf_min, scale.jump, scale.start, scale.flags) == (
        (3, 3),
        (3, 3),
        (1, 1),
        (0, 0),
        ("broadcast",),
    )
    assert [r.kind for r in analysis.layers[-3:]] == ["Add", "Relu", "LayerNormalization"]
    assert analysis.row("ln").params == 2 * 4


def test_nested_models_become_rows_named_outer_slash_inner():
    inner = keras.Sequential([layers.Conv2D(3, 3, name="c"), layers.MaxPooling2D(2, name="p")], name="trunk")
    x = keras.Input(shape=(10, 10, 2))
    model = keras.Model(x, layers.Flatten(name="flat")(inner(x)))
    analysis = from_keras(model)
    assert [r.name for r in analysis.layers] == ["trunk/c", "trunk/p", "flat"]
    assert analysis.total_params == model.count_params()
    assert analysis.row("trunk/p").rf == (4, 4)


def test_unknown_sizes_and_unbuilt_sequentials_take_input_shape():
    model = _functional(lambda x: layers.Conv2D(2, 3, strides=2, name="c")(x), shape=(None, None, 3))
    with pytest.raises(ShapeError, match="input_shape"):
        from_keras(model)
    assert from_keras(model, input_shape="9x9x3").row("c").output_shape == (4, 4, 2)  # (9 - 3) // 2 + 1
    with pytest.raises(ShapeError, match="Received: input_shape"):
        from_keras(notebook_model(1), input_shape=(64, 64, 3))
    unbuilt = keras.Sequential([layers.Conv2D(2, 3, name="c")])
    with pytest.raises(ShapeError, match="input_shape"):
        from_keras(unbuilt)
    assert from_keras(unbuilt, input_shape=(7, 7, 1)).row("c").output_shape == (5, 5, 2)


# ---------------------------------------------------------------- errors and the identity option


def test_an_unknown_layer_is_named_with_the_identity_escape_hatch():
    model = _functional(lambda x: layers.UpSampling2D(name="up")(layers.GroupNormalization(2, name="gn")(x)))
    with pytest.raises(UnsupportedLayerError) as err:
        from_keras(model)
    message = str(err.value)
    assert "'gn' (GroupNormalization)" in message and "identity=('gn',)" in message and "--identity gn" in message
    with pytest.raises(ShapeError, match="'up' \\(UpSampling2D\\).*cannot be treated as identity"):
        from_keras(model, identity=("gn", "up"))


def _two_group_norms(x):
    y = layers.GroupNormalization(2, name="gn")(x)
    y = layers.Conv2D(2, 3, name="c")(y)
    return layers.GroupNormalization(1, name="gn_1")(y)


@pytest.mark.parametrize("identity", ["gn", ("gn", "gn_1"), ("GroupNormalization",)])
def test_identity_by_layer_or_class_name_keeps_the_field_and_counts_keras_weights(identity):
    model = _functional(_two_group_norms)
    if identity == "gn":
        with pytest.raises(UnsupportedLayerError, match="gn_1"):
            from_keras(model, identity=identity)
        return
    analysis = from_keras(model, identity=identity)
    assert_matches_keras(model, analysis)
    assert analysis.row("gn").flags == ("identity",) and analysis.rf == (3, 3)


def test_identity_names_that_match_nothing_are_refused():
    with pytest.raises(RFError, match="Received: nope"):
        from_keras(_functional(_two_group_norms), identity=("GroupNormalization", "nope"))


def test_not_a_model_and_subclassed_models_are_refused():
    with pytest.raises(RFError, match="Received: str"):
        from_keras("c3,p2")

    class Custom(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(UnsupportedLayerError, match="subclassed"):
        from_keras(Custom())


# ---------------------------------------------------------------- files and keras.applications by name


@pytest.fixture(scope="module")
def tiny():
    return to_keras("c3-4,p2,bn,c3-2,gap,fc3/softmax", input_shape=(8, 8, 3), name="tiny")


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_saved_models_load_back_to_the_same_analysis(tmp_path, tiny, suffix):
    path = tmp_path / f"tiny{suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras' legacy-HDF5 notice
        tiny.save(path)
    loaded = analyze_source(str(path))
    assert loaded.spec == "tiny"
    assert loaded.layers == from_keras(tiny).layers


def _corrupt(tmp_path, tiny, how):
    path = tmp_path / "model.keras"
    if how == "garbage":
        path.write_bytes(b"this is not a zip archive\n" * 10)
    elif how == "truncated":
        tiny.save(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    else:
        path = tmp_path / "missing.keras"
    return str(path)


@pytest.mark.parametrize("how", ["garbage", "truncated", "empty", "missing"])
def test_bad_model_files_fail_with_one_clear_line(tmp_path, tiny, how):
    path = _corrupt(tmp_path, tiny, how)
    with pytest.raises(RFError) as err:
        analyze_source(path)
    message = str(err.value)
    assert path in message and "\n" not in message


@pytest.mark.parametrize(
    "source, words",
    [
        ("keras:ResNet51", "ResNet50"),
        ("keras:mobilenetv9", "MobileNet"),
        ("keras:Nothing", "the closest:"),
    ],
)
def test_unknown_application_names_list_close_matches(source, words):
    with pytest.raises(RFError, match=words):
        analyze_source(source)


def test_applications_by_name_are_case_insensitive_and_take_an_input_shape():
    analysis = analyze_source("keras:mobilenet", input_shape="96x96x3")
    assert analysis.spec == "mobilenet_1.00_96" and analysis.input_shape == (96, 96, 3)
    assert analysis.row("conv_pw_13").rf == (315, 315)
    with pytest.raises(RFError, match="refused"):
        analyze_source("keras:VGG16", input_shape=(8, 8, 3))


@pytest.mark.parametrize("suffix, how", [(".h5", "garbage"), (".h5", "truncated"), (".hdf5", "empty")])
def test_bad_hdf5_files_fail_with_one_clear_line(tmp_path, tiny, suffix, how):
    path = tmp_path / f"model{suffix}"
    if how == "truncated":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tiny.save(tmp_path / "model.h5")
        data = (tmp_path / "model.h5").read_bytes()
        path.write_bytes(data[: len(data) // 3])
    else:
        path.write_bytes(b"" if how == "empty" else b"\x89PNG not hdf5" * 50)
    with pytest.raises(RFError) as err:
        analyze_source(str(path))
    assert str(path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.slow
def test_xception_at_299_has_one_misaligned_residual_add():
    # By hand: block 3 starts on a 74-pixel map at jump 4, centre 3. The shortcut, a 1x1 stride-2
    # 'same' conv, pads nothing (total (37-1)·2 + 1 - 74 < 0): centre stays 3. The main path ends in
    # a 3x3 stride-2 'same' pool, total (37-1)·2 + 3 - 74 = 1, padded (0, 1): centre 3 + 1·4 = 7.
    # Every other stride-2 merge in Xception sees an odd size, pads (1, 1) and lines up.
    model = keras.applications.Xception(weights=None, include_top=False, input_shape=(299, 299, 3))
    with pytest.warns(AlignmentWarning, match="block3_pool"):
        analysis = from_keras(model)
    flagged = [r for r in analysis.layers if "misaligned" in r.flags]
    assert [r.inputs[0] for r in flagged] == ["block3_pool"]
    shortcut = analysis.row(flagged[0].inputs[1])
    assert (analysis.row("block3_pool").start, shortcut.start) == ((7, 7), (3, 3))
    assert analysis.row("block3_pool").jump == shortcut.jump == (8, 8)
    assert analysis.total_params == model.count_params()


def test_a_reshape_that_rearranges_pixels_ends_the_field_but_not_the_counts():
    def decoder(x):
        y = layers.Flatten(name="flat")(layers.Conv2D(2, 3, name="enc")(x))
        y = layers.Reshape((4, 4, -1), name="unflat")(layers.Dense(32, name="code")(y))
        return layers.Conv2DTranspose(1, 3, name="up")(layers.Conv2D(3, 3, padding="same", name="dec")(y))

    model = _functional(decoder, shape=(6, 6, 1))
    analysis = from_keras(model)
    assert [r.rf for r in analysis.layers] == [(3, 3), None, None, None, None, None]
    assert analysis.row("unflat").output_shape == (4, 4, 2) and analysis.row("dec").params == 3 * 3 * 2 * 3 + 3
    assert analysis.row("up").output_shape == (6, 6, 1)
    assert analysis.total_params == model.count_params()
