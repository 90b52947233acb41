"""Crashes, divergence and concurrency, trained for real on the tiny CIFAR-10 archive.

A kill at every step of writing a checkpoint resumes to the losses of an uninterrupted run; a damaged
checkpoint is moved aside and its run restarts; a diverged run is not recorded and leaves strict JSON;
two processes sharing one --out keep both runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.tf, pytest.mark.slow]

FAST = ["--epochs", "2", "--batch-size", "20", "--lr", "0.003", "--steps-per-execution", "4"]


@pytest.fixture(scope="module")
def data(cifar_dir):
    pytest.importorskip("tensorflow")
    from training.data import load_data

    return load_data("cifar10", cifar_dir)


@pytest.fixture(scope="module")
def config():
    from training.train import RunConfig

    return RunConfig("c3-8,p2", epochs=3, batch_size=20, lr=0.003, steps_per_execution=4)


@pytest.fixture(scope="module")
def straight(data, config, tmp_path_factory):
    """The uninterrupted run every crashed one must reproduce."""
    from training.sweep import run_sweep

    return run_sweep([config], data, tmp_path_factory.mktemp("straight"), log=lambda *_: None).runs[0]


def _same_numbers(run, straight):
    assert run["history"].keys() == straight["history"].keys()
    for key, values in straight["history"].items():
        assert run["history"][key] == pytest.approx(values, rel=1e-5), key
    assert run["test_accuracy"] == pytest.approx(straight["test_accuracy"], abs=1e-6)


class Killed(BaseException):
    """Stands for the process dying: nothing catches it, no cleanup is meant to run after it."""


@pytest.mark.parametrize("step", ["model", "state", "switch"])
def test_a_kill_at_every_step_of_a_checkpoint_resumes_to_the_same_losses(
    data, config, straight, tmp_path, monkeypatch, step
):
    import training.checkpoint as ckpt_mod
    from training.sweep import run_sweep

    def kill(at, epoch):
        if (at, epoch) == (step, 2):
            raise Killed(at)

    monkeypatch.setattr(ckpt_mod, "kill_point", kill)
    with pytest.raises(Killed):
        run_sweep([config], data, tmp_path, log=lambda *_: None)
    monkeypatch.undo()
    assert not (tmp_path / "results.json").exists()
    lines = []
    resumed = run_sweep([config], data, tmp_path, log=lines.append).runs[0]
    # killed while writing epoch 2: before the switch epoch 1's unit stands, after it epoch 2's
    done = 2 if step == "switch" else 1
    assert resumed["resumed_from"] == [done]
    assert any(line.startswith(f"resuming c3-8,p2 from epoch {done + 1} of 3") for line in lines), lines
    _same_numbers(resumed, straight)
    assert not list(tmp_path.rglob("*.partial-*")) and not list(tmp_path.rglob("checkpoint"))


def test_a_real_os_exit_between_writes_resumes_to_the_same_losses(cifar_dir, config, straight, tmp_path):
    from training.cli import main

    args = [
        "c3-8,p2",
        "--data-dir",
        str(cifar_dir),
        "--out",
        str(tmp_path),
        "--epochs",
        "3",
        "--batch-size",
        "20",
        "--lr",
        "0.003",
        "--steps-per-execution",
        "4",
    ]
    code = "import sys; from training.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "RFCALC_TRAIN_KILL_AT": "state:2"}
    killed = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300)
    assert killed.returncode == 137, killed.stderr[-2000:]
    assert list(tmp_path.rglob(".epoch-0002.partial-*"))  # the half-made unit the kill left behind
    assert main(args) == 0
    run = json.loads((tmp_path / "results.json").read_text())[0]
    assert run["resumed_from"] == [1]
    _same_numbers(run, straight)


@pytest.mark.parametrize("damage", ["state.json", "model.keras"])
def test_a_truncated_checkpoint_is_moved_aside_and_the_run_restarts(
    data, config, straight, tmp_path, monkeypatch, damage
):
    import training.checkpoint as ckpt_mod
    from training.sweep import run_sweep

    def kill(at, epoch):
        if (at, epoch) == ("switch", 2):
            raise Killed(at)

    monkeypatch.setattr(ckpt_mod, "kill_point", kill)
    with pytest.raises(Killed):
        run_sweep([config], data, tmp_path, log=lambda *_: None)
    monkeypatch.undo()
    unit = tmp_path / config.slug / "checkpoint" / "epoch-0002"
    raw = (unit / damage).read_bytes()
    (unit / damage).write_bytes(raw[: len(raw) // 2])
    lines = []
    run = run_sweep([config], data, tmp_path, log=lines.append).runs[0]
    damaged = [line for line in lines if line.startswith("damaged checkpoint")]
    assert len(damaged) == 1 and damage in damaged[0] and "restarting this run" in damaged[0], lines
    assert run["resumed_from"] == []
    _same_numbers(run, straight)  # a restart from scratch with the same seed is the uninterrupted run
    aside = list((tmp_path / config.slug).glob("checkpoint.damaged-*"))
    assert len(aside) == 1 and (aside[0] / "epoch-0002" / damage).read_bytes() == raw[: len(raw) // 2]


def test_a_diverged_run_is_not_recorded_and_the_finished_one_survives(cifar_dir, tmp_path, capsys):
    from training.atomic import loads
    from training.cli import main

    base = ["--data-dir", str(cifar_dir), "--out", str(tmp_path), "--epochs", "1", "--batch-size", "20"]
    assert main(["c3-8,p2", *base]) == 0
    before = (tmp_path / "results.json").read_text()
    capsys.readouterr()
    rc = main(["c3-4,p2", *base, "--optimizer", "sgd", "--lr", "1e30"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert "diverged c3-4,p2: loss is nan, val_loss is nan after epoch 1 (the run diverged" in err, err
    assert err.splitlines()[-1].startswith("rfcalc-train: error: 1 run(s) diverged and were not recorded: c3-4,p2")
    text = (tmp_path / "results.json").read_text()
    assert text == before and len(loads(text)) == 1  # strict JSON, the finished run kept


def test_log_lines_are_plain_and_labels_are_as_typed(cifar_dir, tmp_path):
    code = "import sys; from training.cli import main; sys.exit(main(sys.argv[1:]))"
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "model1",
            "--data-dir",
            str(cifar_dir),
            "--out",
            str(tmp_path),
            *FAST[:2],
            "--batch-size",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert not [line for line in lines if ".py:" in line], lines  # no source locations
    done = [i for i, line in enumerate(lines) if "done model1: test accuracy" in line]
    after = lines[done[0] + 1 :]
    assert len(after) == 1 and "results:" in after[0], lines  # no progress bar after the done line
    assert len(after[0]) > 80 and str(tmp_path / "report.md") in after[0]  # not wrapped at 80 columns
    run = json.loads((tmp_path / "results.json").read_text())[0]
    assert run["label"] == "model1" and run["spec"] == "c3,p2"
    report = (tmp_path / "report.md").read_text()
    assert "`model1` (`c3,p2`)" in report and "2 epochs" in report and "too few for rho" in report


def test_progress_never_passes_the_epoch_and_leaves_nothing_behind():
    pytest.importorskip("tensorflow")
    from training.progress import make_callback

    class Progress:
        def __init__(self):
            self.completed, self.removed = [], []
            self.console = type("C", (), {"print": staticmethod(lambda *a, **k: None)})()

        def add_task(self, label, total, completed):
            self.total = total
            return 1

        def update(self, task, completed=None, description=None):
            if completed is not None:
                self.completed.append(completed)

        def remove_task(self, task):
            self.removed.append(task)

    p = Progress()
    cb = make_callback(p, "c3", epochs=2, steps=10, initial_epoch=0)
    cb.on_train_begin()
    for epoch in range(2):
        cb.on_epoch_begin(epoch)
        for batch in (3, 7, 11, 15):  # steps_per_execution=4: the last chunk reports steps past the data
            cb.on_train_batch_end(batch)
            assert p.completed[-1] <= (epoch + 1) * 10
        cb.on_epoch_end(epoch, {"loss": 1.0})
    cb.on_train_end()
    assert max(p.completed) == p.total == 20 and p.removed == [1]


CONCURRENT = "import sys; from training.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.mark.parametrize("same", [False, True], ids=["different specs", "the same spec"])
def test_two_processes_into_one_out_keep_every_run(cifar_dir, tmp_path, same):
    specs = ("c3-8,p2", "c3-8,p2") if same else ("c3-8,p2", "c3-4,p2")
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CONCURRENT,
                spec,
                "--data-dir",
                str(cifar_dir),
                "--out",
                str(tmp_path),
                "--epochs",
                "1",
                "--batch-size",
                "20",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for spec in specs
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0 and "Traceback" not in err, err[-2000:]
    runs = json.loads((tmp_path / "results.json").read_text())
    assert sorted(r["spec"] for r in runs) == sorted(set(specs))
    assert not list(tmp_path.rglob("*.partial-*"))
    if same:  # one trained it, the other waited and skipped it
        assert sum("skip c3-8,p2" in err or "wait c3-8,p2" in err for _, err in outs) >= 1
