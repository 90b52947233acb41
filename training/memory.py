"""A training run's memory, estimated from rfcalc's analysis before TensorFlow loads, against what is free.

The estimate is a lower bound on what Keras needs, so a refusal is never wrong by much:
float32 weights and their gradients (+ Adam's two moments), each layer's output for a batch (kept
for the backward pass, plus its gradient), and the images held in memory (numpy + a tf constant).
"""

from __future__ import annotations

import math
from pathlib import Path

from .errors import TrainError

FLOAT = 4
SLOTS = {"adam": 4, "sgd": 2}  # weights, gradients and the optimizer's per-weight state
DATA_IMAGES = {"cifar10": 60000, "fashion_mnist": 70000, "mnist": 70000}


def fmt_gib(n: int) -> str:
    """Bytes as GiB with one decimal.

    >>> fmt_gib(3 * 2**30 // 2)
    '1.5 GiB'
    """
    return f"{n / 2**30:,.1f} GiB"


def estimate_bytes(analysis, batch_size: int, optimizer: str = "adam", n_images: int = 0) -> dict[str, int]:
    """The parts of a run's memory in bytes: ``weights``, ``activations``, ``data``.

    >>> from rfcalc import analyze
    >>> est = estimate_bytes(analyze("c3,p2", input_shape=(32, 32, 3), head="seed"), 128)
    >>> est["weights"] == 164966 * 4 * 4
    True
    """
    weights = analysis.total_params * FLOAT * SLOTS.get(optimizer, 4)
    per_image = sum(math.prod(r.output_shape) for r in analysis.layers)
    activations = 2 * per_image * batch_size * FLOAT
    data = 2 * n_images * math.prod(analysis.input_shape)
    return {"weights": weights, "activations": activations, "data": data}


def available_bytes(meminfo="/proc/meminfo") -> int | None:
    """``MemAvailable`` of this machine, or None where it cannot be read (then nothing is refused)."""
    try:
        for line in Path(meminfo).read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_memory(
    label: str, analysis, batch_size: int, optimizer: str, dataset: str, data_size=None, available: int | None = None
) -> None:
    """Raise ``TrainError`` (one line) when the run cannot fit in the memory available now."""
    available = available_bytes() if available is None else available
    if available is None:
        return
    n = DATA_IMAGES.get(dataset, 0) if data_size is None else min(data_size, DATA_IMAGES.get(dataset, data_size))
    est = estimate_bytes(analysis, batch_size, optimizer, n)
    need = sum(est.values())
    if need > available:
        raise TrainError(
            f"{label} needs at least {fmt_gib(need)} to train (weights and optimizer "
            f"{fmt_gib(est['weights'])}, a batch of {batch_size}'s activations "
            f"{fmt_gib(est['activations'])}) but {fmt_gib(available)} is available; "
            f"use fewer filters or a smaller --batch-size"
        )
