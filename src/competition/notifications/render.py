"""Rendering mails from Jinja2 templates.

Each mail is `templates/<locale>/<name>.txt` with the blocks `subject` and `text`; the plain-text
part is the master copy. The HTML part is derived from it through one shared, autoescaped layout
(`templates/layout.html`), with the mail's call to action (the optional block `action` labels the
context's `action_url`) as a button, so every mail looks alike and no text exists twice.
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


class RenderedMail(msgspec.Struct, frozen=True):
    subject: str
    text: str
    html: str


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


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
    env = _environment()
    tmpl = env.get_template(f"{locale}/{template}.txt")
    subject = " ".join(_block(tmpl, "subject", context).split())
    text = _block(tmpl, "text", context)
    paragraphs = [_link_parts(p) for p in text.split("\n\n")]
    html = env.get_template("layout.html").render(
        lang=locale,
        subject=subject,
        paragraphs=paragraphs,
        action_url=context.get("action_url"),
        action_label=_block(tmpl, "action", context, required=False),
    )
    return RenderedMail(subject=subject, text=text + "\n", html=html)


def _link_parts(paragraph: str) -> list[tuple[str, bool]]:
    """Split a paragraph into (text, is_link) pieces so the layout can link URLs safely."""
    parts: list[tuple[str, bool]] = []
    pos = 0
    for match in _URL.finditer(paragraph):
        if match.start() > pos:
            parts.append((paragraph[pos : match.start()], False))
        parts.append((match.group(0), True))
        pos = match.end()
    if pos < len(paragraph):
        parts.append((paragraph[pos:], False))
    return parts
