"""The text vocabulary of the request Structs and the request guard's depth count, on their own."""

from __future__ import annotations

import re

import pytest

from competition import guard, text

C0 = [chr(c) for c in range(0x20)]
PRINTABLE = ["a", " ", "ä", "ß", "€", "\u0085", "\u00a0", "\u200b", "🏭", "\u202e", "مرحبا"]


@pytest.mark.parametrize("where", ["{}ab", "a{}b", "ab{}"])
def test_one_line_refuses_every_c0_control_and_del_wherever_it_stands(where: str) -> None:
    refused = [c for c in [*C0, "\x7f"] if re.search(text.SINGLE_LINE, where.format(c)) is None]
    assert refused == [*C0, "\x7f"]
    accepted = [c for c in PRINTABLE if re.search(text.SINGLE_LINE, where.format(c))]
    assert accepted == PRINTABLE


@pytest.mark.parametrize("where", ["{}ab", "a{}b", "ab{}"])
def test_multi_line_keeps_tab_line_feed_and_carriage_return_only(where: str) -> None:
    accepted = [c for c in [*C0, "\x7f"] if re.search(text.MULTI_LINE, where.format(c))]
    assert accepted == ["\t", "\n", "\r"]
    assert [c for c in PRINTABLE if re.search(text.MULTI_LINE, where.format(c))] == PRINTABLE


def test_a_final_line_feed_is_refused_too() -> None:
    """Python's `$` also matches before a final line feed; `END` does not."""
    assert re.search(r"^[a-z]+$", "abc\n") is not None
    assert re.search(text.SINGLE_LINE, "abc\n") is None
    assert [bool(re.search(text.EMAIL, v)) for v in ("a@b.de", "a@b.de\n", "a\x00@b.de")] == [
        True,
        False,
        False,
    ]


def test_bidi_overrides_and_isolates_are_removed_and_nothing_else() -> None:
    controls = "".join(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
    assert len(controls) == 9
    assert text.without_bidi_controls(f"rech{controls}nung.pdf") == "rechnung.pdf"
    kept = "\u200e\u200f\u061c مرحبا 🏭"  # marks and right-to-left text stay as they are
    assert text.without_bidi_controls(kept) == kept


def test_control_messages_are_recognised_by_their_pattern() -> None:
    message = f"Expected `str` matching regex {text.SINGLE_LINE!r} - at `$.name`"
    assert text.is_control_message(message)
    assert not text.is_control_message("Expected `str` matching regex '^[0-9]{5}$'")


@pytest.mark.parametrize(
    ("body", "too_deep"),
    [
        (b"[" * 32 + b"]" * 32, False),
        (b"[" * 33 + b"]" * 33, True),
        (b'{"a":' * 32 + b"1" + b"}" * 32, False),
        (b'{"a":' * 33 + b"1" + b"}" * 33, True),
        (b"[" * 100_000, True),
        (b"[]" * 100_000, False),
        (b'["' + b"[" * 1000 + b'"]', False),  # brackets inside a string are text
        (b'["\\"' + b"[" * 1000 + b'"]', False),  # … also after an escaped quote
        (b'["\\\\"' + b"[" * 40 + b"]" * 40 + b"]", True),  # an escaped backslash ends it
        (b"", False),
        (b"\xff\x00 kein JSON", False),
    ],
)
def test_json_depth_is_counted_outside_strings(body: bytes, too_deep: bool) -> None:
    assert guard.json_too_deep(body) is too_deep
