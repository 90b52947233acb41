"""Figures: each writes a readable PNG; bad inputs are named in the error. No TensorFlow needed."""

from __future__ import annotations

from fractions import Fraction

import pytest

from rfcalc import analyze
from rfcalc.errors import RFError, ShapeError

PNG = b"\x89PNG\r\n\x1a\n"


def _np():
    pytest.importorskip("matplotlib")
    return pytest.importorskip("numpy")


def _png(path):
    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > 5000
    from matplotlib import image

    img = image.imread(str(path))
    assert img.shape[0] > 200 and img.shape[1] > 200
    assert img[..., :3].std() > 0.05  # not a blank canvas


def _erf_result(np):
    from rfcalc.runs.erf_result import ErfResult, moments, smallest_square

    y, x = np.mgrid[0:15, 0:15]
    heat = np.exp(-((y - 7) ** 2 + (x - 7) ** 2) / 8.0)
    heat /= heat.sum()
    centre = (Fraction(7), Fraction(7))
    centroid, sigma = moments(heat)
    sides = {f: smallest_square(heat, centre, f) for f in (0.5, 0.9, 0.99)}
    return ErfResult(
        "c3*4",
        "conv2d_3",
        (15, 15, 1),
        (7, 7),
        8,
        "8 random normal inputs",
        (9, 9),
        centre,
        sides,
        centroid,
        sigma,
        heat,
    )


def test_plot_erf_writes_png(tmp_path):
    np = _np()
    from rfcalc.runs.plots import plot_erf

    assert plot_erf(_erf_result(np), tmp_path / "erf.png") == str(tmp_path / "erf.png")
    _png(tmp_path / "erf.png")


IMAGES = [
    ("rgb_float", lambda np: np.random.default_rng(0).random((32, 32, 3))),
    ("gray_uint8", lambda np: (np.arange(32 * 32).reshape(32, 32) % 256).astype(np.uint8)),
    ("rgba", lambda np: np.random.default_rng(1).random((32, 32, 4))),
    ("unscaled_floats", lambda np: np.random.default_rng(2).normal(size=(32, 32, 3)) * 50),
]


@pytest.mark.parametrize("name,make", IMAGES, ids=[i[0] for i in IMAGES])
def test_plot_rf_on_image_array(tmp_path, name, make):
    np = _np()
    from rfcalc.runs.plots import plot_rf_on_image

    a = analyze("c3,c3,p2,c3,c3,p2", (32, 32, 3))
    out = plot_rf_on_image(a, make(np), unit=(0, 7), path=tmp_path / "rf.png")
    _png(tmp_path / "rf.png")
    assert out.endswith("rf.png")


def test_plot_rf_on_image_reads_a_png_file(tmp_path):
    np = _np()
    from matplotlib import image

    from rfcalc.runs.plots import plot_rf_on_image

    image.imsave(str(tmp_path / "in.png"), np.random.default_rng(0).random((20, 24, 3)))
    a = analyze("c5,p2", (20, 24, 3))
    plot_rf_on_image(a, tmp_path / "in.png", path=tmp_path / "rf.png", layer="conv2d")
    _png(tmp_path / "rf.png")


def test_plot_rf_growth_writes_png(tmp_path):
    _np()
    from rfcalc.runs.plots import plot_rf_growth

    plot_rf_growth(analyze("c3,c3,p2,c3x1,c3,p2,c3d2,flat,fc10"), tmp_path / "g.png")
    _png(tmp_path / "g.png")


BAD = [
    ("image_of_other_size", dict(image=(16, 16, 3)), ShapeError, "--input 16x16x3"),
    ("unit_outside_output", dict(unit=(16, 0)), RFError, "unit=\\(16, 0\\)"),
    ("non_spatial_layer", dict(layer="flatten"), RFError, "flatten"),
    ("unknown_layer", dict(layer="conv2d_7"), RFError, "conv2d_7"),
    ("five_channels", dict(image=(32, 32, 5)), ShapeError, "Received"),
]


@pytest.mark.parametrize("name,kw,error,text", BAD, ids=[b[0] for b in BAD])
def test_plot_rf_on_image_names_bad_input(tmp_path, name, kw, error, text):
    np = _np()
    from rfcalc.runs.plots import plot_rf_on_image

    a = analyze("c3,p2,flat,fc10", (32, 32, 3))
    img = np.zeros(kw.pop("image", (32, 32, 3)))
    with pytest.raises(error, match=text):
        plot_rf_on_image(a, img, path=tmp_path / "x.png", **kw)


def test_unreadable_image_file_is_an_rferror(tmp_path):
    _np()
    from rfcalc.runs.plots import plot_rf_on_image

    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(RFError, match="bad.png"):
        plot_rf_on_image(analyze("c3"), tmp_path / "bad.png", path=tmp_path / "x.png")


def test_growth_of_a_spec_without_spatial_layers_is_refused(tmp_path):
    _np()
    from rfcalc.runs.plots import plot_rf_growth

    with pytest.raises(RFError, match="no spatial layer"):
        plot_rf_growth(analyze("flat,fc10"), tmp_path / "g.png")
