"""RFC 8785 (JCS) canonical JSON.

The `rfc8785` library is the definition. It costs ~33 µs an object, which alone would cap the ledger below
its 50,000 entries/s target, so values made only of ASCII-keyed objects, lists, strings, integers, booleans
and null — the ledger's whole domain — take the standard library's encoder, whose output for that domain is
byte-identical to JCS (sorted keys, no whitespace, minimal escapes, UTF-8). tests/kit/test_canonical.py
checks that equivalence with Hypothesis against the library; anything else (floats, non-ASCII keys) goes
to the library.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

_encoder = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
_MAX_SAFE_INT = 2**53 - 1


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


# The C encoder that JSONEncoder.encode builds on every call, built once (half the cost of a small object).
_c_encoder = (
    None
    if json.encoder.c_make_encoder is None  # type: ignore[attr-defined]
    else json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None,
        _refuse,
        json.encoder.encode_basestring,
        None,
        ":",
        ",",
        True,
        False,
        False,
    )
)


def _fast(value: Any) -> str:
    if _c_encoder is None or type(value) not in (dict, list):
        return _encoder.encode(value)
    return "".join(_c_encoder(value, 0))


def canonical_json(value: Any, *, check: Any = ...) -> bytes:
    """`check`: the part of `value` that may hold floats or non-ASCII keys, when the caller knows the rest
    is plain (the ledger checks only an entry's `detail`); by default, all of it."""
    if _in_fast_domain(value if check is ... else check):
        return _fast(value).encode("utf-8")
    return rfc8785.dumps(value)


def canonical_text(value: Any) -> str:
    """`canonical_json` as text (for splicing into a larger canonical document)."""
    if _in_fast_domain(value):
        return _fast(value)
    return rfc8785.dumps(value).decode("utf-8")


def _in_fast_domain(value: Any) -> bool:
    # Loops rather than all(generator), and strings checked in place: this runs on every ledger entry's
    # detail, and is 2.4x faster so on the benchmark's (1.0 to 0.43 µs).
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if (
                type(key) is not str
                or not key.isascii()
                or (type(item) is not str and not _in_fast_domain(item))
            ):
                return False
        return True
    if kind is list:
        for item in value:  # noqa: SIM110 - a loop, not all(generator): measured faster
            if type(item) is not str and not _in_fast_domain(item):
                return False
        return True
    if kind is str:
        return True
    if kind is int:
        return -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT
    return value is None or kind is bool
