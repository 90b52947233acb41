"""The sweep report from hand-made records: table rows, Spearman lines, figures, atomic files."""

from __future__ import annotations

import pytest

from training.atomic import read_json, replacing, write_json
from training.report import plot_result, write_report


def run(spec, params, rf, acc, dataset="cifar10", epochs=10, precision="float32", seed=0):
    return {
        "spec": spec,
        "params": params,
        "macs": params * 10,
        "rf": [rf, rf],
        "jump": [2, 2],
        "test_accuracy": acc,
        "test_loss": 1 - acc,
        "train_seconds": 12.5,
        "images_per_second": 3600.0,
        "dataset": dataset,
        "epochs": epochs,
        "data_size": None,
        "seed": seed,
        "precision": precision,
        "optimizer": "adam",
        "lr": 0.001,
        "batch_size": 128,
        "validation_split": 0.1,
    }


RUNS = [
    run("c3,p2", 164966, 4, 0.60),
    run("c3,c3,p2", 174214, 6, 0.64),
    run("c5,p2", 166000, 6, 0.62),
    run("(c3,p2)*2", 50000, 10, 0.66),
]


def test_report_has_a_row_per_run_and_the_correlations(tmp_path):
    path = write_report(RUNS, tmp_path)
    text = path.read_text()
    for r in RUNS:
        assert f"| `{r['spec']}` | {r['params']:,} |" in text
    # by hand: params ranks [2, 4, 3, 1] vs accuracy ranks [1, 3, 2, 4] -> d = [1, 1, 1, -3] -> rho = 1 - 6*12/60 = -0.2
    assert "test accuracy vs parameters: -0.200" in text
    # rf [4, 6, 6, 10] has a tie, ranks [1, 2.5, 2.5, 4]; Pearson with [1, 3, 2, 4] is 0.9486833
    assert "test accuracy vs receptive field (height): +0.949" in text
    for png in ("accuracy_vs_params.png", "accuracy_vs_rf.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"


def test_runs_are_grouped_like_with_like(tmp_path):
    others = [
        run("c3,p2", 125990, 4, 0.9, dataset="fashion_mnist"),
        run("c3,p2", 164966, 4, 0.6, seed=1),
        run("c3,p2", 164966, 4, 0.6, precision="bf16"),
    ]
    text = write_report(RUNS + others, tmp_path).read_text()
    assert text.count("## ") == 4
    assert "## cifar10, 10 epochs, all training images, seed 0, float32" in text
    assert "## fashion_mnist, 10 epochs" in text and "seed 1" in text and "bf16" in text
    assert "(n = 1 run: too few for rho to mean anything" in text and "undefined" in text
    assert (tmp_path / "accuracy_vs_params-4.png").exists()


def test_learning_curves_png(tmp_path):
    plot_result(
        {"accuracy": [0.5, 0.6], "val_accuracy": [0.5, 0.55], "loss": [1.0, 0.8], "val_loss": [1.1, 0.9]},
        tmp_path / "curves.png",
        title="t",
    )
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_a_failed_write_leaves_the_old_file(tmp_path):
    write_json(tmp_path / "r.json", [1])
    with pytest.raises(RuntimeError), replacing(tmp_path / "r.json") as tmp:
        tmp.write_text("[1, 2")  # half-written
        raise RuntimeError("killed")
    assert read_json(tmp_path / "r.json") == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_labels_plurals_and_the_rho_caveat(tmp_path):
    runs = [
        {**run("c3,p2", 164966, 4, 0.60, epochs=1), "label": "model1"},
        {**run("c3*2,p2", 174214, 6, 0.64, epochs=1), "label": "c3,c3,p2"},
    ]
    text = write_report(runs, tmp_path).read_text()
    assert "## cifar10, 1 epoch, all training images" in text and "1 epochs" not in text
    assert "| `model1` (`c3,p2`) |" in text and "| `c3,c3,p2` (`c3*2,p2`) |" in text
    assert "n = 2 runs: too few for rho to mean anything" in text
    assert "n = 4 runs: too few" in write_report(RUNS, tmp_path).read_text()
    seven = [run(f"c{k}", 1000 + k, k, 0.5 + k / 100) for k in range(3, 10)]
    text = write_report(seven, tmp_path).read_text()
    assert "(n = 7 runs):" in text and "too few" not in text


def test_epoch_ticks_are_whole_numbers(tmp_path, monkeypatch):
    import training.report as report

    figs = []
    monkeypatch.setattr(report, "_save", lambda fig, path: figs.append(fig))
    plot_result({"accuracy": [0.5, 0.6], "loss": [1.0, 0.8]}, tmp_path / "c.png")
    for ax in figs[0].axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
