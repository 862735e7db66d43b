"""The English catalog covers every text of the pages, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from competition.web import i18n
from competition.web.rendering import NOTICES, Notice

WEB = Path(i18n.__file__).resolve().parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


Message = str | tuple[str, ...]


def _key(value: str | tuple[str, ...] | list[str]) -> Message:
    return value if isinstance(value, str) else tuple(value)


def extracted() -> set[Message]:
    keywords = dict(DEFAULT_KEYWORDS)
    keywords["gettext"] = (2,)  # i18n.gettext(locale, message) in Python
    found = extract_from_dir(
        str(WEB),
        [("**/templates/**.html", "jinja2"), ("**.py", "python")],
        keywords=keywords,
    )
    return {_key(message) for _, _, message, _, _ in found}


def catalog() -> dict[Message, Message]:
    with (i18n.LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return {_key(m.id): _key(m.string or "") for m in read_po(source) if m.id and not m.fuzzy}


def test_catalog_translates_every_page_text_and_nothing_else() -> None:
    messages = catalog()
    assert sorted(map(str, extracted() - set(messages))) == []
    assert sorted(map(str, set(messages) - extracted())) == []
    assert [k for k, v in messages.items() if not v or (isinstance(v, tuple) and not all(v))] == []


def test_catalog_keeps_the_placeholders_of_each_text() -> None:
    mismatched = []
    for msgid, msgstr in catalog().items():
        sources = (msgid,) if isinstance(msgid, str) else msgid
        targets = (msgstr,) if isinstance(msgstr, str) else msgstr
        wanted = {frozenset(PLACEHOLDER.findall(s)) for s in sources}
        for target in targets:
            if frozenset(PLACEHOLDER.findall(target)) not in wanted:
                mismatched.append(msgid)
    assert mismatched == []


def test_translations_are_looked_up_by_locale() -> None:
    assert i18n.gettext("en", "Mein Bereich") == "My area"
    assert i18n.gettext("de", "Mein Bereich") == "Mein Bereich"
    assert i18n.ngettext("en", "%(num)d Beitrag", "%(num)d Beiträge", 2) == "%(num)d entries"


def test_numbers_and_sizes_in_german_and_english() -> None:
    assert (i18n.number(1234.56, "de"), i18n.number(1234.56, "en")) == ("1.234,6", "1,234.6")
    assert i18n.number(None, "de") == "–"
    assert (i18n.size(1500, "de"), i18n.size(52_428_800, "de")) == ("2 KB", "50,0 MB")


def test_texts_hold_no_markup() -> None:
    """Jinja treats translated texts as markup: a literal < or & would become a tag or entity."""
    texts = [
        t
        for pair in catalog().items()
        for part in pair
        for t in ([part] if isinstance(part, str) else part)
    ]
    assert [t for t in texts if "<" in t or "&" in t] == []


def test_every_notice_key_has_a_text_and_every_text_a_key() -> None:
    assert set(get_args(Notice)) == set(NOTICES)
