"""The one rule for characters in specs and shapes: ASCII only, with a hint for full-width input.

``int()`` and regular expressions' ``\\d`` accept every Unicode digit (``３``, ``٣``, ``३``), so
without this rule ``c３`` would be read as ``c3`` while ``ｃ３`` is refused. rfcalc reads ASCII
only and, when NFKC normalisation turns the text into ASCII (what a Japanese IME's full-width
mode types), says what to type instead (docs/dsl.md).

>>> check("c3,p2")
>>> check("c３")
Traceback (most recent call last):
rfcalc.errors.SpecError: '３' (U+FF13) is not ASCII: rfcalc reads ASCII letters and digits only (full-width input? type 'c3')
  c３
   ^
"""

from __future__ import annotations

import unicodedata

from .errors import SpecError


def check(text: str, what: str = "") -> None:
    """Raise ``SpecError`` (caret under the first offender) unless ``text`` is ASCII."""
    if text.isascii():
        return
    pos = next(i for i, ch in enumerate(text) if not ch.isascii())
    ch = text[pos]
    hint = ""
    normal = unicodedata.normalize("NFKC", text)
    if normal.isascii():
        hint = f" (full-width input? type {normal!r})"
    label = f"{what}: " if what else ""
    raise SpecError(
        f"{label}{ch!r} (U+{ord(ch):04X}) is not ASCII: rfcalc reads ASCII letters and digits only{hint}", text, pos
    )
