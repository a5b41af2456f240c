"""Strict parsing of JSON that comes from other servers.

Python's `json` accepts things that are not JSON (NaN, Infinity, -Infinity), numbers that overflow
to infinity (`1e400`), integers too long to print again (past 4,300 digits `str()` raises), and
strings no database or encoder can keep (lone UTF-16 surrogates such as `"\\ud800"`, NUL). Each of
these once reached a handler, a stored row or a re-sent activity; here they are refused up front,
with a reason the sender can read.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["MAX_INTEGER_DIGITS", "JsonRejected", "loads_strict"]

# Far beyond any count or timestamp an activity carries, far below Python's int/str limit.
MAX_INTEGER_DIGITS = 100


class JsonRejected(ValueError):
    """The text is not JSON copnet accepts; `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _constant(name: str) -> Any:
    raise JsonRejected(f"{name} is not a JSON number")


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise JsonRejected(f"integer longer than {MAX_INTEGER_DIGITS} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRejected(f"number {text[:40]} is out of range")
    return value


def loads_strict(data: bytes | str, *, max_depth: int = 64) -> Any:
    """Parse JSON, refusing non-finite or oversized numbers, unstorable strings, deep nesting."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonRejected("body is not UTF-8") from None
    try:
        document = json.loads(
            data, parse_constant=_constant, parse_int=_integer, parse_float=_float
        )
    except JsonRejected:
        raise
    except RecursionError:
        raise JsonRejected(f"JSON nested too deeply (over {max_depth} levels)") from None
    except ValueError:
        raise JsonRejected("body is not valid JSON") from None
    if _may_hold_unstorable_text(data):
        _check_tree(document, max_depth)
    elif data.count("{") + data.count("[") > max_depth:  # else it cannot nest deeper
        _check_depth(document, max_depth)
    return document


# JSON admits no raw control character and valid UTF-8 no surrogate, so in a parsed body a NUL
# or a lone surrogate comes from a \u escape (or, raw, from a str handed in as such). An escaped
# backslash before "u0000" matches too; then every string is checked: time lost, not safety.
_RISKY_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def _may_hold_unstorable_text(data: str) -> bool:
    if _RISKY_ESCAPE.search(data) is not None:
        return True
    if data.isascii():
        return False
    try:
        data.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check_depth(document: Any, max_depth: int) -> None:
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > max_depth:
            raise JsonRejected(f"JSON nested too deeply (over {max_depth} levels)")
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _check_tree(document: Any, max_depth: int) -> None:
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value)
        elif depth > max_depth and isinstance(value, dict | list):
            raise JsonRejected(f"JSON nested too deeply (over {max_depth} levels)")
        elif isinstance(value, dict):
            for key, child in value.items():
                _check_text(key)
                stack.append((child, depth + 1))
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise JsonRejected("string holds a NUL character (\\u0000)")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise JsonRejected("string holds a lone UTF-16 surrogate") from None
