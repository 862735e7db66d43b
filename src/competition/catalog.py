"""The words of every domain error, in both languages, from Babel catalogs.

Services raise errors as a key and parameters (`Conflict("entry.attachments_pending", count=2)`);
the words live in `locale/<lang>/LC_MESSAGES/errors.po` (msgid: the key, msgstr: the text with
`{name}` placeholders), so the API, the pages and the mails say the same thing, German first. The
page texts keep their German msgids in the web catalog; error keys are stable identifiers instead,
because the same refusal is worded in German for the API and in the visitor's language on a page.
The few other sentences a service writes for people are keys here too, worded the same way: the
findings of an assignment run (`run.finding.*`), why a conflict with a company is suggested.
Parameters are worded here too: dates in Europe/Berlin, numbers in the locale's format, a name
given in both languages (`{"de": …, "en": …}`: a phase, a category) in the text's language. A text
may say how to word a parameter after a colon (`SPECS`): `{max:mb}` words a number of bytes as
megabytes ("4,0 MB"), `{size:size}` as the unit people read ("870 KB", "1,2 MB"), and
`{closes_at:en}` in another language, for a German text that quotes its English twin.

After adding a key, give it a text in both catalogs; `tests/test_catalog.py` fails while a key used
in the code has no text, a text names a placeholder the key is not raised with, or a text is unused.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Final

from babel.messages.pofile import read_po
from babel.numbers import format_decimal, get_decimal_symbol

from competition.localization import format_datetime

LOCALES: Final = ("de", "en")
CATALOG_DIR: Final = Path(__file__).resolve().parent / "locale"
_BABEL_LOCALE: Final = {"de": "de_DE", "en": "en_GB"}

Param = str | int | float | datetime | Mapping[str, str]
SPECS: Final = frozenset({"", "mb", "size", *LOCALES})


@functools.cache
def texts(locale: str) -> dict[str, str]:
    """Key → text of one language's error catalog."""
    with (CATALOG_DIR / locale / "LC_MESSAGES" / "errors.po").open("rb") as source:
        catalog = read_po(source, locale=locale, domain="errors")
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def _word(value: Param, locale: str) -> str:
    if isinstance(value, datetime):
        return format_datetime(value, locale)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return value.get(locale) or value.get("de", "")
    if isinstance(value, int):
        return format_decimal(value, format="#,##0", locale=_BABEL_LOCALE[locale])
    return format_decimal(value, format="#,##0.##", locale=_BABEL_LOCALE[locale])


def _megabytes(size: float, locale: str) -> str:
    # Rounded by Python, as the sizes were always shown; only the decimal mark is the locale's.
    digits = f"{size / 1024**2:.1f}".replace(".", get_decimal_symbol(_BABEL_LOCALE[locale]))
    return f"{digits} MB"


class _Worded:
    """A parameter as `str.format` meets it: worded in the text's language, or as its spec says."""

    __slots__ = ("locale", "value")

    def __init__(self, value: Param, locale: str) -> None:
        self.value = value
        self.locale = locale

    def __format__(self, spec: str) -> str:
        value = self.value
        if spec in LOCALES:
            return _word(value, spec)
        if spec in ("mb", "size") and isinstance(value, int | float):
            if spec == "size" and value < 1024**2:
                return f"{math.ceil(value / 1024)} KB"
            return _megabytes(value, self.locale)
        return _word(value, self.locale)  # an unknown spec (tests/test_catalog.py) is no 500


def text(key: str, params: Mapping[str, Param], locale: str) -> str:
    """The key's text in `locale` (German if the locale has none) with its parameters worded.

    A key the catalogs do not know is shown as it is: never a 500 for a missing word."""
    locale = locale if locale in LOCALES else "de"
    template = texts(locale).get(key) or texts("de").get(key)
    if template is None:
        return key
    return template.format_map({name: _Worded(value, locale) for name, value in params.items()})
