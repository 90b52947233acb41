"""IDX reading on generated files, dataset location and the offline, fail-fast missing-data errors."""

from __future__ import annotations

import gzip
import subprocess
import sys
import time

import numpy as np
import pytest
from trainfix import cifar_members, idx_bytes, write_idx_set, write_tar

from training.data import dataset_name, load_data, locate, search_paths
from training.errors import DataError
from training.idx import parse_idx, read_idx


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "raw"])
def test_idx_set_reads_back_what_was_written(tmp_path, gz):
    (x_train, y_train), (x_test, y_test) = write_idx_set(tmp_path, gz=gz)
    data = load_data("fashion_mnist", data_dir=tmp_path)
    assert data.input_shape == (28, 28, 1)
    np.testing.assert_array_equal(data.x_train[..., 0], x_train)
    np.testing.assert_array_equal(data.y_train, y_train)
    np.testing.assert_array_equal(data.x_test[..., 0], x_test)
    np.testing.assert_array_equal(data.y_test, y_test)


def test_idx_matches_keras_offsets(tmp_path):
    # keras.datasets.fashion_mnist reads labels at offset 8 and images at offset 16; same bytes here
    arr = np.arange(2 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(2, 28, 28)
    raw = idx_bytes(arr)
    np.testing.assert_array_equal(
        np.frombuffer(raw, np.uint8, offset=16).reshape(2, 28, 28), read_idx_bytes(tmp_path, raw)
    )


def read_idx_bytes(tmp_path, raw):
    (tmp_path / "f.gz").write_bytes(gzip.compress(raw))
    return read_idx(tmp_path / "f.gz")


BAD_IDX = {
    "bad magic": (b"\x01\x00\x08\x01" + b"\x00\x00\x00\x01" + b"\x05", "magic"),
    "int32 type code": (b"\x00\x00\x0c\x01" + b"\x00\x00\x00\x01" + b"\x05\x00\x00\x00", "0x0c"),
    "header cut short": (b"\x00\x00\x08\x03\x00\x00", "truncated"),
    "data cut short": (b"\x00\x00\x08\x01\x00\x00\x00\x05" + b"\x01\x02", "truncated"),
    "trailing bytes": (b"\x00\x00\x08\x01\x00\x00\x00\x01" + b"\x01\x02", "truncated or corrupt"),
}


@pytest.mark.parametrize("case", sorted(BAD_IDX))
def test_bad_idx_files_are_refused(case):
    raw, words = BAD_IDX[case]
    with pytest.raises(DataError, match=words):
        parse_idx(raw, "f.idx")


def test_truncated_gzip_idx(tmp_path):
    noisy = np.random.default_rng(0).integers(0, 256, (50, 28, 28)).astype(np.uint8)
    (tmp_path / "t.gz").write_bytes(gzip.compress(idx_bytes(noisy))[:1000])
    with pytest.raises(DataError, match="t.gz"):
        read_idx(tmp_path / "t.gz")


def test_images_and_labels_must_agree(tmp_path):
    write_idx_set(tmp_path, gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(7, np.uint8)))
    with pytest.raises(DataError, match="do not match"):
        load_data("fashion_mnist", data_dir=tmp_path)


@pytest.mark.parametrize(
    "given, canonical",
    [("CIFAR-10", "cifar10"), ("fashion-mnist", "fashion_mnist"), ("fmnist", "fashion_mnist"), ("mnist", "mnist")],
)
def test_dataset_names(given, canonical):
    assert dataset_name(given) == canonical


def test_unknown_dataset_names_the_choices():
    with pytest.raises(DataError, match="cifar10, fashion_mnist, mnist"):
        dataset_name("imagenet")


def test_cifar_found_as_archive_folder_or_extracted(tmp_path, cifar_dir, cifar_extracted):
    assert locate("cifar10", cifar_dir).name == "cifar-10-python.tar.gz"
    assert locate("cifar10", cifar_extracted).name == "cifar-10-batches-py"
    assert locate("cifar10", cifar_extracted / "cifar-10-batches-py").name == "cifar-10-batches-py"


def test_keras_cache_is_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    write_tar(tmp_path / "datasets" / "cifar-10-python.tar.gz", cifar_members(n_train=10, n_test=5))
    assert locate("cifar10") == tmp_path / "datasets" / "cifar-10-python.tar.gz"


def test_debian_fashion_mnist_location_is_searched():
    assert any(str(p) == "/usr/share/datasets/fashion-mnist" for p in search_paths("fashion_mnist"))


def test_data_size_keeps_the_first_images(cifar_dir):
    full = load_data("cifar10", cifar_dir)
    part = load_data("cifar10", cifar_dir, data_size=30)
    np.testing.assert_array_equal(part.x_train, full.x_train[:30])
    assert len(part.x_test) == len(full.x_test)


@pytest.mark.parametrize("name", ["cifar10", "fashion_mnist", "mnist"])
def test_missing_data_says_where_to_put_it(tmp_path, name):
    with pytest.raises(DataError, match="--data-dir.*docs/training.md.*--download") as err:
        load_data(name, data_dir=tmp_path)
    message = str(err.value)
    assert f"in {tmp_path};" in message and len(message) < 260 and "\n" not in message
    if name == "cifar10":
        assert message.endswith("or train offline with --dataset fashion_mnist")


def test_missing_data_dir_is_named(tmp_path):
    with pytest.raises(DataError, match="no such directory"):
        locate("cifar10", tmp_path / "nope")


def _cli(*args, env=None):
    code = (
        "import sys; from training.cli import main; rc = main(sys.argv[1:]); "
        "print('TF-LOADED' if 'tensorflow' in sys.modules else 'NO-TF'); sys.exit(rc)"
    )
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60, env=env)


CLI_ERRORS = {
    "bad spec": (["c3,q3"], "error: unknown"),
    "shape too small": (["c7/valid,p2*5", "--dataset", "mnist"], "error:"),
    "unknown dataset": (["c3", "--dataset", "imagenet"], "unknown dataset"),
    "no spec": ([], "at least one SPEC"),
}


@pytest.mark.parametrize("case", sorted(CLI_ERRORS))
def test_cli_bad_input_is_one_line_exit_2_without_tensorflow(tmp_path, case):
    args, words = CLI_ERRORS[case]
    out = _cli(*args, "--data-dir", str(tmp_path))
    assert out.returncode == 2, out.stderr
    assert words in out.stderr and "Traceback" not in out.stderr
    assert out.stderr.startswith("rfcalc-train: error:")
    assert "NO-TF" in out.stdout


def test_cli_missing_data_fails_fast_offline(tmp_path):
    env = {"HOME": str(tmp_path), "KERAS_HOME": str(tmp_path / "k"), "PATH": "/usr/bin:/bin"}
    t0 = time.perf_counter()
    out = _cli("c3,p2", "--epochs", "1", env=env)
    assert out.returncode == 2 and time.perf_counter() - t0 < 30
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "cifar-10-python.tar.gz" in lines[0] and "Traceback" not in out.stderr
    assert "NO-TF" in out.stdout


@pytest.mark.parametrize("case", ["truncated", "malicious"])
def test_cli_corrupt_archive_is_one_line_exit_2(tmp_path, cifar_dir, case):
    src = (cifar_dir / "cifar-10-python.tar.gz").read_bytes()
    if case == "truncated":
        (tmp_path / "cifar-10-python.tar.gz").write_bytes(src[: len(src) // 3])
    else:
        members = cifar_members(n_train=10, n_test=5)
        members["data_batch_1"] = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
        write_tar(tmp_path / "cifar-10-python.tar.gz", members)
    out = _cli("c3,p2", "--epochs", "1", "--data-dir", str(tmp_path), "--out", str(tmp_path / "o"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert ("truncated" in out.stderr or "corrupt" in out.stderr) if case == "truncated" else "os.system" in out.stderr
    assert not (tmp_path / "o" / "results.json").exists()


def test_help_is_fast_and_loads_no_heavy_modules():
    code = (
        "import sys; from training.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', [m for m in ('tensorflow', 'keras', 'numpy', 'matplotlib') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "--data-dir" in out.stdout and "HEAVY []" in out.stdout


def test_unreadable_results_json_is_an_error_not_overwritten(tmp_path, fmnist_dir):
    (tmp_path / "results.json").write_text("[{")
    out = _cli("c3", "--dataset", "fashion_mnist", "--data-dir", str(fmnist_dir), "--out", str(tmp_path))
    assert out.returncode == 2 and "results.json is not readable JSON" in out.stderr and "NO-TF" in out.stdout
    assert (tmp_path / "results.json").read_text() == "[{"


def test_mnist_npz_in_keras_layout(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (30, 28, 28)).astype(np.uint8),
        "y_train": rng.integers(0, 10, 30),
        "x_test": rng.integers(0, 256, (10, 28, 28)).astype(np.uint8),
        "y_test": rng.integers(0, 10, 10),
    }
    np.savez(tmp_path / "mnist.npz", **arrays)
    data = load_data("mnist", data_dir=tmp_path)
    np.testing.assert_array_equal(data.x_train[..., 0], arrays["x_train"])
    np.testing.assert_array_equal(data.y_test, arrays["y_test"])


def test_npz_with_pickled_objects_is_refused(tmp_path):
    np.savez(
        tmp_path / "mnist.npz",
        x_train=np.array([object()], dtype=object),
        y_train=np.zeros(1),
        x_test=np.zeros((1, 28, 28), np.uint8),
        y_test=np.zeros(1),
    )
    with pytest.raises(DataError, match="mnist.npz"):
        load_data("mnist", data_dir=tmp_path)
