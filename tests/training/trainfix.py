"""Writers of tiny datasets in the exact official formats (CIFAR-10 python pickles, IDX files).

The CIFAR-10 layout follows the real files: pickled dicts with b'batch_label', b'labels', b'data'
(uint8 (N, 3072): the R plane, then G, then B, row-major 32x32) and b'filenames', in
cifar-10-batches-py/ inside cifar-10-python.tar.gz. Each class paints a bright square in its own
place and colour, so a small CNN learns it in a few epochs.
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile

import numpy as np

N_TRAIN, N_TEST = 200, 100


def class_images(labels, size=32, channels=3, seed=0):
    """NHWC uint8 images: dim noise plus an 8x8 bright square whose place and colour give the class."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 60, size=(len(labels), size, size, channels), dtype=np.uint8)
    step = (size - 8) // 4
    for i, k in enumerate(labels):
        r, c = divmod(int(k), 4)
        x[i, r * step : r * step + 8, c * step : c * step + 8, int(k) % channels] = 250
    return x


def cifar_batch(images, labels, name: str, protocol: int = 4) -> bytes:
    """One pickled batch in the official layout (planes R, G, B flattened per image)."""
    data = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)
    d = {
        b"batch_label": name.encode(),
        b"labels": [int(v) for v in labels],
        b"data": data,
        b"filenames": [f"img_{i}.png".encode() for i in range(len(images))],
    }
    return pickle.dumps(d, protocol=protocol)


def cifar_members(n_train=N_TRAIN, n_test=N_TEST, seed=0, protocol=4) -> dict[str, bytes]:
    """``{member name: bytes}`` of a tiny but complete cifar-10-batches-py/."""
    rng = np.random.default_rng(seed)
    y_train = rng.integers(0, 10, n_train)
    y_test = rng.integers(0, 10, n_test)
    x_train = class_images(y_train, seed=seed + 1)
    x_test = class_images(y_test, seed=seed + 2)
    per = n_train // 5
    out = {
        f"data_batch_{i + 1}": cifar_batch(
            x_train[i * per : (i + 1) * per], y_train[i * per : (i + 1) * per], f"training batch {i + 1} of 5", protocol
        )
        for i in range(5)
    }
    out["test_batch"] = cifar_batch(x_test, y_test, "testing batch 1 of 1", protocol)
    out["batches.meta"] = pickle.dumps(
        {
            b"label_names": [
                b"airplane",
                b"automobile",
                b"bird",
                b"cat",
                b"deer",
                b"dog",
                b"frog",
                b"horse",
                b"ship",
                b"truck",
            ]
        }
    )
    return out


def write_tar(path, members: dict[str, bytes], folder="cifar-10-batches-py"):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def idx_bytes(arr: np.ndarray) -> bytes:
    """An IDX file for a uint8 array: magic 0 0 8 ndim, big-endian int32 sizes, then the bytes."""
    return struct.pack(f">BBBB{arr.ndim}I", 0, 0, 8, arr.ndim, *arr.shape) + arr.astype(np.uint8).tobytes()


def write_idx_set(folder, n_train=120, n_test=60, gz=True, seed=0):
    """The four Fashion-MNIST IDX files (28x28 images) in ``folder``; returns the arrays written."""
    rng = np.random.default_rng(seed)
    y_train, y_test = rng.integers(0, 10, n_train).astype(np.uint8), rng.integers(0, 10, n_test).astype(np.uint8)
    x_train = class_images(y_train, size=28, channels=1, seed=seed + 1)[..., 0]
    x_test = class_images(y_test, size=28, channels=1, seed=seed + 2)[..., 0]
    arrays = {
        "train-images-idx3-ubyte": x_train,
        "train-labels-idx1-ubyte": y_train,
        "t10k-images-idx3-ubyte": x_test,
        "t10k-labels-idx1-ubyte": y_test,
    }
    for name, arr in arrays.items():
        raw = idx_bytes(arr)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)
    return (x_train, y_train), (x_test, y_test)
