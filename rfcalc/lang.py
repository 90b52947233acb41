"""The language of printed words: ``en`` or ``ja``, from ``--lang`` or from the locale.

``--lang`` takes ``en`` or ``ja`` in any case and as a locale name (``JA``, ``jp``, ``ja_JP``,
``ja_JP.UTF-8``, ``en_US``); without it the environment decides (``LC_ALL``, then ``LC_MESSAGES``,
then ``LANG``, as gettext reads them): Japanese for a ``ja`` locale, English otherwise.

What is translated: the words of every table (headers, totals, notes, the lines under it),
``explain`` and the report page. What stays as it is in every language: layer names and types,
spec tokens, flags and options (``--wide``), units (KB, MB), ``MACs``, and flag names (``holes``).

>>> pick("JA"), pick("ja_JP.UTF-8"), pick("jp"), pick("en_US"), pick(None, {"LANG": "ja_JP.UTF-8"})
('ja', 'ja', 'ja', 'en', 'ja')
"""

from __future__ import annotations

import os
import re

from .errors import RFError

LANGS = ("en", "ja")
_ALIASES = {"jp": "ja", "jpn": "ja", "japanese": "ja", "eng": "en", "english": "en", "c": "en", "posix": "en"}


def language_code(value: str) -> str | None:
    """``ja`` for ``ja_JP.UTF-8``, ``en`` for ``EN``; None when it names no language rfcalc knows.

    >>> language_code("ja_JP.UTF-8"), language_code("EN"), language_code("fr")
    ('ja', 'en', None)
    """
    base = re.split(r"[_.@-]", value.strip().lower(), maxsplit=1)[0]
    base = _ALIASES.get(base, base)
    return base if base in LANGS else None


def pick(lang: str | None = None, environ=None) -> str:
    """The language for ``lang`` (a ``--lang`` value), or from the locale variables when it is None."""
    if lang is not None:
        code = language_code(str(lang))
        if code is None:
            raise RFError(f"--lang takes en or ja (also JA, jp, ja_JP, ja_JP.UTF-8). Received: --lang {lang}")
        return code
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "").strip()
        if value:  # the first one set decides, as gettext does
            return language_code(value) or "en"
    return "en"


def add_argument(parser) -> None:
    """The ``--lang`` option every command that prints words has (parsed by ``pick``)."""
    parser.add_argument(
        "--lang",
        metavar="en|ja",
        default=None,
        help="language of the words (ja: 日本語; also JA, jp, ja_JP.UTF-8); "
        "default: from LC_ALL / LC_MESSAGES / LANG, else en",
    )
