"""HTTP Signatures as the fediverse uses them (draft-cavage-http-signatures-12) plus Digest.

Signs and verifies `rsa-sha256` and `hs2019` (with RSA keys: PKCS#1 v1.5 over SHA-256, which is
what Mastodon, GoToSocial and Misskey do for hs2019), the `(request-target)`, `(created)` and
`(expires)` pseudo-headers, and the RFC 3230 `Digest` header. Digests are computed in
`federation/content_digest.py`, the `Signature` header is read in
`federation/signature_header.py`, HTTP dates are `federation/http_dates.py`.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from yarl import URL

from federation.content_digest import digest_sha256, verify_digest
from federation.http_dates import format_http_date, parse_http_date, utc
from federation.keys import KeyFormatError, load_private_key, load_public_key
from federation.signature_header import (
    ParsedSignature,
    SignatureError,
    header_values,
    joined_header,
)

__all__ = [
    "SUPPORTED_ALGORITHMS",
    "sign_request",
    "signing_string",
    "verify_request",
]

SUPPORTED_ALGORITHMS = frozenset({"rsa-sha256", "hs2019"})

_PADDING = padding.PKCS1v15()
_SHA256 = hashes.SHA256()

_MANAGED_HEADERS = frozenset({"host", "date", "digest", "signature"})
_FRESHNESS = ("date", "(created)")


def signing_string(
    covered: Sequence[str],
    method: str,
    target: str,
    headers: Mapping[str, str],
    *,
    created: int | None = None,
    expires: int | None = None,
) -> str:
    """Build the draft-cavage-12 §2.3 signing string for the covered headers."""
    lines = []
    for raw_name in covered:
        name = raw_name.lower()
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        elif name == "(created)":
            if created is None:
                raise SignatureError("(created) is signed but the created parameter is missing")
            lines.append(f"(created): {created}")
        elif name == "(expires)":
            if expires is None:
                raise SignatureError("(expires) is signed but the expires parameter is missing")
            lines.append(f"(expires): {expires}")
        else:
            values = header_values(headers, name)
            if not values:
                raise SignatureError(f"signed header missing from request: {name}")
            # §2.3: repeated fields are joined with ", " in message order, each value trimmed.
            lines.append(f"{name}: {', '.join(v.strip() for v in values)}")
    return "\n".join(lines)


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    key_id: str,
    private_key: rsa.RSAPrivateKey | str,
    algorithm: str = "rsa-sha256",
    now: datetime | None = None,
    digest: str | None = None,
    expires_in: int | None = None,
) -> dict[str, str]:
    """Return a copy of `headers` with Host, Date, Digest (when there is a body) and Signature."""
    algorithm = algorithm.lower()
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise ValueError(f"cannot sign with algorithm {algorithm!r}")
    if expires_in is not None and algorithm != "hs2019":
        # draft-cavage-12 §2.3: (expires) with an rsa-* algorithm MUST be an error.
        raise ValueError("expires_in needs algorithm='hs2019'")
    if '"' in key_id:
        raise ValueError("key_id must not contain a double quote")
    key = load_private_key(private_key) if isinstance(private_key, str) else private_key

    host, target = _host_and_target(url)
    now = utc(now)
    date = format_http_date(now)

    out = {k: v for k, v in headers.items() if k.lower() not in _MANAGED_HEADERS}
    out["Host"] = host
    out["Date"] = date

    covered = ["(request-target)"]
    lines = [f"(request-target): {method.lower()} {target}"]
    params = f'keyId="{key_id}",algorithm="{algorithm}",'
    if algorithm == "hs2019":
        created = int(now.timestamp())
        covered.append("(created)")
        lines.append(f"(created): {created}")
        params += f"created={created},"
        if expires_in is not None:
            expires = created + expires_in
            covered.append("(expires)")
            lines.append(f"(expires): {expires}")
            params += f"expires={expires},"
    covered += ("host", "date")
    lines += (f"host: {host}", f"date: {date}")
    if body is not None:
        if digest is None:
            digest = digest_sha256(body)
        out["Digest"] = digest
        covered.append("digest")
        lines.append(f"digest: {digest}")

    raw = key.sign("\n".join(lines).encode("utf-8"), _PADDING, _SHA256)
    encoded = base64.b64encode(raw).decode("ascii")
    out["Signature"] = f'{params}headers="{" ".join(covered)}",signature="{encoded}"'
    return out


def verify_request(
    method: str,
    target: str,
    headers: Mapping[str, str],
    parsed: ParsedSignature,
    public_key: rsa.RSAPublicKey | str,
    *,
    now: datetime | None = None,
    body: bytes | None = None,
    required: Sequence[str] | None = None,
    max_age: timedelta = timedelta(hours=12),
    max_future: timedelta = timedelta(hours=1),
    allow_target_without_query: bool = True,
) -> None:
    """Verify a parsed signature against the request; raise SignatureError(reason) if it fails.

    `target` is the path plus `?query` as received. `required` lists headers the signature must
    cover (default: POST and others `(request-target) host date digest`; GET and HEAD
    `(request-target) host`); date or (created) must always be covered.
    """
    algorithm = parsed.algorithm
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise SignatureError(
            f"unsupported signature algorithm {algorithm} (only rsa-sha256 and hs2019)"
        )
    covered = set(parsed.headers)
    if algorithm != "hs2019":
        # draft-cavage-12 §2.3: (created)/(expires) with rsa-*, hmac-*, ecdsa-* MUST be an error.
        for pseudo in ("(created)", "(expires)"):
            if pseudo in covered:
                raise SignatureError(f"{pseudo} is only allowed with hs2019")

    if required is None:
        required = _default_required(method)
    required_names = [name.lower() for name in required]
    for name in required_names:
        if name not in covered:
            raise SignatureError(f"signature does not cover {name}")
    if not covered.intersection(_FRESHNESS):
        raise SignatureError("signature covers neither date nor (created)")

    _check_times(parsed, headers, covered, utc(now), max_age, max_future)

    if body is not None and ("digest" in covered or "digest" in required_names):
        verify_digest(joined_header(headers, "digest"), body)

    key = _public_key(public_key)
    text = signing_string(
        parsed.headers, method, target, headers, created=parsed.created, expires=parsed.expires
    )
    if _rsa_verifies(key, parsed.signature, text):
        return
    if allow_target_without_query and "?" in target and "(request-target)" in covered:
        # Mastodon accepts signatures whose (request-target) lacks the query string, because
        # Mastodon before 4.2 signed that way (SignedRequest#verified?).
        text = signing_string(
            parsed.headers,
            method,
            target.partition("?")[0],
            headers,
            created=parsed.created,
            expires=parsed.expires,
        )
        if _rsa_verifies(key, parsed.signature, text):
            return
    raise SignatureError("signature does not verify")


def _default_required(method: str) -> tuple[str, ...]:
    if method.upper() in ("GET", "HEAD"):
        return ("(request-target)", "host")
    return ("(request-target)", "host", "date", "digest")


def _check_times(
    parsed: ParsedSignature,
    headers: Mapping[str, str],
    covered: set[str],
    now: datetime,
    max_age: timedelta,
    max_future: timedelta,
) -> None:
    now_ts = now.timestamp()
    if parsed.created is not None:
        if parsed.created > now_ts + max_future.total_seconds():
            raise SignatureError("signature created in the future")
        if parsed.created < now_ts - max_age.total_seconds():
            raise SignatureError("signature is too old")
    if parsed.expires is not None and parsed.expires < now_ts:
        raise SignatureError("signature has expired")
    if "date" in covered:
        value = joined_header(headers, "date")
        if value is None:
            raise SignatureError("signed header missing from request: date")
        sent = parse_http_date(value)
        if sent < now - max_age:
            raise SignatureError("Date is too old")
        if sent > now + max_future:
            raise SignatureError("Date is in the future")


def _public_key(public_key: rsa.RSAPublicKey | str) -> rsa.RSAPublicKey:
    if isinstance(public_key, str):
        try:
            key = load_public_key(public_key)
        except KeyFormatError:
            raise SignatureError("signer's public key is unusable") from None
    else:
        key = public_key
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("only RSA keys are supported")
    return key


def _rsa_verifies(key: rsa.RSAPublicKey, signature: bytes, text: str) -> bool:
    try:
        # surrogateescape gives back the raw bytes of non-UTF-8 header values as aiohttp read them.
        key.verify(signature, text.encode("utf-8", "surrogateescape"), _PADDING, _SHA256)
    except InvalidSignature:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _host_and_target(url: str) -> tuple[str, str]:
    # yarl is what aiohttp uses to turn the URL into the request line and Host header, so the
    # signed (request-target) and host are exactly what goes on the wire.
    parsed = URL(url)
    if not parsed.absolute or not parsed.raw_host:
        raise ValueError(f"cannot sign a request to a URL without a host: {url!r}")
    return parsed.host_port_subcomponent or parsed.raw_host, parsed.raw_path_qs
