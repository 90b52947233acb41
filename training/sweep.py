"""Sweeps: train a list of specs into one folder, skipping runs already in results.json.

results.json is a list of finished runs. Several ``rfcalc-train`` processes may share one ``--out``:
each update takes an exclusive lock (``.results.lock``), re-reads the file, merges its run in by key
and replaces the file atomically, so no process writes back a stale copy that lacks another's run.
A run being trained is locked too (``<run>/.lock``): a second process asked for the same run waits
for it and then skips it. A run's checkpoint is removed only once its record is safely written.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from .atomic import finite, locked, read_json, remove_stale, temp_name, write_json
from .checkpoint import Checkpoint
from .errors import DivergedError, TrainError

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

# What every record must hold, with a check of its value: the report and the skip logic read these.
_INT_LIST = lambda v: isinstance(v, list) and v and all(isinstance(i, int) and not isinstance(i, bool) for i in v)
RECORD_FIELDS = {
    "key": lambda v: isinstance(v, str) and v != "",
    "spec": lambda v: isinstance(v, str) and v != "",
    "params": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "macs": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "rf": _INT_LIST,
    "jump": _INT_LIST,
    "test_accuracy": finite,
    "test_loss": finite,
    "history": lambda v: isinstance(v, dict),
}


def check_runs(runs, where) -> list[dict]:
    """``runs`` if it is a list of run records, else a ``TrainError`` naming the first bad record.

    >>> check_runs([1, 2], "results.json")
    Traceback (most recent call last):
    ...
    training.errors.TrainError: results.json: record 0 is not a run (an object); move the file away to start afresh
    """
    fix = "move the file away to start afresh"
    if not isinstance(runs, list):
        raise TrainError(f"{where}: not a list of runs (found a JSON {type(runs).__name__}); {fix}")
    for i, r in enumerate(runs):
        if not isinstance(r, dict):
            raise TrainError(f"{where}: record {i} is not a run (an object); {fix}")
        bad = [k for k, ok in RECORD_FIELDS.items() if k not in r or not ok(r[k])]
        if bad:
            raise TrainError(f"{where}: record {i} lacks or has a bad {', '.join(bad)}; {fix}")
    return runs


def load_runs(path) -> list[dict]:
    """The checked records of a results.json (``[]`` when there is none yet)."""
    try:
        runs = read_json(path, default=[])
    except (ValueError, OSError) as err:  # hand-edited or foreign file: say so, never overwrite it
        raise TrainError(f"{path} is not readable JSON ({err}; strict: no NaN); move it away to start afresh") from None
    return check_runs(runs, path)


def check_out_dir(out_dir, create: bool) -> Path:
    """Refuse an ``--out`` that is (or lies under) a file, or that cannot be written; with ``create``
    make it and prove it writable by writing and removing a file."""
    out_dir = Path(out_dir)
    for parent in (out_dir, *out_dir.parents):
        if parent.exists():
            if not parent.is_dir():
                where = "" if parent == out_dir else f" ({parent} is a file)"
                raise TrainError(f"--out {out_dir} is a file, not a folder{where}; choose another --out")
            break
    if create:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            probe = temp_name(out_dir / "write-test")
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as err:
            raise TrainError(
                f"--out {out_dir} is not writable ({err.strerror or type(err).__name__}); choose another --out"
            ) from None
    return out_dir


class Sweep:
    """The state of an output folder: finished runs by key, and the run in progress (for messages)."""

    def __init__(self, out_dir):
        self.out_dir = check_out_dir(out_dir, create=False)
        self.results_path = self.out_dir / "results.json"
        self.lock_path = self.out_dir / ".results.lock"
        self.current = None
        self.diverged: list[str] = []
        self.runs = load_runs(self.results_path)

    def refresh(self) -> list[dict]:
        """Re-read results.json: another process may have added runs since."""
        self.runs = load_runs(self.results_path)
        return self.runs

    def done(self, config) -> dict | None:
        return next((r for r in self.runs if r.get("key") == config.key), None)

    def record(self, config, result: dict) -> None:
        """Merge ``result`` into results.json under the lock (re-reading it first) and rewrite report.md
        from the merged runs, then drop the run's checkpoint."""
        from .report import write_report

        check_runs([result], "the new record")
        with locked(self.lock_path):
            remove_stale(self.out_dir)  # results.json or report temporaries of a process killed mid-write
            runs = load_runs(self.results_path)
            self.runs = [r for r in runs if r.get("key") != config.key] + [result]
            write_json(self.results_path, self.runs)
            write_report(self.runs, self.out_dir)
        Checkpoint.of_run(self.out_dir, config).remove()

    @contextmanager
    def _run_lock(self, config, log):
        """Hold ``<run>/.lock``; if another process holds it, say so and wait for it."""
        import fcntl

        path = self.out_dir / config.slug / ".lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log(f"wait {config.label}: another rfcalc-train is training it into {self.out_dir}")
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def resume_note(self) -> str:
        """Where an interrupted sweep stands, for the Ctrl-C message."""
        if self.current is None:
            return f"{len(self.runs)} runs finished in {self.results_path}"
        state = Checkpoint.of_run(self.out_dir, self.current).peek()
        done = state["epochs_done"] if state else 0
        return (
            f"{len(self.runs)} runs finished in {self.results_path}; {self.current.label} has "
            f"{done}/{self.current.epochs} epochs checkpointed and resumes from epoch {done + 1}"
        )

    def run(self, configs, data, progress=None, log=print, callbacks=()) -> Sweep:
        """Train each config in turn (skipping finished ones), updating results.json and report.md after each.

        ``current`` names the run in progress, so an interrupted sweep can say where it stands. A run whose
        loss stops being finite is not recorded; its name goes to ``diverged`` and the sweep goes on.
        """
        from .report import write_report
        from .train import train_run

        trained = False
        for config in configs:
            if self.done(config):
                log(f"skip {config.label}: already in {self.results_path} (key {config.key})")
                continue
            with self._run_lock(config, log):
                if self.refresh() and self.done(config):  # finished by another process meanwhile
                    log(f"skip {config.label}: finished by another process (key {config.key})")
                    continue
                self.current = config
                try:
                    result = train_run(config, data, self.out_dir, progress=progress, callbacks=callbacks, log=log)
                except DivergedError as err:
                    self.current = None
                    self.diverged.append(config.label)
                    log(f"diverged {config.label}: {err}; not recorded")
                    continue
                self.record(config, result)
            self.current = None
            trained = True
            log(
                f"done {config.label}: test accuracy {result['test_accuracy']:.4f}, {result['params']:,} params, "
                f"{result['train_seconds']:.0f} s, {result['images_per_second'] or 0:,.0f} images/s"
            )
        if self.runs and not trained:  # a rerun with nothing new still refreshes the report
            with locked(self.lock_path):
                write_report(self.refresh(), self.out_dir)
        return self


def run_sweep(configs, data, out_dir, progress=None, log=print, callbacks=()) -> Sweep:
    """``Sweep(out_dir).run(...)``: train each config into ``out_dir``, skipping finished ones."""
    return Sweep(out_dir).run(configs, data, progress=progress, log=log, callbacks=callbacks)
