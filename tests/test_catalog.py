"""Every error key the code uses has its words in both catalogs, and every word has a use.

The keys are read from the source by AST, as the catalog's readers meet them: the first positional
string of a call to `AppError` or one of its subclasses (found by AST too, the domains' own
included), or its `code=` when it has none, or else the class's `code = "…"` default; the second
positional argument of `problem(…)`/`Problem(…)`; and the keys the handlers word by name
(`catalog.text(…)`, `_worded(…)`, the status codes of `errors.py` and `server.py`).
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

import competition
from competition import catalog
from competition.competitions.phases import PHASE_NAMES
from competition.errors import AppError, Conflict, Invalid, problem

SRC = Path(competition.__file__).resolve().parent
# Where the handlers word keys by name; errors.py also passes keys through (`problem()`).
HANDLERS = ("errors.py", "server.py")
MECHANISM = "errors.py"
KEY = re.compile(r"^[a-z][a-z0-9_.]*$")
# AppError's own keywords; every other keyword of a call is a parameter of the text.
OPTIONS = frozenset({"code", "status_code", "fields", "headers"})


@dataclass(frozen=True)
class Use:
    where: str
    key: str | None  # None: not a string constant
    params: frozenset[str] | None  # None: passed on with **kwargs, not checked


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        yield str(path.relative_to(SRC)), ast.parse(path.read_text(), filename=str(path))


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


@cache
def error_classes() -> dict[str, str]:
    """Every subclass of AppError (AppError included) and the code it answers with by default."""
    bases: dict[str, list[str]] = {}
    codes: dict[str, str] = {}
    for _, module in _modules():
        for node in ast.walk(module):
            if not isinstance(node, ast.ClassDef):
                continue
            bases[node.name] = [n for n in map(_name, node.bases) if n]
            for statement in node.body:
                if (
                    isinstance(statement, ast.Assign)
                    and [_name(t) for t in statement.targets] == ["code"]
                    and isinstance(statement.value, ast.Constant)
                    and isinstance(statement.value.value, str)
                ):
                    codes[node.name] = statement.value.value

    def code_of(name: str) -> str | None:
        if name in codes:
            return codes[name]
        return next((c for b in bases.get(name, []) if (c := code_of(b))), None)

    def is_error(name: str) -> bool:
        return name == "AppError" or any(is_error(b) for b in bases.get(name, []))

    found = {name: code_of(name) for name in bases if is_error(name)}
    return {name: code for name, code in found.items() if code is not None}


def _constants(module: ast.Module) -> dict[str, str]:
    """Module-level names bound to a string (`CONTROL: Final = "control_characters"`)."""
    found: dict[str, str] = {}
    for node in module.body:
        target: ast.expr | None = None
        if isinstance(node, ast.AnnAssign):
            target = node.target
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if (
            isinstance(target, ast.Name)
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            found[target.id] = value.value
    return found


def _string(node: ast.expr | None, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _keywords(call: ast.Call) -> frozenset[str] | None:
    if any(k.arg is None for k in call.keywords):
        return None
    return frozenset(k.arg for k in call.keywords if k.arg and k.arg not in OPTIONS)


def _dict_keys(node: ast.expr | None) -> frozenset[str] | None:
    if node is None:
        return frozenset()
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
        return frozenset(str(k.value) for k in node.keys if isinstance(k, ast.Constant))
    return None


def _use(call: ast.Call, where: str, constants: dict[str, str]) -> Use | None:
    """The key a call names, if it is a call that names one."""
    func, name = call.func, _name(call.func)
    classes = error_classes()
    if name in classes:
        node = call.args[0] if call.args else None
        code = next((k.value for k in call.keywords if k.arg == "code"), None)
        if node is None and code is None:
            return Use(where, classes[name], _keywords(call))
        return Use(where, _string(node if node is not None else code, constants), _keywords(call))
    # Only our own: the jury's assignment solver has a `Problem` of its own.
    if isinstance(func, ast.Name) and name in ("problem", "Problem") and len(call.args) >= 2:
        if name == "problem":
            return Use(where, _string(call.args[1], constants), _keywords(call))
        params = call.args[2] if len(call.args) > 2 else None
        return Use(where, _string(call.args[1], constants), _dict_keys(params))
    is_catalog_text = (
        isinstance(func, ast.Attribute)
        and func.attr == "text"
        and isinstance(func.value, ast.Name)
        and func.value.id == "catalog"
    )
    if (is_catalog_text or name == "_worded") and call.args:
        params = call.args[1] if is_catalog_text and len(call.args) > 1 else None
        return Use(where, _string(call.args[0], constants), _dict_keys(params))
    return None


@cache
def uses() -> tuple[Use, ...]:
    """Every call that names a key."""
    found: list[Use] = []
    for name, module in _modules():
        constants = _constants(module)
        for node in ast.walk(module):
            use = _use(node, "", constants) if isinstance(node, ast.Call) else None
            if use is None or (use.key is None and name == MECHANISM):
                continue
            found.append(Use(f"{name}:{getattr(node, 'lineno', 0)}", use.key, use.params))
    return tuple(found)


@cache
def used_keys() -> frozenset[str]:
    keys = {u.key for u in uses() if u.key is not None}
    keys |= set(error_classes().values())
    for name, module in _modules():
        if name in HANDLERS:  # the status codes the handlers word when the catalog has them
            for node in module.body:
                value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
                if isinstance(value, ast.Dict):
                    keys |= {v for v in (_string(x, {}) for x in value.values) if v}
    return frozenset(keys)


@cache
def po(locale: str) -> dict[str, str]:
    """A catalog as written: every key, with its text, empty or not."""
    path = catalog.CATALOG_DIR / locale / "LC_MESSAGES" / "errors.po"
    with path.open("rb") as source:
        return {str(m.id): str(m.string) for m in read_po(source, locale=locale) if m.id}


def placeholders(text: str) -> list[tuple[str, str, str | None]]:
    """(name, format spec, conversion) of each `{…}` of a text."""
    return [
        (re.split(r"[.\[]", field)[0], spec or "", conversion)
        for _, field, spec, conversion in string.Formatter().parse(text)
        if field is not None
    ]


def test_every_error_says_a_key() -> None:
    """A German text (or a variable) where the key belongs, and field errors built as words
    (`FieldError(field, "…")`) instead of `problem(field, key)`."""
    without_key = [u.where for u in uses() if u.key is None or not KEY.match(u.key)]
    assert without_key == []
    worded_fields = [
        f"{name}:{node.lineno}"
        for name, module in _modules()
        if name != "errors.py"
        for node in ast.walk(module)
        if isinstance(node, ast.Call) and _name(node.func) == "FieldError"
    ]
    assert worded_fields == []


def test_the_scan_finds_the_keys_the_code_raises() -> None:
    """The scan itself: a domain's own subclass, a key by constant, a key by class default."""
    assert {"InvalidToken", "InvalidInvitationLink", "Conflict", "AppError"} <= set(error_classes())
    assert error_classes()["InvalidToken"] == "invalid_token"
    assert {
        "entry.attachments_pending",
        "control_characters",
        "competition.tie_break_repeated",
        "rate_limited",
        "payload_too_large",
        "method_not_allowed",
    } <= used_keys()


def test_every_used_key_has_a_text_in_both_catalogs() -> None:
    for locale in catalog.LOCALES:
        assert sorted(used_keys() - set(catalog.texts(locale))) == [], locale


def test_both_catalogs_have_the_same_keys_each_with_a_text() -> None:
    assert sorted(set(po("de")) ^ set(po("en"))) == []
    assert [(k, lang) for lang in catalog.LOCALES for k, v in po(lang).items() if not v] == []
    assert [k for k in po("de") if not KEY.match(k)] == []


def test_no_catalog_key_is_unused() -> None:
    assert sorted(set(po("de")) - used_keys()) == []


def test_every_placeholder_of_a_text_is_passed_wherever_its_key_is_used() -> None:
    missing = [
        (use.where, use.key, lang, name)
        for use in uses()
        if use.key is not None and use.params is not None
        for lang in catalog.LOCALES
        for name, _, _ in placeholders(po(lang).get(use.key, ""))
        if name not in use.params
    ]
    assert missing == []


def test_placeholders_are_worded_by_the_catalog_only() -> None:
    """Known format specs, no `!r`, no positional `{}`: what a parameter looks like is decided in
    `competition.catalog`, for both languages alike."""
    odd = [
        (key, lang, field)
        for lang in catalog.LOCALES
        for key, text in po(lang).items()
        for field in placeholders(text)
        if field[1] not in catalog.SPECS or field[2] is not None or not field[0].isidentifier()
    ]
    assert odd == []


def test_an_error_is_worded_in_german_and_english_with_its_parameters() -> None:
    held = Invalid(
        "attachment.quota_exceeded_held",
        max=200 * 1024**2,
        free=1_572_864,
        held=3,
        size=890_000,
        since=datetime(2026, 12, 1, 13, 30, tzinfo=UTC),
    )
    assert held.worded("de") == (
        "Alle Anhänge eines Beitrags zusammen höchstens 200,0 MB; frei: 1,5 MB. Darin zählen 3 "
        "abgelehnte oder gelöschte Dateien (870 KB) mit, bis sie aus dem Speicher entfernt sind "
        "(die erste ab 01.12.2026, 14:30 Uhr)."
    )
    assert held.detail == held.worded("de")
    assert held.worded("en") == (
        "All attachments of an entry together at most 200.0 MB; free: 1.5 MB. This includes 3 "
        "rejected or deleted files (870 KB) until they have been removed from storage (the first "
        "from 1 Dec 2026, 14:30 (Berlin time))."
    )
    many = AppError("entry.attachments_pending", count=1200)
    assert many.worded("de").startswith("1.200 Anhang/Anhänge werden noch hochgeladen")
    assert many.worded("en").startswith("1,200 attachment(s) are still being uploaded")


def test_a_german_text_may_quote_its_english_twin() -> None:
    closed = Conflict(
        "entry.submissions_closed",
        code="submissions_closed",
        closes_at=datetime(2026, 6, 30, 21, 59, tzinfo=UTC),
    )
    assert (closed.code, closed.detail, closed.worded("en")) == (
        "submissions_closed",
        "Die Einreichung ist geschlossen (Einsendeschluss: 30.06.2026, 23:59 Uhr). / Submissions "
        "are closed (deadline: 30 Jun 2026, 23:59 (Berlin time)).",
        "Submissions are closed (deadline: 30 Jun 2026, 23:59 (Berlin time)).",
    )


def test_names_in_both_languages_and_literal_braces_are_worded() -> None:
    illegal = Conflict(
        "competition.illegal_transition",
        current=PHASE_NAMES["draft"],
        target=PHASE_NAMES["judging"],
    )
    assert (illegal.worded("de"), illegal.worded("en")) == (
        "Von „Entwurf“ geht es nicht zu „Jurybewertung“.",
        "The competition cannot go from “draft” to “judging”.",
    )
    assert Conflict("competition.use_publish").detail == (
        "Veröffentlicht wird über POST /competitions/{id}/publish, mit Siegern."
    )
    field = problem("title.en", "field.required")
    assert Invalid(fields=[field]).worded_fields("en")[0].message == "Please fill this in."
    assert AppError("no.such_key").worded("fr") == "no.such_key"
