"""Models for training: any spec plus the notebook's head, presets, and the notebook's ``model_setup``."""

from __future__ import annotations

from .errors import TrainError

# The notebook's two models, exactly (its head is added by head="seed").
PRESETS = {"model1": "c3,p2", "model2": "c3,c3,p2"}
OPTIMIZERS = ("adam", "sgd")


def resolve_spec(spec: str) -> str:
    """A preset's spec, or the spec itself; canonical form via ``rfcalc.format_spec``.

    >>> resolve_spec("model2"), resolve_spec("conv3-32, conv3-32, maxpool")
    ('c3*2,p2', 'c3*2,p2')
    """
    from rfcalc import format_spec, parse

    return format_spec(parse(PRESETS.get(spec.strip().lower(), spec)))


def make_optimizer(name: str, lr: float):
    """Adam or SGD with learning rate ``lr``, as the notebook's ``model_setup``."""
    import keras

    if name == "adam":
        return keras.optimizers.Adam(learning_rate=lr)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=lr)
    raise TrainError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}")


def build_model(spec: str, input_shape, optimizer="adam", lr=1e-3, steps_per_execution=1, expected_params=None):
    """The compiled ``keras.Sequential`` for ``spec`` with the notebook's head (call inside a strategy scope).

    ``expected_params`` (from ``rfcalc.analyze``) must equal Keras's own ``count_params()``.
    """
    from rfcalc import to_keras

    model = to_keras(spec, input_shape=tuple(input_shape), head="seed")
    check_params(model, expected_params)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=make_optimizer(optimizer, lr),
                  metrics=["accuracy"], steps_per_execution=steps_per_execution)
    return model


def check_params(model, expected) -> None:
    """Raise ``TrainError`` unless Keras counts ``expected`` parameters."""
    if expected is not None and model.count_params() != expected:
        raise TrainError(f"rfcalc.analyze counts {expected} parameters but Keras counts {model.count_params()} "
                         f"for {model.name}; refusing to record wrong numbers")
