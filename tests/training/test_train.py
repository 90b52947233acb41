"""Training end to end on the tiny CIFAR-10 archive: learning, records, reports, skip, resume, Ctrl-C, mirrored."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = [pytest.mark.tf]

FAST = ["--epochs", "3", "--batch-size", "20", "--lr", "0.003", "--steps-per-execution", "4"]


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def trained(tf, cifar_dir, tmp_path_factory):
    """Two tiny specs trained through the CLI on the fixture archive."""
    from training.cli import main

    out = tmp_path_factory.mktemp("runs")
    rc = main(["c3-8,p2", "c3-8,p2,c3-8,p2", "--data-dir", str(cifar_dir), "--out", str(out), *FAST])
    return rc, out, json.loads((out / "results.json").read_text())


@pytest.mark.slow
def test_cli_trains_offline_and_beats_chance(trained):
    rc, out, runs = trained
    assert rc == 0 and len(runs) == 2
    for r in runs:
        assert r["test_accuracy"] > 0.25, r  # chance is 0.10
        assert len(r["history"]["val_accuracy"]) == 3
        assert r["n_train"] == 180 and r["n_val"] == 20 and r["n_test"] == 100  # the last 10% held out


REQUIRED = (
    "spec",
    "params",
    "macs",
    "rf",
    "jump",
    "test_loss",
    "test_accuracy",
    "history",
    "train_seconds",
    "images_per_second",
    "dataset",
    "epochs",
    "seed",
    "input_shape",
)


@pytest.mark.slow
def test_results_have_every_field_and_files_exist(trained):
    _, out, runs = trained
    for r in runs:
        assert all(k in r for k in REQUIRED)
        assert r["dataset"] == "cifar10" and r["input_shape"] == [32, 32, 3] and r["epochs"] == 3
        assert (out / r["model"]).is_file() and (out / r["curves"]).stat().st_size > 1000
    for name in ("report.md", "accuracy_vs_params.png", "accuracy_vs_rf.png"):
        assert (out / name).stat().st_size > 100
    report = (out / "report.md").read_text()
    assert "Spearman" in report and "`c3-8,p2`" in report
    assert not list(out.rglob("*.partial*")) and not list(out.rglob("checkpoint"))


@pytest.mark.slow
def test_recorded_params_equal_keras_count_params_of_the_saved_model(trained):
    import keras

    _, out, runs = trained
    for r in runs:
        assert keras.models.load_model(out / r["model"]).count_params() == r["params"]


@pytest.mark.slow
def test_rerun_skips_finished_runs(trained, cifar_dir, capsys):
    from training.cli import main

    _, out, runs = trained
    rc = main(["c3-8,p2", "c3-8,p2,c3-8,p2", "--data-dir", str(cifar_dir), "--out", str(out), *FAST])
    assert rc == 0
    assert capsys.readouterr().err.count("skip ") == 2
    assert json.loads((out / "results.json").read_text()) == runs


# Keras's own count_params() is the oracle; the notebook's numbers are 164,966 and 174,214.
PARAM_CASES = {
    "model1": 164966,
    "model2": 174214,
    "c3-16,bn,p2,sep3-8,dw3,a2,c3s2/valid/nobias": None,
    "(c3,p2)*3": None,
    "c5-64,p3s2": None,
}


@pytest.mark.parametrize("spec", sorted(PARAM_CASES))
def test_build_model_params_equal_keras(tf, spec):
    from rfcalc import analyze
    from training.models import build_model, resolve_spec

    expected = analyze(resolve_spec(spec), head="seed").total_params
    model = build_model(resolve_spec(spec), (32, 32, 3), expected_params=expected)
    assert model.count_params() == expected
    if PARAM_CASES[spec]:
        assert expected == PARAM_CASES[spec]


def _boom_after(epoch_index):
    import keras

    class Boom(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == epoch_index:
                raise KeyboardInterrupt

    return Boom()


@pytest.mark.slow
def test_interrupted_run_resumes_and_matches_an_uninterrupted_one(tf, cifar_dir, tmp_path):
    from training.checkpoint import Checkpoint
    from training.data import load_data
    from training.sweep import run_sweep
    from training.train import RunConfig

    data = load_data("cifar10", cifar_dir)
    config = RunConfig("c3-8,p2", epochs=3, batch_size=20, lr=0.003, steps_per_execution=4)
    with pytest.raises(KeyboardInterrupt):
        run_sweep([config], data, tmp_path / "a", log=lambda *_: None, callbacks=(_boom_after(0),))
    assert not (tmp_path / "a" / "results.json").exists()
    assert Checkpoint(tmp_path / "a" / config.slug / "checkpoint").peek()["epochs_done"] == 1
    resumed = run_sweep([config], data, tmp_path / "a", log=lambda *_: None).runs[0]
    straight = run_sweep([config], data, tmp_path / "b", log=lambda *_: None).runs[0]
    assert resumed["resumed_from"] == [1] and straight["resumed_from"] == []
    assert len(resumed["history"]["loss"]) == 3
    # same weights and optimizer state after epoch 1, same batches after it: the same numbers
    assert resumed["history"].keys() == straight["history"].keys()
    for key, values in straight["history"].items():
        assert resumed["history"][key] == pytest.approx(values, rel=1e-5), key
    assert resumed["test_accuracy"] == pytest.approx(straight["test_accuracy"], abs=1e-6)


@pytest.mark.slow
def test_ctrl_c_exits_130_and_says_where_to_resume(tf, cifar_dir, tmp_path, monkeypatch, capsys):
    import training.train as train_mod
    from training.cli import main

    real = train_mod.train_run
    monkeypatch.setattr(train_mod, "train_run", lambda *a, **k: real(*a, **{**k, "callbacks": (_boom_after(1),)}))
    rc = main(["c3-8,p2", "--data-dir", str(cifar_dir), "--out", str(tmp_path), *FAST])
    err = capsys.readouterr().err
    assert rc == 130
    assert "2/3 epochs checkpointed and resumes from epoch 3" in err and "Traceback" not in err
    assert not (tmp_path / "results.json").exists() and not list(tmp_path.rglob("*.partial*"))


@pytest.mark.slow
def test_fashion_mnist_idx_trains(tf, fmnist_dir, tmp_path):
    from training.cli import main

    assert (
        main(
            [
                "c3-8,p2",
                "--dataset",
                "fashion_mnist",
                "--data-dir",
                str(fmnist_dir),
                "--out",
                str(tmp_path),
                *FAST[:2],
                "--batch-size",
                "32",
            ]
        )
        == 0
    )
    run = json.loads((tmp_path / "results.json").read_text())[0]
    assert run["input_shape"] == [28, 28, 1] and run["dataset"] == "fashion_mnist"


MIRRORED = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    assert tf.distribute.MirroredStrategy().num_replicas_in_sync == 2
    from training.cli import main
    rc = main(["c3-8,p2", "--strategy", "mirrored", "--data-dir", sys.argv[1], "--out", sys.argv[2],
               "--epochs", "2", "--batch-size", "20", "--lr", "0.003"])
    print("RC", rc)
""")


@pytest.mark.slow
def test_mirrored_strategy_on_two_logical_cpus(tf, cifar_dir, tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", MIRRORED, str(cifar_dir), str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert "RC 0" in out.stdout, out.stderr[-3000:]
    run = json.loads((tmp_path / "results.json").read_text())[0]
    assert run["strategy"] == "mirrored" and len(run["history"]["loss"]) == 2


@pytest.mark.slow
def test_dry_run_lists_finished_runs_as_skipped(trained, cifar_dir, capsys):
    from training.cli import main

    _, out, _ = trained
    assert main(["c3-8,p2", "c3-16,p2", "--data-dir", str(cifar_dir), "--out", str(out), *FAST, "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("skip c3-8,p2") for line in lines)
    assert any(line.startswith("train c3-16,p2") for line in lines)


def test_bf16_keeps_params_and_a_float32_output(tf):
    import numpy as np

    from training.models import build_model

    model = build_model("c3,c3,p2", (32, 32, 3), expected_params=174214, precision="bf16")
    assert model.layers[0].compute_dtype == "bfloat16" and model.layers[-1].compute_dtype == "float32"
    assert model(np.zeros((2, 32, 32, 3), np.float32)).dtype == "float32"
    import keras

    assert keras.mixed_precision.global_policy().name == "float32"  # the global policy is put back


@pytest.mark.slow
def test_multiworker_strategy_runs_as_one_worker_without_tf_config(tf, cifar_dir, tmp_path):
    code = (
        "import sys; from training.cli import main; "
        "print('RC', main(['c3-8,p2', '--strategy', 'multiworker', '--data-dir', sys.argv[1], '--out', "
        "sys.argv[2], '--epochs', '1', '--batch-size', '20']))"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_CONFIG"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(cifar_dir), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert "RC 0" in out.stdout, out.stderr[-3000:]
    assert json.loads((tmp_path / "results.json").read_text())[0]["strategy"] == "multiworker"
