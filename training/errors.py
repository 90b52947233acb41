"""Errors of the training package; all are ``RFError``s so the CLI maps them to one line and exit 2."""

from __future__ import annotations

from rfcalc.errors import DataError, RFError

# DataError lives in rfcalc, beside the CIFAR-10 reader
__all__ = ["DataError", "DivergedError", "TrainError", "check_choice"]


class TrainError(RFError):
    """A run that cannot be set up: bad options, a parameter count that disagrees with Keras."""


class DivergedError(TrainError):
    """A run whose loss or metrics stopped being finite numbers (too high a learning rate, say)."""


def check_choice(what: str, value, choices) -> None:
    """Raise ``TrainError`` naming the choices unless ``value`` is one of them.

    >>> check_choice("optimizer", "rmsprop", ("adam", "sgd"))
    Traceback (most recent call last):
    ...
    training.errors.TrainError: unknown optimizer 'rmsprop'; choose one of: adam, sgd
    """
    if value not in choices:
        raise TrainError(f"unknown {what} {value!r}; choose one of: {', '.join(choices)}")
