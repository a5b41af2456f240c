"""A request's signature, whichever standard it follows: draft-cavage or RFC 9421.

A request with `Signature-Input` is RFC 9421 (`federation/rfc9421.py`); any other `Signature`
or `Authorization: Signature` is draft-cavage (`federation/signatures.py`). Both carry the
keyId the key resolver looks up and pass the same checks: key owner, time window, body digest.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from federation.rfc9421 import MessageSignature, parse_message_signature, verify_message_signature
from federation.signature_header import (
    ParsedSignature,
    SignatureError,
    header_values,
    signature_from_headers,
)
from federation.signatures import verify_request

__all__ = ["AnySignature", "is_rfc9421", "request_signature", "verify_any"]

AnySignature = ParsedSignature | MessageSignature


def is_rfc9421(signature: AnySignature) -> bool:
    """True for an RFC 9421 signature."""
    return isinstance(signature, MessageSignature)


def request_signature(headers: Mapping[str, str]) -> AnySignature:
    """Parse the request's signature; SignatureError if it has none or it is malformed."""
    if header_values(headers, "signature-input"):
        return parse_message_signature(headers)
    return signature_from_headers(headers)


def verify_any(
    method: str,
    target: str,
    headers: Mapping[str, str],
    signature: AnySignature,
    public_key: Any,
    *,
    scheme: str,
    now: datetime | None = None,
    body: bytes | None = None,
    required: Any = None,
) -> None:
    """Verify either kind. `target` is the path and query as received, `scheme` the public
    scheme of this server: with the Host header they make RFC 9421's target URI."""
    if isinstance(signature, MessageSignature):
        host = ", ".join(header_values(headers, "host"))
        if not host or "," in host:
            raise SignatureError("the request needs exactly one Host header")
        verify_message_signature(
            method, f"{scheme}://{host}{target}", headers, signature, public_key, now=now, body=body
        )
        return
    verify_request(
        method, target, headers, signature, public_key, now=now, body=body, required=required
    )
