"""Issue 18.1: every image kind shows in the report as an image viewer shows it.

The oracle is PIL: the picture decoded from the page's data URI is compared pixel by pixel with PIL's
reading of the source file (or with the array's own values), for 8- and 16-bit PNG, JPEG, grey, grey with
alpha, RGBA (composited over white, as viewers do on a white page), palette PNG, and float and integer arrays.
"""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest

from rfcalc.htmlreport.page import report

PIL = pytest.importorskip("PIL.Image")
H, W = 12, 16


def _page_pixels(image, channels=3) -> np.ndarray:
    html = report("c3", input_shape=(H, W, channels), image=image).html
    uri = re.search(r'id="input-image"[^>]*src="data:image/png;base64,([^"]+)"', html).group(1)
    img = PIL.open(io.BytesIO(base64.b64decode(uri)))
    return np.asarray(img.convert("RGB")).astype(int)


def _pattern(seed=1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W]
    base = np.stack([x * 255 // (W - 1), y * 255 // (H - 1), (x + y) * 255 // (H + W - 2)], -1)
    return np.clip(base + rng.integers(-20, 20, base.shape), 0, 255).astype(np.uint8)


def _viewer(path) -> np.ndarray:
    """What a viewer shows: PIL's reading, 16-bit scaled to 8, alpha composited over white."""
    img = PIL.open(path)
    if img.mode in ("I;16", "I;16B", "I"):
        a = np.asarray(img).astype(float)
        g = np.round(a / 65535 * 255).astype(int)
        return np.stack([g] * 3, -1)
    img = img.convert("RGBA")
    white = PIL.new("RGBA", img.size, (255, 255, 255, 255))
    return np.asarray(PIL.alpha_composite(white, img).convert("RGB")).astype(int)


def _save(tmp_path, name, array, mode=None, **kw):
    path = tmp_path / name
    (PIL.fromarray(array, mode) if mode else PIL.fromarray(array)).save(path, **kw)
    return path


def _files(tmp_path):
    rgb = _pattern()
    grey = rgb[..., 0]
    alpha = np.tile(np.linspace(0, 255, W).astype(np.uint8), (H, 1))
    yield "png8-rgb", _save(tmp_path, "a.png", rgb)
    yield "png8-grey", _save(tmp_path, "g.png", grey)
    yield "png-grey-alpha", _save(tmp_path, "la.png", np.stack([grey, alpha], -1), "LA")
    yield "png-rgba", _save(tmp_path, "rgba.png", np.dstack([rgb, alpha]))
    yield "png-palette", _palette(tmp_path, rgb)
    yield "jpeg", _save(tmp_path, "a.jpg", rgb, quality=90)
    yield "jpeg-grey", _save(tmp_path, "g.jpg", grey, quality=90)
    g16 = (grey.astype(np.uint16) * 257 + np.arange(W, dtype=np.uint16)).astype(np.uint16)
    path16 = tmp_path / "g16.png"
    PIL.fromarray(g16).save(path16)
    yield "png16-grey", path16


def _palette(tmp_path, rgb):
    path = tmp_path / "pal.png"
    PIL.fromarray(rgb).convert("P", palette=PIL.Palette.ADAPTIVE, colors=16).save(path)
    return path


def test_every_file_kind_shows_as_a_viewer_shows_it(tmp_path):
    bad = []
    for kind, path in _files(tmp_path):
        want = _viewer(path)
        assert want.shape == (H, W, 3), kind
        got = _page_pixels(str(path))
        diff = np.abs(got - want).max()
        if diff > 1:
            bad.append(f"{kind} (off by up to {diff})")
    assert not bad, "the page's pixels differ from the viewer's: " + ", ".join(bad)


@pytest.mark.parametrize("kind", ["float01", "float0255", "uint8", "uint8-grey", "float01-grey", "uint16", "int64"])
def test_every_array_kind_shows_as_its_values_say(kind):
    rgb = _pattern(2)
    arrays = {
        "float01": rgb / 255.0,
        "float0255": rgb.astype(float),
        "uint8": rgb,
        "uint8-grey": rgb[..., 1],
        "float01-grey": rgb[..., 1] / 255.0,
        "uint16": rgb.astype(np.uint16) * 257,
        "int64": rgb.astype(np.int64),
    }
    want = rgb if rgb.ndim == 3 and arrays[kind].ndim == 3 else np.stack([rgb[..., 1]] * 3, -1)
    got = _page_pixels(arrays[kind])
    diff = np.abs(got - want.astype(int)).max()
    assert diff <= 1, f"{kind}: the page's pixels differ from the array's by up to {diff}"


def test_a_dark_float_image_is_not_stretched_to_white():
    """A 0-255 float picture of a dark scene stays dark (a min-max stretch would brighten it)."""
    dark = np.full((H, W, 3), 10.0)
    dark[0, 0] = 40.0
    got = _page_pixels(dark)
    assert got.max() <= 41 and got[1, 1].tolist() == [10, 10, 10]
