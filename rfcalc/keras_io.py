"""Keras adapters: ``to_keras(spec)`` builds a model, ``from_keras(model)`` analyses one.

Keras and TensorFlow are imported inside the functions, never when this module loads.
"""

from __future__ import annotations

from .keras_out import to_keras

__all__ = ["to_keras"]
