"""Errors of the training package; all are ``RFError``s so the CLI maps them to one line and exit 2."""

from __future__ import annotations

from rfcalc.errors import DataError, RFError

__all__ = ["DataError", "TrainError"]  # DataError lives in rfcalc, beside the CIFAR-10 reader


class TrainError(RFError):
    """A run that cannot be set up: bad options, a parameter count that disagrees with Keras."""
