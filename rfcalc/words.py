"""English articles by sound: "an 8×8", "an 11×11", "an 18×18", "a 5×5", "a 1×1".

A number takes the article of how it is read aloud: the first group of three digits decides it
(8, 11, 18, 80-89 and 800-899 begin with a vowel sound: "eight", "eleven", "eighteen", "eighty",
"eight hundred"; so do 8,000, 11,000, 18,000,000...). A word takes "an" before a vowel letter.

>>> with_article("8×8"), with_article("11×11"), with_article("5×5"), with_article("110")
('an 8×8', 'an 11×11', 'a 5×5', 'a 110')
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"[0-9][0-9,]*")


def _leading_group(digits: str) -> int:
    """The number's first group of thousands, as read aloud: 8192 -> 8, 18000 -> 18, 110 -> 110."""
    digits = digits.lstrip("0") or "0"
    head = len(digits) % 3 or 3
    return int(digits[:head])


def article(text: str) -> str:
    """``'a'`` or ``'an'`` for the word or number that starts ``text``.

    >>> article("8x8"), article("18"), article("180"), article("input")
    ('an', 'an', 'a', 'an')
    """
    m = _NUMBER.match(text)
    if m:
        g = _leading_group(m.group().replace(",", ""))
        return "an" if g in (8, 11, 18) or 80 <= g <= 89 or 800 <= g <= 899 else "a"
    return "an" if text[:1].lower() in ("a", "e", "i", "o", "u") else "a"


def with_article(text: str) -> str:
    """``text`` with its article in front.

    >>> with_article("80×80 input")
    'an 80×80 input'
    """
    return f"{article(text)} {text}"
