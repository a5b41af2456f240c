"""Signing requests with RFC 9421 HTTP Message Signatures (verifying: federation/rfc9421.py)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from yarl import URL

from federation.http_dates import format_http_date, utc
from federation.rfc9421 import (
    ALGORITHMS,
    GET_COMPONENTS,
    POST_COMPONENTS,
    PSS,
    SIGNING_ALGORITHM,
    signature_base,
)
from federation.structured_fields import Item, Parameters, serialize_inner_list

__all__ = ["sign_request_rfc9421"]


def sign_request_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    *,
    key_id: str,
    private_key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey,
    now: datetime | None = None,
    digest: str | None = None,
    components: Sequence[str] | None = None,
    algorithm: str = SIGNING_ALGORITHM,
    label: str = "sig1",
) -> dict[str, str]:
    """Return a copy of `headers` with Host, Date, Content-Digest (when given) and the signature.

    `digest` is the request's Content-Digest value; a POST without one cannot be signed.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"cannot sign with algorithm {algorithm!r}")
    parsed = URL(url)
    if not parsed.absolute or not parsed.raw_host:
        raise ValueError(f"cannot sign a request to a URL without a host: {url!r}")
    if components is None:
        components = GET_COMPONENTS if digest is None else POST_COMPONENTS
    out = {k: v for k, v in headers.items() if k.lower() not in _MANAGED}
    out["Host"] = parsed.host_port_subcomponent or parsed.raw_host
    moment = utc(now)
    out["Date"] = format_http_date(moment)
    if digest is not None:
        out["Content-Digest"] = digest
    elif "content-digest" in components:
        raise ValueError("content-digest is covered but no digest was given")
    items = tuple(Item(name) for name in components)
    params: Parameters = {"created": int(moment.timestamp()), "keyid": key_id, "alg": algorithm}
    target = str(parsed.with_fragment(None))
    base = signature_base(method, target, out, items, params).encode("utf-8")
    raw = _sign(private_key, algorithm, base)
    out["Signature-Input"] = f"{label}={serialize_inner_list(items, params)}"
    out["Signature"] = f"{label}=:{base64.b64encode(raw).decode('ascii')}:"
    return out


_MANAGED = frozenset({"host", "date", "content-digest", "signature", "signature-input"})


def _sign(key: object, algorithm: str, base: bytes) -> bytes:
    if algorithm == "ed25519":
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError("ed25519 needs an Ed25519 key")
        return key.sign(base)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{algorithm} needs an RSA key")
    if algorithm == "rsa-pss-sha512":
        return key.sign(base, PSS, hashes.SHA512())
    return key.sign(base, padding.PKCS1v15(), hashes.SHA256())
