"""Read the IDX files of MNIST and Fashion-MNIST (gzipped or not), checking the header against the data."""

from __future__ import annotations

import gzip
import io
import math
import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import DataError

if TYPE_CHECKING:  # numpy loads inside the functions
    import numpy as np

_UBYTE = 0x08
MAX_BYTES = 512 << 20


def parse_idx(data: bytes, where: str = "IDX data"):
    """A uint8 numpy array from the bytes of an IDX file (magic ``0 0 8 ndim``, big-endian int32 sizes).

    >>> import struct
    >>> arr = parse_idx(struct.pack(">BBBBI", 0, 0, 8, 1, 3) + bytes([1, 2, 3]))
    >>> arr.tolist()
    [1, 2, 3]
    """
    import numpy as np

    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{where}: not an IDX file (bad magic number)")
    dtype, ndim = data[2], data[3]
    if dtype != _UBYTE:
        raise DataError(f"{where}: IDX type code 0x{dtype:02x} is not unsigned byte (0x08)")
    if not 1 <= ndim <= 4 or len(data) < 4 + 4 * ndim:
        raise DataError(f"{where}: IDX header is truncated or has {ndim} dimensions")
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    offset = 4 + 4 * ndim
    expected = math.prod(dims)  # exact: numpy's int64 product wraps around for huge dims
    if len(data) - offset != expected:
        raise DataError(
            f"{where}: header says {dims} ({expected} bytes) but {len(data) - offset} bytes follow; "
            "the file is truncated or corrupt"
        )
    return np.frombuffer(data, np.uint8, offset=offset).reshape(dims)


def read_idx(path) -> np.ndarray:
    """A uint8 array from an IDX file on disk; ``.gz`` (or gzip magic) is decompressed."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
                raw = f.read(MAX_BYTES + 1)
            if len(raw) > MAX_BYTES:
                raise DataError(f"{path}: decompresses to more than {MAX_BYTES} bytes; refusing it")
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path}: cannot read ({type(err).__name__}: {err})") from None
    return parse_idx(raw, str(path))


IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def find_idx_set(folder: Path) -> dict[str, Path] | None:
    """The four IDX files in ``folder`` (each as ``name.gz`` or ``name``), or None."""
    found = {}
    for key, stem in IDX_NAMES.items():
        for name in (stem + ".gz", stem):
            if (folder / name).is_file():
                found[key] = folder / name
                break
        else:
            return None
    return found


def read_idx_set(folder: Path) -> tuple:
    """``((x_train, y_train), (x_test, y_test))`` from a folder of the four standard IDX files."""
    files = find_idx_set(Path(folder))
    if files is None:
        raise DataError(f"{folder}: expected {', '.join(v + '[.gz]' for v in IDX_NAMES.values())}")
    arrays = {k: read_idx(p) for k, p in files.items()}
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise DataError(
                f"{folder}: {part} images {x.shape} and labels {y.shape} do not match (expected (N, H, W) and (N,))"
            )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
