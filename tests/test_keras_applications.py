"""Every network in ``keras.applications`` reads with no ``--identity``, as Keras counts and shapes it.

The list is ``dir(keras.applications)`` (``application_names``), so a network a new Keras adds is
tested without a change here. Each is built with ``weights=None`` at the smallest square input it
accepts (Keras refuses smaller ones), to keep the cost down. Oracle: Keras itself,
``count_params()``, the trainable / non-trainable split and every layer's output shape
(``assert_matches_keras``), for nested models too (ConvNeXt's stem and downsampling blocks).
The fields of the layer kinds read through these rules are checked against TensorFlow gradients
in ``test_convnext_fields_match_gradients`` and ``test_channel_shuffle_fields_match_gradients``.
"""

from __future__ import annotations

import pytest

keras = pytest.importorskip("keras")

from rfcalc.errors import RFError, UnsupportedLayerError  # noqa: E402
from rfcalc.frameworks.keras import application_names, from_keras  # noqa: E402

pytestmark = [pytest.mark.tf, pytest.mark.slow]

SIDES = (32, 75, 96, 128, 160, 197, 224, 299, 331)  # small first: the first side Keras accepts is used


def build_smallest(name: str):
    """``keras.applications.NAME(weights=None)`` at the smallest side in ``SIDES`` it accepts."""
    errors = []
    for side in SIDES:
        try:
            return getattr(keras.applications, name)(weights=None, input_shape=(side, side, 3))
        except ValueError as err:  # "Input size must be at least 75x75", ...
            errors.append(f"{side}: {str(err).splitlines()[0][:80]}")
    raise AssertionError(f"keras.applications.{name} accepted no side in {SIDES}: {errors}")


def _leaves(model):
    """Every layer, nested models (ConvNeXt's stem) opened: the rows are named ``outer/inner``."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from ((f"{layer.name}/{n}", inner) for n, inner in _leaves(layer))
        elif type(layer).__name__ != "InputLayer":
            yield layer.name, layer


def _size(weights) -> int:
    total = 0
    for w in weights:
        n = 1
        for d in w.shape:
            n *= int(d)
        total += n
    return total


def test_the_list_is_dir_of_keras_applications():
    names = application_names()
    assert len(names) >= 40 and {"ConvNeXtTiny", "InceptionResNetV2", "NASNetMobile"} <= set(names)


@pytest.mark.parametrize("name", application_names())
def test_every_application_reads_as_keras_counts_it(name):
    model = build_smallest(name)
    analysis = from_keras(model)  # no identity=: every layer class is read
    assert analysis.total_params == model.count_params()
    assert analysis.trainable_params == _size(model.trainable_weights)
    assert analysis.non_trainable_params == _size(model.non_trainable_weights)
    rows = {r.name: r for r in analysis.layers}
    for path, layer in _leaves(model):
        row = rows[path]
        assert row.output_shape == tuple(layer.output.shape[1:]), path
        assert (row.params, row.trainable_params) == (layer.count_params(), _size(layer.trainable_weights)), path
    assert analysis.rf is not None or name.startswith(("ConvNeXt", "EfficientNet", "MobileNet"))


# ------------------------------------------------------------ the layer kinds these rules added


def _shuffle_net(x):
    """A ShuffleNet unit in Keras: split the channels into groups, transpose, merge (a channel shuffle)."""
    from keras import layers

    y = layers.Conv2D(12, 3, padding="same", name="conv")(x)
    y = layers.Reshape((12, 12, 3, 4), name="split")(y)
    y = layers.Permute((1, 2, 4, 3), name="shuffle")(y)
    y = layers.Dense(5, name="per_piece")(y)
    y = layers.LayerNormalization(name="ln")(y)
    y = layers.Concatenate(name="cat")([y, y])
    y = layers.Reshape((12, 12, -1), name="merge")(y)
    return layers.Conv2D(4, 3, strides=2, padding="same", name="after")(y)


def _functional(build, shape):
    x = keras.Input(shape=shape, name="image")
    return keras.Model(x, build(x))


def test_a_channel_shuffle_keeps_the_field_and_counts_as_keras_does():
    model = _functional(_shuffle_net, (12, 12, 6))
    a = from_keras(model)
    assert a.total_params == model.count_params()
    for layer in model.layers[1:]:
        assert a.row(layer.name).output_shape == tuple(layer.output.shape[1:]), layer.name
    assert [a.row(n).rf for n in ("split", "shuffle", "per_piece", "cat", "merge")] == [(3, 3)] * 5
    assert (a.row("after").rf, a.row("after").jump) == ((5, 5), (2, 2))
    assert a.row("per_piece").macs == 12 * 12 * 4 * 3 * 5


def test_channel_shuffle_fields_match_gradients():
    from rfcalc.runs.probes import probe

    model = _functional(_shuffle_net, (None, None, 6))
    r = probe(model, input_shape=(12, 12, 6))
    assert r.agree, [p for p in r.layers if not p.agree]


REFUSED = [  # (what, build on a (8, 8, 12) tensor, words the message must have)
    (
        "permute_moves_rows_and_cols",
        lambda L, t: L.Permute((2, 1, 3), name="p")(t),
        ["'p' (Permute)", "rows (axis 1 -> 2)", "cols (axis 2 -> 1)", "(rows 8, cols 8, channels 12)"],
    ),
    ("permute_channels_first", lambda L, t: L.Permute((3, 1, 2), name="p")(t), ["'p' (Permute)", "moves the spatial"]),
    (
        "reshape_to_tokens",
        lambda L, t: L.Reshape((64, 12), name="r")(t),
        ["'r' (Reshape)", "(rows 8, cols 8, channels 12) to (64, 12)", "spatial"],
    ),
    ("reshape_space_to_depth", lambda L, t: L.Reshape((4, 2, 4, 2, 12), name="r")(t), ["'r' (Reshape)", "spatial"]),
    (
        "conv_on_channel_pieces",
        lambda L, t: L.Conv3D(2, 1, name="c")(L.Reshape((8, 8, 3, 4))(t)),
        ["'c' (Conv3D)", "(rows 8, cols 8, channels 3 x 4)", "pieces"],
    ),
    (
        "concat_on_a_spatial_axis_of_pieces",
        lambda L, t: L.Concatenate(axis=1, name="k")([L.Reshape((8, 8, 3, 4))(t)] * 2),
        ["'k' (Concatenate)", "axis 1"],
    ),
]


@pytest.mark.parametrize("what, build, words", REFUSED, ids=[c[0] for c in REFUSED])
def test_axes_rfcalc_cannot_follow_are_refused_naming_layer_and_axes(what, build, words):
    from keras import layers

    model = _functional(lambda x: build(layers, layers.Conv2D(12, 3, padding="same")(x)), (8, 8, 12))
    with pytest.raises(UnsupportedLayerError) as err:
        from_keras(model)
    assert "\n" not in str(err.value)
    for w in words:
        assert w in str(err.value)


def test_a_reshape_of_a_tensor_without_a_field_is_sized_as_before():
    from keras import layers

    model = _functional(lambda x: layers.Reshape((2, 16), name="r")(layers.Flatten()(x)), (4, 4, 2))
    a = from_keras(model)
    assert (a.row("r").output_shape, a.row("r").rf) == ((2, 16), None)


def test_a_user_class_named_like_keras_applications_own_is_not_taken_for_it():
    from keras import layers

    class LayerScale(layers.Layer):  # same name, other arithmetic
        def call(self, x):
            return x * 2.0

    model = _functional(lambda x: LayerScale(name="mine")(layers.Conv2D(4, 3)(x)), (8, 8, 3))
    with pytest.raises(RFError, match="'mine' \\(LayerScale\\).*not keras.applications' own"):
        from_keras(model)


def test_convnext_fields_match_gradients():
    """End to end: ConvNeXtTiny (depthwise 7x7, LayerNorm, Dense over channels, LayerScale) probed."""
    from rfcalc.runs.probes import probe

    model = keras.applications.ConvNeXtTiny(weights=None, include_top=False, input_shape=(None, None, 3))
    r = probe(model, input_shape=(32, 32, 3), layer="convnext_tiny_stage_0_block_1_layer_scale")
    assert r.agree, [p for p in r.layers if not p.agree]
    assert any(p.name.endswith("layer_scale") for p in r.layers)
