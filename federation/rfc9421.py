"""HTTP Message Signatures (RFC 9421) for requests, with Content-Digest (RFC 9530).

Verifies `rsa-v1_5-sha256`, `rsa-pss-sha512` and `ed25519` over the derived components
`@method`, `@target-uri`, `@authority`, `@scheme`, `@path`, `@query`, `@request-target` and
header fields; signs with `rsa-v1_5-sha256` (what Mastodon and Fedify use with the RSA keys of
the fediverse). Component parameters (`sf`, `key`, `bs`, `req`, `tr`) are refused: no
fediverse server sends them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from yarl import URL

from federation.signatures import SignatureError, format_http_date, header_values, utc
from federation.structured_fields import (
    InnerList,
    Item,
    Parameters,
    StructuredFieldError,
    parse_dictionary,
    serialize_inner_list,
)

__all__ = [
    "ALGORITHMS",
    "MessageSignature",
    "SignatureRequest",
    "content_digest",
    "content_digest_of",
    "parse_accept_signature",
    "parse_message_signature",
    "sign_request_rfc9421",
    "signature_base",
    "verify_content_digest",
    "verify_message_signature",
]

ALGORITHMS = ("rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519")
# What copnet signs with: its actors have RSA keys, and Mastodon and Fedify verify this one.
SIGNING_ALGORITHM = "rsa-v1_5-sha256"
# What copnet signs: Mastodon requires @method, @target-uri and, on a POST, content-digest
# (app/lib/signed_request.rb, HttpMessageSignature#verify_signature_strength!).
POST_COMPONENTS = ("@method", "@target-uri", "content-digest")
GET_COMPONENTS = ("@method", "@target-uri")
_DERIVED = frozenset(
    {"@method", "@target-uri", "@authority", "@scheme", "@path", "@query", "@request-target"}
)
_DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)


@dataclass(frozen=True, slots=True)
class MessageSignature:
    """One labelled signature of a request: its covered components, parameters and bytes."""

    label: str
    components: tuple[Item, ...]
    params: Parameters
    signature: bytes

    @property
    def key_id(self) -> str:
        value = self.params.get("keyid")
        return value if isinstance(value, str) else ""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(str(item.value) for item in self.components)

    def _int(self, name: str) -> int | None:
        value = self.params.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise SignatureError(f"signature parameter {name} is not an integer")
        return value

    @property
    def created(self) -> int | None:
        return self._int("created")

    @property
    def expires(self) -> int | None:
        return self._int("expires")


@dataclass(frozen=True, slots=True)
class SignatureRequest:
    """What an `Accept-Signature` field asks for (RFC 9421 §5.1)."""

    components: tuple[str, ...]
    algorithm: str | None


def parse_message_signature(headers: Mapping[str, str]) -> MessageSignature:
    """The request's signature: the first label of Signature-Input that Signature also has."""
    inputs = _dictionary(headers, "signature-input")
    signatures = _dictionary(headers, "signature")
    for label, member in inputs.items():
        value = signatures.get(label)
        if value is None:
            continue
        if not isinstance(member, InnerList):
            raise SignatureError(f"Signature-Input {label} is not an inner list")
        if not isinstance(value, Item) or not isinstance(value.value, bytes):
            raise SignatureError(f"Signature {label} is not a byte sequence")
        for item in member.items:
            if not isinstance(item.value, str):
                raise SignatureError("covered components must be strings")
        parsed = MessageSignature(label, member.items, member.params, value.value)
        if not parsed.key_id:
            raise SignatureError("malformed signature: missing keyid")
        return parsed
    raise SignatureError("no Signature-Input label has a matching Signature")


def _dictionary(headers: Mapping[str, str], name: str) -> dict[str, Item | InnerList]:
    values = header_values(headers, name)
    if not values:
        raise SignatureError(f"{name} header is missing")
    try:
        return parse_dictionary(", ".join(values))
    except StructuredFieldError as error:
        raise SignatureError(f"malformed {name} header: {error}") from None


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


def signature_base(
    method: str,
    target_uri: str,
    headers: Mapping[str, str],
    components: Sequence[Item],
    params: Parameters,
) -> str:
    """The signature base of RFC 9421 §2.5 for a request."""
    url = URL(target_uri, encoded=True)
    lines = []
    seen = set()
    for item in components:
        name = str(item.value)
        if item.params:
            raise SignatureError(f"component parameters are not supported ({name})")
        if name in seen:
            raise SignatureError(f"component {name} is covered twice")
        seen.add(name)
        lines.append(f'"{name}": {_component(name, method, url, headers)}')
    lines.append(f'"@signature-params": {serialize_inner_list(tuple(components), params)}')
    return "\n".join(lines)


def _component(name: str, method: str, url: URL, headers: Mapping[str, str]) -> str:
    if name.startswith("@"):
        if name not in _DERIVED:
            raise SignatureError(f"unsupported derived component {name}")
        path = url.raw_path or "/"
        query = "?" + url.raw_query_string
        return {
            "@method": method.upper(),
            "@target-uri": str(url),
            "@authority": _authority(url),
            "@scheme": url.scheme.lower(),
            "@path": path,
            "@query": query,
            "@request-target": path + (query if url.raw_query_string else ""),
        }[name]
    if name != name.lower():
        raise SignatureError(f"component names must be lowercase ({name})")
    values = header_values(headers, name)
    if not values:
        raise SignatureError(f"signed header missing from request: {name}")
    return ", ".join(" ".join(v.split("\n")).strip() for v in values)


def _authority(url: URL) -> str:
    host = (url.raw_host or "").lower()
    if url.explicit_port is None or url.is_default_port():
        return host
    return f"{host}:{url.port}"


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
        return key.sign(base, _PSS, hashes.SHA512())
    return key.sign(base, padding.PKCS1v15(), hashes.SHA256())


def verify_message_signature(
    method: str,
    target_uri: str,
    headers: Mapping[str, str],
    parsed: MessageSignature,
    public_key: object,
    *,
    now: datetime | None = None,
    body: bytes | None = None,
    max_age: timedelta = timedelta(hours=12),
    max_future: timedelta = timedelta(hours=1),
    algorithm: str | None = None,
    require_coverage: bool = True,
) -> None:
    """Verify an RFC 9421 signature of a request; raise SignatureError(reason) if it fails.

    `target_uri` is the absolute URI the request was sent to. With `require_coverage` (the
    default, what an ActivityPub server needs) the signature must carry `created` and cover
    the method, the target (`@target-uri`, or `@authority` with `@path` or `@request-target`)
    and, when there is a body, `content-digest`. `algorithm` is what the verifier knows of the
    key when the signature has no `alg` (RFC 9421 §3.3.7); otherwise it follows the key type.
    """
    names = set(parsed.names)
    if require_coverage:
        _check_coverage(names, method, body)
    _check_times(parsed, utc(now), max_age, max_future)
    if body is not None and ("content-digest" in names or require_coverage):
        verify_content_digest(", ".join(header_values(headers, "content-digest")) or None, body)
    chosen = _algorithm(parsed, public_key, algorithm)
    base = signature_base(method, target_uri, headers, parsed.components, parsed.params)
    if not _verifies(public_key, chosen, parsed.signature, base.encode("utf-8")):
        raise SignatureError("signature does not verify")


def _check_coverage(names: set[str], method: str, body: bytes | None) -> None:
    if "@method" not in names:
        raise SignatureError("signature does not cover @method")
    if "@target-uri" not in names:
        if "@authority" not in names:
            raise SignatureError("signature covers neither @target-uri nor @authority")
        if not names & {"@path", "@request-target"}:
            raise SignatureError("signature covers neither @target-uri nor @path")
    if body is not None and "content-digest" not in names:
        raise SignatureError("signature does not cover content-digest")


def _check_times(
    parsed: MessageSignature, now: datetime, max_age: timedelta, max_future: timedelta
) -> None:
    created, expires = parsed.created, parsed.expires
    now_ts = now.timestamp()
    if created is None:
        raise SignatureError("signature has no created parameter")
    if created > now_ts + max_future.total_seconds():
        raise SignatureError("signature created in the future")
    if created < now_ts - max_age.total_seconds():
        raise SignatureError("signature is too old")
    if expires is not None and expires < now_ts:
        raise SignatureError("signature has expired")


def _algorithm(parsed: MessageSignature, key: object, known: str | None) -> str:
    given = parsed.params.get("alg")
    if given is not None:
        if not isinstance(given, str) or given not in ALGORITHMS:
            raise SignatureError(
                f"unsupported signature algorithm {given} (only {', '.join(ALGORITHMS)})"
            )
        chosen = given
    elif known is not None:
        chosen = known
    else:
        chosen = "ed25519" if isinstance(key, ed25519.Ed25519PublicKey) else "rsa-v1_5-sha256"
    wanted = ed25519.Ed25519PublicKey if chosen == "ed25519" else rsa.RSAPublicKey
    if not isinstance(key, wanted):
        raise SignatureError(f"the signer's key cannot make {chosen} signatures")
    return chosen


def _verifies(key: object, algorithm: str, signature: bytes, base: bytes) -> bool:
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, base)
        elif isinstance(key, rsa.RSAPublicKey) and algorithm == "rsa-pss-sha512":
            key.verify(signature, base, _PSS, hashes.SHA512())
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, base, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def parse_accept_signature(value: str | None) -> SignatureRequest | None:
    """The first request of an `Accept-Signature` field that copnet can meet, if any.

    copnet can sign the derived components and the headers it sends (content-digest, host,
    date) with rsa-v1_5-sha256; a request for anything else is ignored.
    """
    if not value:
        return None
    try:
        members = parse_dictionary(value)
    except StructuredFieldError:
        return None
    for member in members.values():
        if not isinstance(member, InnerList):
            continue
        names = tuple(str(item.value) for item in member.items)
        if any(item.params or not isinstance(item.value, str) for item in member.items):
            continue
        if not all(n in _DERIVED or n in ("content-digest", "host", "date") for n in names):
            continue
        alg = member.params.get("alg")
        if alg is not None and alg != SIGNING_ALGORITHM:
            continue
        return SignatureRequest(names, alg if isinstance(alg, str) else None)
    return None
