"""A rich progress bar for sweeps, and the Keras callback that advances it batch by batch.

The bar of a run is removed when its training ends and the bars are transient, so nothing of them
is printed after the run's "done" line; the count never passes the epoch's number of batches.
"""

from __future__ import annotations


def make_logger(console):
    """``log(message)``: one timestamped line through ``console`` (so live bars stay below it), never
    wrapped or padded to the terminal's width, no source location, no markup read into the message."""
    import time

    def log(message: str) -> None:
        console.print(f"{time.strftime('%H:%M:%S')} {message}", soft_wrap=True, markup=False, highlight=False)

    return log


def make_progress(console=None):
    """A ``rich.progress.Progress`` with the columns a training run needs."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def make_callback(progress, label: str, epochs: int, steps: int, initial_epoch: int):
    """Keras callback: one bar of ``epochs * steps`` batches; logs one line per finished epoch."""
    import keras

    log = make_logger(progress.console)

    class _Bar(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.task = progress.add_task(label, total=epochs * steps, completed=initial_epoch * steps)

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            progress.update(self.task, description=f"{label} epoch {epoch + 1}/{epochs}")

        def on_train_batch_end(self, batch, logs=None):
            # with steps_per_execution, batch is the last step of the chunk just run, and the last chunk
            # of an epoch may count steps past the end of the data: clamp to the epoch's batches
            progress.update(self.task, completed=self.epoch * steps + min(batch + 1, steps))

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            progress.update(self.task, completed=(epoch + 1) * steps)
            shown = "  ".join(
                f"{k} {v:.4f}" for k, v in logs.items() if k in ("loss", "accuracy", "val_loss", "val_accuracy")
            )
            log(f"{label} epoch {epoch + 1}/{epochs}  {shown}")

        def on_train_end(self, logs=None):
            progress.remove_task(self.task)

    return _Bar()
