"""argparse ``type=`` converters shared by the ``rfcalc`` commands: bad values exit 2 with usage.

>>> shape("28x28x1"), pixel("3, 4"), binding("k=3"), positive("32")
((28, 28, 1), (3, 4), ('k', 3), 32)
"""

from __future__ import annotations

import argparse

from .errors import RFError


def shape(text: str) -> tuple[int, int, int]:
    """An input shape ``HxWxC``."""
    from .dsl import parse_shape
    try:
        return parse_shape(text)
    except RFError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def pixel(text: str) -> tuple[int, int]:
    """An output pixel ``ROW,COL`` (non-negative)."""
    parts = text.replace(" ", "").split(",")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"write an output pixel as ROW,COL, as in 3,4. Received: {text!r}")
    return int(parts[0]), int(parts[1])


def positive(text: str) -> int:
    """A positive integer."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer. Received: {text!r}")
    return int(text)


def binding(text: str) -> tuple[str, int]:
    """A symbol binding ``NAME=INTEGER``."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip().isidentifier() or not value.strip().lstrip("+").isdigit():
        raise argparse.ArgumentTypeError(f"write a binding as NAME=INTEGER, as in k=3. Received: {text!r}")
    return name.strip(), int(value)
