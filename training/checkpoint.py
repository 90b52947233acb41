"""Per-epoch checkpoints (model + optimizer state + history so far) so a killed run resumes where it stopped.

The checkpoint folder holds ``model.keras`` (Keras's format saves the optimizer's variables too) and
``state.json`` (epochs done, history, per-epoch timings), each replaced atomically, state last: a
state file never points at a model that is not fully written.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from .atomic import read_json, replacing, write_json


def save_model(model, path) -> None:
    """``model.save(path)``, atomically (through a temporary file that keeps the ``.keras`` Keras insists on)."""
    with replacing(path, ".keras") as tmp:
        model.save(tmp)


class Checkpoint:
    """Where one run's checkpoint lives; ``load`` and ``save`` are the whole interface."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.model_path = self.folder / "model.keras"
        self.state_path = self.folder / "state.json"

    @classmethod
    def of_run(cls, out_dir, config) -> "Checkpoint":
        """The checkpoint of ``config``'s run in an output folder: ``out_dir/<slug>/checkpoint``."""
        return cls(Path(out_dir) / config.slug / "checkpoint")

    def state(self) -> dict | None:
        state = read_json(self.state_path)
        return state if state and self.model_path.exists() else None

    def save(self, model, state: dict) -> None:
        save_model(model, self.model_path)
        write_json(self.state_path, state)

    def load_model(self):
        import keras

        return keras.models.load_model(self.model_path)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def epoch_clock(on_epoch_end, pipes=None):
    """A Keras callback that times each epoch and calls ``on_epoch_end(epoch, logs, train_seconds, wall_seconds)``.

    ``train_seconds`` stops when validation starts (validation is not training time); ``wall_seconds`` is
    the whole epoch. With ``pipes`` it also sets the data epoch at each epoch start.
    """
    import keras

    class _Clock(keras.callbacks.Callback):
        _t0 = _train = None

        def on_epoch_begin(self, epoch, logs=None):
            if pipes is not None:
                pipes.epoch.assign(epoch)
            self._t0, self._train = time.perf_counter(), None

        def on_test_begin(self, logs=None):
            if self._t0 is not None and self._train is None:
                self._train = time.perf_counter() - self._t0

        def on_epoch_end(self, epoch, logs=None):
            wall = time.perf_counter() - self._t0
            on_epoch_end(epoch, logs or {}, wall if self._train is None else self._train, wall)

    return _Clock()


def make_callback(checkpoint: Checkpoint, pipes, state: dict):
    """A Keras callback: set the data epoch, time the training phase, save a checkpoint after each epoch."""
    def save(epoch, logs, train_seconds, wall_seconds):
        for key, value in logs.items():
            state["history"].setdefault(key, []).append(float(value))
        state["epoch_train_seconds"].append(train_seconds)
        state["epoch_wall_seconds"].append(wall_seconds)
        state["epochs_done"] = epoch + 1
        checkpoint.save(clock.model, state)

    clock = epoch_clock(save, pipes)
    return clock
