"""Snapshot hash of a result run: SHA-256 over the canonical JSON of its inputs and outputs.

Pure, no I/O. `snapshot_hash` is the hex SHA-256 of the canonical JSON of
``{"inputs": …, "outputs": …}``; the inputs are written in a form that does not depend on the
order in which entries, jurors or sheets were loaded (`ScoreTable.canonical_inputs`). A stored
run names the scheme its hash was made with, so that it stays verifiable when the scheme changes:

Scheme 2 (current): RFC 8785, the JSON Canonicalization Scheme (JCS)
    The bytes are what the `rfc8785` package (Trail of Bits) writes for the document after one
    pre-step, `prepared`: every float becomes the double nearest to its value rounded to 9 decimal
    places and then to 12 significant digits, so that a recomputation elsewhere yields the same
    bytes even if the last bits of a float differ (the arithmetic uses only element-wise IEEE-754
    operations and reductions in a fixed order, no BLAS, so it is bit-reproducible in practice as
    well); NumPy arrays and scalars become lists and Python numbers. JCS then fixes everything
    else: keys sorted by UTF-16 code units, no whitespace, UTF-8, the minimal string escapes, and
    numbers as ECMAScript prints them (``70`` for 70.0, ``0`` for -0.0, ``2.5e-7``); NaN and
    infinities are refused.

Scheme 1 (runs made before schemes were recorded)
    A hand-written encoder whose number format no library reproduces; it is kept, frozen, in
    `competition.results.snapshot_v1` for verifying those runs only.

Why JCS rather than msgspec's encoder with ``order="sorted"`` (fast, and already a dependency):
a hash that proves a published ranking must give the same bytes years later and to anyone
recomputing it with other tools. JCS is a published specification (RFC 8785) with independent
implementations in several languages, so its bytes are fixed by the RFC; msgspec promises no
number format, so its bytes are whatever the installed release prints (it writes 70.0 as
``70.0`` and -0.0 as ``-0.0`` today). `rfc8785` is small, pure Python, typed and maintained. Its
cost is speed: it takes about three times as long as the scheme-1 encoder for a million criterion
scores, which bench/bench_aggregate.py measures against the aggregation's budget
(docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Final, Literal, cast

import numpy as np
import numpy.typing as npt
import rfc8785

from competition.results import snapshot_v1

HashScheme = Literal[1, 2]
CURRENT_HASH_SCHEME: Final[HashScheme] = 2

CANONICAL_DECIMALS: Final = 9
CANONICAL_DIGITS: Final = 12
_FLOAT_FORMAT: Final = f".{CANONICAL_DIGITS}g"
# Whole numbers below this magnitude are their own rounding to 12 significant digits.
_WHOLE_LIMIT: Final = 10.0**CANONICAL_DIGITS


def canonical_json(obj: object) -> bytes:
    """The scheme-2 bytes of `obj`: RFC 8785 (JCS) after the rounding pre-step."""
    return rfc8785.dumps(prepared(obj))


def snapshot_hash(
    *, inputs: object, outputs: object, scheme: HashScheme = CURRENT_HASH_SCHEME
) -> str:
    """Hex SHA-256 over the canonical JSON of ``{"inputs": inputs, "outputs": outputs}``."""
    encode = _ENCODERS.get(scheme)
    if encode is None:
        raise ValueError(f"unknown snapshot hash scheme {scheme!r}")
    return hashlib.sha256(encode({"inputs": inputs, "outputs": outputs})).hexdigest()


_ENCODERS: Final[dict[int, Callable[[object], bytes]]] = {
    1: snapshot_v1.canonical_json,
    2: canonical_json,
}


def rounded(value: float) -> float:
    """The double nearest to `value` rounded to 9 decimals, then to 12 significant digits."""
    return float(format(round(value, CANONICAL_DECIMALS), _FLOAT_FORMAT))


def prepared(obj: object) -> Any:
    """The pre-step of scheme 2: floats rounded, NumPy values as Python lists and numbers.

    Everything else is passed on unchanged; the JCS encoder refuses what JSON cannot hold.
    """
    # Exact types first, the common case: this runs once per value of a 20,000-entry ranking.
    kind = type(obj)
    if kind is float:
        return rounded(cast("float", obj))
    if kind is str or kind is int or obj is None or kind is bool:
        return obj
    if kind is dict:
        return {key: prepared(value) for key, value in cast("dict[Any, Any]", obj).items()}
    if kind is list or kind is tuple:
        return [prepared(item) for item in cast("list[Any]", obj)]
    if isinstance(obj, float):  # NumPy's float64 is one too
        return rounded(obj)
    if isinstance(obj, dict):
        return {key: prepared(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [prepared(item) for item in obj]
    if isinstance(obj, np.ndarray):
        return _prepared_array(obj)
    if isinstance(obj, np.floating):
        return rounded(float(obj))
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def _prepared_array(array: npt.NDArray[Any]) -> list[Any]:
    if array.ndim != 1 or array.dtype.kind not in "iuf":
        return [prepared(item) for item in array.tolist()]
    if array.dtype.kind in "iu":
        return array.tolist()  # type: ignore[no-any-return]
    if (
        np.isfinite(array).all()
        and (np.abs(array) < _WHOLE_LIMIT).all()
        and (np.trunc(array) == array).all()
    ):
        # Whole-number scores are the common case. JCS writes 70.0 as 70, so as integers they give
        # the same bytes, and the encoder handles integers several times faster than floats.
        return array.astype(np.int64).tolist()  # type: ignore[no-any-return]
    return [rounded(value) for value in array.tolist()]
