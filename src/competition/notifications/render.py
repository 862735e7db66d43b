"""Rendering mails from Jinja2 templates.

Each mail is `templates/<locale>/<name>.txt` with the blocks `subject` and `text`; the plain-text
part is the master copy. The HTML part is derived from it through one shared, autoescaped layout
(`templates/layout.html`), with the mail's call to action (the optional block `action` labels the
context's `action_url`) as a button, so every mail looks alike and no text exists twice.

Only our own addresses become links: the context's `*_url` values, which the code builds under
`COMPETITION_PUBLIC_URL`. Everything else a template prints comes from people (company and
person names, entry titles) and is never linked, whatever it looks like. In both parts a
zero-width space goes after each dot between a word and a letter (`evil.` ZWSP `example`) and
after a scheme's colon (`https:` ZWSP `//`) inside it, so that mail clients' own autolinking does
not turn a company called "evil.example" into a link either; the text reads the same, and dates
and numbers (`12.03.2026`, `4.0`) are left alone. The subject header stays as typed: no client
links it.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import jinja2
import msgspec

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
LOCALES = ("de", "en")
_URL = re.compile(r"https?://\S+")
# Private-use characters around every value a template prints, so that people's text can be
# told from the template's own after rendering. Removed from the values themselves first.
_USER_START, _USER_END = "\ue000", "\ue001"
_NO_MARKS = str.maketrans("", "", _USER_START + _USER_END)
_USER_TEXT = re.compile(f"{_USER_START}(.*?){_USER_END}", re.DOTALL)
_LINKABLE = re.compile(r"(?<=\w)\.(?=[^\W\d_])|:(?=//)")
ZERO_WIDTH_SPACE = "\u200b"


class Link(str):
    """An address our code built (a context value whose key ends in `_url`): printed as is."""

    __slots__ = ()


class RenderedMail(msgspec.Struct, frozen=True):
    subject: str
    text: str
    html: str


def _mark(value: Any) -> Any:
    """Jinja2's `finalize`: every printed value but our own links is people's text."""
    if isinstance(value, Link):
        return value
    return _USER_START + str(value).translate(_NO_MARKS) + _USER_END


@functools.cache
def _environment(*, marked: bool) -> jinja2.Environment:
    """`marked` for the mail templates (their values get marks), not for the HTML layout."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_mark if marked else None,
    )


def neutralise(text: str) -> str:
    """People's text that no mail client should take for an address."""
    return _LINKABLE.sub(lambda m: m.group(0) + ZERO_WIDTH_SPACE, text)


def _unmarked(text: str) -> str:
    return text.translate(_NO_MARKS)


def _neutralised(marked: str) -> str:
    return _USER_TEXT.sub(lambda m: neutralise(m.group(1)), marked)


def _block(
    template: jinja2.Template, name: str, context: dict[str, Any], *, required: bool = True
) -> str:
    block = template.blocks.get(name)
    text = "".join(block(template.new_context(context))).strip() if block else ""
    if required and not text:
        raise ValueError(f"mail template {template.name} lacks the block {name!r}")
    return text


def render(template: str, locale: str, context: dict[str, Any]) -> RenderedMail:
    locale = locale if locale in LOCALES else "de"
    context = {k: Link(v) if k.endswith("_url") and v else v for k, v in context.items()}
    tmpl = _environment(marked=True).get_template(f"{locale}/{template}.txt")
    marked_subject = _block(tmpl, "subject", context)
    subject = " ".join(_unmarked(marked_subject).split())
    marked = _block(tmpl, "text", context)
    text = _neutralised(marked)
    html = (
        _environment(marked=False)
        .get_template("layout.html")
        .render(
            lang=locale,
            subject=" ".join(_neutralised(marked_subject).split()),
            paragraphs=_paragraphs(marked),
            action_url=context.get("action_url"),
            action_label=_unmarked(_block(tmpl, "action", context, required=False)),
        )
    )
    return RenderedMail(subject=subject, text=text + "\n", html=html)


def _paragraphs(marked: str) -> list[list[tuple[str, bool]]]:
    """The text as paragraphs of (text, is_link) pieces for the layout: addresses in the
    template's own text are links, people's text never is."""
    paragraphs: list[list[tuple[str, bool]]] = [[]]
    pos = 0
    for match in [*_USER_TEXT.finditer(marked), None]:
        own = marked[pos : match.start() if match else len(marked)]
        for i, chunk in enumerate(own.split("\n\n")):
            if i:
                paragraphs.append([])
            paragraphs[-1] += _link_parts(chunk)
        if match is None:
            break
        for i, chunk in enumerate(neutralise(match.group(1)).split("\n\n")):
            if i:
                paragraphs.append([])
            if chunk:
                paragraphs[-1].append((chunk, False))
        pos = match.end()
    return paragraphs


def _link_parts(text: str) -> list[tuple[str, bool]]:
    """Split the template's own text into (text, is_link) pieces so the layout can link URLs."""
    parts: list[tuple[str, bool]] = []
    pos = 0
    for match in _URL.finditer(text):
        if match.start() > pos:
            parts.append((text[pos : match.start()], False))
        parts.append((match.group(0), True))
        pos = match.end()
    if pos < len(text):
        parts.append((text[pos:], False))
    return parts
