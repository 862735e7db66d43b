"""Languages and formats of the web pages: German by default, English switchable.

The source strings (msgids) are German, the language every page is written in first; the English
catalog `locale/en/LC_MESSAGES/messages.po` translates them. Catalogs are compiled in memory at
first use, so no binary `.mo` file is kept in the repository. After changing texts:

    pybabel extract -F src/competition/web/babel.cfg -k gettext:2 --no-location \
        -o messages.pot src/competition/web
    pybabel update -i messages.pot -d src/competition/web/locale -l en -w 100
    rm messages.pot

then translate the new entries and clear their `fuzzy` marks. `-k gettext:2`: in Python the
locale comes first, `gettext(locale, "Text")`.
(`tests/web/test_i18n.py` fails while a string lacks its English translation.)
Dates are shown in Europe/Berlin through `competition.localization`; numbers with Babel.
"""

from __future__ import annotations

import functools
import gettext as stdlib_gettext
import io
import math
from datetime import datetime
from pathlib import Path
from typing import Final

from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from competition.localization import BERLIN, format_datetime

LOCALES: Final = ("de", "en")
DEFAULT_LOCALE: Final = "de"
LANG_COOKIE: Final = "ind_lang"
LOCALE_DIR: Final = Path(__file__).resolve().parent / "locale"
_BABEL_LOCALE: Final = {"de": "de_DE", "en": "en_GB"}


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


def pick_locale(value: str | None) -> str | None:
    return value if value in LOCALES else None


@functools.cache
def translations(locale: str) -> stdlib_gettext.NullTranslations:
    if locale == DEFAULT_LOCALE:
        return stdlib_gettext.NullTranslations()
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled, domain="messages")


def gettext(locale: str, message: str) -> str:
    return translations(locale).gettext(message)


def ngettext(locale: str, singular: str, plural: str, n: int) -> str:
    return translations(locale).ngettext(singular, plural, n)


def number(value: float | int | None, locale: str, digits: int = 1) -> str:
    """'1.234,5' in German, '1,234.5' in English; an en dash for no value."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=_BABEL_LOCALE[locale])


def integer(value: int, locale: str) -> str:
    return number(value, locale, digits=0)


def size(value: int, locale: str) -> str:
    """File sizes in the units people read: '870 KB', '1,2 MB'."""
    if value < 1024**2:
        return f"{number(math.ceil(value / 1024), locale, digits=0)} KB"
    return f"{number(value / 1024**2, locale, digits=1)} MB"


def moment(value: datetime | None, locale: str) -> str:
    return format_datetime(value, locale) if value is not None else "–"


def day(value: datetime, locale: str) -> str:
    pattern = "dd.MM.yyyy" if locale == DEFAULT_LOCALE else "d MMM yyyy"
    return babel_format_date(value.astimezone(BERLIN), pattern, locale=_BABEL_LOCALE[locale])


def localized(names: dict[str, str] | None, locale: str) -> str:
    """A `{"de": …, "en": …}` value in the page's language, German when the other is empty."""
    if not names:
        return ""
    return names.get(locale) or names.get(DEFAULT_LOCALE) or next(iter(names.values()), "")
