"""Keras/TensorFlow itself as the oracle for the decoder layers: the gradient of each output unit
of UpSampling2D (bilinear), Conv1DTranspose (same/valid, output_padding) and a causal Conv1D is
non-zero exactly on the in-input part of the field ``Row.field_of`` gives (marked ``tf``)."""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.tf

CASES = {  # spec on a 7x1 (1-D) or 8x1x1 (2-D) input: the Keras layer, all weights one
    "up2x1/bilinear": ("8x1x1", lambda k: k.layers.UpSampling2D((2, 1), interpolation="bilinear")),
    "up3x1/bilinear": ("8x1x1", lambda k: k.layers.UpSampling2D((3, 1), interpolation="bilinear")),
    "t3s2": ("7x1", lambda k: k.layers.Conv1DTranspose(1, 3, strides=2, padding="same", kernel_initializer="ones")),
    "t3s2/valid": (
        "7x1",
        lambda k: k.layers.Conv1DTranspose(1, 3, strides=2, padding="valid", kernel_initializer="ones"),
    ),
    "t4s2o1": (
        "7x1",
        lambda k: k.layers.Conv1DTranspose(
            1, 4, strides=2, padding="same", output_padding=1, kernel_initializer="ones"
        ),
    ),
    "t1s3/valid": (
        "7x1",
        lambda k: k.layers.Conv1DTranspose(1, 1, strides=3, padding="valid", kernel_initializer="ones"),
    ),
    "c4/causal": ("7x1", lambda k: k.layers.Conv1D(1, 4, padding="causal", kernel_initializer="ones")),
}


@pytest.mark.parametrize("spec", CASES)
def test_every_units_gradient_support_is_its_exact_field(spec):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    import tensorflow as tf

    from rfcalc import analyze

    shape, make = CASES[spec]
    a = analyze(spec, input_shape=shape)
    row = a.layers[0]
    layer = make(keras)
    dims = tuple(int(v) for v in shape.split("x"))
    x = tf.Variable(np.random.default_rng(0).random((1, *dims)).astype("float32") + 0.5)
    assert tuple(layer(x).shape[1:-1]) == row.output_shape[:-1]
    n = dims[0]
    for u in range(row.output_shape[0]):
        unit = (u,) + (0,) * (len(dims) - 2)
        with tf.GradientTape() as tape:
            y = layer(x)[(0, *unit, 0)]
        grad = tape.gradient(y, x).numpy().reshape(n, -1).sum(axis=1)
        support = set(np.nonzero(np.abs(grad) > 1e-7)[0].tolist())
        lo, hi = row.field_of(unit)[0]
        assert support == set(range(max(lo, 0), min(hi, n - 1) + 1)), (spec, u, sorted(support), (lo, hi))
