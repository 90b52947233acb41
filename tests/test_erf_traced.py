"""The traced ERF pass (one ``tf.function`` per layer, batched) against a plain eager computation of the protocol.

The oracle is written here from the protocol itself, not from rfcalc's code: for each input
separately, an eager ``GradientTape`` (weights watched, as by default) of the centre output unit
summed over channels, |gradient| summed over the input channels, averaged over the inputs and
normalised to sum 1. The model is a small nonlinear one (conv, batch norm with moved statistics,
ReLU, max pooling, a stride) with fixed random weights, so the maps differ per input.
"""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")


def _model(shape=(23, 23, 3)):
    keras.utils.set_random_seed(7)
    x = inp = keras.Input(shape)
    x = keras.layers.Conv2D(6, 3, name="c1")(x)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.ReLU(name="r1")(x)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Conv2D(5, 3, strides=2, activation="relu", name="c2")(x)
    x = keras.layers.Conv2D(4, 1, name="last")(x)
    model = keras.Model(inp, x)
    bn = model.get_layer("bn")  # statistics away from 0/1, so inference-mode batch norm matters
    rng = np.random.default_rng(3)
    bn.moving_mean.assign(rng.normal(size=6).astype("float32"))
    bn.moving_variance.assign(rng.uniform(0.5, 2.0, size=6).astype("float32"))
    return model


def _oracle(model, layer, x):
    sub = keras.Model(model.inputs, model.get_layer(layer).output)
    unit = tuple((int(n) - 1) // 2 for n in sub.output.shape[1:-1])
    total = np.zeros(x.shape[1:-1])
    for one in x:
        v = tf.constant(one[None])
        with tf.GradientTape() as tape:
            tape.watch(v)
            y = tf.reduce_sum(sub(v, training=False)[0][unit])
        total += np.abs(tape.gradient(y, v).numpy()[0]).sum(axis=-1)
    return total / total.sum(), unit


@pytest.mark.parametrize("layer", ["last", "c2", "r1"])
def test_traced_heatmap_equals_eager_per_input_oracle(layer):
    from rfcalc.runs.effective_rf import erf
    from rfcalc.runs.erf_result import _inputs

    model = _model()
    x, _ = _inputs(None, 11, (23, 23, 3), 5)  # an odd count: batches of unequal size
    want, unit = _oracle(model, layer, x)
    r = erf(model, layer=layer, samples=11, seed=5)
    assert r.unit == unit and r.samples == 11
    assert np.allclose(r.heatmap, want, rtol=1e-4, atol=1e-7)


def test_traced_images_and_adaptive_runs_equal_the_oracle():
    """Given images, and the adaptive default (whatever it drew), both match the eager oracle."""
    from rfcalc.runs.effective_rf import erf
    from rfcalc.runs.erf_result import _inputs

    model = _model()
    images = np.random.default_rng(9).uniform(size=(3, 23, 23, 3)).astype("float32")
    want, _ = _oracle(model, "last", images)
    assert np.allclose(erf(model, layer="last", images=images).heatmap, want, rtol=1e-4, atol=1e-7)
    r = erf(model, layer="last", seed=2)
    x, _ = _inputs(None, r.samples, (23, 23, 3), 2)
    want, _ = _oracle(model, "last", x)
    assert np.allclose(r.heatmap, want, rtol=1e-4, atol=1e-7)


def test_many_traced_layers_say_nothing_about_retracing():
    """A report traces one pass per ERF layer (up to 8): TensorFlow's "triggered tf.function
    retracing" warning would count them as waste and print before rfcalc's own words."""
    import logging

    from rfcalc.runs.effective_rf import erf

    records: list = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    tf.get_logger().addHandler(handler)
    try:
        model = _model()
        for _ in range(4):
            for name in ("c1", "pool", "c2"):
                erf(model, layer=name, samples=2)
    finally:
        tf.get_logger().removeHandler(handler)
    assert not any("retracing" in r.getMessage() for r in records)
