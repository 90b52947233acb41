"""argparse ``type=`` converters shared by the ``rfcalc`` commands: bad values exit 2 with usage.

>>> shape("28x28x1"), pixel("3, 4"), binding("k=3"), positive("32")
((28, 28, 1), (3, 4), ('k', 3), 32)
>>> shape("16000x1"), pixel("7"), pixel("1,2,3")
((16000, 1), (7,), (1, 2, 3))
"""

from __future__ import annotations

import argparse

from .errors import RFError


def shape(text: str) -> tuple[int, ...]:
    """An input shape ending with the channels: ``LxC`` (1-D), ``HxWxC`` (2-D), ``DxHxWxC`` (3-D)."""
    from .dsl import parse_shape
    try:
        return parse_shape(text)
    except RFError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def pixel(text: str) -> tuple[int, ...]:
    """An output unit: ``ROW,COL`` (non-negative), ``I`` for a 1-D output, ``D,ROW,COL`` for 3-D."""
    parts = text.replace(" ", "").split(",")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"write an output pixel as ROW,COL, as in 3,4 (I for 1-D, D,ROW,COL for "
                                         f"3-D). Received: {text!r}")
    return tuple(int(p) for p in parts)


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
