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
