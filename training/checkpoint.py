"""Per-epoch checkpoints (model + optimizer state + history so far) so a killed run resumes where it stopped.

A checkpoint is one unit: the folder ``checkpoint/epoch-NNNN/`` holding ``model.keras`` (Keras's
format saves the optimizer's variables too) and ``state.json`` (epochs done, history, timings) of the
same epoch. It is written as a hidden ``.epoch-NNNN.partial-*`` folder and switched in by one rename,
so a crash at any moment leaves either the previous epoch's unit or the new one, never a mix; older
units are removed after the switch, and the newest complete one is what a resume loads. A unit that
cannot be read (truncated, hand-edited) is moved aside as ``checkpoint.damaged-*`` and the run restarts.

For tests, ``RFCALC_TRAIN_KILL_AT=STEP:EPOCH`` ends the process (``os._exit``) at one step of writing
epoch EPOCH's unit: ``model`` (model written), ``state`` (state written, not switched in) or ``switch``
(switched in, older units not yet removed).
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import time
from pathlib import Path

from .atomic import PARTIAL, dumps, finite, fsync_path, loads, replacing, temp_name
from .errors import DivergedError

KILL_STEPS = ("model", "state", "switch")
_UNIT = re.compile(r"epoch-(\d{4,})")


def kill_point(step: str, epoch: int) -> None:
    """End the process here if ``RFCALC_TRAIN_KILL_AT`` names this step and epoch (crash tests)."""
    if os.environ.get("RFCALC_TRAIN_KILL_AT") == f"{step}:{epoch}":
        os._exit(137)


def save_model(model, path) -> None:
    """``model.save(path)``, atomically (through a temporary file that keeps the ``.keras`` Keras insists on)."""
    with replacing(path, ".keras") as tmp:
        model.save(tmp)


class DamagedCheckpoint(Exception):
    """A checkpoint unit that cannot be read; the message says what is wrong with it."""


def _check_state(state, key: str, epochs_done: int) -> dict:
    if not isinstance(state, dict) or state.get("key") != key or state.get("epochs_done") != epochs_done:
        raise DamagedCheckpoint(f"state.json does not describe epoch {epochs_done} of this run")
    lists = ("epoch_train_seconds", "epoch_wall_seconds", "resumed_from")
    if not isinstance(state.get("history"), dict) or not all(isinstance(state.get(k), list) for k in lists):
        raise DamagedCheckpoint("state.json lacks its history or timings")
    return state


class Checkpoint:
    """Where one run's checkpoint lives; ``resume`` and ``save`` are the whole interface."""

    def __init__(self, folder):
        self.folder = Path(folder)

    @classmethod
    def of_run(cls, out_dir, config) -> Checkpoint:
        """The checkpoint of ``config``'s run in an output folder: ``out_dir/<slug>/checkpoint``."""
        return cls(Path(out_dir) / config.slug / "checkpoint")

    def units(self) -> list[tuple[int, Path]]:
        """Complete units, newest first."""
        if not self.folder.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.folder.iterdir() if (m := _UNIT.fullmatch(p.name))]
        return sorted(found, reverse=True)

    def peek(self) -> dict | None:
        """The newest unit's state if it reads as JSON (no model loaded; for messages)."""
        for epoch, path in self.units():
            try:
                state = loads((path / "state.json").read_text())
            except (OSError, ValueError):
                return None
            return state if isinstance(state, dict) and state.get("epochs_done") == epoch else None
        return None

    def resume(self, key: str, log=print):
        """``(state, model)`` from the newest unit, or None when there is none.

        A unit that cannot be read is moved aside (kept for inspection), one line is logged, and None
        is returned so the run starts afresh. Call inside the strategy scope that will train the model.
        """
        import zipfile

        import keras

        self._clean_partials()
        units = self.units()
        if not units:
            return None
        epoch, path = units[0]
        try:
            try:
                state = _check_state(loads((path / "state.json").read_text()), key, epoch)
            except (OSError, ValueError) as err:
                raise DamagedCheckpoint(f"state.json: {err}") from None
            model_path = path / "model.keras"
            if not zipfile.is_zipfile(model_path):
                raise DamagedCheckpoint("model.keras is missing or not a complete .keras archive")
            try:
                model = keras.models.load_model(model_path)
            except Exception as err:  # Keras raises many types for a damaged archive
                raise DamagedCheckpoint(f"model.keras: {type(err).__name__}") from None
        except DamagedCheckpoint as err:
            aside = self.move_aside()
            log(f"damaged checkpoint of epoch {epoch} ({err}); moved to {aside}; restarting this run")
            return None
        return state, model

    def move_aside(self) -> Path:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")
        aside = self.folder.with_name(f"{self.folder.name}.damaged-{stamp}-{os.getpid()}")
        os.replace(self.folder, aside)
        return aside

    def save(self, model, state: dict) -> None:
        """Write the unit of ``state["epochs_done"]`` and switch it in with one rename."""
        epoch = state["epochs_done"]
        text = dumps(state)  # a non-finite number refuses here, before anything is written
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"epoch-{epoch:04d}"
        tmp = temp_name(final)
        tmp.mkdir()
        model.save(tmp / "model.keras")
        kill_point("model", epoch)
        (tmp / "state.json").write_text(text)
        for name in ("model.keras", "state.json"):
            fsync_path(tmp / name)
        fsync_path(tmp)
        kill_point("state", epoch)
        if final.exists():  # only after a crash that left this very epoch switched in: replace it
            shutil.rmtree(final)
        os.rename(tmp, final)
        fsync_path(self.folder)
        kill_point("switch", epoch)
        for old_epoch, path in self.units():
            if old_epoch != epoch:
                shutil.rmtree(path, ignore_errors=True)

    def _clean_partials(self) -> None:
        """Remove units that a killed process left half-written (the run's lock makes them ours)."""
        if self.folder.is_dir():
            for p in self.folder.iterdir():
                if PARTIAL in p.name:
                    shutil.rmtree(p, ignore_errors=True)

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


def check_finite(epoch: int, logs: dict) -> None:
    """Raise ``DivergedError`` when a loss or metric of epoch ``epoch`` (0-based) is NaN or infinite.

    >>> check_finite(0, {"loss": float("nan"), "accuracy": 0.1})
    Traceback (most recent call last):
    ...
    training.errors.DivergedError: loss is nan after epoch 1 (the run diverged; try a smaller --lr)
    """
    bad = [f"{k} is {float(v)}" for k, v in logs.items() if not finite(float(v))]
    if bad:
        raise DivergedError(f"{', '.join(bad)} after epoch {epoch + 1} (the run diverged; try a smaller --lr)")


def make_callback(checkpoint: Checkpoint, pipes, state: dict):
    """A Keras callback: set the data epoch, time the training phase, stop a diverged run, and save a
    checkpoint unit after each finite epoch."""

    def save(epoch, logs, train_seconds, wall_seconds):
        check_finite(epoch, logs)
        for key, value in logs.items():
            state["history"].setdefault(key, []).append(float(value))
        state["epoch_train_seconds"].append(train_seconds)
        state["epoch_wall_seconds"].append(wall_seconds)
        state["epochs_done"] = epoch + 1
        checkpoint.save(clock.model, state)

    clock = epoch_clock(save, pipes)
    return clock
