"""Images for the report: read one (a file, ``cifar10:N``, ``fashion_mnist:N``), fit it to the input, PNG data URIs.

PNGs are written with ``zlib`` (no imaging library needed); numpy and matplotlib load only when an
image is read.

>>> png_data_uri([[0, 255], [255, 0]])[:22]
'data:image/png;base64,'
"""

from __future__ import annotations

import base64
import gzip
import os
import struct
import zlib

from ..errors import RFError

MAX_FILE_BYTES = 64 << 20  # a larger file is not a picture of one network input
MAX_SIDE = 2048  # larger images are downscaled before anything else


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(pixels) -> bytes:
    """A PNG of rows of ints 0..255 (grey) or of (r, g, b) triples.

    >>> png_bytes([[0]])[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    rows = [list(r) for r in pixels]
    colour = bool(rows and rows[0] and isinstance(rows[0][0], (tuple, list)))
    h, w = len(rows), len(rows[0]) if rows else 0
    raw = bytearray()
    for r in rows:
        raw.append(0)
        for v in r:
            raw.extend(int(c) for c in v) if colour else raw.append(int(v))
    head = struct.pack(">IIBBBBB", w, h, 8, 2 if colour else 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", head)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + _chunk(b"IEND", b"")
    )


def png_data_uri(pixels) -> str:
    """A ``data:image/png;base64,...`` URI of ``png_bytes(pixels)``."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(pixels)).decode("ascii")


def _fashion_mnist(index: int):
    """Test image ``index`` of Fashion-MNIST from Keras' cache or Debian's dataset-fashion-mnist (never downloads)."""
    import numpy as np

    from ..cifar import keras_cache

    name = "t10k-images-idx3-ubyte"
    places = [keras_cache() / "fashion-mnist", "/usr/share/datasets/fashion-mnist"]
    for folder in places:
        for path in (os.path.join(folder, name + ".gz"), os.path.join(folder, name)):
            if os.path.isfile(path):
                opener = gzip.open if path.endswith(".gz") else open
                with opener(path, "rb") as f:
                    data = f.read()
                magic, n, h, w = struct.unpack(">IIII", data[:16])
                if magic != 2051 or len(data) != 16 + n * h * w:
                    raise RFError(f"{path}: not an IDX image file")
                if not 0 <= index < n:
                    raise RFError(f"fashion_mnist has test images 0..{n - 1}. Received: {index}")
                return np.frombuffer(data, np.uint8, h * w, 16 + index * h * w).reshape(h, w) / 255.0
    raise RFError(f"no Fashion-MNIST test images found (looked in: {', '.join(map(str, places))})")


def read(source):
    """An image as a float array HxW or HxWx3 in [0, 1], and the words that say where it came from."""
    import numpy as np

    from ..runs.plots import read_image

    if isinstance(source, str) and ":" in source and source.split(":")[0].lower() in ("cifar10", "fashion_mnist"):
        kind, _, index = source.partition(":")
        if not index.isdigit():
            raise RFError(
                f"write a dataset image as {kind.lower()}:INDEX, as in {kind.lower()}:7. Received: {source!r}"
            )
        if kind.lower() == "fashion_mnist":
            return _fashion_mnist(int(index)), source
        return read_image(source), source
    if isinstance(source, str):
        if not os.path.isfile(source):
            raise RFError(f"no image file at {source!r}")
        if os.path.getsize(source) > MAX_FILE_BYTES:
            raise RFError(
                f"the image {source} is {os.path.getsize(source):,} bytes; at most {MAX_FILE_BYTES:,} are read"
            )
        try:
            img = read_image(source)
        except RFError:
            raise
        except Exception as err:  # PIL raises many types for a file that is not an image
            raise RFError(f"{source} is not an image PIL can read ({type(err).__name__}: {err})") from None
        return np.asarray(img), os.path.basename(source)
    return read_image(source), "array"


def fit(img, height: int, width: int):
    """``img`` resampled (nearest pixel) to ``height``×``width``, and a note when it had to be resized.

    >>> import numpy as np
    >>> out, note = fit(np.zeros((4, 6)), 2, 3)
    >>> out.shape, note
    ((2, 3), 'the 4x6 image is shown resized to the 2x3 input')
    """
    import numpy as np

    h, w = img.shape[:2]
    if (h, w) == (height, width):
        return img, None
    rows = (np.arange(height) * h) // height
    cols = (np.arange(width) * w) // width
    return img[rows][:, cols], f"the {h}x{w} image is shown resized to the {height}x{width} input"


def image_uri(source, height: int, width: int) -> tuple[str, str, str | None]:
    """``(data URI, label, note)`` of an image source fitted to the input's ``height``×``width``."""
    import numpy as np

    img, label = read(source)
    if max(img.shape[:2]) > MAX_SIDE:  # downscale huge pictures first, cheaply
        f = -(-max(img.shape[:2]) // MAX_SIDE)
        img = img[::f, ::f]
    img, note = fit(img, height, width)
    if img.ndim == 3 and img.shape[2] not in (1, 3):
        img = img[..., :3]
    px = np.clip(np.round(np.asarray(img, dtype=float) * 255), 0, 255).astype(np.uint8)
    rows = px.tolist() if px.ndim == 2 else [[tuple(p) for p in r] for r in px.tolist()]
    return png_data_uri(rows), label, note


def heat_uri(heat) -> str:
    """A heatmap (non-negative floats) as a PNG data URI: black through red and yellow to white."""
    import numpy as np

    a = np.asarray(heat, dtype=float)
    a = a / (a.max() or 1.0)
    r = np.clip(a * 3, 0, 1)
    g = np.clip(a * 3 - 1, 0, 1)
    b = np.clip(a * 3 - 2, 0, 1)
    px = (np.stack([r, g, b], axis=-1) * 255).round().astype(np.uint8)
    return png_data_uri([[tuple(p) for p in row] for row in px.tolist()])
