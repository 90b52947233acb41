"""Read CIFAR-10 in its official python format, safely: no pickle in an archive can run code.

The format: pickled dicts ``data_batch_1`` .. ``data_batch_5`` and ``test_batch`` (10,000 images each
in the real set), each with ``b"data"`` uint8 ``(N, 3072)`` holding the R, G, B planes of a 32x32
image in turn, and ``b"labels"`` a list of N ints in 0..9. They come in ``cifar-10-python.tar.gz``
or extracted in ``cifar-10-batches-py/``. ``rfcalc`` reads one test image from it to draw a receptive
field on (``rfcalc probe SPEC --image cifar10:7 --plot rf.png``); ``training`` reads the whole set.
"""

from __future__ import annotations

import io
import pickle
import tarfile
import zlib
from pathlib import Path

from .errors import DataError

LABELS = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
FOLDER = "cifar-10-batches-py"
ARCHIVE = "cifar-10-python.tar.gz"
MAX_MEMBER_BYTES = 256 << 20  # a real batch is ~31 MB; refuse anything that would blow up memory

# Exactly what rebuilding a pickled numpy array needs (as keras/src/datasets/npz_utils.py allows),
# plus _codecs.encode, which Python 3 pickles of bytes at protocol 2 use and which only encodes text.
_ALLOWED = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("_codecs", "encode"),
    }
)


class _Refused(pickle.UnpicklingError):
    pass


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise _Refused(f"refusing to load {module}.{name}: the file may be corrupt or malicious")


def load_batch(data: bytes, where: str):
    """Images ``(N, 32, 32, 3)`` uint8 and labels ``(N,)`` uint8 from one pickled batch's bytes.

    >>> import pickle, numpy as np
    >>> raw = pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [3, 7]}, protocol=4)
    >>> x, y = load_batch(raw, "demo")
    >>> x.shape, y.tolist()
    ((2, 32, 32, 3), [3, 7])
    """
    import numpy as np

    try:
        d = _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except _Refused as err:
        raise DataError(f"{where}: {err}") from None
    except Exception as err:  # truncated or garbled pickles raise EOFError, ValueError, KeyError...
        raise DataError(f"{where}: not a readable CIFAR-10 batch ({type(err).__name__}: {err})") from None
    if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
        keys = sorted(map(repr, d)) if isinstance(d, dict) else type(d).__name__
        raise DataError(f"{where}: expected a dict with b'data' and b'labels'. Received: {keys}")
    x, labels = d[b"data"], d[b"labels"]
    if isinstance(labels, (list, tuple)) and not all(type(v) is int and 0 <= v <= 9 for v in labels):
        bad = next(v for v in labels if not (type(v) is int and 0 <= v <= 9))
        raise DataError(f"{where}: b'labels' must be ints in 0..9. Received: {str(bad)[:40]!s}")
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != 3072:
        got = (getattr(x, "dtype", type(x).__name__), getattr(x, "shape", None))
        raise DataError(f"{where}: b'data' must be uint8 of shape (N, 3072). Received: dtype={got[0]}, shape={got[1]}")
    try:
        y = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"{where}: b'labels' must be a list of ints in 0..9") from None
    if y.shape != (x.shape[0],):
        raise DataError(f"{where}: {x.shape[0]} images but labels of shape {y.shape}")
    if y.size and (y.min() < 0 or y.max() > 9):
        raise DataError(f"{where}: labels must lie in 0..9. Received: {int(y.min())}..{int(y.max())}")
    # R, G, B planes -> NHWC, as keras.datasets.cifar10 does with channels_last
    images = x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), y.astype(np.uint8)


ALL_BATCHES = (*TRAIN_BATCHES, TEST_BATCH)


def _from_folder(folder: Path, names=ALL_BATCHES) -> dict[str, bytes]:
    out = {}
    for name in names:
        path = folder / name
        if not path.is_file():
            raise DataError(
                f"{folder}: missing {name}; a complete {FOLDER}/ holds {', '.join(TRAIN_BATCHES)} and {TEST_BATCH}"
            )
        if path.stat().st_size > MAX_MEMBER_BYTES:
            raise DataError(f"{path}: {path.stat().st_size} bytes is far too large for a CIFAR-10 batch")
        out[name] = path.read_bytes()
    return out


def _archive_members(path: Path, names=ALL_BATCHES) -> dict[str, bytes]:
    """The batches ``names`` that the archive holds, read into memory: nothing is extracted to disk."""
    wanted = {f"{FOLDER}/{n}": n for n in names}
    out = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                name = wanted.get(member.name.lstrip("./"))
                if name is None or not member.isfile():
                    continue
                if member.size > MAX_MEMBER_BYTES:
                    raise DataError(f"{path}: member {member.name} declares {member.size} bytes; refusing it")
                data = tar.extractfile(member)
                if data is None:  # a regular file always has its data; anything else is refused, not guessed
                    raise DataError(f"{path}: member {member.name} cannot be read")
                out[name] = data.read()
                if len(out) == len(wanted):  # the rest of the archive need not be decompressed
                    break
    except DataError:
        raise
    except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
        # tarfile's "could not be opened" lists every method it tried, a line each: keep the first line
        reason = (str(err).splitlines() or [""])[0].rstrip(":")
        raise DataError(
            f"{path}: not a readable tar.gz archive, perhaps truncated or corrupt ({type(err).__name__}: {reason})"
        ) from None
    return out


def _from_archive(path: Path) -> dict[str, bytes]:
    out = _archive_members(path)
    missing = [n for n in ALL_BATCHES if n not in out]
    if missing:
        raise DataError(f"{path}: the archive lacks {FOLDER}/{missing[0]}; is it cifar-10-python.tar.gz?")
    return out


def read_cifar10(path) -> tuple:
    """``((x_train, y_train), (x_test, y_test))`` uint8 NHWC from a tar.gz or a ``cifar-10-batches-py`` folder."""
    import numpy as np

    path = Path(path)
    raw = _from_folder(path) if path.is_dir() else _from_archive(path)
    train = [load_batch(raw[n], f"{path}:{n}") for n in TRAIN_BATCHES]
    x_test, y_test = load_batch(raw[TEST_BATCH], f"{path}:{TEST_BATCH}")
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return (x_train, y_train), (x_test, y_test)


def keras_cache() -> Path:
    """Keras's dataset cache folder (``$KERAS_HOME/datasets`` or ``~/.keras/datasets``)."""
    import os

    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def places(root: Path) -> list[Path]:
    """Where under ``root`` CIFAR-10 may be: the archive, the extracted folder (also where Keras's
    ``cifar10.load_data()`` leaves it), or ``root`` itself."""
    return [
        root / ARCHIVE,
        root / "cifar-10-batches-py.tar.gz",
        root / FOLDER,
        root / "cifar-10-batches-py-target" / FOLDER,
        root,
    ]


def _test_batch(root: Path) -> bytes | None:
    """The pickled test batch from the first place under ``root`` that has one, or None."""
    for place in places(Path(root)):
        if (place / TEST_BATCH).is_file():
            return _from_folder(place, (TEST_BATCH,))[TEST_BATCH]
        if place.is_file() and place.name.endswith((".tar.gz", ".tgz", ".tar")):
            raw = _archive_members(place, (TEST_BATCH,)).get(TEST_BATCH)
            if raw is not None:
                return raw
    return None


def load_test_image(index: int, data_dir=None):
    """Test image ``index`` of CIFAR-10 as float32 HxWx3 in [0, 1] (the notebook's /255), and its label.

    Looks in ``data_dir`` when given, else in Keras's cache; raises ``DataError`` saying where to put
    the archive when there is none.

    >>> load_test_image(0, data_dir="/nowhere")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rfcalc.errors.DataError: no CIFAR-10 test batch in /nowhere; put cifar-10-python.tar.gz ...
    """
    root = Path(data_dir) if data_dir is not None else keras_cache()
    raw = _test_batch(root)
    if raw is None:
        raise DataError(
            f"no CIFAR-10 test batch in {root}; put {ARCHIVE} (or its extracted {FOLDER}/) there, "
            f"or draw on a PNG of your own"
        )
    x, y = load_batch(raw, f"{root}:{TEST_BATCH}")
    if not 0 <= index < len(x):
        raise DataError(f"CIFAR-10 has test images 0..{len(x) - 1}. Received: {index}")
    return x[index].astype("float32") / 255.0, LABELS[int(y[index])]
