"""argparse ``type=`` converters shared by the ``rfcalc`` commands: bad values exit 2 with usage.

Numbers are ASCII digits, at most ``MAX_DIGITS`` of them (as in specs); full-width input gets a hint.

>>> shape("28x28x1"), pixel("3, 4"), binding("k=3"), positive("32"), nonempty("seed"), seed("7")
((28, 28, 1), (3, 4), ('k', 3), 32, 'seed', 7)
>>> shape("16000x1"), pixel("7"), pixel("1,2,3")
((16000, 1), (7,), (1, 2, 3))
"""

from __future__ import annotations

import argparse
import re

from .errors import RFError, SpecError

MAX_DIGITS = 12


def _fail(text: str, message: str):
    from . import ascii_input

    try:
        ascii_input.check(text.replace("×", "x"))
    except SpecError as err:  # what ascii_input.check raises: its reason names the character
        raise argparse.ArgumentTypeError(err.reason) from None
    raise argparse.ArgumentTypeError(f"{message}. Received: {text!r}")


def _short(text: str) -> str:
    """``text`` unless one of its numbers is longer than ``MAX_DIGITS`` digits."""
    long = re.search(r"[0-9]{%d,}" % (MAX_DIGITS + 1), text)
    if long:
        raise argparse.ArgumentTypeError(
            f"a number of {len(long.group()):,} digits; rfcalc reads at most "
            f"{MAX_DIGITS}. Received: {text[:40]!r}{'...' if len(text) > 40 else ''}"
        )
    return text


def shape(text: str) -> tuple[int, ...]:
    """An input shape ending with the channels: ``LxC`` (1-D), ``HxWxC`` (2-D), ``DxHxWxC`` (3-D)."""
    from .dsl import parse_shape

    if not text.replace("×", "x").isascii():
        _fail(text, "")
    try:
        return parse_shape(_short(text))
    except RFError as err:
        raise argparse.ArgumentTypeError(getattr(err, "reason", str(err))) from None


def pixel(text: str) -> tuple[int, ...]:
    """An output unit: ``ROW,COL`` (non-negative), ``I`` for a 1-D output, ``D,ROW,COL`` for 3-D."""
    parts = _short(text).replace(" ", "").split(",")
    if not 1 <= len(parts) <= 3 or not all(p.isascii() and p.isdigit() for p in parts):
        _fail(text, "write an output pixel as ROW,COL, as in 3,4 (I for 1-D, D,ROW,COL for 3-D)")
    return tuple(int(p) for p in parts)


def positive(text: str) -> int:
    """A positive integer."""
    if not (text.isascii() and text.isdigit()) or int(_short(text)) < 1:
        _fail(text, "expected a positive integer")
    return int(text)


def seed(text: str) -> int:
    """A random seed, 0 to 2**32 - 1 (what numpy and Keras accept)."""
    if not (text.isascii() and text.isdigit()) or int(_short(text)) >= 2**32:
        _fail(text, "a seed is an integer from 0 to 4294967295")
    return int(text)


def nonempty(text: str) -> str:
    """A name or spec that is not empty (an empty ``--head ""`` would silently do nothing)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a value, not an empty string")
    return text


def binding(text: str) -> tuple[str, int]:
    """A symbol binding ``NAME=INTEGER``."""
    name, sep, value = text.partition("=")
    value = value.strip().lstrip("+")
    if (
        not sep
        or not (name.strip().isascii() and name.strip().isidentifier())
        or not (value.isascii() and value.isdigit())
    ):
        _fail(text, "write a binding as NAME=INTEGER, as in k=3")
    _short(value)
    return name.strip(), int(value)
