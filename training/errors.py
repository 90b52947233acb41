"""Errors of the training package; all are ``RFError``s so the CLI maps them to one line and exit 2."""

from __future__ import annotations

from rfcalc.errors import RFError


class DataError(RFError):
    """Missing, corrupt, truncated, malicious or wrongly shaped dataset files."""


class TrainError(RFError):
    """A run that cannot be set up: bad options, a parameter count that disagrees with Keras."""
