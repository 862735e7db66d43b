"""Tests of the canonical JSON encodings and the snapshot hash (pure, no services).

Scheme 2 is RFC 8785 after rounding the floats; scheme 1 is the frozen encoder that older runs
were hashed with, and its bytes must never change.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import numpy as np
import pytest
import rfc8785

from competition.results import snapshot_v1
from competition.results.snapshot import canonical_json, prepared, snapshot_hash

# ---------------------------------------------------------------------------------------------
# Scheme 2: RFC 8785 after the rounding pre-step


def test_canonical_json_sorted_keys_no_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [1.5, None, True, False, 'Übung "x"'], "c": {}}) == (
        '{"a":[1.5,null,true,false,"Übung \\"x\\""],"b":1,"c":{}}'.encode()
    )


def test_canonical_json_rounds_floats_and_writes_them_as_ecmascript_does() -> None:
    values = [0.1 + 0.2, 1 / 3, 70.0, -0.0, 1e-12, 123456.7890123456, -2.5e-7, 1e15, 1e-5]
    assert canonical_json(values) == (
        b"[0.3,0.333333333,70,0,0,123456.789012,-2.5e-7,1000000000000000,0.00001]"
    )


def test_canonical_json_sorts_keys_by_utf16_code_units() -> None:
    # The example of RFC 8785, section 3.2.3: U+1F600 is a surrogate pair (D83D DE00) in UTF-16
    # and sorts before U+FB33, although its code point is larger.
    data = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    assert values_in_order(canonical_json(data)) == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]


def values_in_order(document: bytes) -> list[str]:
    """The values of a flat JSON object in the order its bytes list them."""
    return list(json.loads(document, object_pairs_hook=lambda pairs: [v for _, v in pairs]))


def test_canonical_json_numpy_array_same_as_list() -> None:
    floats = [3.0, 7.25, 0.1 + 0.2, -4.0, 1e12 + 0.5, 2.0**53]
    for values in (floats, [3.0, -4.0, 10.0], [3.0, 2.0**53], [1, 2, 3]):
        assert canonical_json(np.array(values)) == canonical_json(values)
    assert canonical_json(np.array([3.0, -4.0])) == b"[3,-4]"
    assert canonical_json(np.array([[1.5, 2.0]])) == b"[[1.5,2]]"
    assert canonical_json(np.array([1e12 + 0.5, 2.0**53])) == b"[1000000000000,9007199254740000]"
    assert canonical_json([np.float64(0.5), np.int64(7)]) == b"[0.5,7]"


def test_canonical_json_insertion_order_irrelevant() -> None:
    first = {"x": 1.0, "y": {"b": [1, 2], "a": "s"}}
    second = {"y": {"a": "s", "b": [1, 2]}, "x": 1.0}
    assert canonical_json(first) == canonical_json(second) == b'{"x":1,"y":{"a":"s","b":[1,2]}}'


def test_canonical_json_tiny_float_noise_gives_identical_bytes() -> None:
    assert canonical_json([70.1 * 3 / 3, 1e-14]) == canonical_json([70.1, 0.0]) == b"[70.1,0]"


def test_canonical_json_is_rfc8785_of_the_prepared_document() -> None:
    document: dict[str, Any] = {"b": [0.1 + 0.2, np.array([1.0, 2.5])], "a": "ä\n"}
    assert prepared(document) == {"b": [0.3, [1, 2.5]], "a": "ä\n"}
    assert canonical_json(document) == rfc8785.dumps({"a": "ä\n", "b": [0.3, [1, 2.5]]})
    assert canonical_json(document) == '{"a":"ä\\n","b":[0.3,[1,2.5]]}'.encode()


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_canonical_json_non_finite_raises(value: float) -> None:
    with pytest.raises(rfc8785.FloatDomainError):
        canonical_json([value])
    with pytest.raises(rfc8785.FloatDomainError):
        canonical_json(np.array([1.0, value]))


def test_canonical_json_non_string_key_raises() -> None:
    with pytest.raises(rfc8785.CanonicalizationError, match="keys must be strings"):
        canonical_json({1: "x"})


def test_snapshot_hash_is_sha256_of_canonical_json() -> None:
    expected = hashlib.sha256(b'{"inputs":{"a":1},"outputs":[2.5e-7]}').hexdigest()
    assert snapshot_hash(inputs={"a": 1}, outputs=[2.5e-7]) == expected
    assert snapshot_hash(inputs={"a": 1}, outputs=[2.5e-7], scheme=2) == expected


def test_snapshot_hash_scheme_1_uses_the_frozen_encoder() -> None:
    expected = hashlib.sha256(b'{"inputs":{"a":1},"outputs":[2.5e-07]}').hexdigest()
    assert snapshot_hash(inputs={"a": 1}, outputs=[2.5e-7], scheme=1) == expected


def test_snapshot_hash_unknown_scheme_raises() -> None:
    with pytest.raises(ValueError, match="unknown snapshot hash scheme 3"):
        snapshot_hash(inputs={}, outputs={}, scheme=3)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Scheme 1: frozen, only for verifying runs made with it


def test_v1_canonical_json_sorted_keys_no_whitespace() -> None:
    assert snapshot_v1.canonical_json(
        {"b": 1, "a": [1.5, None, True, False, 'Übung "x"'], "c": {}}
    ) == ('{"a":[1.5,null,true,false,"Übung \\"x\\""],"b":1,"c":{}}'.encode())


def test_v1_canonical_json_rounds_floats() -> None:
    values = [0.1 + 0.2, 1 / 3, 70.0, -0.0, 1e-12, 123456.7890123456, -2.5e-7, 1e15]
    assert (
        snapshot_v1.canonical_json(values)
        == b"[0.3,0.333333333,70,0,0,123456.789012,-2.5e-07,1e+15]"
    )


def test_v1_canonical_json_numpy_array_same_as_list() -> None:
    floats = [3.0, 7.25, 0.1 + 0.2, -4.0, 1e12 + 0.5, 2.0**53]
    for values in (floats, [3.0, -4.0, 10.0], [3.0, 2.0**53], [1, 2, 3]):
        assert snapshot_v1.canonical_json(np.array(values)) == snapshot_v1.canonical_json(values)
    assert snapshot_v1.canonical_json(np.array([3.0, -4.0])) == b"[3,-4]"
    assert snapshot_v1.canonical_json(np.array([[1.5, 2.0]])) == b"[[1.5,2]]"


def test_v1_canonical_json_insertion_order_irrelevant() -> None:
    first = {"x": 1.0, "y": {"b": [1, 2], "a": "s"}}
    second = {"y": {"a": "s", "b": [1, 2]}, "x": 1.0}
    assert (
        snapshot_v1.canonical_json(first)
        == snapshot_v1.canonical_json(second)
        == b'{"x":1,"y":{"a":"s","b":[1,2]}}'
    )


def test_v1_canonical_json_tiny_float_noise_gives_identical_bytes() -> None:
    assert snapshot_v1.canonical_json([70.1 * 3 / 3, 1e-14]) == snapshot_v1.canonical_json(
        [70.1, 0.0]
    )


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_v1_canonical_json_non_finite_raises(value: float) -> None:
    with pytest.raises(ValueError, match="cannot represent"):
        snapshot_v1.canonical_json([value])


def test_v1_canonical_json_non_string_key_raises() -> None:
    with pytest.raises(TypeError, match="keys must be strings"):
        snapshot_v1.canonical_json({1: "x"})


def test_v1_and_v2_differ_only_in_how_numbers_are_written() -> None:
    document = {"z": [0.5, 70.0, "x"], "a": {"n": 3}}
    assert snapshot_v1.canonical_json(document) == canonical_json(document)
    assert snapshot_v1.canonical_json([1e-5, 1e15]) == b"[1e-05,1e+15]"
    assert canonical_json([1e-5, 1e15]) == b"[0.00001,1000000000000000]"
