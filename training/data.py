"""Find and load a dataset as the notebook's ``get_data_cifar`` does, offline unless asked to download.

Search order: ``--data-dir`` when given (only there), else Keras's cache (``$KERAS_HOME`` or
``~/.keras``, then ``datasets/``) and the Debian dataset packages under ``/usr/share/datasets``.
Files are checked before anything heavy is imported, so a missing dataset fails at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rfcalc.cifar import ARCHIVE, TRAIN_BATCHES, keras_cache, places as _cifar_places, read_cifar10

from .errors import DataError
from .idx import find_idx_set, read_idx_set

SHAPES = {"cifar10": (32, 32, 3), "fashion_mnist": (28, 28, 1), "mnist": (28, 28, 1)}
_ALIASES = {
    "cifar-10": "cifar10",
    "cifar_10": "cifar10",
    "fashion-mnist": "fashion_mnist",
    "fmnist": "fashion_mnist",
    "fashionmnist": "fashion_mnist",
}
SYSTEM_DIRS = {"fashion_mnist": "/usr/share/datasets/fashion-mnist", "mnist": "/usr/share/datasets/mnist"}


def dataset_name(name: str) -> str:
    """The canonical dataset name.

    >>> dataset_name("Fashion-MNIST"), dataset_name("cifar10")
    ('fashion_mnist', 'cifar10')
    """
    key = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in SHAPES:
        raise DataError(f"unknown dataset {name!r}; choose one of: {', '.join(SHAPES)}")
    return key


def _idx_places(root: Path, name: str) -> list[Path]:
    sub = "fashion-mnist" if name == "fashion_mnist" else "mnist"
    places = [root, root / sub]
    if name == "mnist":
        places = [root / "mnist.npz", *places]
    return places


def _roots(name: str, data_dir=None) -> list[Path]:
    roots = [Path(data_dir)] if data_dir is not None else [keras_cache()]
    if data_dir is None and name in SYSTEM_DIRS:
        roots.append(Path(SYSTEM_DIRS[name]))
    return roots


def search_paths(name: str, data_dir=None) -> list[Path]:
    """Every place looked at for ``name``, in order (the error names only the folders searched)."""
    out = []
    for root in _roots(name, data_dir):
        out += _cifar_places(root) if name == "cifar10" else _idx_places(root, name)
    return out


def _usable(name: str, path: Path) -> bool:
    if name == "cifar10":
        if path.is_dir():
            return (path / TRAIN_BATCHES[0]).is_file()
        return path.is_file() and path.name.endswith((".tar.gz", ".tgz", ".tar"))
    if path.suffix == ".npz":
        return path.is_file()
    return path.is_dir() and find_idx_set(path) is not None


def locate(name: str, data_dir=None) -> Path:
    """The first usable dataset file or folder, or a ``DataError`` saying where to put one."""
    name = dataset_name(name)
    if data_dir is not None and not Path(data_dir).is_dir():
        raise DataError(f"--data-dir {data_dir}: no such directory")
    places = search_paths(name, data_dir)
    for path in places:
        if _usable(name, path):
            return path
    where = ", ".join(str(p) for p in dict.fromkeys(_roots(name, data_dir)))
    if name == "cifar10":
        raise DataError(
            f"no CIFAR-10 in {where}; put {ARCHIVE} there or in --data-dir DIR (docs/training.md "
            f"says where to get it), pass --download, or train offline with --dataset fashion_mnist"
        )
    what = "put the four IDX files (train-images-idx3-ubyte.gz, ...) in --data-dir DIR" + (
        " or apt-get install dataset-fashion-mnist" if name == "fashion_mnist" else ""
    )
    raise DataError(f"no {name} data in {where}; {what} (docs/training.md), or pass --download")


def _read_npz(path: Path) -> tuple:
    import zipfile
    import zlib

    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as f:  # never unpickle from a data file
            return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    except (
        OSError,
        ValueError,
        KeyError,
        EOFError,
        zipfile.BadZipFile,
        zlib.error,
        NotImplementedError,
        MemoryError,
    ) as err:
        reason = (str(err).splitlines() or [""])[0][:120]
        raise DataError(f"{path}: not a readable mnist.npz ({type(err).__name__}: {reason})") from None


def _download(name: str) -> tuple:
    import keras

    module = {
        "cifar10": keras.datasets.cifar10,
        "fashion_mnist": keras.datasets.fashion_mnist,
        "mnist": keras.datasets.mnist,
    }[name]
    try:
        return module.load_data()
    except Exception as err:  # network and checksum failures come as many types
        raise DataError(
            f"downloading {name} failed ({type(err).__name__}: {err}); see docs/training.md for offline setup"
        ) from None


@dataclass(frozen=True, eq=False)  # arrays inside: compare by identity
class Data:
    """Train and test arrays (uint8 images NHWC, uint8 labels) and where they came from."""

    name: str
    x_train: object
    y_train: object
    x_test: object
    y_test: object
    source: str

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self.x_train.shape[1:])


def _check(name: str, arrays, where: str):
    import numpy as np

    (x_train, y_train), (x_test, y_test) = arrays
    h, w, c = SHAPES[name]
    out = []
    for part, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        x = np.asarray(x)
        y = np.asarray(y).reshape(-1)
        if x.ndim == 3 and c == 1:
            x = x[..., None]
        if x.ndim != 4 or x.shape[1:] != (h, w, c) or x.dtype != np.uint8:
            raise DataError(
                f"{where}: {part} images must be uint8 of shape (N, {h}, {w}, {c}). "
                f"Received: dtype={x.dtype}, shape={x.shape}"
            )
        if len(y) != len(x) or len(x) == 0:
            raise DataError(f"{where}: {len(x)} {part} images but {len(y)} labels")
        if y.min() < 0 or y.max() > 9:
            raise DataError(f"{where}: {part} labels must lie in 0..9. Received: {int(y.min())}..{int(y.max())}")
        out.append((x, y.astype(np.uint8)))
    return out


MIN_SIZE, MAX_SIZE = 8, 512  # --resize: a square side in pixels


def check_size(size: int) -> int:
    """A ``--resize`` side, or a ``DataError`` saying what is allowed.

    >>> check_size(56)
    56
    """
    if isinstance(size, bool) or not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise DataError(f"--resize takes a square side of {MIN_SIZE}..{MAX_SIZE} pixels. Received: {size!r}")
    return size


def input_shape(name: str, size: int | None = None) -> tuple[int, int, int]:
    """The images' shape for dataset ``name``, resized to ``size`` x ``size`` when given.

    >>> input_shape("fashion_mnist", 56), input_shape("cifar10")
    ((56, 56, 1), (32, 32, 3))
    """
    h, w, c = SHAPES[dataset_name(name)]
    return (h, w, c) if size is None else (check_size(size), check_size(size), c)


def resize_data(data: Data, size: int | None) -> Data:
    """``data`` with every image resized to ``size`` x ``size`` (bilinear, TensorFlow's
    ``tf.image.resize`` with antialiasing, rounded back to uint8); ``None`` or the same size: ``data``."""
    if size is None or data.input_shape[:2] == (size, size):
        return data
    check_size(size)
    import numpy as np
    import tensorflow as tf

    def one(x):
        out = []
        for i in range(0, len(x), 4096):  # in chunks: float32 copies of 60,000 large images would not fit
            y = tf.image.resize(tf.constant(x[i : i + 4096], tf.float32), (size, size), "bilinear", antialias=True)
            out.append(np.clip(np.rint(y.numpy()), 0, 255).astype(np.uint8))
        return np.concatenate(out)

    return Data(
        data.name,
        one(data.x_train),
        data.y_train,
        one(data.x_test),
        data.y_test,
        f"{data.source}, resized to {size}x{size} (bilinear)",
    )


def load_data(name: str = "cifar10", data_dir=None, data_size: int | None = None, download: bool = False) -> Data:
    """Load a dataset; ``data_size`` keeps the first N training images (the notebook's ``get_data_cifar``).

    Images stay uint8 here; the input pipeline divides by 255 in float32, as the notebook does.
    """
    name = dataset_name(name)
    if data_size is not None and data_size < 1:
        raise DataError(f"--data-size must be a positive number of images. Received: {data_size}")
    try:
        path = locate(name, data_dir)
    except DataError:
        if not download:
            raise
        arrays, where = _download(name), f"keras.datasets.{name}"
    else:
        where = str(path)
        if name == "cifar10":
            arrays = read_cifar10(path)
        elif path.suffix == ".npz":
            arrays = _read_npz(path)
        else:
            arrays = read_idx_set(path)
    (x_train, y_train), (x_test, y_test) = _check(name, arrays, where)
    if data_size is not None:
        x_train, y_train = x_train[:data_size], y_train[:data_size]
    return Data(name, x_train, y_train, x_test, y_test, where)


def first_available(names=("cifar10", "fashion_mnist"), data_size: int | None = None, data_dir=None) -> Data:
    """The first of ``names`` found on this machine (offline), loaded; a ``DataError`` naming each miss when
    none is. The tutorial's real data: CIFAR-10 when it is here, else Debian's dataset-fashion-mnist.

    >>> first_available(("mnist",), data_dir="/nonexistent")
    Traceback (most recent call last):
    ...
    rfcalc.errors.DataError: --data-dir /nonexistent: no such directory
    """
    misses = []
    for name in names:
        try:
            return load_data(name, data_dir, data_size)
        except DataError as err:
            misses.append((str(err).splitlines() or [name])[0])
    raise DataError("; ".join(misses))
