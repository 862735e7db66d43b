"""Scheme 1 of the snapshot hash's canonical JSON: frozen, kept only to verify old runs.

Every result run made before hash schemes were recorded (migration 0014 gives those runs
``hash_scheme = 1``) was hashed over these bytes, and `verify_run` must keep recomputing them
exactly. New runs use scheme 2 (`competition.results.snapshot`, RFC 8785). Do not change what this
module writes; tests/results/test_snapshot.py pins its bytes and tests/results/test_aggregate.py
the hashes of a fixed table.

The bytes: sorted keys, no whitespace, strings as Python's `json` writes them without
``ensure_ascii`` (UTF-8), integers in decimal, and every float rounded to 9 decimal places and
then printed with Python's ``format(value, ".12g")`` (0 for anything that rounds to zero, which
folds -0.0; non-finite floats are refused).

Why an encoder of our own stays here: no library writes those numbers. An RFC 8785 encoder prints
numbers the ECMAScript way (``2.5e-7``, ``0.00001``, ``1000000000000000``) where scheme 1 has
``2.5e-07``, ``1e-05`` and ``1e+15``, and no change of the *values* beforehand can make it print
another text. The standard library's `json` with floats pre-rounded comes closest, but prints
floats from 1e12 to 1e16 in full (``1000000000000000.0``) where ``.12g`` switches to an exponent.
So this is the old encoder, unchanged, and nothing new uses it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any, Final, cast

import numpy as np
import numpy.typing as npt

CANONICAL_DECIMALS: Final = 9
CANONICAL_DIGITS: Final = 12


def canonical_json(obj: object) -> bytes:
    """Deterministic JSON bytes: sorted keys, no whitespace, floats rounded (see module doc)."""
    parts: list[str] = []
    _encode(obj, parts)
    return "".join(parts).encode("utf-8")


_FLOAT_FORMAT: Final = f".{CANONICAL_DIGITS}g"
# Integral floats below this magnitude print the same under ".12g" as their int does.
_INTEGRAL_LIMIT: Final = 10.0**CANONICAL_DIGITS


def _format_float(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"canonical JSON cannot represent {value!r}")
    rounded = round(value, CANONICAL_DECIMALS)
    if rounded == 0:
        return "0"  # also folds -0.0, which must not hash differently from 0.0
    return format(rounded, _FLOAT_FORMAT)


def _encode(obj: object, out: list[str]) -> None:
    # Exact-type dispatch first: this runs once per value of a 20,000-entry ranking.
    kind = type(obj)
    if kind is str:
        out.append(encode_basestring(cast("str", obj)))
    elif kind is float:
        out.append(_format_float(cast("float", obj)))
    elif kind is int:
        out.append(str(obj))
    elif kind is dict:
        _encode_mapping(cast("dict[object, object]", obj), out)
    elif kind is list or kind is tuple:
        _encode_sequence(cast("Sequence[object]", obj), out)
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        out.append(encode_basestring(str(obj)))
    elif isinstance(obj, int | np.integer):
        out.append(str(int(obj)))
    elif isinstance(obj, float | np.floating):
        out.append(_format_float(float(obj)))
    elif isinstance(obj, Mapping):
        _encode_mapping(obj, out)
    elif isinstance(obj, list | tuple):
        _encode_sequence(obj, out)
    elif isinstance(obj, np.ndarray):
        _encode_array(obj, out)
    else:
        raise TypeError(f"canonical JSON cannot encode {type(obj).__name__}")


def _encode_mapping(obj: Mapping[object, object], out: list[str]) -> None:
    keys = list(obj)
    if not all(type(k) is str for k in keys):
        raise TypeError("canonical JSON object keys must be strings")
    out.append("{")
    for i, key in enumerate(sorted(cast("list[str]", keys))):
        if i:
            out.append(",")
        out.append(encode_basestring(key))
        out.append(":")
        _encode(obj[key], out)
    out.append("}")


def _encode_array(array: npt.NDArray[Any], out: list[str]) -> None:
    if array.ndim != 1:
        _encode_sequence(array.tolist(), out)
        return
    if array.dtype.kind == "f":
        # Whole-number scores are the common case; printing them as ints gives the same text as
        # _format_float and is ten times faster.
        if (
            np.isfinite(array).all()
            and (np.abs(array) < _INTEGRAL_LIMIT).all()
            and (np.trunc(array) == array).all()
        ):
            out.append("[" + ",".join(map(str, array.astype(np.int64).tolist())) + "]")
            return
        out.append("[" + ",".join(map(_format_float, array.tolist())) + "]")
        return
    if array.dtype.kind in "iu":
        out.append("[" + ",".join(map(str, array.tolist())) + "]")
        return
    _encode_sequence(array.tolist(), out)


def _encode_sequence(items: Sequence[object], out: list[str]) -> None:
    if all(type(x) is float for x in items):
        out.append("[" + ",".join(map(_format_float, cast("Sequence[float]", items))) + "]")
        return
    if all(type(x) is int for x in items):
        out.append("[" + ",".join(map(str, items)) + "]")
        return
    out.append("[")
    for i, item in enumerate(items):
        if i:
            out.append(",")
        _encode(item, out)
    out.append("]")
