"""Type checks at the library's front door: a wrong *type* is a ``TypeError`` that says what was expected.

``analyze(None)`` or ``analyze(b"c3")`` would otherwise fail deep inside with ``'NoneType' object is
not iterable`` or ``'int' object has no attribute 'keras_class'``. Wrong *values* of the right type
stay ``RFError``s, raised where they are understood.

>>> arguments("c3", (32, 32, 3), None, None)
>>> arguments(b"c3", (32, 32, 3), None, None)
Traceback (most recent call last):
TypeError: a spec is a string such as "c3,c3,p2" or a sequence of rfcalc layers. Received: bytes b'c3'
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral


def _show(value) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def _is_layer(x) -> bool:
    return hasattr(type(x), "keras_class") or type(x).__name__ == "Repeat"


def arguments(spec, input_shape, head, symbols) -> None:
    """Raise ``TypeError`` unless the arguments of ``analyze`` have the types it reads."""
    if not isinstance(spec, str):
        if not isinstance(spec, (tuple, list)) or not all(_is_layer(x) for x in spec):
            raise TypeError(
                f'a spec is a string such as "c3,c3,p2" or a sequence of rfcalc layers. Received: {_show(spec)}'
            )
    if isinstance(input_shape, (bytes, bytearray)):
        sizes = None
    elif not isinstance(input_shape, str):
        try:
            sizes = list(input_shape)
        except TypeError:
            sizes = None
    if not isinstance(input_shape, str):
        if sizes is None or not all(isinstance(v, Integral) and not isinstance(v, bool) for v in sizes):
            raise TypeError(
                f"input_shape is a tuple of ints such as (32, 32, 3), or a string such as "
                f"'32x32x3'. Received: {_show(input_shape)}"
            )
    if head is not None and not isinstance(head, str):
        raise TypeError(f"head is 'seed' or a spec string. Received: {_show(head)}")
    if head is not None and not head.strip():
        from .errors import SpecError

        raise SpecError("head is empty: give 'seed' or a spec such as \"flat,fc10\", or leave it out (None)")
    if symbols is not None and not isinstance(symbols, Mapping):
        try:
            symbols = dict(symbols)  # pairs, as dict() reads them
        except (TypeError, ValueError):
            raise TypeError(f"symbols is a dict such as {{'k': 3}}. Received: {_show(symbols)}") from None
    if symbols:
        for name, value in symbols.items():
            if not isinstance(name, str) or not isinstance(value, Integral) or isinstance(value, bool):
                raise TypeError(f"symbols maps names to ints, as in {{'k': 3}}. Received: {name!r}: {value!r}")
