"""The issue-17 experiment in miniature: a family of depths, two input sizes (--resize), two seeds
(--seeds), and the depth section of report.md with rfcalc's border layer, on a small synthetic
Fashion-MNIST (tests/training/trainfix.py). The real run: docs/experiments/unproductive/."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("tensorflow")


def test_resize_and_seeds_train_and_the_report_has_a_depth_section(fmnist_dir, tmp_path):
    from training.cli import main

    rc = main(
        [
            "c3-4,p2,c3-4,p2",
            "c3-4,p2,c3-4,p2,c3-4*4",
            "--dataset",
            "fashion_mnist",
            "--data-dir",
            str(fmnist_dir),
            "--resize",
            "56",
            "--seeds",
            "0,1",
            "--epochs",
            "1",
            "--batch-size",
            "40",
            "--out",
            str(tmp_path),
        ]
    )
    assert rc == 0
    runs = json.loads((tmp_path / "results.json").read_text())
    assert sorted((r["resize"], r["seed"], r["input_shape"][0]) for r in runs) == [(56, 0, 56)] * 2 + [(56, 1, 56)] * 2
    report = (tmp_path / "report.md").read_text()
    assert "## Depth against the border layer: fashion_mnist at 56x56" in report
    assert "the border lies past the depths trained" in report  # the added convs read at most 34 < 56
    assert list(tmp_path.glob("depth-fashion_mnist-56x56-*.png"))


def _record(spec, seed, acc, size=28):
    return {
        "spec": spec,
        "seed": seed,
        "test_accuracy": acc,
        "input_shape": [size, size, 1],
        "dataset": "fashion_mnist",
        "resize": None,
        "epochs": 1,
        "data_size": None,
        "precision": "float32",
        "optimizer": "adam",
        "lr": 0.001,
        "batch_size": 32,
        "validation_split": 0.1,
    }


def test_the_depth_verdict_follows_the_slopes_either_side_of_the_border(tmp_path):
    """At 28x28 the added convs read 10, 18, 26, 34: the fourth (6 convs) is the border layer."""
    from training.depth import depth_lines, summarise, verdict

    base = "c3-4,p2,c3-4,p2"
    specs = [base] + [f"{base},c3-4*{n}" if n > 1 else f"{base},c3-4" for n in range(1, 7)]
    rises_then_stops = [
        _record(s, seed, 0.70 + 0.02 * min(i, 3) + 0.001 * seed) for i, s in enumerate(specs) for seed in range(3)
    ]
    points = summarise(rises_then_stops)
    assert [p["unproductive"] for p in points] == [0, 0, 0, 0, 1, 2, 3]
    say, stats = verdict(points)
    assert say.startswith("yes") and stats["slope_before"][0] > 0
    keeps_rising = [_record(s, seed, 0.70 + 0.02 * i + 0.001 * seed) for i, s in enumerate(specs) for seed in range(3)]
    assert verdict(summarise(keeps_rising))[0].startswith("no")
    flat = [_record(s, seed, 0.80 + 0.01 * ((i + seed) % 2)) for i, s in enumerate(specs) for seed in range(3)]
    assert verdict(summarise(flat))[0].startswith("not decided")
    lines = depth_lines(rises_then_stops, tmp_path)
    assert any("| conv2d_5 | 3 | 0.7610 ± 0.0006 |" in line for line in lines)


def test_resize_and_seeds_are_checked_before_tensorflow(fmnist_dir, tmp_path, capsys):
    from training.cli import main

    for bad in (["--resize", "4"], ["--resize", "28,x"], ["--seeds", "-1"], ["--seeds", str(2**32)]):
        with pytest.raises(SystemExit):
            main(["c3", "--dataset", "fashion_mnist", "--data-dir", str(fmnist_dir), "--out", str(tmp_path), *bad])
        assert "rfcalc-train: error: argument" in capsys.readouterr().err
