"""The shape every incoming activity (and every object fetched for one) must have.

Handlers read ids, types, dates and counts straight from the document. Anything that would make
them crash later (a `type` that is a list or an object, a relative URL, a date that overflows
when moved to UTC, a number no database column holds, a string no database can keep) is refused
here, once, with a reason; a document that passes has one string `type` on every object.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from federation.objects import PUBLIC_FORMS, InvalidActivity
from federation.origin import authority

# Larger magnitudes are no count, capacity or coordinate; 2**53 is also the largest integer
# every JSON reader keeps exactly.
MAX_NUMBER = 2**53
# The longest id copnet stores (the ap_id columns).
MAX_URL_LENGTH = 2048
# Properties that hold ids copnet fetches or looks up.
ID_KEYS = ("id", "actor", "object", "inReplyTo", "attributedTo")
ADDRESS_KEYS = ("to", "cc", "bto", "bcc", "audience")
DATE_KEYS = ("published", "updated", "deleted", "startTime", "endTime")
# Nested objects whose `type` and ids matter to the handlers.
NESTED_KEYS = ("object", "tag", "attachment", "location", "inReplyTo", "attributedTo", "actor")


def shaped(document: Any) -> dict:
    """A copy of an activity or object in the shape handlers rely on; InvalidActivity if not."""
    if not isinstance(document, dict):
        raise InvalidActivity("expected a JSON object")
    _check_values(document, "")
    return _shape_object(document, "")


def _check_values(value: Any, where: str) -> None:
    """Every string storable, every number finite and within MAX_NUMBER."""
    stack = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            _check_string(item, path)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int | float):
            if isinstance(item, float) and not math.isfinite(item):
                raise InvalidActivity(f"{path or 'value'} is not a finite number")
            if abs(item) > MAX_NUMBER:
                raise InvalidActivity(f"{path or 'value'} is out of range")
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_string(key, path)
                stack.append((child, f"{path}.{key}" if path else key))
        elif isinstance(item, list):
            stack.extend((child, path) for child in item)


def _check_string(text: str, path: str) -> None:
    if "\x00" in text:
        raise InvalidActivity(f"{path or 'a key'} contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidActivity(f"{path or 'a key'} contains a lone surrogate") from None


def _shape_object(document: dict, path: str) -> dict:
    result = dict(document)
    if "type" in document:
        result["type"] = _one_type(document["type"], path)
    for key in ID_KEYS:
        _check_ids(document.get(key), _join(path, key), allow_objects=key in NESTED_KEYS)
    for key in ADDRESS_KEYS:
        for entry in _entries(document.get(key)):
            if isinstance(entry, str) and entry not in PUBLIC_FORMS:
                _absolute(entry, _join(path, key))
    for key in DATE_KEYS:
        _check_date(document.get(key), _join(path, key))
    for key in NESTED_KEYS:
        value = document.get(key)
        if isinstance(value, dict):
            result[key] = _shape_object(value, _join(path, key))
        elif isinstance(value, list):
            result[key] = [
                _shape_object(item, _join(path, key)) if isinstance(item, dict) else item
                for item in value
            ]
    return result


def _one_type(value: Any, path: str) -> str:
    # AS2 allows several types; copnet acts on the first one it knows, so the first wins.
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        value = value[0]
    if not isinstance(value, str) or not value:
        raise InvalidActivity(f"{_join(path, 'type')} must be a string")
    return value


def _check_ids(value: Any, path: str, *, allow_objects: bool) -> None:
    for entry in _entries(value):
        if isinstance(entry, str):
            _absolute(entry, path)
        elif isinstance(entry, dict):
            if not allow_objects:
                raise InvalidActivity(f"{path} must be a URL")
            if "id" in entry and not isinstance(entry["id"], str):
                raise InvalidActivity(f"{path}.id must be a URL")
        elif entry is not None:
            raise InvalidActivity(f"{path} must be a URL or an object")


def _absolute(url: str, path: str) -> None:
    if len(url) > MAX_URL_LENGTH:
        raise InvalidActivity(f"{path} is longer than {MAX_URL_LENGTH} characters")
    if authority(url) is None:
        raise InvalidActivity(f"{path} {url[:200]!r} is not an absolute http(s) URL")


def _check_date(value: Any, path: str) -> None:
    if not isinstance(value, str):
        return
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return  # unreadable dates are treated as absent
    try:
        (parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed).astimezone(UTC)
    except OverflowError:
        raise InvalidActivity(f"{path} {value[:40]!r} is out of range") from None


def _entries(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
