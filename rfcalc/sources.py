"""Tell a model source from a layer spec by its name alone (no adapter is imported here).

The adapters (``frameworks/keras.py``) and the runners read these names; ``frameworks/dispatch.py``
analyses a source with the adapter its suffix names.

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
