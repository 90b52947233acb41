"""Tell a model source from a layer spec, and analyse a source with the adapter its suffix names,
without importing any adapter until one is needed.

>>> is_model_source("model.keras"), is_model_source("keras:MobileNetV2"), is_model_source("c3*3")
(True, True, False)
>>> is_model_source("resnet18.onnx"), is_onnx_source("resnet18.ONNX")
(True, True)
"""

from __future__ import annotations

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
ONNX_SUFFIXES = (".onnx",)
MODEL_SUFFIXES = KERAS_SUFFIXES + ONNX_SUFFIXES
PREFIX = "keras:"


def is_model_source(arg: str) -> bool:
    """True when a CLI argument names a model (a .keras/.h5/.hdf5/.onnx path, or ``keras:Name``) rather than a spec.

    A path with one of those suffixes counts even when missing, so that it fails as a file, not as a spec.
    """
    arg = arg.strip()
    return arg.startswith(PREFIX) or arg.lower().endswith(MODEL_SUFFIXES)


def is_onnx_source(arg) -> bool:
    """True for a path ending in .onnx."""
    return isinstance(arg, str) and arg.strip().lower().endswith(ONNX_SUFFIXES)


def is_onnx_model(obj) -> bool:
    """True for an .onnx path or an ``onnx.ModelProto`` (told by its type's name: onnx is not imported).

    >>> is_onnx_model("unet.onnx"), is_onnx_model("c3,c3")
    (True, False)
    """
    return is_onnx_source(obj) or type(obj).__name__ == "ModelProto"


def analyze_source(source: str, input_shape=None, identity=()):
    """Analyse a model source: an .onnx file with ``from_onnx``, anything else with the Keras adapter.

    >>> analyze_source("tests/fixtures/onnx/resnet18.onnx").rf  # doctest: +SKIP
    (435, 435)
    """
    if is_onnx_source(source):
        from .frameworks.onnx import from_onnx
        return from_onnx(source.strip(), input_shape=input_shape, identity=identity)
    from .frameworks.keras import analyze_source as keras_source
    return keras_source(source, input_shape=input_shape, identity=identity)
