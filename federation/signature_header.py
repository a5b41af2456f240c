"""The draft-cavage `Signature` header read from a request, and the error every signature check
raises (`federation/signatures.py` signs and verifies; `federation/rfc9421.py` is the other
standard)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "ParsedSignature",
    "SignatureError",
    "header_values",
    "joined_header",
    "parse_signature_header",
    "signature_from_headers",
]

# One `name=value` parameter of the Signature header (draft-cavage-12 §4.1): quoted strings,
# or bare tokens for created/expires, separated by commas with optional whitespace.
_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"]*)"|([^\s",]+))\s*(?:,|\Z)')
_AUTH_SCHEME = re.compile(r"\s*signature\s+(?=[^\s=])", re.IGNORECASE)


class SignatureError(Exception):
    """A request signature that is missing, malformed or does not verify."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ParsedSignature:
    """The parameters of one draft-cavage signature."""

    key_id: str
    algorithm: str
    headers: tuple[str, ...]
    signature: bytes
    created: int | None
    expires: int | None


def parse_signature_header(value: str) -> ParsedSignature:
    """Parse a `Signature` header value, or an `Authorization: Signature ...` value."""
    match = _AUTH_SCHEME.match(value)
    text = value[match.end() :] if match else value
    text = text.strip()
    if not text:
        raise SignatureError("malformed signature header: empty")

    params: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        m = _PARAM.match(text, pos)
        if m is None or m.end() == pos:
            raise SignatureError("malformed signature header")
        name = m.group(1).lower()
        if name in params:
            raise SignatureError(f"malformed signature header: duplicate {m.group(1)}")
        params[name] = m.group(2) if m.group(2) is not None else m.group(3)
        pos = m.end()

    key_id = params.get("keyid", "")
    if not key_id:
        raise SignatureError("malformed signature header: missing keyId")
    # Folded signatures carry whitespace; str.split drops the same characters as \s+, faster.
    raw_signature = "".join(params.get("signature", "").split())
    if not raw_signature:
        raise SignatureError("malformed signature header: missing signature")
    try:
        signature = base64.b64decode(raw_signature, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("malformed signature header: signature is not base64") from None

    # Mastodon treats a missing algorithm as hs2019, as draft-cavage-12 §2.1.3 allows.
    algorithm = params.get("algorithm", "hs2019").strip().lower()

    if "headers" in params:
        covered = tuple(params["headers"].lower().split())
        if not covered:
            raise SignatureError("malformed signature header: empty headers")
    else:
        # draft-cavage-12 §2.1.6 defaults to (created); Appendix C.1 (and Mastodon) keep the
        # older default, date, for rsa-sha256.
        covered = ("(created)",) if algorithm == "hs2019" else ("date",)

    return ParsedSignature(
        key_id=key_id,
        algorithm=algorithm,
        headers=covered,
        signature=signature,
        created=_int_param(params, "created"),
        expires=_int_param(params, "expires"),
    )


def _int_param(params: dict[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit():
        raise SignatureError(f"malformed signature header: {name} is not a unix time")
    return int(raw)


def signature_from_headers(headers: Mapping[str, str]) -> ParsedSignature:
    """Find and parse the request's `Signature` (or `Authorization: Signature`) header."""
    value = joined_header(headers, "signature")
    if value is not None:
        if joined_header(headers, "signature-input") is not None:
            raise SignatureError("this is an RFC 9421 signature, not a draft-cavage one")
        return parse_signature_header(value)
    auth = joined_header(headers, "authorization")
    if auth is not None and _AUTH_SCHEME.match(auth):
        return parse_signature_header(auth)
    raise SignatureError("request is not signed")


def header_values(headers: Mapping[str, str], name: str) -> list[str]:
    """Every value of a header (name in lowercase), in message order."""
    if isinstance(headers, CIMultiDict | CIMultiDictProxy):
        return headers.getall(name, [])
    return [value for key, value in headers.items() if key.lower() == name]


def joined_header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's values joined with ", " (each trimmed), or None when it is absent."""
    values = header_values(headers, name)
    if not values:
        return None
    return ", ".join(v.strip() for v in values)
