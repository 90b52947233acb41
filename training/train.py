"""One training run: build (or resume) the model, fit it on tf.data pipelines, evaluate, save, report numbers."""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import re
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .atomic import PARTIAL
from .checkpoint import Checkpoint, make_callback, save_model
from .errors import DivergedError, TrainError, check_choice
from .models import OPTIMIZERS, PRECISIONS, build_model, check_params

STRATEGIES = ("mirrored", "multiworker")
MAX_SEED = 2**32 - 1  # numpy's and Keras's seeds are unsigned 32-bit


@dataclass(frozen=True)
class RunConfig:
    """What defines one experiment (``key``) plus how to execute it (strategy, steps per execution)."""

    spec: str
    dataset: str = "cifar10"
    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float = 1e-3
    seed: int = 0
    data_size: int | None = None
    validation_split: float = 0.1
    steps_per_execution: int = 16
    strategy: str | None = None
    precision: str = "float32"
    typed: str | None = field(default=None, compare=False)  # the spec as the user typed it (or a preset name)

    def __post_init__(self):
        if self.epochs < 1 or self.batch_size < 1 or self.steps_per_execution < 1:
            raise TrainError(
                f"epochs, batch size and steps per execution must be positive. Received: "
                f"epochs={self.epochs}, batch_size={self.batch_size}, "
                f"steps_per_execution={self.steps_per_execution}"
            )
        if not 0.0 <= self.validation_split < 1.0 or not (self.lr > 0 and math.isfinite(self.lr)):
            raise TrainError(
                f"need 0 <= validation_split < 1 and a finite lr > 0. Received: "
                f"validation_split={self.validation_split}, lr={self.lr}"
            )
        if not 0 <= self.seed <= MAX_SEED:
            raise TrainError(f"--seed must lie in 0..{MAX_SEED}. Received: {self.seed}")
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("precision", self.precision, PRECISIONS)
        if self.strategy is not None:
            check_choice("strategy", self.strategy, STRATEGIES)

    @property
    def identity(self) -> dict:
        """The fields that change the result; execution details (strategy, steps per execution) do not.

        ``precision`` joins only when it is not float32, so keys made before it existed stay valid.
        """
        d = asdict(self)
        del d["steps_per_execution"], d["strategy"], d["typed"]
        if d["precision"] == "float32":
            del d["precision"]
        return {"head": "seed", **d}

    @property
    def label(self) -> str:
        """What the user typed (``model2``, ``c3,c3,p2``), for every line a user reads; ``spec`` is canonical.

        >>> RunConfig("c3*2,p2", typed="model2").label, RunConfig("c3*2,p2").label
        ('model2', 'c3*2,p2')
        """
        return self.typed or self.spec

    @property
    def key(self) -> str:
        """A stable hash of ``identity``: finished runs with the same key are skipped.

        >>> RunConfig("c3,p2").key == RunConfig("c3,p2", strategy="mirrored").key
        True
        """
        return hashlib.sha256(json.dumps(self.identity, sort_keys=True).encode()).hexdigest()[:12]

    @property
    def slug(self) -> str:
        """A folder name: readable spec, dataset and the key.

        >>> RunConfig("c3*2,p2", dataset="mnist").slug[:16]
        'c3x2_p2-mnist-e1'
        """
        spec = re.sub(r"[^A-Za-z0-9]+", "_", self.spec.replace("*", "x")).strip("_")[:60]
        return f"{spec}-{self.dataset}-e{self.epochs}-{self.key}"


def get_strategy(name: str | None):
    """The ``tf.distribute`` strategy for ``--strategy`` (None: the default, one device)."""
    import tensorflow as tf

    if name is None:
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.MultiWorkerMirroredStrategy()  # reads TF_CONFIG; one worker when unset


def _clean_partials(run_dir: Path) -> None:
    """Remove temporary files a killed process left in the run's folder (the run's lock makes them ours)."""
    if run_dir.is_dir():
        for p in run_dir.iterdir():
            if PARTIAL in p.name and p.is_file():
                p.unlink(missing_ok=True)


def train_run(config: RunConfig, data, out_dir, progress=None, callbacks=(), log=print) -> dict:
    """Train ``config`` on ``data`` into ``out_dir/<slug>/``; resumes from its checkpoint if one exists.

    Returns the result record written to results.json; raises ``DivergedError`` when the loss stops
    being finite (nothing is recorded then).
    """
    from rfcalc import analyze

    from .pipeline import Pipelines
    from .report import plot_result

    if data.name != config.dataset:
        raise TrainError(f"run is for {config.dataset} but the data is {data.name}")
    analysis = analyze(config.spec, input_shape=data.input_shape, head="seed")
    import keras

    run_dir = Path(out_dir) / config.slug
    _clean_partials(run_dir)
    ckpt = Checkpoint.of_run(out_dir, config)
    keras.utils.set_random_seed(config.seed)
    strategy = get_strategy(config.strategy)
    # Keras 3.15's multi-step loop fails under tf.distribute ("You must feed a value for placeholder
    # tensor ... while/cond/Placeholder"), so distributed runs go one batch per call.
    steps_per_execution = 1 if config.strategy else config.steps_per_execution
    with strategy.scope():
        resumed = ckpt.resume(config.key, log)
        if resumed is not None:
            state, model = resumed
            check_params(model, analysis.total_params)
            model.steps_per_execution = steps_per_execution
        else:
            model = build_model(
                config.spec,
                data.input_shape,
                config.optimizer,
                config.lr,
                steps_per_execution,
                expected_params=analysis.total_params,
                precision=config.precision,
            )
            state = {
                "key": config.key,
                "epochs_done": 0,
                "history": {},
                "epoch_train_seconds": [],
                "epoch_wall_seconds": [],
                "resumed_from": [],
            }
    initial = state["epochs_done"]
    if initial:
        state["resumed_from"].append(initial)
        if initial < config.epochs:
            log(f"resuming {config.label} from epoch {initial + 1} of {config.epochs} (checkpoint in {ckpt.folder})")
    pipes = Pipelines(data, config.batch_size, config.validation_split, config.seed, initial)
    cbs = [make_callback(ckpt, pipes, state)]
    if progress is not None:
        from .progress import make_callback as bar

        cbs.append(bar(progress, config.label, config.epochs, pipes.steps_per_epoch, initial))
    if initial < config.epochs:
        with warnings.catch_warnings():
            # each epoch is one pass over a finite dataset, so Keras's "ran out of data" note is expected
            warnings.filterwarnings("ignore", message="Your input ran out of data")
            model.fit(
                pipes.train,
                validation_data=pipes.val,
                epochs=config.epochs,
                initial_epoch=initial,
                shuffle=False,
                verbose=0,
                callbacks=[*cbs, *callbacks],
            )
    test_loss, test_accuracy = model.evaluate(pipes.test, verbose=0)
    if not (math.isfinite(test_loss) and math.isfinite(test_accuracy)):
        raise DivergedError(f"test loss is {float(test_loss)} (the model's weights are not finite; try a smaller --lr)")
    save_model(model, run_dir / "model.keras")
    plot_result(state["history"], run_dir / "curves.png", title=f"{config.label} on {config.dataset}")
    train_seconds = sum(state["epoch_train_seconds"])
    ips = pipes.n_train * config.epochs / train_seconds if train_seconds > 0 else None
    return {
        "spec": config.spec,
        "label": config.label,
        "params": analysis.total_params,
        "keras_params": model.count_params(),
        "macs": analysis.total_macs,
        "rf": list(analysis.rf),
        "jump": list(analysis.jump),
        "test_loss": float(test_loss),
        "test_accuracy": float(test_accuracy),
        "history": state["history"],
        "train_seconds": round(train_seconds, 3),
        "wall_seconds": round(sum(state["epoch_wall_seconds"]), 3),
        "images_per_second": round(ips, 1) if ips else None,
        "train_gflops": round(6 * analysis.total_macs * ips / 1e9, 3) if ips else None,
        "dataset": config.dataset,
        "epochs": config.epochs,
        "seed": config.seed,
        "input_shape": list(data.input_shape),
        "batch_size": config.batch_size,
        "optimizer": config.optimizer,
        "lr": config.lr,
        "data_size": config.data_size,
        "validation_split": config.validation_split,
        "n_train": pipes.n_train,
        "n_val": pipes.n_val,
        "n_test": pipes.n_test,
        "steps_per_execution": steps_per_execution,
        "strategy": config.strategy,
        "precision": config.precision,
        "resumed_from": state["resumed_from"],
        "key": config.key,
        "model": f"{config.slug}/model.keras",
        "curves": f"{config.slug}/curves.png",
        "data_source": data.source,
        "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": {"keras": keras.__version__, "tensorflow": __import__("tensorflow").__version__},
    }
