"""The CIFAR-10 reader against Keras's own reader, and its refusals: corrupt, truncated, malicious, misshapen."""

from __future__ import annotations

import gzip
import os
import pickle

import numpy as np
import pytest
from trainfix import N_TEST, N_TRAIN, cifar_batch, cifar_members, class_images, write_tar

from rfcalc.cifar import load_batch, read_cifar10
from training.errors import DataError


def test_archive_and_extracted_folder_read_the_same(cifar_dir, cifar_extracted):
    (xa, ya), (ta, la) = read_cifar10(cifar_dir / "cifar-10-python.tar.gz")
    (xb, yb), (tb, lb) = read_cifar10(cifar_extracted / "cifar-10-batches-py")
    assert xa.shape == (N_TRAIN, 32, 32, 3) and ta.shape == (N_TEST, 32, 32, 3)
    assert xa.dtype == np.uint8 and ya.dtype == np.uint8
    for a, b in ((xa, xb), (ya, yb), (ta, tb), (la, lb)):
        np.testing.assert_array_equal(a, b)


def test_planes_become_nhwc_pixels():
    # an independent check of the layout: pixel (r, c) of channel ch sits at ch*1024 + r*32 + c
    flat = np.zeros((1, 3072), np.uint8)
    flat[0, 0 * 1024 + 2 * 32 + 5] = 11  # R at row 2, column 5
    flat[0, 1 * 1024 + 7 * 32 + 1] = 22  # G at row 7, column 1
    flat[0, 2 * 1024 + 31 * 32 + 31] = 33  # B at the last pixel
    x, _ = load_batch(pickle.dumps({b"data": flat, b"labels": [0]}), "t")
    assert (x[0, 2, 5, 0], x[0, 7, 1, 1], x[0, 31, 31, 2]) == (11, 22, 33)
    assert int(x.sum()) == 66


@pytest.mark.tf
def test_matches_keras_own_batch_reader(cifar_extracted):
    pytest.importorskip("tensorflow")
    from keras.src.datasets.cifar import load_batch as keras_load_batch

    folder = cifar_extracted / "cifar-10-batches-py"
    data, labels = keras_load_batch(str(folder / "data_batch_2"))
    mine, my_labels = load_batch((folder / "data_batch_2").read_bytes(), "b2")
    np.testing.assert_array_equal(mine, data.transpose(0, 2, 3, 1))  # Keras's channels_last step
    assert my_labels.tolist() == list(labels)


def test_protocol_2_pickles_from_python3_are_read():
    y = [1, 2, 3]
    raw = cifar_batch(class_images(y), y, "p2", protocol=2)
    x, labels = load_batch(raw, "p2")
    assert labels.tolist() == y and x.shape == (3, 32, 32, 3)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("payload", ["os.system", "builtins.eval"])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, payload):
    marker = tmp_path / "pwned"
    if payload == "os.system":
        raw = pickle.dumps({b"data": _Evil(marker), b"labels": [0]}, protocol=2)
    else:

        class _Eval:
            def __reduce__(self):
                return (eval, (f"open({str(marker)!r}, 'w')",))

        raw = pickle.dumps({b"data": _Eval(), b"labels": [0]}, protocol=2)
    members = cifar_members(n_train=10, n_test=5)
    members["data_batch_3"] = raw
    archive = write_tar(tmp_path / "cifar-10-python.tar.gz", members)
    with pytest.raises(DataError, match="refusing to load"):
        read_cifar10(archive)
    assert not marker.exists()


def _truncated(tmp_path, src):
    data = src.read_bytes()
    out = tmp_path / "cifar-10-python.tar.gz"
    out.write_bytes(data[: len(data) // 2])
    return out


BAD_ARCHIVES = {
    "random bytes": lambda tmp, src: (tmp / "c.tar.gz").write_bytes(os.urandom(5000)) and tmp / "c.tar.gz",
    "truncated gzip": _truncated,
    "empty file": lambda tmp, src: (tmp / "c.tar.gz").write_bytes(b"") or tmp / "c.tar.gz",
    "gzip of garbage": lambda tmp, src: (
        (tmp / "c.tar.gz").write_bytes(gzip.compress(os.urandom(3000))) and tmp / "c.tar.gz"
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ARCHIVES))
def test_corrupt_or_truncated_archives_give_a_data_error(tmp_path, cifar_dir, case):
    path = BAD_ARCHIVES[case](tmp_path, cifar_dir / "cifar-10-python.tar.gz")
    with pytest.raises(DataError, match="c.tar.gz|cifar-10-python.tar.gz"):
        read_cifar10(path)


def _member_case(name, raw):
    members = cifar_members(n_train=10, n_test=5)
    members[name] = raw
    return members


BAD_BATCHES = {
    "wrong row length": (pickle.dumps({b"data": np.zeros((4, 3000), np.uint8), b"labels": [0] * 4}), "3072"),
    "float data": (pickle.dumps({b"data": np.zeros((4, 3072), np.float32), b"labels": [0] * 4}), "uint8"),
    "labels too few": (pickle.dumps({b"data": np.zeros((4, 3072), np.uint8), b"labels": [0] * 3}), "labels"),
    "label 10": (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}), "0..9"),
    "no labels key": (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8)}), "b'labels'"),
    "not a dict": (pickle.dumps([1, 2, 3]), "dict"),
    "truncated pickle": (cifar_batch(class_images([1, 2]), [1, 2], "x")[:500], "not a readable"),
}


@pytest.mark.parametrize("case", sorted(BAD_BATCHES))
def test_misshapen_batches_are_named_in_the_error(tmp_path, case):
    raw, words = BAD_BATCHES[case]
    archive = write_tar(tmp_path / "cifar-10-python.tar.gz", _member_case("test_batch", raw))
    with pytest.raises(DataError, match="test_batch") as err:
        read_cifar10(archive)
    assert words in str(err.value)


def test_archive_missing_a_batch(tmp_path):
    members = cifar_members(n_train=10, n_test=5)
    del members["data_batch_4"]
    with pytest.raises(DataError, match="data_batch_4"):
        read_cifar10(write_tar(tmp_path / "a.tar.gz", members))


def test_folder_missing_a_batch(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "data_batch_1").write_bytes(b"")
    with pytest.raises(DataError, match="missing data_batch_2"):
        read_cifar10(folder)


@pytest.mark.parametrize("where", ["archive", "extracted"])
def test_one_test_image_for_drawing_comes_from_keras_cache(where, cifar_dir, cifar_extracted, monkeypatch):
    from rfcalc.cifar import LABELS, load_test_image

    root = cifar_dir if where == "archive" else cifar_extracted
    monkeypatch.setenv("KERAS_HOME", str(root.parent / "no-such-home"))
    (_, _), (tx, ty) = read_cifar10(cifar_dir / "cifar-10-python.tar.gz")
    img, label = load_test_image(3, data_dir=root)
    np.testing.assert_allclose(img, tx[3] / 255.0, rtol=0, atol=1e-7)  # the notebook's /255
    assert img.dtype == np.float32 and label == LABELS[ty[3]]
    monkeypatch.setenv("KERAS_HOME", str(root.parent))  # Keras's cache is $KERAS_HOME/datasets
    (root.parent / "datasets").mkdir(exist_ok=True)
    with pytest.raises(DataError, match="no CIFAR-10 test batch"):
        load_test_image(0)
    with pytest.raises(DataError, match=r"test images 0\.\.%d" % (N_TEST - 1)):
        load_test_image(N_TEST, data_dir=root)


@pytest.mark.tf
def test_probe_draws_the_field_on_a_cifar_image(cifar_extracted, monkeypatch, tmp_path):
    pytest.importorskip("matplotlib")
    from rfcalc.cli import main

    cache = tmp_path / "home" / "datasets"
    cache.mkdir(parents=True)
    (cache / "cifar-10-batches-py").symlink_to(cifar_extracted / "cifar-10-batches-py")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    out = tmp_path / "rf.png"
    assert main(["probe", "c3,c3,p2", "--image", "cifar10:5", "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["probe", "c3,c3,p2", "--image", "cifar10:x", "--plot", str(out)]) == 2
