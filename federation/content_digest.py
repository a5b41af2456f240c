"""Content-Digest (RFC 9530): the body digest an RFC 9421 signature covers."""

from __future__ import annotations

import base64
import hashlib
import hmac

from federation.signatures import SignatureError
from federation.structured_fields import Item, StructuredFieldError, parse_dictionary

__all__ = ["content_digest", "content_digest_of", "verify_content_digest"]

_DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}


def content_digest_of(digest: str) -> str:
    """The Content-Digest value for a body whose `Digest` (`SHA-256=<base64>`) is known."""
    name, sep, value = digest.partition("=")
    if not sep or name.strip().lower() not in ("sha-256", "sha-512"):
        raise ValueError(f"not a SHA-256 or SHA-512 Digest value: {digest[:80]!r}")
    return f"{name.strip().lower()}=:{value.strip()}:"


def content_digest(body: bytes) -> str:
    """The `Content-Digest` value for a body: `sha-256=:<base64>:`."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def verify_content_digest(value: str | None, body: bytes) -> None:
    """Check Content-Digest against the body: every sha-256/sha-512 given must match."""
    if value is None or not value.strip():
        raise SignatureError("Content-Digest header is missing")
    try:
        digests = parse_dictionary(value)
    except StructuredFieldError:
        raise SignatureError("Content-Digest is not a valid RFC 8941 dictionary") from None
    checked = False
    for name, given in digests.items():
        hasher = _DIGESTS.get(name)
        if hasher is None:
            continue
        if not isinstance(given, Item) or not isinstance(given.value, bytes):
            raise SignatureError(f"Content-Digest {name} is not a byte sequence")
        if not hmac.compare_digest(given.value, hasher(body).digest()):
            raise SignatureError("Content-Digest does not match body")
        checked = True
    if not checked:
        raise SignatureError("Content-Digest has no sha-256 or sha-512 value")
