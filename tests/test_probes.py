"""Gradient probes as an oracle for the analysis, and the effective receptive field.

The structural probe measures fields from gradients of a Keras model; the analysis computes them
from formulas. They share no arithmetic, so agreement on random stacks checks both. ERF cases are
checked against closed forms (a sum of n uniform {-1,0,1} steps has variance 2n/3).
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from rfcalc.errors import RFError, ShapeError
from rfcalc.runs.erf_result import moments, smallest_square


def _tf():
    pytest.importorskip("tensorflow")
    import keras

    return keras


def _measured_vs_analysis(result, spec):
    """Every probed layer's measurement against ``analyze`` at the probing input size."""
    from rfcalc import analyze

    analysis = analyze(spec, result.probe_shape)
    for p in result.layers:
        row = analysis.row(p.name)
        assert not p.clipped, p
        assert p.rf == row.rf, (p.name, p.rf, row.rf)
        for axis in (0, 1):
            if p.jump[axis] is not None:
                assert p.jump[axis] == row.jump[axis], (p.name, p.jump, row.jump)
            assert Fraction(p.start[axis]) == row.start[axis], (p.name, p.start, row.start)


# ------------------------------------------------------------------ pure helpers (no TensorFlow)

SQUARES = [
    # name, heatmap, centre, fraction, side
    ("one_pixel_holds_all", [[0, 0, 0], [0, 1, 0], [0, 0, 0]], (1, 1), 0.99, 1),
    ("uniform_3x3_needs_3", [[1] * 3] * 3, (1, 1), 0.5, 3),
    ("half_pixel_centre_even_side", [[1, 1], [1, 1]], (Fraction(1, 2), Fraction(1, 2)), 0.99, 2),
    ("square_past_the_border", [[1, 0, 0], [0, 0, 0], [0, 0, 0]], (2, 2), 0.99, 5),
]


@pytest.mark.parametrize("name,heat,centre,fraction,side", SQUARES, ids=[c[0] for c in SQUARES])
def test_smallest_square(name, heat, centre, fraction, side):
    assert smallest_square(heat, centre, fraction) == side


def test_moments_of_two_points():
    (my, mx), (sy, sx) = moments([[1, 0, 0, 0, 1]])
    assert (my, mx, sy, sx) == (0.0, 2.0, 0.0, 2.0)


# ------------------------------------------------------------------ structural probe: named cases

CASES = [
    # name, spec, input, expected rf, jump, start of the last layer (hand-derived)
    ("one_conv", "c3-2", (9, 9, 1), (3, 3), (1, 1), (0, 0)),
    ("dilation_leaves_holes_box_counts", "c3d3-2", (15, 15, 1), (7, 7), (1, 1), (0, 0)),
    ("non_square_kernel", "c3x1-2,c1x5-2", (11, 11, 1), (3, 5), (1, 1), (0, 0)),
    ("max_pool_2", "p2", (8, 8, 1), (2, 2), (2, 2), (Fraction(1, 2), Fraction(1, 2))),
    ("non_square_pool", "p2x3", (12, 12, 1), (2, 3), (2, 3), (Fraction(1, 2), 1)),
    ("stride_longer_than_kernel", "c1s3-2,c3-2", (15, 15, 1), (7, 7), (3, 3), (0, 0)),
    ("same_stride_even_input", "c3s2-2", (8, 8, 1), (3, 3), (2, 2), (1, 1)),
    ("same_stride_odd_input", "c3s2-2", (9, 9, 1), (3, 3), (2, 2), (0, 0)),
    ("valid_shifts_start", "c3-2/valid,c3-2/valid", (12, 12, 1), (5, 5), (1, 1), (2, 2)),
    ("avg_pool_overlapping", "c3-2,a3s2", (13, 13, 2), (5, 5), (2, 2), (1, 1)),
    ("zero_pad_then_valid", "zp1,c3-2/valid", (8, 8, 1), (3, 3), (1, 1), (0, 0)),
    ("crop_moves_start", "c3-2,crop1", (10, 10, 1), (3, 3), (1, 1), (1, 1)),
    ("depthwise_and_separable", "dw3,sep3-2", (12, 12, 2), (5, 5), (1, 1), (0, 0)),
    ("vgg_block_with_bn", "c3-2,bn,c3-2,p2", (12, 12, 3), (6, 6), (2, 2), (Fraction(1, 2), Fraction(1, 2))),
]


@pytest.mark.tf
@pytest.mark.parametrize("name,spec,shape,rf,jump,start", CASES, ids=[c[0] for c in CASES])
def test_probe_measures_hand_derived_fields(name, spec, shape, rf, jump, start):
    _tf()
    from rfcalc.runs.probes import probe

    r = probe(spec, input_shape=shape)
    last = r.layers[-1]
    assert last.rf == rf and last.jump == jump
    assert tuple(Fraction(s) for s in last.start) == tuple(Fraction(s) for s in start)
    _measured_vs_analysis(r, spec)
    assert r.agree and r.passes == 1


@pytest.mark.tf
def test_field_larger_than_input_is_probed_on_a_larger_input():
    _tf()
    from rfcalc.runs.probes import probe

    r = probe("c3-1*8", input_shape=(8, 8, 1))
    assert r.probe_shape[0] > 17 and r.rf == (17, 17) and r.agree
    assert r.input_shape == (8, 8, 1)


@pytest.mark.tf
def test_deep_stack_support_does_not_underflow():
    # 45 layers: centre and edge of the field differ by ~16^45 in a plain float32 gradient
    _tf()
    from rfcalc.runs.probes import probe

    r = probe("c3-1*45", input_shape=(8, 8, 1))
    assert r.rf == (91, 91) and r.agree


@pytest.mark.tf
def test_named_layer_is_reported_and_later_layers_skipped():
    _tf()
    from rfcalc.runs.probes import probe

    r = probe("c3-2,p2,c3-2", input_shape=(16, 16, 1), layer="max_pooling2d")
    assert r.layer == "max_pooling2d" and [p.name for p in r.layers] == ["conv2d", "max_pooling2d"]
    assert r.measured == {"rf": [4, 4], "rf_min": [4, 4], "jump": [2, 2], "start": [0.5, 0.5]}
    d = r.to_dict()
    assert set(d) >= {"measured", "analytic", "agree", "layers"} and d["agree"] is True


BAD = [
    ("unknown_layer", dict(layer="conv2d_9"), RFError, "conv2d_9"),
    ("non_spatial_layer", dict(layer="flatten"), RFError, "flatten"),
    ("valid_window_too_big", dict(input_shape=(2, 2, 1)), ShapeError, "Received"),
]


@pytest.mark.tf
@pytest.mark.parametrize("name,kwargs,error,text", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_itself(name, kwargs, error, text):
    _tf()
    from rfcalc.runs.probes import probe

    with pytest.raises(error, match=text):
        probe("c3-2/valid,flat,fc2", **kwargs)


# ------------------------------------------------------------------ random stacks (hypothesis)


def _stacks():
    from hypothesis import strategies as st

    from rfcalc.layers import Conv, Pool

    pair = st.tuples(st.integers(1, 4), st.integers(1, 4))
    small = st.tuples(st.integers(1, 3), st.integers(1, 3))
    padding = st.sampled_from(["same", "valid"])
    conv = st.builds(
        lambda k, s, d, p, dilate: Conv(k, s if not dilate else (1, 1), d if dilate else (1, 1), 2, p),
        pair,
        st.tuples(st.integers(1, 2), st.integers(1, 2)),
        small,
        padding,
        st.booleans(),
    )
    pool = st.builds(lambda op, k, s, p: Pool(op, k, s, p), st.sampled_from(["max", "avg"]), small, small, padding)
    return st.tuples(
        st.lists(st.one_of(conv, conv, pool), min_size=1, max_size=5),
        st.integers(4, 12),
        st.integers(4, 12),
        st.integers(1, 2),
    )


@pytest.mark.tf
@pytest.mark.slow
def test_random_stacks_probe_equals_analysis():
    _tf()
    from hypothesis import HealthCheck, assume, given, settings

    from rfcalc import analyze
    from rfcalc.runs.probes import probe

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(_stacks())
    def check(case):
        layers, h, w, c = case
        layers = tuple(layers)
        try:
            analyze(layers, (h, w, c))
        except ShapeError:
            assume(False)
        r = probe(layers, input_shape=(h, w, c))
        _measured_vs_analysis(r, layers)

    check()


# ------------------------------------------------------------------ branches (functional models)


def _residual(keras):
    L = keras.layers
    x = keras.Input((10, 10, 2))
    y = L.Conv2D(2, 3, padding="same", activation="relu")(x)
    y = L.Conv2D(2, 3, strides=2, padding="same")(y)
    s = L.Conv2D(2, 1, strides=2)(x)  # projection shortcut
    z = L.ReLU()(L.Add()([s, y]))
    return keras.Model(x, L.Conv2D(2, 3, padding="same")(z)), (9, 9), (2, 2)


def _inception(keras):
    L = keras.layers
    x = keras.Input((12, 12, 3))
    a = L.Conv2D(2, 1)(x)
    b = L.Conv2D(2, 3, padding="same")(L.Conv2D(2, 1)(x))
    c = L.Conv2D(2, 5, padding="same")(L.Conv2D(2, 1)(x))
    d = L.Conv2D(2, 1)(L.MaxPooling2D(3, 1, padding="same")(x))
    z = L.Concatenate()([a, b, c, d])
    return keras.Model(x, L.MaxPooling2D(2)(z)), (6, 6), (2, 2)


@pytest.mark.tf
@pytest.mark.parametrize("build", [_residual, _inception], ids=["residual_block", "inception_block"])
def test_branching_blocks_probe_equals_from_keras(build):
    keras = _tf()
    keras_io = pytest.importorskip("rfcalc.frameworks.keras")
    if not hasattr(keras_io, "from_keras"):
        pytest.skip("from_keras not available")
    from rfcalc.runs.probes import probe

    model, rf, jump = build(keras)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # misaligned at 10x10; the probe grows the input to an odd size
        r = probe(model)
    assert r.rf == rf and r.selected.jump == jump
    bad = [p.to_dict() for p in r.layers if not p.agree]
    assert r.agree, bad


@pytest.mark.tf
def test_fixed_size_model_with_head_is_resized_for_a_big_field():
    keras = _tf()
    L = keras.layers
    model = keras.Sequential(
        [keras.Input((6, 6, 1))] + [L.Conv2D(2, 3, padding="same") for _ in range(4)] + [L.Flatten(), L.Dense(3)]
    )
    from rfcalc.runs.probes import probe

    r = probe(model)
    assert r.probe_shape[0] > 9 and r.rf == (9, 9) and r.agree


# ------------------------------------------------------------------ effective receptive field


@pytest.mark.tf
def test_erf_of_one_equal_kernel_conv_is_its_square():
    keras = _tf()
    from rfcalc.runs.probes import erf

    model = keras.Sequential(
        [keras.Input((9, 9, 2)), keras.layers.Conv2D(1, 3, padding="same", kernel_initializer="ones")]
    )
    r = erf(model, samples=3)
    assert r.sides == {0.5: 3, 0.9: 3, 0.99: 3} and r.rf == (3, 3)
    assert r.heatmap.shape == (9, 9) and abs(r.heatmap.sum() - 1) < 1e-9


@pytest.mark.tf
def test_erf_of_deep_linear_stack_is_gaussian_and_smaller_than_rf():
    keras = _tf()
    import numpy as np

    from rfcalc.runs.probes import erf

    n = 10
    model = keras.Sequential(
        [keras.Input((32, 32, 1))]
        + [keras.layers.Conv2D(1, 3, padding="same", use_bias=False, kernel_initializer="ones") for _ in range(n)]
    )
    r = erf(model, samples=2)
    assert r.rf == (21, 21)
    assert r.sides[0.99] < 21 and r.ratio[0.9] < 0.6
    expected = (2 * n / 3) ** 0.5  # CLT: sum of n uniform steps in {-1, 0, 1}
    assert all(abs(s - expected) < 1e-3 for s in r.sigma)
    p = r.heatmap.sum(axis=0)
    x = np.arange(p.size) - r.centroid[1]
    kurtosis = (p @ x**4) / (p @ x**2) ** 2 - 3
    assert abs(kurtosis) < 0.3  # -1.5/n for this sum: close to a Gaussian's 0


@pytest.mark.tf
def test_erf_of_fresh_relu_stack_is_inside_the_theoretical_field():
    _tf()
    from rfcalc.runs.probes import erf

    r = erf("c3-4*6", input_shape=(24, 24, 1), samples=8, seed=1)
    assert r.rf == (13, 13) and r.sides[0.5] < 13 and r.sides[0.99] <= 13


@pytest.mark.tf
def test_erf_images_of_wrong_size_are_refused():
    _tf()
    import numpy as np

    from rfcalc.runs.probes import erf

    with pytest.raises(ShapeError, match="Received"):
        erf("c3-2", input_shape=(8, 8, 1), images=np.zeros((2, 9, 9, 1)))


# ------------------------------------------------------------------ command line (rfcalc/runs/cli.py)


def _run(argv):
    import argparse

    from rfcalc.runs import cli as probe_cli

    p = argparse.ArgumentParser()
    probe_cli.add_arguments(p)
    return probe_cli.run(p.parse_args(argv))


@pytest.mark.tf
def test_cli_json_is_probe_result_and_plot_is_written(tmp_path, capsys):
    _tf()
    import json

    assert _run(["c3-2,p2", "--input", "8x8x1", "--json", "--plot", str(tmp_path / "g.png")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["measured"] == data["analytic"] == {"rf": [4, 4], "rf_min": [4, 4], "jump": [2, 2], "start": [0.5, 0.5]}
    assert data["agree"] is True and (tmp_path / "g.png").stat().st_size > 5000


@pytest.mark.tf
def test_cli_erf_on_an_image_with_its_heatmap(tmp_path, capsys):
    _tf()
    import numpy as np
    from matplotlib import image

    image.imsave(str(tmp_path / "in.png"), np.random.default_rng(0).random((12, 12, 3)))
    assert _run(["c3-2*2", "--erf", "--image", str(tmp_path / "in.png"), "--plot", str(tmp_path / "e.png")]) == 0
    out = capsys.readouterr().out
    assert "1 given image" in out and "5x5" in out and (tmp_path / "e.png").stat().st_size > 5000


@pytest.mark.tf
def test_cli_field_on_image(tmp_path, capsys):
    _tf()
    import numpy as np
    from matplotlib import image

    image.imsave(str(tmp_path / "in.png"), np.random.default_rng(0).random((16, 16, 3)))
    assert (
        _run(["c3-2,p2", "--image", str(tmp_path / "in.png"), "--unit", "0,7", "--plot", str(tmp_path / "f.png")]) == 0
    )
    assert "all layers agree" in capsys.readouterr().out and (tmp_path / "f.png").stat().st_size > 5000


def test_cli_rejects_bad_unit_and_samples():
    import argparse

    from rfcalc.runs import cli as probe_cli

    p = argparse.ArgumentParser()
    probe_cli.add_arguments(p)
    for argv in (["c3", "--unit", "1,2,3,4"], ["c3", "--samples", "0"], ["c3", "--input", "ax3"]):
        with pytest.raises(SystemExit):
            p.parse_args(argv)


@pytest.mark.tf
def test_misaligned_add_is_flagged_and_its_union_agrees():
    # shortcut 1x1/2 starts at 0; 'same' 3x3/2 on an even input pads (0, 1) and starts at 1
    keras = _tf()
    import warnings

    L = keras.layers
    x = keras.Input((12, 12, 2))
    model = keras.Model(x, L.Add()([L.Conv2D(2, 1, strides=2)(x), L.Conv2D(2, 3, strides=2, padding="same")(x)]))
    from rfcalc.runs.probes import probe

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = probe(model)
    add = r.selected
    assert add.rf == add.analytic_rf == (3, 3)
    # the union of [0, 0] (shortcut) and [0, 2] (3x3 conv) is [0, 2]: centre 1, measured and analysed
    assert add.start == add.analytic_start == (1, 1)
    assert "misaligned" in add.flags and add.agree


@pytest.mark.tf
@pytest.mark.slow
def test_resnet50_probe_measures_the_published_483():
    # Araujo et al. 2019 (Distill), table of receptive fields: ResNet-50 v1, 483 pixels
    _tf()
    import warnings

    from rfcalc.runs.probes import probe

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = probe("keras:ResNet50")
    assert r.rf == (483, 483) and r.agree and len(r.layers) > 150


@pytest.mark.tf
def test_erf_of_a_model_the_analysis_cannot_read_centres_on_the_mass():
    keras = _tf()
    from rfcalc.runs.probes import erf

    L = keras.layers
    model = keras.Sequential(
        [keras.Input((9, 9, 1)), L.Conv2D(1, 3, padding="same", kernel_initializer="ones"), L.Lambda(lambda t: 2.0 * t)]
    )
    r = erf(model, samples=2)
    assert r.rf is None and r.layer == "lambda"  # the last layer with an (H, W, C) output
    assert r.sides[0.99] == 3 and r.ratio[0.99] is None


@pytest.mark.tf
def test_fully_convolutional_model_of_free_size_is_probed_at_any_size():
    keras = _tf()
    L = keras.layers
    model = keras.Sequential(
        [
            keras.Input((None, None, 1)),
            L.Conv2D(2, 5, padding="same"),
            L.MaxPooling2D(2),
            L.Conv2D(2, 3, strides=2, padding="same"),
        ]
    )
    from rfcalc.runs.probes import probe

    for size in (9, 10):
        r = probe(model, input_shape=(size, size, 1))
        assert r.rf == (10, 10) and r.agree, [p.to_dict() for p in r.layers]
