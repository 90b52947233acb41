"""Issue 18.18: the sweep's scatter plots never draw one label over another.

The boxes are matplotlib's own: every text's window extent from the figure's renderer, after the figure
is drawn as it is saved. The sweep is the course's seven specs with docs/baselines.md's numbers, where
two pairs share parameters or field and accuracies lie within 1.6 points.
"""

from __future__ import annotations

import itertools

import pytest

import training.report as rep

pytest.importorskip("matplotlib")

BASELINES = [
    ("c3,p2", 125990, 4, 0.9024),
    ("c5,p2", 126502, 6, 0.9126),
    ("c3,p2,c3", 135238, 8, 0.9162),
    ("c3,p2,c3,p2", 41158, 10, 0.9108),
    ("(c3,p2)*3", 24806, 22, 0.9019),
    ("c3,c3,p2", 135238, 6, 0.9172),
    ("c3,c3,c3,p2", 144486, 8, 0.9156),
]


def _run(spec, params, rf, acc):
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
        "dataset": "fashion_mnist",
        "epochs": 10,
        "data_size": None,
        "seed": 0,
        "precision": "float32",
        "optimizer": "adam",
        "lr": 0.001,
        "batch_size": 128,
        "validation_split": 0.1,
    }


def _figures(runs, tmp_path, monkeypatch):
    figs = []
    monkeypatch.setattr(rep, "_save", lambda fig, path: figs.append(fig))
    rep.write_report(runs, tmp_path)
    return figs


def _label_boxes(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    texts = [t for t in ax.texts if t.get_text()]
    legend = ax.get_legend()
    if legend is not None:
        texts += [t for t in legend.get_texts() if t.get_text()]
    boxes = {t.get_text(): t.get_window_extent(renderer) for t in texts}
    assert len(boxes) == len(texts), "a text drawn twice"
    return boxes


def _overlaps(boxes):
    return [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes.items(), 2) if ba.overlaps(bb)]


@pytest.mark.parametrize(
    "runs",
    [
        [_run(*b) for b in BASELINES],
        [
            _run(s, p, rf, 0.91 + i * 0.0005) for i, (s, p, rf, _) in enumerate(BASELINES)
        ],  # accuracies 0.05 points apart
        [_run(s, 130000 + i * 50, 6, 0.915) for i, (s, *_) in enumerate(BASELINES)],  # all seven in one spot
    ],
    ids=["baselines", "close-accuracy", "one-spot"],
)
def test_no_two_labels_overlap(runs, tmp_path, monkeypatch):
    figs = _figures(runs, tmp_path, monkeypatch)
    assert len(figs) == 2
    for fig in figs:
        boxes = _label_boxes(fig)
        assert {r["spec"] for r in runs} <= set(boxes), "every run is named, on the plot or in its legend"
        assert not _overlaps(boxes), f"labels drawn over each other: {_overlaps(boxes)}"
