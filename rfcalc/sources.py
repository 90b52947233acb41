"""Tell a Keras model source from a layer spec, without importing the Keras adapters.

>>> is_model_source("model.keras"), is_model_source("keras:MobileNetV2"), is_model_source("c3*3")
(True, True, False)
"""

from __future__ import annotations

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
PREFIX = "keras:"


def is_model_source(arg: str) -> bool:
    """True when a CLI argument names a model (a .keras/.h5/.hdf5 path, or ``keras:Name``) rather than a spec.

    A path with one of those suffixes counts even when missing, so that it fails as a file, not as a spec.
    """
    arg = arg.strip()
    return arg.startswith(PREFIX) or arg.lower().endswith(MODEL_SUFFIXES)
