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


READS = (
    'rfcalc reads a layer spec such as "c3,c3,p2", a Keras model (.keras, .h5, .hdf5 or keras:Name), '
    "an ONNX file (.onnx) or a preset (model1, model2)"
)
_IMAGES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".npy")
_TORCH = (".pt", ".pth", ".ckpt", ".bin", ".safetensors", ".torchscript")
_OTHER = (
    ".txt",
    ".md",
    ".csv",
    ".json",
    ".yaml",
    ".yml",
    ".ipynb",
    ".py",
    ".html",
    ".pdf",
    ".zip",
    ".tar",
    ".gz",
    ".npz",
    ".pkl",
    ".pickle",
    ".pb",
    ".tflite",
    ".mlmodel",
    ".engine",
    ".xml",
    ".h5py",
    ".log",
)


def not_a_model(arg: str):
    """The reason ``arg`` is a path rfcalc does not read as a model (to say instead of parsing it as a spec), or None.

    A path counts when it exists (a directory, or a file with a suffix), when it starts like a path
    (``/``, ``./``, ``../``, ``~``), or when it ends with the suffix of a file that is not a model.

    >>> not_a_model("c7s2-64/valid,p2/same") is None, not_a_model("net.pt").startswith("'net.pt' is a PyTorch file")
    (True, True)
    """
    import os

    if not isinstance(arg, str) or is_model_source(arg):
        return None
    text = arg.strip()
    suffix = os.path.splitext(text)[1].lower()
    if suffix in _TORCH:
        return (
            f"{text!r} is a PyTorch file, not a model rfcalc reads: load the module in Python and call "
            f"rfcalc.from_torch(module, input_shape=(H, W, C)), or export it with torch.onnx.export and pass "
            f"the .onnx (docs/frameworks.md); {READS}"
        )
    exists = os.path.exists(os.path.expanduser(text))
    if os.path.isdir(os.path.expanduser(text)):
        return (
            f"{text!r} is a directory, not a model rfcalc reads (a SavedModel? save it with "
            f"model.save('m.keras')); {READS}"
        )
    if suffix in _IMAGES:
        return (
            f"{text!r} is an image, not a model rfcalc reads (to draw fields on it: rfcalc report SPEC "
            f"--image {text}); {READS}"
        )
    if exists and (suffix or os.sep in text or "/" in text):
        return f"{text!r} is a file but not a model rfcalc reads; {READS}"
    if suffix in _OTHER:
        return f"{text!r} is not a model rfcalc reads{'' if exists else ' (and there is no such file)'}; {READS}"
    if text.startswith(("/", "./", "../", "~", ".\\", "..\\")):
        return f"no such file: {text!r}, and it is not a layer spec; {READS}"
    return None


def check_source(arg: str) -> None:
    """Raise ``RFError`` when ``arg`` is a path that is not a model (see ``not_a_model``)."""
    reason = not_a_model(arg)
    if reason:
        from .errors import RFError

        raise RFError(reason)


def is_onnx_source(arg) -> bool:
    """True for a path ending in .onnx."""
    return isinstance(arg, str) and arg.strip().lower().endswith(ONNX_SUFFIXES)


def is_onnx_model(obj) -> bool:
    """True for an .onnx path or an ``onnx.ModelProto`` (told by its type's name: onnx is not imported).

    >>> is_onnx_model("unet.onnx"), is_onnx_model("c3,c3")
    (True, False)
    """
    return is_onnx_source(obj) or type(obj).__name__ == "ModelProto"
