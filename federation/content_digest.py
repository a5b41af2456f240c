"""Body digests: `Digest` (RFC 3230), which draft-cavage signatures cover, and `Content-Digest`
(RFC 9530), which RFC 9421 signatures cover."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from federation.signature_header import SignatureError
from federation.structured_fields import Item, StructuredFieldError, parse_dictionary

__all__ = [
    "content_digest",
    "content_digest_of",
    "digest_sha256",
    "verify_content_digest",
    "verify_digest",
]

_DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
# RFC 3230 names, and the same without the hyphen, which some senders write.
_LEGACY_DIGESTS = {**_DIGESTS, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


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


def digest_sha256(body: bytes) -> str:
    """Return the `Digest` header value for a body: `SHA-256=<base64>`."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def verify_digest(header_value: str | None, body: bytes) -> None:
    """Check a `Digest` header against the body; raise SignatureError unless it matches."""
    if header_value is None or not header_value.strip():
        raise SignatureError("Digest header is missing")
    checked = False
    # RFC 3230 §4.3.2: a comma separated list of algorithm=value, algorithm case-insensitive.
    for part in header_value.split(","):
        name, sep, value = part.partition("=")
        hasher = _LEGACY_DIGESTS.get(name.strip().lower())
        if hasher is None or not sep:
            continue
        try:
            given = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError("digest is not valid base64") from None
        if not hmac.compare_digest(given, hasher(body).digest()):
            raise SignatureError("digest does not match body")
        checked = True
    if not checked:
        raise SignatureError("Digest header has no SHA-256 or SHA-512 value")
