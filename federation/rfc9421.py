"""HTTP Message Signatures (RFC 9421) for requests.

Verifies `rsa-v1_5-sha256`, `rsa-pss-sha512` and `ed25519` over the derived components
`@method`, `@target-uri`, `@authority`, `@scheme`, `@path`, `@query`, `@request-target` and
header fields; signs with `rsa-v1_5-sha256` (what Mastodon and Fedify use with the RSA keys of
the fediverse). Component parameters (`sf`, `key`, `bs`, `req`, `tr`) are refused: no
fediverse server sends them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from yarl import URL

from federation.content_digest import verify_content_digest
from federation.http_dates import utc
from federation.signature_header import SignatureError, header_values
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
    "parse_message_signature",
    "signature_base",
    "verify_message_signature",
]

ALGORITHMS = ("rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519")
# What copnet signs with: its actors have RSA keys, and Mastodon and Fedify verify this one.
SIGNING_ALGORITHM = "rsa-v1_5-sha256"
# What copnet signs: Mastodon requires @method, @target-uri and, on a POST, content-digest
# (app/lib/signed_request.rb, HttpMessageSignature#verify_signature_strength!).
POST_COMPONENTS = ("@method", "@target-uri", "content-digest")
GET_COMPONENTS = ("@method", "@target-uri")
DERIVED_COMPONENTS = frozenset(
    {"@method", "@target-uri", "@authority", "@scheme", "@path", "@query", "@request-target"}
)
PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)


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


def signature_base(
    method: str,
    target_uri: str,
    headers: Mapping[str, str],
    components: Sequence[Item],
    params: Parameters,
) -> str:
    """The signature base of RFC 9421 §2.5 for a request."""
    try:
        url = URL(target_uri, encoded=True)
    except (TypeError, ValueError):
        raise SignatureError("the request's target URI is not a valid URL") from None
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
        if name not in DERIVED_COMPONENTS:
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
            key.verify(signature, base, PSS, hashes.SHA512())
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, base, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True
