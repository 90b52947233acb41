"""Regressions found in review of the Keras adapters and the probes."""

from __future__ import annotations

import pytest

from rfcalc.errors import RFError, ShapeError


def _tf():
    pytest.importorskip("tensorflow")
    import keras

    return keras


@pytest.mark.tf
def test_erf_of_a_map_made_from_a_global_pool_has_no_theoretical_field():
    keras = _tf()
    from rfcalc.runs.probes import erf

    inp = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(2, 3, padding="same", name="c1")(inp)
    x = keras.layers.GlobalAveragePooling2D(keepdims=True, name="g")(x)
    model = keras.Model(inp, keras.layers.Conv2D(2, 1, name="c2")(x))
    r = erf(model, layer="c2", samples=2)
    assert r.rf is None and r.unit == (0, 0)
    assert set(r.sides) == {0.5, 0.9, 0.99}


@pytest.mark.tf
def test_erf_of_a_fixed_size_model_at_another_size_keeps_its_weights():
    keras = _tf()
    from rfcalc.runs.probes import erf

    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, padding="same", name="c")])
    for w in model.weights:
        w.assign(keras.ops.zeros(w.shape))
    with pytest.raises(RFError, match="zero for every input"):  # its own (dead) weights, not fresh ones
        erf(model, input_shape=(12, 12, 1), samples=2)


@pytest.mark.tf
def test_erf_refuses_a_size_its_weights_do_not_fit():
    keras = _tf()
    from rfcalc.runs.probes import erf

    model = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c"), keras.layers.Flatten(), keras.layers.Dense(3)]
    )
    with pytest.raises(ShapeError, match=r"weights do not fit another size.*input_shape=\(12, 12, 1\)"):
        erf(model, input_shape=(12, 12, 1), samples=2)


def test_a_test_batch_too_large_for_cifar_is_refused_before_it_is_read(tmp_path):
    from rfcalc.cifar import FOLDER, MAX_MEMBER_BYTES, TEST_BATCH, load_test_image
    from rfcalc.errors import DataError

    folder = tmp_path / FOLDER
    folder.mkdir()
    with open(folder / TEST_BATCH, "wb") as fh:  # sparse: no disk used
        fh.truncate(MAX_MEMBER_BYTES + 1)
    with pytest.raises(DataError, match="far too large"):
        load_test_image(0, data_dir=tmp_path)
