"""Analyse a model source with the adapter its name says: ``.onnx`` with ``from_onnx``, the rest with Keras.

Each adapter (and its framework) loads only when a source needs it.
"""

from __future__ import annotations

from ..sources import is_onnx_source


def analyze_source(source: str, input_shape=None, identity=()):
    """Analyse a model source: an .onnx file with ``from_onnx``, anything else with the Keras adapter.

    >>> analyze_source("tests/fixtures/onnx/resnet18.onnx").rf  # doctest: +SKIP
    (435, 435)
    """
    if is_onnx_source(source):
        from .onnx import from_onnx

        return from_onnx(source.strip(), input_shape=input_shape, identity=identity)
    from .keras import analyze_source as keras_source

    return keras_source(source, input_shape=input_shape, identity=identity)
