"""Tests of the canonical JSON encoding and the snapshot hash (pure, no services)."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest

from competition.results.snapshot import canonical_json, snapshot_hash


def test_canonical_json_sorted_keys_no_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [1.5, None, True, False, 'Übung "x"'], "c": {}}) == (
        '{"a":[1.5,null,true,false,"Übung \\"x\\""],"b":1,"c":{}}'.encode()
    )


def test_canonical_json_rounds_floats() -> None:
    values = [0.1 + 0.2, 1 / 3, 70.0, -0.0, 1e-12, 123456.7890123456, -2.5e-7, 1e15]
    assert canonical_json(values) == b"[0.3,0.333333333,70,0,0,123456.789012,-2.5e-07,1e+15]"


def test_canonical_json_numpy_array_same_as_list() -> None:
    floats = [3.0, 7.25, 0.1 + 0.2, -4.0, 1e12 + 0.5, 2.0**53]
    for values in (floats, [3.0, -4.0, 10.0], [3.0, 2.0**53], [1, 2, 3]):
        assert canonical_json(np.array(values)) == canonical_json(values)
    assert canonical_json(np.array([3.0, -4.0])) == b"[3,-4]"
    assert canonical_json(np.array([[1.5, 2.0]])) == b"[[1.5,2]]"


def test_canonical_json_insertion_order_irrelevant() -> None:
    first = {"x": 1.0, "y": {"b": [1, 2], "a": "s"}}
    second = {"y": {"a": "s", "b": [1, 2]}, "x": 1.0}
    assert canonical_json(first) == canonical_json(second) == b'{"x":1,"y":{"a":"s","b":[1,2]}}'


def test_canonical_json_tiny_float_noise_gives_identical_bytes() -> None:
    assert canonical_json([70.1 * 3 / 3, 1e-14]) == canonical_json([70.1, 0.0])


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_canonical_json_non_finite_raises(value: float) -> None:
    with pytest.raises(ValueError, match="cannot represent"):
        canonical_json([value])


def test_canonical_json_non_string_key_raises() -> None:
    with pytest.raises(TypeError, match="keys must be strings"):
        canonical_json({1: "x"})


def test_snapshot_hash_is_sha256_of_canonical_json() -> None:
    expected = hashlib.sha256(b'{"inputs":{"a":1},"outputs":[0.5]}').hexdigest()
    assert snapshot_hash(inputs={"a": 1}, outputs=[0.5]) == expected
