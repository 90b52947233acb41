"""Keras adapters: ``to_keras(spec)`` builds a model, ``from_keras(model)`` analyses one,
``analyze_source`` loads a saved model or a ``keras.applications`` network by name.

Keras and TensorFlow are imported inside the functions, never when this module loads.

>>> is_model_source("keras:ResNet50"), is_model_source("c3,c3,p2")
(True, False)
"""

from __future__ import annotations

import difflib
import os

from .errors import RFError, ShapeError
from .keras_in import AlignmentWarning, from_keras
from .keras_out import to_keras

__all__ = ["to_keras", "from_keras", "is_model_source", "analyze_source", "AlignmentWarning"]

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
PREFIX = "keras:"


def is_model_source(arg: str) -> bool:
    """True when a CLI argument names a model (a .keras/.h5/.hdf5 path, or ``keras:Name``) rather than a spec.

    A path with one of those suffixes counts even when missing, so that it fails as a file, not as a spec.

    >>> is_model_source("model.keras"), is_model_source("keras:MobileNetV2"), is_model_source("c3*3")
    (True, True, False)
    """
    arg = arg.strip()
    return arg.startswith(PREFIX) or arg.lower().endswith(MODEL_SUFFIXES)


def _first_line(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:300]


def _load_file(path: str):
    if not os.path.isfile(path):
        raise RFError(f"no Keras model file at {path!r}")
    import keras

    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as err:  # a corrupt or truncated archive surfaces as many different errors
        raise RFError(f"cannot load the Keras model {path!r}: {type(err).__name__}: {_first_line(err)}") from None


def application_names() -> list[str]:
    """Names of the networks in ``keras.applications`` (ResNet50, MobileNetV2, ...)."""
    import keras

    return sorted(n for n in dir(keras.applications) if n[:1].isupper() and callable(getattr(keras.applications, n)))


def _build_application(name: str, input_shape):
    import keras

    names = application_names()
    by_lower = {n.lower(): n for n in names}
    real = by_lower.get(name.lower())
    if real is None:
        close = difflib.get_close_matches(name.lower(), list(by_lower), n=4, cutoff=0.5)
        hint = f"; did you mean {', '.join(by_lower[c] for c in close)}?" if close else f"; known: {', '.join(names)}"
        raise RFError(f"keras.applications has no network {name!r}{hint}")
    kwargs = {"weights": None, "include_top": True}  # the published network, classifier included
    if input_shape is not None:
        kwargs["input_shape"] = tuple(int(v) for v in input_shape)
    try:
        return getattr(keras.applications, real)(**kwargs)
    except Exception as err:
        raise ShapeError(f"keras.applications.{real} refused input_shape={kwargs.get('input_shape')}: "
                         f"{_first_line(err)}") from None


def analyze_source(source: str, input_shape=None, identity=()):
    """Analyse a saved model (.keras/.h5 path) or ``keras:Name`` (a keras.applications network, no weights).

    >>> analyze_source("keras:VGG16").rf  # doctest: +SKIP
    (212, 212)
    """
    from .dsl import parse_shape

    if isinstance(input_shape, str):
        input_shape = parse_shape(input_shape)
    source = source.strip()
    if source.startswith(PREFIX):
        model = _build_application(source[len(PREFIX):].strip(), input_shape)
        return from_keras(model, identity=identity)
    model = _load_file(source)
    return from_keras(model, input_shape=input_shape, identity=identity)
