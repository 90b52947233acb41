"""Models for training: any spec plus the notebook's head, presets, and the notebook's ``model_setup``."""

from __future__ import annotations

# The notebook's two models, exactly (its head is added by head="seed").
from rfcalc.presets import SPECS as PRESETS  # one table for rfcalc and rfcalc-train

from .errors import TrainError, check_choice

OPTIMIZERS = ("adam", "sgd")
# --precision: Keras dtype policies. bf16 computes in bfloat16 with float32 weights (no loss scaling is
# needed for bfloat16); on CPUs with AMX it trains model2 about 2.5x faster (docs/baselines.md).
PRECISIONS = {"float32": "float32", "bf16": "mixed_bfloat16"}


def resolve_spec(spec: str) -> str:
    """A preset's spec, or the spec itself; canonical form via ``rfcalc.format_spec``.

    >>> resolve_spec("model2"), resolve_spec("conv3-32, conv3-32, maxpool")
    ('c3*2,p2', 'c3*2,p2')
    """
    from rfcalc import format_spec, parse

    return format_spec(parse(PRESETS.get(spec.strip().lower(), spec)))


def make_optimizer(name: str, lr: float):
    """Adam or SGD with learning rate ``lr``, as the notebook's ``model_setup``."""
    check_choice("optimizer", name, OPTIMIZERS)
    import keras

    if name == "adam":
        return keras.optimizers.Adam(learning_rate=lr)
    return keras.optimizers.SGD(learning_rate=lr)


def build_model(
    spec: str, input_shape, optimizer="adam", lr=1e-3, steps_per_execution=1, expected_params=None, precision="float32"
):
    """The compiled ``keras.Sequential`` for ``spec`` with the notebook's head (call inside a strategy scope).

    ``expected_params`` (from ``rfcalc.analyze``) must equal Keras's own ``count_params()``.
    """
    import keras

    from rfcalc import to_keras

    check_choice("precision", precision, PRECISIONS)
    keras.mixed_precision.set_global_policy(PRECISIONS[precision])  # layers take the policy when made
    try:
        model = to_keras(spec, input_shape=tuple(input_shape), head="seed")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    if precision != "float32":
        # the softmax output and hence the loss stay in float32, as Keras's mixed-precision guide advises
        model.layers[-1].dtype_policy = keras.DTypePolicy("float32")
    check_params(model, expected_params)
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=make_optimizer(optimizer, lr),
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model


def check_params(model, expected) -> None:
    """Raise ``TrainError`` unless Keras counts ``expected`` parameters."""
    if expected is not None and model.count_params() != expected:
        raise TrainError(
            f"rfcalc.analyze counts {expected} parameters but Keras counts {model.count_params()} "
            f"for {model.name}; refusing to record wrong numbers"
        )
