"""HTTP Signatures as the fediverse uses them (draft-cavage-http-signatures-12) plus Digest.

Signs and verifies `rsa-sha256` and `hs2019` (with RSA keys: PKCS#1 v1.5 over SHA-256, which is
what Mastodon, GoToSocial and Misskey do for hs2019), the `(request-target)`, `(created)` and
`(expires)` pseudo-headers, and the RFC 3230 `Digest` header (SHA-256, SHA-512).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from federation.keys import KeyFormatError, load_private_key, load_public_key

__all__ = [
    "SUPPORTED_ALGORITHMS",
    "ParsedSignature",
    "SignatureError",
    "digest_sha256",
    "format_http_date",
    "header_values",
    "parse_http_date",
    "parse_signature_header",
    "sign_request",
    "signature_from_headers",
    "signing_string",
    "utc",
    "verify_digest",
    "verify_request",
]

SUPPORTED_ALGORITHMS = frozenset({"rsa-sha256", "hs2019"})

_PADDING = padding.PKCS1v15()
_SHA256 = hashes.SHA256()

_DIGESTS: dict[str, Callable[[bytes], Any]] = {
    "sha-256": hashlib.sha256,
    "sha-512": hashlib.sha512,
    # Not RFC 3230 names, but some senders drop the hyphen.
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# One `name=value` parameter of the Signature header (draft-cavage-12 §4.1): quoted strings,
# or bare tokens for created/expires, separated by commas with optional whitespace.
_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"]*)"|([^\s",]+))\s*(?:,|\Z)')
_AUTH_SCHEME = re.compile(r"\s*signature\s+(?=[^\s=])", re.IGNORECASE)

_MANAGED_HEADERS = frozenset({"host", "date", "digest", "signature"})
_FRESHNESS = ("date", "(created)")


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
    value = _header(headers, "signature")
    if value is not None:
        if _header(headers, "signature-input") is not None:
            raise SignatureError("this is an RFC 9421 signature, not a draft-cavage one")
        return parse_signature_header(value)
    auth = _header(headers, "authorization")
    if auth is not None and _AUTH_SCHEME.match(auth):
        return parse_signature_header(auth)
    raise SignatureError("request is not signed")


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
        hasher = _DIGESTS.get(name.strip().lower())
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
        verify_digest(_header(headers, "digest"), body)

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


def format_http_date(moment: datetime) -> str:
    """Format a time as an RFC 7231 IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`)."""
    t = utc(moment)
    return (
        f"{_WEEKDAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month - 1]} {t.year:04d} "
        f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} GMT"
    )


# Requests sent in the same second by one server carry the same Date: each is parsed once.
@functools.lru_cache(maxsize=256)
def parse_http_date(value: str) -> datetime:
    """Parse an HTTP date (IMF-fixdate, RFC 850 or asctime) to an aware UTC datetime."""
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        raise SignatureError("Date header is not a valid HTTP date") from None
    return utc(moment)


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
        value = _header(headers, "date")
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


def utc(moment: datetime | None) -> datetime:
    """An aware UTC datetime: now when None, naive ones taken as UTC."""
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@functools.lru_cache(maxsize=4096)
def _host_and_target(url: str) -> tuple[str, str]:
    # yarl is what aiohttp uses to turn the URL into the request line and Host header, so the
    # signed (request-target) and host are exactly what goes on the wire.
    parsed = URL(url)
    if not parsed.absolute or not parsed.raw_host:
        raise ValueError(f"cannot sign a request to a URL without a host: {url!r}")
    return parsed.host_port_subcomponent or parsed.raw_host, parsed.raw_path_qs


def header_values(headers: Mapping[str, str], name: str) -> list[str]:
    """Every value of a header (name in lowercase), in message order."""
    if isinstance(headers, CIMultiDict | CIMultiDictProxy):
        return headers.getall(name, [])
    return [value for key, value in headers.items() if key.lower() == name]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    values = header_values(headers, name)
    if not values:
        return None
    return ", ".join(v.strip() for v in values)
