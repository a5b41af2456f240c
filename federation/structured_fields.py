"""The part of RFC 8941 Structured Field Values that HTTP Message Signatures use.

Dictionaries whose members are items or inner lists, with parameters; items are strings,
tokens, integers, byte sequences and booleans (decimals are refused: no signature field uses
them). Parsing is strict, as §4.2 asks: anything else raises StructuredFieldError.
"""

from __future__ import annotations

import base64
import binascii
import re
import string
from dataclasses import dataclass, field

__all__ = [
    "InnerList",
    "Item",
    "Parameters",
    "StructuredFieldError",
    "parse_dictionary",
    "serialize_inner_list",
    "serialize_item",
    "serialize_parameters",
]

BareItem = str | int | bool | bytes
Parameters = dict[str, BareItem]

_KEY = re.compile(r"[a-z*][a-z0-9_.*-]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_INTEGER = re.compile(r"-?[0-9]{1,15}")
_BASE64 = frozenset(string.ascii_letters + string.digits + "+/=")


class StructuredFieldError(ValueError):
    """A field value that is not a valid structured field."""


@dataclass(frozen=True, slots=True)
class Token:
    """An sf-token, kept apart from a string so it serializes back without quotes."""

    value: str


@dataclass(frozen=True, slots=True)
class Item:
    """A bare item with its parameters."""

    value: BareItem | Token
    params: Parameters = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InnerList:
    """A parenthesized list of items with parameters of its own."""

    items: tuple[Item, ...]
    params: Parameters = field(default_factory=dict)


class _Reader:
    def __init__(self, text: str) -> None:
        if not text.isascii():
            raise StructuredFieldError("field value is not ASCII")
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.pos += 1

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise StructuredFieldError(f"expected {char!r} at position {self.pos}")
        self.pos += 1

    def match(self, pattern: re.Pattern[str]) -> str:
        found = pattern.match(self.text, self.pos)
        if found is None:
            raise StructuredFieldError(f"unexpected character at position {self.pos}")
        self.pos = found.end()
        return found.group(0)


def parse_dictionary(text: str) -> dict[str, Item | InnerList]:
    """Parse an sf-dictionary (§4.2.2); a repeated key keeps its last value."""
    reader = _Reader(text)
    reader.skip(" \t")
    members: dict[str, Item | InnerList] = {}
    while reader.peek():
        key = reader.match(_KEY)
        if reader.peek() == "=":
            reader.pos += 1
            members[key] = _member(reader)
        else:
            members[key] = Item(True, _parameters(reader))
        reader.skip(" \t")
        if not reader.peek():
            break
        reader.expect(",")
        reader.skip(" \t")
        if not reader.peek():
            raise StructuredFieldError("trailing comma")
    return members


def _member(reader: _Reader) -> Item | InnerList:
    if reader.peek() == "(":
        return _inner_list(reader)
    value = _bare_item(reader)
    return Item(value, _parameters(reader))


def _inner_list(reader: _Reader) -> InnerList:
    reader.expect("(")
    items: list[Item] = []
    while True:
        reader.skip(" ")
        if reader.peek() == ")":
            reader.pos += 1
            return InnerList(tuple(items), _parameters(reader))
        value = _bare_item(reader)
        items.append(Item(value, _parameters(reader)))
        if reader.peek() not in (" ", ")"):
            raise StructuredFieldError(f"malformed inner list at position {reader.pos}")


def _parameters(reader: _Reader) -> Parameters:
    params: Parameters = {}
    while reader.peek() == ";":
        reader.pos += 1
        reader.skip(" ")
        key = reader.match(_KEY)
        value: BareItem = True
        if reader.peek() == "=":
            reader.pos += 1
            parsed = _bare_item(reader)
            value = parsed.value if isinstance(parsed, Token) else parsed
        params[key] = value
    return params


def _bare_item(reader: _Reader) -> BareItem | Token:
    char = reader.peek()
    if char == '"':
        return _string(reader)
    if char == ":":
        return _bytes(reader)
    if char == "?":
        reader.pos += 1
        flag = reader.peek()
        if flag not in ("0", "1"):
            raise StructuredFieldError("malformed boolean")
        reader.pos += 1
        return flag == "1"
    if char == "-" or char.isdigit():
        number = reader.match(_INTEGER)
        if reader.peek() == ".":
            raise StructuredFieldError("decimals are not accepted here")
        return int(number)
    if char.isalpha() or char == "*":
        return Token(reader.match(_TOKEN))
    raise StructuredFieldError(f"unexpected character at position {reader.pos}")


def _string(reader: _Reader) -> str:
    reader.expect('"')
    out = []
    while True:
        char = reader.peek()
        if not char:
            raise StructuredFieldError("unterminated string")
        reader.pos += 1
        if char == '"':
            return "".join(out)
        if char == "\\":
            escaped = reader.peek()
            if escaped not in ('"', "\\"):
                raise StructuredFieldError("invalid escape in string")
            reader.pos += 1
            out.append(escaped)
        elif not " " <= char <= "~":
            raise StructuredFieldError("control character in string")
        else:
            out.append(char)


def _bytes(reader: _Reader) -> bytes:
    reader.expect(":")
    end = reader.text.find(":", reader.pos)
    if end < 0:
        raise StructuredFieldError("unterminated byte sequence")
    encoded = reader.text[reader.pos : end]
    if not set(encoded) <= _BASE64:
        raise StructuredFieldError("byte sequence is not base64")
    reader.pos = end + 1
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise StructuredFieldError("byte sequence is not base64") from None


def serialize_item(value: BareItem | Token, params: Parameters | None = None) -> str:
    """Serialize a bare item and its parameters (§4.1.3)."""
    return _bare(value) + serialize_parameters(params or {})


def serialize_parameters(params: Parameters) -> str:
    """Serialize parameters in order (§4.1.1.2): `;key` for true, `;key=value` otherwise."""
    return "".join(
        f";{key}" if value is True else f";{key}={_bare(value)}" for key, value in params.items()
    )


def serialize_inner_list(items: tuple[Item, ...], params: Parameters) -> str:
    """Serialize an inner list with its parameters (§4.1.1.1)."""
    inner = " ".join(serialize_item(item.value, item.params) for item in items)
    return f"({inner}){serialize_parameters(params)}"


def _bare(value: BareItem | Token) -> str:
    if isinstance(value, Token):
        return value.value
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    if not value.isascii() or any(not " " <= c <= "~" for c in value):
        raise StructuredFieldError("strings must be printable ASCII")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
