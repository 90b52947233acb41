"""Sweeps: train a list of specs into one folder, skipping runs already in results.json.

results.json is a list of finished runs, rewritten atomically after each; a run's checkpoint is
removed only once its record is safely written, so a crash at any moment loses at most one epoch.
"""

from __future__ import annotations

from pathlib import Path

from .atomic import read_json, write_json
from .checkpoint import Checkpoint
from .errors import TrainError

# B2-2-1: how depth, pooling position and kernel size change parameters and accuracy.
# Ordered cheap to costly, so a sweep cut short still has the comparisons that matter.
SWEEPS = {
    "b2-2-1": (
        ("c3,p2", "notebook model1: one 3x3 conv"),
        ("c5,p2", "one 5x5 conv, as in B2-1"),
        ("c3,p2,c3", "two 3x3 convs, pooling moved between them"),
        ("c3,p2,c3,p2", "two conv-pool blocks"),
        ("(c3,p2)*3", "a deeper conv-pool stack"),
        ("c3,c3,p2", "notebook model2: two 3x3 convs"),
        ("c3,c3,c3,p2", "three 3x3 convs (the notebook's hint)"),
    ),
}


class Sweep:
    """The state of an output folder: finished runs by key, and the run in progress (for messages)."""

    def __init__(self, out_dir):
        self.out_dir = Path(out_dir)
        self.results_path = self.out_dir / "results.json"
        self.current = None
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise TrainError(f"{self.out_dir} is a file, not a folder; choose another --out")
        try:
            runs = read_json(self.results_path, default=[])
        except (ValueError, OSError) as err:  # hand-edited or foreign file: say so, never overwrite it
            raise TrainError(f"{self.results_path} is not readable JSON ({err}); move it away to start afresh") from None
        if not isinstance(runs, list):
            raise TrainError(f"{self.results_path} is not a list of runs; move it away to start afresh")
        self.runs = runs

    def done(self, config) -> dict | None:
        return next((r for r in self.runs if r.get("key") == config.key), None)

    def record(self, config, result: dict) -> None:
        self.runs = [r for r in self.runs if r.get("key") != config.key] + [result]
        write_json(self.results_path, self.runs)
        Checkpoint.of_run(self.out_dir, config).remove()

    def resume_note(self) -> str:
        """Where an interrupted sweep stands, for the Ctrl-C message."""
        if self.current is None:
            return f"{len(self.runs)} runs finished in {self.results_path}"
        state = Checkpoint.of_run(self.out_dir, self.current).state()
        done = state["epochs_done"] if state else 0
        return (f"{len(self.runs)} runs finished in {self.results_path}; {self.current.spec} has "
                f"{done}/{self.current.epochs} epochs checkpointed and resumes from epoch {done + 1}")

    def run(self, configs, data, progress=None, log=print, callbacks=()) -> "Sweep":
        """Train each config in turn (skipping finished ones), updating results.json and report.md after each.

        ``current`` names the run in progress, so an interrupted sweep can say where it stands.
        """
        from .report import write_report
        from .train import train_run

        trained = False
        for config in configs:
            if self.done(config):
                log(f"skip {config.spec}: already in {self.results_path} (key {config.key})")
                continue
            self.current = config
            result = train_run(config, data, self.out_dir, progress=progress, callbacks=callbacks)
            self.record(config, result)
            self.current = None
            trained = True
            log(f"done {config.spec}: test accuracy {result['test_accuracy']:.4f}, {result['params']:,} params, "
                f"{result['train_seconds']:.0f} s, {result['images_per_second'] or 0:,.0f} images/s")
            write_report(self.runs, self.out_dir)
        if self.runs and not trained:  # a rerun with nothing new still refreshes the report
            write_report(self.runs, self.out_dir)
        return self


def run_sweep(configs, data, out_dir, progress=None, log=print, callbacks=()) -> Sweep:
    """``Sweep(out_dir).run(...)``: train each config into ``out_dir``, skipping finished ones."""
    return Sweep(out_dir).run(configs, data, progress=progress, log=log, callbacks=callbacks)
