"""Gradient probes on 1-D and 3-D nets and on decoders, against the analysis and hand-derived fields.

After upsampling or a transposed conv, output units of different phases read different numbers
of input pixels; the probe measures every phase, so both ``rf`` and ``rf_min`` and each unit's
exact field (``Row.field_of``) are checked against gradients.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).parent))
import keras_stacks as ks  # noqa: E402

from rfcalc.errors import RFError, ShapeError  # noqa: E402

pytestmark = [pytest.mark.tf]

keras = None


@pytest.fixture(autouse=True, scope="module")
def _keras():
    global keras
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")


def model_of(shape, *layers):
    x = inp = keras.Input(shape=shape)
    for cls, kwargs in layers:
        x = getattr(keras.layers, cls)(**kwargs)(x)
    return keras.Model(inp, x)


def conv(rank, k, **kw):
    return (f"Conv{rank}D", dict(filters=2, kernel_size=k, **kw))


# (model, measured rf, rf_min, jump) of the last layer, each derived by hand in the comment
HAND = {
    # WaveNet: kernel-2 causal convs with dilations 1, 2, 4, 8 see 1 + 1 + 2 + 4 + 8 = 16 samples
    "wavenet block of four dilated causal convs": (
        lambda: model_of((40, 1), *[conv(1, 2, padding="causal", dilation_rate=d) for d in (1, 2, 4, 8)]),
        (16,),
        (16,),
        (1,),
    ),
    "conv3d and pooling3d": (
        lambda: model_of((10, 12, 12, 1), conv(3, 3), ("MaxPooling3D", dict(pool_size=2)), conv(3, (1, 3, 3))),
        (4, 8, 8),
        (4, 8, 8),
        (2, 2, 2),
    ),
    # up2 then a 2-tap conv: even units read one input sample twice, odd units two samples
    "upsampling then a two-tap conv has two phases": (
        lambda: model_of((12, 1), ("UpSampling1D", dict(size=2)), conv(1, 2)),
        (2,),
        (1,),
        (0.5,),
    ),
    # transposed conv k3 s2: even outputs collect taps 0 and 2 (two inputs), odd ones tap 1 (one)
    "transposed conv k3 s2 has two phases": (
        lambda: model_of((10, 1), ("Conv1DTranspose", dict(filters=1, kernel_size=3, strides=2))),
        (2,),
        (1,),
        (0.5,),
    ),
    # up2 then a 4-tap conv: even units read samples m, m, m+1, m+1 (two), odd ones m .. m+2 (three)
    "upsampling 2d then a 4x4 conv on both axes": (
        lambda: model_of((8, 8, 1), ("UpSampling2D", dict(size=2)), conv(2, 4)),
        (3, 3),
        (2, 2),
        (0.5, 0.5),
    ),
}


@pytest.mark.parametrize("build, rf, rf_min, jump", HAND.values(), ids=HAND.keys())
def test_probe_measures_hand_derived_fields_of_every_phase(build, rf, rf_min, jump):
    from rfcalc import probe

    result = probe(build())
    last = result.selected
    assert last.rf == rf and last.rf_min == rf_min
    assert tuple(float(j) for j in last.jump) == jump
    assert result.agree, [p.to_dict() for p in result.layers if not p.agree]


def test_every_phase_is_probed_and_compared_unit_by_unit():
    from rfcalc import probe

    result = probe(
        model_of(
            (12, 12, 1),
            ("Conv2DTranspose", dict(filters=1, kernel_size=3, strides=3)),
            ("UpSampling2D", dict(size=2)),
            conv(2, 2),
        )
    )
    last = result.selected
    assert last.phases == (6, 6) and len(last.units) == 7
    assert all(m == a for m, a in zip(last.spans, last.analytic_spans))
    assert result.agree


def test_unet_style_skip_concatenation_probes_agree():
    from rfcalc import probe

    x = inp = keras.Input((20, 1))
    a = keras.layers.Conv1D(2, 3, padding="same")(x)
    b = keras.layers.MaxPooling1D(2)(a)
    b = keras.layers.Conv1D(2, 3, padding="same")(b)
    b = keras.layers.UpSampling1D(2)(b)
    y = keras.layers.Concatenate()([a, b])
    y = keras.layers.Conv1D(1, 3, padding="same")(y)
    result = probe(keras.Model(inp, y))
    assert result.agree, [p.to_dict() for p in result.layers if not p.agree]


def test_erf_of_a_signal_is_a_curve_inside_the_field(tmp_path):
    from rfcalc import erf
    from rfcalc.runs.plots import plot_erf

    model = model_of((64, 1), *[conv(1, 3, padding="same") for _ in range(4)])
    r = erf(model, samples=8)
    assert r.heatmap.shape == (64,) and r.rf == (9,)
    assert r.sides[0.99] <= 9 and abs(r.heatmap.sum() - 1) < 1e-9
    assert Path(plot_erf(r, tmp_path / "erf1d.png")).stat().st_size > 1000


def test_erf_of_a_volume_is_a_3d_heatmap(tmp_path):
    from rfcalc import erf
    from rfcalc.runs.plots import plot_erf

    r = erf(model_of((9, 9, 9, 1), conv(3, 3, padding="same"), conv(3, 3, padding="same")), samples=4)
    assert r.heatmap.shape == (9, 9, 9) and r.rf == (5, 5, 5) and r.sides[0.99] <= 5
    assert Path(plot_erf(r, tmp_path / "erf3d.png")).stat().st_size > 1000


def test_probe_of_rank_mismatched_input_is_refused():
    from rfcalc import probe

    with pytest.raises(RFError, match="rank"):
        probe(model_of((16, 1), conv(1, 3)), input_shape=(16, 16, 1))


@pytest.mark.slow
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_random_decoders_probe_equals_analysis(rank):
    from rfcalc import probe

    @settings(max_examples={1: 8, 2: 6, 3: 3}[rank], deadline=None, suppress_health_check=list(HealthCheck))
    @given(ks.encoder_decoder(rank, resize=False))
    def check(drawn):
        model = ks.build(keras, *drawn)
        if model is None or not any(
            type(layer).__name__.startswith(("UpSampling", "Conv1DT", "Conv2DT", "Conv3DT")) for layer in model.layers
        ):
            return
        try:
            result = probe(model)
        except ShapeError as err:  # a 'same' transposed conv TensorFlow cannot run (test_keras_nd)
            assert "TensorFlow refuses" in str(err)
            return
        except RFError as err:  # a dilated Conv3DTranspose whose gradient TensorFlow cannot take
            assert "TensorFlow could not take the gradient" in str(err)
            return
        bad = [p.to_dict() for p in result.layers if not p.agree]
        assert not bad, bad

    check()


def test_unet_fields_depend_on_the_phase_and_the_probe_sees_both():
    """The U-Net of docs/keras.md on one axis (its fields are separable): 16 phases, 188 or 204 wide."""
    import warnings

    from rfcalc import probe

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = probe(ks.unet(keras, (572, 1), widths=(1, 1, 1, 1)))
    last = result.selected
    assert last.phases == (16,) and last.rf == (204,) and last.rf_min == (188,)
    assert last.analytic_rf == (204,) and result.agree


def test_a_causal_field_wholly_left_of_its_unit_grows_the_input_enough():
    from rfcalc import probe

    result = probe("c2d1..512/causal", input_shape="16x1")  # WaveNet's one stack: 1,024 samples
    assert result.selected.rf == (1024,) and result.agree and result.probe_shape[0] > 2 * 1023


def test_cli_erf_of_a_signal_prints_segments(capsys):
    from rfcalc.cli import main

    assert main(["probe", "c3*4", "--input", "64x1", "--erf", "--samples", "4"]) == 0
    out = capsys.readouterr().out
    assert "segment holding 99% of |gradient|" in out and "centroid (sample)" in out


@pytest.mark.parametrize("spec, shape", [("c2d1..8/causal,up2,c3", "64x1"), ("c3,p2,c3x1x1,up2", "8x16x16x1")])
def test_growth_plot_of_a_signal_and_a_volume(tmp_path, spec, shape):
    pytest.importorskip("matplotlib")
    from rfcalc import analyze
    from rfcalc.runs.plots import plot_rf_growth

    assert Path(plot_rf_growth(analyze(spec, input_shape=shape), tmp_path / "g.png")).stat().st_size > 1000


def test_field_on_an_image_needs_a_2d_analysis(tmp_path):
    from rfcalc import analyze
    from rfcalc.errors import ShapeError
    from rfcalc.runs.plots import plot_rf_on_image

    with pytest.raises(ShapeError, match="2-D image"):
        plot_rf_on_image(analyze("c3", input_shape="16x1"), [[0.0] * 16], path=tmp_path / "x.png")


@pytest.mark.parametrize(
    "shape, layer, rf_min",
    [
        ((10, 1), ("Conv1DTranspose", dict(filters=1, kernel_size=1, strides=3)), (0,)),
        ((10, 10, 1), ("Conv2DTranspose", dict(filters=1, kernel_size=1, strides=(1, 2))), (1, 0)),
        ((10, 10, 1), ("Conv2DTranspose", dict(filters=1, kernel_size=(1, 4), strides=3)), (0, 1)),
    ],
    ids=[
        "1-D: two of three outputs read nothing",
        "2-D: every other column reads nothing",
        "2-D: an empty row hides the narrowest columns",
    ],
)
def test_units_that_read_nothing_are_measured_empty(shape, layer, rf_min):
    from rfcalc import probe

    result = probe(model_of(shape, layer))
    last = result.selected
    assert None in last.spans and last.analytic_rf_min == rf_min and result.agree


def test_phases_of_one_axis_paired_with_empty_phases_of_another_are_all_probed():
    """Hypothesis found it: after a x2 upsample on depth and a transposed conv of stride 2 and kernel 1
    on width, every other width unit reads nothing; the diagonal of units paired each wide depth phase
    with an empty width phase, so the probe never saw the depth field of 2 the analysis has."""
    from rfcalc import probe

    L = keras.layers
    x = keras.Input((6, 6, 6, 1))
    y = L.Conv3D(1, 1)(x)
    y = L.UpSampling3D((2, 1, 1))(y)
    y = L.Conv3DTranspose(1, (2, 1, 1), strides=(2, 1, 2))(y)
    y = L.Conv3D(1, (2, 1, 1))(y)
    result = probe(keras.Model(x, y))
    last = result.selected
    assert last.phases == (4, 1, 2) and last.rf == last.analytic_rf == (2, 1, 1)
    assert result.agree, [p.to_dict() for p in result.layers if not p.agree]
