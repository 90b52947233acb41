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


def add_input(parser: argparse.ArgumentParser, help: str, metavar: str = "HxWxC") -> None:
    """``--input`` with ``--channels-first`` / ``--channels-last`` saying which end holds the channels."""
    parser.add_argument("--input", metavar=metavar, type=shape, default=None, help=help)
    order = parser.add_mutually_exclusive_group()
    order.add_argument(
        "--channels-first",
        action="store_true",
        help="read --input as CxHxW (CxL, CxDxHxW), as PyTorch and ONNX write it",
    )
    order.add_argument(
        "--channels-last",
        action="store_true",
        help="read --input as written, channels last, even where it looks channels-first",
    )


def _x(values) -> str:
    return "x".join(str(v) for v in values)


def settle_input(args, note=None):
    """``args.input`` as rfcalc reads it (channels last), from ``--channels-first``/``--channels-last``;
    a shape that reads one way but looks written the other way is refused, naming both readings.

    Channels last stays the default and every reading it gives today stays (``16000x1``: 1-D;
    ``16x112x112x3``: 3-D; ``28x28``: 1-D of 28 channels). Refused without a flag: ``AxBxC`` with A in
    1, 3, 4 and C above 4 (``3x32x32`` is PyTorch's CxHxW), and a leading 1 of four sizes (a batch).

    >>> ns = argparse.Namespace(input=(3, 32, 32), channels_first=True, channels_last=False)
    >>> settle_input(ns, note=lambda s: None).input
    (32, 32, 3)
    """
    shape_ = getattr(args, "input", None)
    if shape_ is None:
        if getattr(args, "channels_first", False) or getattr(args, "channels_last", False):
            flag = "--channels-first" if args.channels_first else "--channels-last"
            raise RFError(f"{flag} says how to read --input; give --input, or drop {flag}")
        return args
    text = _x(shape_)
    if getattr(args, "channels_first", False):
        if len(shape_) < 2:
            raise RFError(
                f"--channels-first needs the channels and at least one spatial size. Received: --input {text}"
            )
        args.input = (*shape_[1:], shape_[0])
        words = {2: "length", 3: "HxW", 4: "DxHxW"}[len(shape_)]
        (note or _note)(
            f"--input {text} --channels-first: read as {words} {_x(args.input[:-1])} with "
            f"{shape_[0]} channel{'s' if shape_[0] != 1 else ''} (channels last: {_x(args.input)})"
        )
        return args
    if getattr(args, "channels_last", False):
        return args
    if len(shape_) == 3 and shape_[0] in (1, 3, 4) and shape_[2] > 4:
        raise RFError(
            f"--input {text} reads as a {_x(shape_[:2])} image with {shape_[2]} channels (rfcalc writes "
            f"channels last: HxWxC), but looks like PyTorch's CxHxW: for a {_x(shape_[1:])} image with "
            f"{shape_[0]} channel{'s' if shape_[0] != 1 else ''} write --input {_x((*shape_[1:], shape_[0]))} "
            f"or add --channels-first; to mean {shape_[2]} channels, add --channels-last"
        )
    if len(shape_) == 4 and shape_[0] == 1:
        rest = shape_[1:]
        cf = rest[0] in (1, 3, 4) and rest[2] > 4
        image = (*rest[1:], rest[0]) if cf else rest
        raise RFError(
            f"--input {text} reads as a 3-D volume {_x(shape_[:3])} with {shape_[3]} channels, but a "
            f"leading 1 looks like a batch size: for an image write --input {_x(image)} (rfcalc has no "
            f"batch axis); to mean a volume of depth 1, add --channels-last"
        )
    return args


def _note(text: str) -> None:
    import sys

    sys.stderr.write(f"rfcalc: note: {text}\n")
