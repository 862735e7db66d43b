"""Snapshot hash of a result run: SHA-256 over canonical JSON of its inputs and outputs.

Pure, no I/O. `canonical_json` writes sorted keys, no whitespace, UTF-8 strings, and every float
rounded to 9 decimal places and then to 12 significant digits (non-finite floats are refused), so
that a recomputation elsewhere yields the same bytes even if the last bits of a float differ. The
arithmetic itself uses only element-wise IEEE-754 operations and reductions in a fixed order (no
BLAS), so it is bit-reproducible in practice as well. `snapshot_hash` is the hex SHA-256 of the
canonical JSON of ``{"inputs": …, "outputs": …}``; the inputs are written in a form that does not
depend on the order in which entries, jurors or sheets were loaded
(`ScoreTable.canonical_inputs`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any, Final, cast

import numpy as np
import numpy.typing as npt

CANONICAL_DECIMALS: Final = 9
CANONICAL_DIGITS: Final = 12


def snapshot_hash(*, inputs: object, outputs: object) -> str:
    """Hex SHA-256 over the canonical JSON of ``{"inputs": inputs, "outputs": outputs}``."""
    return hashlib.sha256(canonical_json({"inputs": inputs, "outputs": outputs})).hexdigest()


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
