"""The structural probe's gradient passes: identities share rows, chunking changes nothing, one trace.

The fields themselves are checked against hand-derived numbers and the analysis in test_probes.py;
here the checks are that the cheaper bookkeeping (one clone output per distinct tensor, gathered
units instead of full masks, the batch in chunks) measures what one row per unit measured.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.tf


def _keras():
    pytest.importorskip("tensorflow")
    import keras

    return keras


def _conv_bn_relu(keras):
    inp = keras.Input((12, 12, 2))
    x = keras.layers.Conv2D(3, 3, name="c1")(inp)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.ReLU(name="r1")(x)
    x = keras.layers.Conv2D(3, 3, strides=2, name="c2")(x)
    x = keras.layers.Activation("relu", name="a2")(x)
    return keras.Model(inp, x, name="cbr")


def test_identities_share_the_output_of_the_layer_before_them():
    keras = _keras()
    from rfcalc.runs.probe_model import support_model

    model = _conv_bn_relu(keras)
    clone, kept, index = support_model(model, (12, 12, 2), ("c1", "bn1", "r1", "c2", "a2"))
    assert kept == ("c1", "bn1", "r1", "c2", "a2")
    assert index == (0, 0, 0, 1, 1)  # BatchNorm and the activations are identities in the clone
    assert len(clone.outputs) == 2


def test_shared_rows_measure_the_hand_derived_fields():
    keras = _keras()
    from rfcalc import probe

    r = probe(_conv_bn_relu(keras))
    by = {p.name: p for p in r.layers}
    for name in ("c1", "bn1", "r1"):  # a 3x3 'valid' conv: unit u reads pixels u..u+2
        assert by[name].rf == (3, 3) and by[name].jump == (1, 1) and by[name].start == (1, 1)
        assert [list(s) for s in by[name].spans] == [[(u, u + 2)] * 2 for u, _ in by[name].units]
    for name in ("c2", "a2"):  # then a 3x3 conv of stride 2: unit 0 reads c1 units 0..2, pixels 0..4
        assert by[name].rf == (5, 5) and by[name].jump == (2, 2) and by[name].start == (2, 2)
    assert r.agree


def test_chunked_passes_equal_one_pass_and_trace_once(monkeypatch):
    _keras()
    import tensorflow as tf

    from rfcalc import probe
    from rfcalc.runs import probe_passes

    spec, shape = "c3,bn,c3s2,p2,c3d2", "16x16x3"
    made = []
    real = tf.function

    def counting(fn=None, **kwargs):  # records the probe's own tf.function; Keras' decorators pass through
        if fn is None:
            return real(**kwargs)
        made.append(real(fn, **kwargs))
        return made[-1]

    one = probe(spec, input_shape=shape).to_dict()
    monkeypatch.setattr(tf, "function", counting)
    monkeypatch.setattr(probe_passes, "_MEMORY", 1)  # chunks of one row: one pass per distinct unit
    chunked = probe(spec, input_shape=shape).to_dict()
    assert one["passes"] == 1
    assert chunked["passes"] == 8  # 5 layers, 2 units each; batch_normalization shares conv2d's 2 rows
    assert len(made) == 1 and made[0].experimental_get_tracing_count() == 1
    for d in (one, chunked):
        d.pop("passes"), d.pop("seconds")
    assert one == chunked
