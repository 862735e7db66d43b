"""The words of every domain error, in both languages, from Babel catalogs.

Services raise errors as a key and parameters (`Conflict("entry.attachments_pending", count=2)`);
the words live in `locale/<lang>/LC_MESSAGES/errors.po` (msgid: the key, msgstr: the text with
`{name}` placeholders), so the API, the pages and the mails say the same thing, German first. The
page texts keep their German msgids in the web catalog; error keys are stable identifiers instead,
because the same refusal is worded in German for the API and in the visitor's language on a page.
Parameters are worded here too: dates in Europe/Berlin, numbers in the locale's format.

After adding a key, give it a text in both catalogs; `tests/test_catalog.py` fails while a key used
in the code has no text, a text names a placeholder the key is not raised with, or a text is unused.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Final

from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from competition.localization import format_datetime

LOCALES: Final = ("de", "en")
CATALOG_DIR: Final = Path(__file__).resolve().parent / "locale"
_BABEL_LOCALE: Final = {"de": "de_DE", "en": "en_GB"}

Param = str | int | float | datetime


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
    if isinstance(value, int):
        return format_decimal(value, format="#,##0", locale=_BABEL_LOCALE[locale])
    return format_decimal(value, format="#,##0.##", locale=_BABEL_LOCALE[locale])


def text(key: str, params: Mapping[str, Param], locale: str) -> str:
    """The key's text in `locale` (German if the locale has none) with its parameters worded.

    A key the catalogs do not know is shown as it is: never a 500 for a missing word."""
    template = texts(locale if locale in LOCALES else "de").get(key) or texts("de").get(key)
    if template is None:
        return key
    return template.format_map({name: _word(value, locale) for name, value in params.items()})
