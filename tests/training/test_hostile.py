"""Hostile input to rfcalc-train, a class per table: each is exit 2, one line on stderr, no traceback,
refused before TensorFlow loads, and the finished run already in results.json survives untouched.

No TensorFlow here; the crash, divergence and concurrency classes that need training are in test_crash.py.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np
import pytest
from trainfix import cifar_members, idx_bytes, write_tar

from training.atomic import loads, read_json, write_json
from training.errors import TrainError
from training.sweep import Sweep, check_runs

# A finished run as rfcalc-train writes it (the fields results.json's readers rely on, and a few more).
FINISHED = {
    "key": "0123456789ab",
    "spec": "c3,p2",
    "label": "model1",
    "params": 125990,
    "macs": 1000,
    "rf": [4, 4],
    "jump": [2, 2],
    "test_accuracy": 0.8,
    "test_loss": 0.5,
    "history": {"loss": [0.6]},
    "dataset": "fashion_mnist",
    "epochs": 1,
    "seed": 0,
}


def _main(capsys, *args):
    from training.cli import main

    tf_before = "tensorflow" in sys.modules
    rc = main(list(args))
    err = capsys.readouterr().err
    assert tf_before or "tensorflow" not in sys.modules, "refused only after TensorFlow loaded"
    return rc, err


def _one_line_exit_2(rc, err, *words):
    assert rc == 2, err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("rfcalc-train: error: "), err
    for w in words:
        assert w in err, (w, err)


def _out_with_a_finished_run(tmp_path):
    out = tmp_path / "runs"
    write_json(out / "results.json", [FINISHED])
    return out, (out / "results.json").read_bytes()


# --- results.json that is not a list of run records: refused before training and by --report -------------
BAD_RESULTS = {
    "numbers": "[1, 2]",
    "empty record": "[{}]",
    "bare NaN": "[NaN]",
    "NaN accuracy": "[" + json.dumps(FINISHED)[:-1] + ', "test_accuracy": NaN}]',
    "an object": '{"runs": []}',
    "string params": json.dumps([{**FINISHED, "params": "many"}]),
    "bool in rf": json.dumps([{**FINISHED, "rf": [True, 4]}]),
    "truncated": json.dumps([FINISHED])[:40],
    "null": "null",
}


@pytest.mark.parametrize("mode", ["train", "report"])
@pytest.mark.parametrize("case", sorted(BAD_RESULTS))
def test_results_that_are_not_run_records_are_refused_untouched(tmp_path, fmnist_dir, capsys, case, mode):
    out = tmp_path / "runs"
    out.mkdir()
    (out / "results.json").write_text(BAD_RESULTS[case])
    extra = ["--report"] if mode == "report" else ["c3-8,p2", "--epochs", "1"]
    rc, err = _main(capsys, *extra, "--dataset", "fashion_mnist", "--data-dir", str(fmnist_dir), "--out", str(out))
    _one_line_exit_2(rc, err, "results.json", "move")
    assert (out / "results.json").read_text() == BAD_RESULTS[case]
    assert sorted(p.name for p in out.iterdir()) == ["results.json"]  # nothing else written


def test_check_runs_accepts_a_real_record_and_names_the_bad_field():
    assert check_runs([FINISHED], "r") == [FINISHED]
    with pytest.raises(TrainError, match="record 1 lacks or has a bad test_accuracy"):
        check_runs([FINISHED, {**FINISHED, "test_accuracy": float("inf")}], "r")


# --- options refused before TensorFlow, with a finished run in --out that must survive ---------------------
BAD_OPTIONS = {
    "negative seed": (["--seed", "-1"], "--seed must lie in 0..4294967295"),
    "huge seed": (["--seed", str(2**64)], "--seed must lie in 0..4294967295"),
    "infinite lr": (["--lr", "inf"], "finite lr"),
    "NaN lr": (["--lr", "nan"], "finite lr"),
    "negative lr": (["--lr", "-0.1"], "finite lr"),
    "NaN validation split": (["--validation-split", "nan"], "validation_split"),
    "zero epochs": (["--epochs", "0"], "epochs"),
    "model too large for memory": (["c3-100000,c3-100000,p2"], "GiB is available"),
    "batch too large for memory": (["--batch-size", str(10**9)], "GiB is available"),
}


@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_bad_options_are_one_line_before_tensorflow(tmp_path, fmnist_dir, capsys, case):
    args, words = BAD_OPTIONS[case]
    out, before = _out_with_a_finished_run(tmp_path)
    spec = [] if args[0].startswith("c3") else ["c3-8,p2"]
    rc, err = _main(
        capsys, *spec, *args, "--dataset", "fashion_mnist", "--data-dir", str(fmnist_dir), "--out", str(out)
    )
    _one_line_exit_2(rc, err, words)
    assert (out / "results.json").read_bytes() == before


def test_memory_estimate_counts_weights_optimizer_and_activations():
    from rfcalc import analyze
    from training.memory import check_memory, estimate_bytes

    a = analyze("c3-8,p2", input_shape=(28, 28, 1), head="seed")
    est = estimate_bytes(a, batch_size=10, optimizer="sgd", n_images=100)
    # by hand: c3-8 out 28*28*8, p2 out 14*14*8, flat 1568, fc20 20, fc10 10 floats per image
    assert est["activations"] == 2 * (6272 + 1568 + 1568 + 20 + 10) * 10 * 4
    assert est["weights"] == a.total_params * 4 * 2 and est["data"] == 2 * 100 * 784
    check_memory("c3-8,p2", a, 10, "sgd", "fashion_mnist", available=10**9)  # fits: no error
    with pytest.raises(TrainError, match="1.0 GiB is available"):
        check_memory("c3-8,p2", a, 10**6, "adam", "fashion_mnist", available=2**30)


# --- --out that cannot hold a sweep ----------------------------------------------------------------------
def test_out_under_a_file_is_one_line(tmp_path, fmnist_dir, capsys):
    (tmp_path / "file").write_text("keep")
    rc, err = _main(
        capsys,
        "c3-8,p2",
        "--dataset",
        "fashion_mnist",
        "--data-dir",
        str(fmnist_dir),
        "--out",
        str(tmp_path / "file" / "sub"),
        "--epochs",
        "1",
    )
    _one_line_exit_2(rc, err, "is a file, not a folder", str(tmp_path / "file"))
    assert (tmp_path / "file").read_text() == "keep"


def test_unwritable_out_is_refused_before_training(fmnist_dir, capsys):
    # /sys refuses new folders even to root, where a chmod'ed folder would not
    rc, err = _main(
        capsys,
        "c3-8,p2",
        "--dataset",
        "fashion_mnist",
        "--data-dir",
        str(fmnist_dir),
        "--out",
        "/sys/rfcalc-train-test",
        "--epochs",
        "1",
    )
    _one_line_exit_2(rc, err, "is not writable")


@pytest.mark.skipif(
    not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() == 0,
    reason="root writes to read-only folders",
)
def test_read_only_out_is_refused_and_keeps_its_runs(tmp_path, fmnist_dir, capsys):
    out, before = _out_with_a_finished_run(tmp_path)
    out.chmod(0o555)
    try:
        rc, err = _main(
            capsys,
            "c3-8,p2",
            "--dataset",
            "fashion_mnist",
            "--data-dir",
            str(fmnist_dir),
            "--out",
            str(out),
            "--epochs",
            "1",
        )
    finally:
        out.chmod(0o755)
    _one_line_exit_2(rc, err, "is not writable")
    assert (out / "results.json").read_bytes() == before


# --- data files that used to end in a traceback ------------------------------------------------------------
def _cifar_with_labels(d, labels):
    members = cifar_members(n_train=10, n_test=5)
    members["data_batch_1"] = pickle.dumps({b"data": np.zeros((len(labels), 3072), np.uint8), b"labels": labels})
    write_tar(d / "cifar-10-python.tar.gz", members)


def _fmnist_with_images_header(d, dims):
    header = struct.pack(f">BBBB{len(dims)}I", 0, 0, 8, len(dims), *dims)
    (d / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(header))
    for name, arr in (
        ("train-labels-idx1-ubyte", np.zeros(2, np.uint8)),
        ("t10k-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8)),
        ("t10k-labels-idx1-ubyte", np.zeros(2, np.uint8)),
    ):
        (d / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(arr)))


def _zip_bytes():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("x_train.npy", b"\x93NUMPY" + b"\x00" * 200)
    return buf.getvalue()


BAD_DATA = {
    "cifar label beyond int64": ("cifar10", lambda d: _cifar_with_labels(d, [2**70, 1]), "labels"),
    "cifar label a float": ("cifar10", lambda d: _cifar_with_labels(d, [1.5, 1]), "labels"),
    "cifar label negative": ("cifar10", lambda d: _cifar_with_labels(d, [-1, 1]), "labels"),
    "cifar tar that is text": (
        "cifar10",
        lambda d: (d / "cifar-10-python.tar.gz").write_text("hello"),
        "not a readable tar.gz archive",
    ),
    "cifar tar of zeros": ("cifar10", lambda d: (d / "cifar-10-python.tar.gz").write_bytes(bytes(4096)), "lacks"),
    "IDX dims overflow int64": (
        "fashion_mnist",
        lambda d: _fmnist_with_images_header(d, (2**16, 2**16, 2**32 - 1)),
        "truncated or corrupt",
    ),
    "IDX dims product huge": (
        "fashion_mnist",
        lambda d: _fmnist_with_images_header(d, (2**32 - 1,) * 3),
        "truncated or corrupt",
    ),
    "mnist.npz not a zip": (
        "mnist",
        lambda d: (d / "mnist.npz").write_bytes(b"PK\x03\x04" + bytes(100)),
        "not a readable mnist.npz",
    ),
    "mnist.npz truncated zip": (
        "mnist",
        lambda d: (d / "mnist.npz").write_bytes(_zip_bytes()[:-30]),
        "not a readable mnist.npz",
    ),
    "mnist.npz bad member": (
        "mnist",
        lambda d: (d / "mnist.npz").write_bytes(_zip_bytes()),
        "not a readable mnist.npz",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_data_files_are_one_line(tmp_path, capsys, case):
    dataset, make, words = BAD_DATA[case]
    data = tmp_path / "data"
    data.mkdir()
    make(data)
    out, before = _out_with_a_finished_run(tmp_path)
    rc, err = _main(
        capsys, "c3-8,p2", "--dataset", dataset, "--data-dir", str(data), "--out", str(out), "--epochs", "1"
    )
    _one_line_exit_2(rc, err, words)
    assert (out / "results.json").read_bytes() == before


# --- strict JSON and merging -------------------------------------------------------------------------------
def test_json_is_strict_both_ways(tmp_path):
    with pytest.raises(TrainError, match="non-finite"):
        write_json(tmp_path / "r.json", [{"loss": float("nan")}])
    assert not (tmp_path / "r.json").exists() and not list(tmp_path.iterdir())
    for text in ("[NaN]", "[Infinity]", "[-Infinity]"):
        with pytest.raises(ValueError):
            loads(text)


def test_a_stale_sweep_merges_instead_of_overwriting(tmp_path, monkeypatch):
    """Two sweeps opened on one folder, as two processes would: each record keeps the other's run."""
    import training.sweep as sweep_mod

    class Config:
        def __init__(self, key):
            self.key, self.slug = key, f"run-{key}"

    monkeypatch.setattr(
        sweep_mod,
        "Checkpoint",
        type("C", (), {"of_run": staticmethod(lambda out, c: type("R", (), {"remove": lambda self: None})())}),
    )
    monkeypatch.setattr("training.report.write_report", lambda runs, out: None)
    dead = tmp_path / ".results.json.partial-999999999-0badf00d"  # left by a process killed mid-write
    live = tmp_path / f".report.md.partial-{os.getpid()}-0badf00d"  # being written right now
    dead.write_text("[{")
    live.write_text("# Sweep")
    a, b = Sweep(tmp_path), Sweep(tmp_path)  # both read an empty results.json
    a.record(Config("aaaaaaaaaaaa"), {**FINISHED, "key": "aaaaaaaaaaaa"})
    b.record(Config("bbbbbbbbbbbb"), {**FINISHED, "key": "bbbbbbbbbbbb"})
    a.record(Config("cccccccccccc"), {**FINISHED, "key": "cccccccccccc"})
    keys = [r["key"] for r in read_json(tmp_path / "results.json")]
    assert keys == ["aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc"]
    assert not dead.exists() and live.exists()


def test_temporary_names_differ_per_call(tmp_path):
    from training.atomic import temp_name

    names = {temp_name(tmp_path / "model.keras", ".keras") for _ in range(100)}
    assert len(names) == 100 and all(n.name.endswith(".keras") and n.parent == tmp_path for n in names)


# --- help and the CPU check ------------------------------------------------------------------------------
def test_help_names_every_value_alike_and_shows_examples(capsys):
    import re

    from training.cli import build_parser

    text = build_parser().format_help()
    metavars = set(re.findall(r"--[a-z-]+ ([A-Z]+)\b", text))
    assert metavars <= {"N", "DIR", "NAME", "RATE", "FRACTION"}, metavars
    assert "examples:" in text and "rfcalc-train model1 model2" in text
    assert all(len(line) <= 100 for line in text.splitlines())


CPUINFO = {
    "Sapphire Rapids": ("flags\t\t: fpu avx512f avx512_bf16 amx_bf16 amx_tile amx_int8\n", None),
    "Xeon without AMX": ("flags\t\t: fpu avx512f avx512_bf16\n", "no AMX"),
    "no flags line": ("processor\t: 0\n", "no AMX"),
}


@pytest.mark.parametrize("case", sorted(CPUINFO))
def test_bf16_warning_follows_the_cpu_flags(tmp_path, case):
    from training.cpu import bf16_warning, cpu_flags

    text, words = CPUINFO[case]
    (tmp_path / "cpuinfo").write_text(text)
    note = bf16_warning(cpu_flags(tmp_path / "cpuinfo"))
    assert note is None if words is None else words in note
    assert cpu_flags(tmp_path / "nowhere") is None and bf16_warning(frozenset()) is not None


@pytest.mark.parametrize("amx", [False, True])
def test_bf16_on_a_cpu_without_amx_warns_once_before_anything_loads(tmp_path, capsys, monkeypatch, amx):
    import training.cpu as cpu

    flags = {"avx512f", "avx512_bf16"} | ({"amx_bf16", "amx_tile"} if amx else set())
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset(flags))
    data = tmp_path / "data"
    data.mkdir()
    (data / "mnist.npz").write_bytes(b"not a zip")  # stops the run right after the warning
    rc, err = _main(
        capsys,
        "c3-8,p2",
        "--precision",
        "bf16",
        "--dataset",
        "mnist",
        "--data-dir",
        str(data),
        "--out",
        str(tmp_path / "runs"),
    )
    assert rc == 2 and "Traceback" not in err
    warnings = [line for line in err.splitlines() if "warning:" in line]
    assert warnings == ([] if amx else [warnings[0]]) and (amx or "no AMX" in warnings[0])
