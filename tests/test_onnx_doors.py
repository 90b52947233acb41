"""Three doors, one architecture: a Keras model via from_keras and the same network as an ONNX graph
(what an exporter writes: NCHW, explicit pads) via from_onnx give the same rf, jump, start, shapes
and parameters. (The torch door is in tests/test_torch.py.)"""

from __future__ import annotations

import pytest

pytest.importorskip("onnx")

from onnx import helper  # noqa: E402
from onnxfix import model, weight  # noqa: E402

from rfcalc.frameworks.onnx import from_onnx  # noqa: E402

N = helper.make_node
SIZE = 34  # 'same' padding is symmetric on every layer at this size, as PyTorch's must be


def onnx_door():
    nodes = [
        N("Conv", ["x", "c1.w", "c1.b"], ["h1"], name="c1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        N("Relu", ["h1"], ["r1"], name="r1"),
        N("MaxPool", ["r1"], ["p1"], name="p1", kernel_shape=[2, 2], strides=[2, 2]),
        N("Conv", ["p1", "c2.w", "c2.b"], ["h2"], name="c2", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        N("BatchNormalization", ["h2", "bn.g", "bn.b", "bn.m", "bn.v"], ["b2"], name="bn"),
        N("Relu", ["b2"], ["r2"], name="r2"),
        N("Conv", ["r2", "c3.w", "c3.b"], ["h3"], name="c3", kernel_shape=[3, 3], dilations=[2, 2], pads=[2, 2, 2, 2]),
        N("Conv", ["r2", "sk.w", "sk.b"], ["s3"], name="skip", kernel_shape=[1, 1]),
        N("Add", ["h3", "s3"], ["a3"], name="add"),
        N("GlobalAveragePool", ["a3"], ["g"], name="gap"),
        N("Flatten", ["g"], ["f"], name="flat"),
        N("Gemm", ["f", "fc.w", "fc.b"], ["y"], name="fc", transB=1),
    ]
    inits = [
        weight("c1.w", (8, 3, 3, 3)),
        weight("c1.b", (8,)),
        weight("c2.w", (16, 8, 3, 3)),
        weight("c2.b", (16,)),
        weight("bn.g", (16,)),
        weight("bn.b", (16,)),
        weight("bn.m", (16,)),
        weight("bn.v", (16,), True),
        weight("c3.w", (16, 16, 3, 3)),
        weight("c3.b", (16,)),
        weight("sk.w", (16, 16, 1, 1)),
        weight("sk.b", (16,)),
        weight("fc.w", (10, 16)),
        weight("fc.b", (10,)),
    ]
    return from_onnx(model(nodes, inits, shape=(1, 3, SIZE, SIZE)))


def keras_door():
    keras = pytest.importorskip("keras")
    L = keras.layers
    x = keras.Input((SIZE, SIZE, 3))
    h = L.Conv2D(8, 3, padding="same", activation="relu", name="c1")(x)
    h = L.MaxPooling2D(2, name="p1")(h)
    h = L.Conv2D(16, 3, strides=2, padding="same", name="c2")(h)
    h = L.ReLU(name="r2")(L.BatchNormalization(name="bn")(h))
    a = L.Add(name="add")(
        [L.Conv2D(16, 3, dilation_rate=2, padding="same", name="c3")(h), L.Conv2D(16, 1, name="skip")(h)]
    )
    y = L.Dense(10, name="fc")(L.GlobalAveragePooling2D(name="gap")(a))
    from rfcalc.frameworks.keras import from_keras

    return from_keras(keras.Model(x, y, name="doors"))


def fields(analysis, names):
    return {n: (r.rf, r.rf_min, r.jump, r.start, r.output_shape, r.params) for n in names for r in [analysis.row(n)]}


SHARED = ["c1", "p1", "c2", "bn", "c3", "skip", "add", "fc"]


@pytest.mark.tf
def test_keras_and_onnx_doors_agree():
    k, o = keras_door(), onnx_door()
    assert fields(k, SHARED) == fields(o, SHARED)
    assert (k.rf, k.jump, k.start) == (o.rf, o.jump, o.start)
    assert (k.trainable_params, k.non_trainable_params) == (o.trainable_params, o.non_trainable_params)


def test_onnx_door_numbers():
    o = onnx_door()
    assert o.row("add").rf == (24, 24) and o.row("add").rf_min == (8, 8) and o.row("add").jump == (4, 4)
    assert o.row("c2").output_shape == (9, 9, 16)
