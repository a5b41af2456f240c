"""RFC 9421 HTTP Message Signatures: the RFC's own test vectors (Appendix B.2), Mastodon's
(spec/requests/signature_verification_spec.rb), one tampering test per check, and
http-message-signatures (PyPI) as an independent implementation both ways."""

from __future__ import annotations

import base64
import hashlib
import json
from base64 import b64encode
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
)
from http_message_signatures.algorithms import ED25519, RSA_V1_5_SHA256

from federation.content_digest import content_digest, verify_content_digest
from federation.keys import generate_rsa_keypair, load_private_key, load_public_key
from federation.knock import parse_accept_signature
from federation.request_signature import request_signature, verify_any
from federation.rfc9421 import parse_message_signature, signature_base, verify_message_signature
from federation.rfc9421_sign import sign_request_rfc9421
from federation.signature_header import ParsedSignature, SignatureError
from federation.signatures import sign_request
from federation.structured_fields import StructuredFieldError, parse_dictionary

FIXTURES = Path(__file__).parents[1] / "fixtures" / "rfc9421"
RFC = json.loads((FIXTURES / "rfc9421-appendix-b2.json").read_text())
MASTODON = json.loads((FIXTURES / "mastodon-signature-verification.json").read_text())
MASTODON_NOW = datetime(2023, 12, 20, 10, tzinfo=UTC)
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
INBOX = "https://copnet.example/inbox"
KEY_ID = "https://remote.example/users/ana#main-key"
BODY = b'{"type":"Follow"}'


def _key(name: str, private: bool = False):
    if private:
        return load_pem_private_key((FIXTURES / f"{name}.key").read_bytes(), None)
    return load_pem_public_key((FIXTURES / f"{name}.pem").read_bytes())


def _rfc_headers(case: dict) -> dict[str, str]:
    headers = dict(RFC["request"]["headers"])
    headers["Signature-Input"] = case["signature_input"]
    headers["Signature"] = case["signature"]
    return headers


@pytest.mark.parametrize("case", RFC["cases"], ids=lambda c: c["section"][:6])
def test_rfc_appendix_b2_signature_base_and_signature(case) -> None:
    request = RFC["request"]
    headers = _rfc_headers(case)
    parsed = parse_message_signature(headers)
    assert parsed.key_id == case["key"]
    base = signature_base(
        request["method"], request["target_uri"], headers, parsed.components, parsed.params
    )
    assert base == case["base"]
    verify_message_signature(
        request["method"],
        request["target_uri"],
        headers,
        parsed,
        _key(case["key"]),
        now=datetime.fromtimestamp(1618884473, UTC),
        body=request["body"].encode(),
        algorithm=case["algorithm"],
        require_coverage=False,  # the RFC's minimal examples cover less than an inbox needs
    )


def test_rfc_appendix_b26_ed25519_signature_is_reproduced_exactly() -> None:
    # Ed25519 is deterministic: signing the B.2.6 base with the B.1.4 key gives B.2.6's bytes.
    case = next(c for c in RFC["cases"] if c["section"].startswith("B.2.6"))
    private = _key("test-key-ed25519", private=True)
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    raw = private.sign(case["base"].encode())
    assert parse_message_signature(_rfc_headers(case)).signature == raw


def test_rfc_vector_fails_with_another_algorithm() -> None:
    case = RFC["cases"][1]
    headers = _rfc_headers(case)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_message_signature(
            "POST",
            RFC["request"]["target_uri"],
            headers,
            parse_message_signature(headers),
            _key(case["key"]),
            now=datetime.fromtimestamp(1618884473, UTC),
            algorithm="rsa-v1_5-sha256",
            require_coverage=False,
        )


@pytest.mark.parametrize("case", MASTODON["cases"], ids=lambda c: c["name"])
def test_mastodon_vectors(case) -> None:
    headers = dict(case["headers"])
    headers["Signature-Input"] = case["signature_input"]
    headers["Signature"] = case["signature"]
    public = load_private_key(MASTODON["private_key_pem"]).public_key()
    body = case["body"].encode() if case["body"] is not None else None
    parsed = parse_message_signature(headers)
    assert parsed.key_id == MASTODON["key_id"]

    def check() -> None:
        verify_message_signature(
            case["method"], case["target_uri"], headers, parsed, public, now=MASTODON_NOW, body=body
        )

    if case["verifies"]:
        check()
    else:
        with pytest.raises(SignatureError):
            check()


# --- copnet's own signatures and one tampering test per check --------------------------------


@pytest.fixture(scope="module")
def rsa_pair() -> tuple[str, str]:
    return generate_rsa_keypair()


def _signed_post(private_pem: str, **overrides) -> dict[str, str]:
    return sign_request_rfc9421(
        "POST",
        overrides.pop("url", INBOX),
        {"Content-Type": "application/activity+json"},
        key_id=KEY_ID,
        private_key=load_private_key(private_pem),
        now=overrides.pop("now", NOW),
        digest=content_digest(BODY),
        **overrides,
    )


def _verify(headers, public_pem, *, method="POST", target=INBOX, body=BODY, now=NOW) -> None:
    verify_message_signature(
        method,
        target,
        headers,
        parse_message_signature(headers),
        load_public_key(public_pem),
        now=now,
        body=body,
    )


def test_copnet_post_is_what_mastodon_requires(rsa_pair) -> None:
    private_pem, public_pem = rsa_pair
    headers = _signed_post(private_pem)
    assert headers["Signature-Input"].startswith(
        'sig1=("@method" "@target-uri" "content-digest");created='
    )
    assert f'keyid="{KEY_ID}"' in headers["Signature-Input"]
    assert 'alg="rsa-v1_5-sha256"' in headers["Signature-Input"]
    assert headers["Content-Digest"] == content_digest(BODY)
    assert headers["Host"] == "copnet.example"
    _verify(headers, public_pem)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"method": "PUT"}, "does not verify"),
        ({"target": "https://copnet.example/c/other/inbox"}, "does not verify"),
        ({"target": "https://evil.example/inbox"}, "does not verify"),
        ({"target": "https://copnet.example/inbox?x=1"}, "does not verify"),
        ({"body": b'{"type":"Delete"}'}, "Content-Digest does not match body"),
        ({"now": NOW + timedelta(hours=13)}, "too old"),
        ({"now": NOW - timedelta(hours=2)}, "created in the future"),
    ],
    ids=["method", "path", "authority", "query", "digest", "too-old", "future"],
)
def test_tampering_is_refused(rsa_pair, change, reason) -> None:
    private_pem, public_pem = rsa_pair
    headers = _signed_post(private_pem)
    with pytest.raises(SignatureError, match=reason):
        _verify(headers, public_pem, **change)


def test_replaced_content_digest_is_refused(rsa_pair) -> None:
    private_pem, public_pem = rsa_pair
    headers = _signed_post(private_pem)
    other = b'{"type":"Delete"}'
    headers["Content-Digest"] = content_digest(other)
    with pytest.raises(SignatureError, match="does not verify"):
        _verify(headers, public_pem, body=other)


def test_expired_signature_is_refused(rsa_pair) -> None:
    private_pem, public_pem = rsa_pair
    headers = _signed_post(private_pem)
    created = int(NOW.timestamp())
    # Re-sign by hand with an expires parameter five minutes after created.
    input_ = headers["Signature-Input"].replace(";keyid", f";expires={created + 300};keyid")
    parsed = parse_message_signature({**headers, "Signature-Input": input_})
    base = signature_base("POST", INBOX, headers, parsed.components, parsed.params)
    raw = load_private_key(private_pem).sign(base.encode(), padding.PKCS1v15(), hashes.SHA256())
    signed = {
        **headers,
        "Signature-Input": input_,
        "Signature": f"sig1=:{b64encode(raw).decode()}:",
    }
    _verify(signed, public_pem, now=NOW + timedelta(minutes=4))
    with pytest.raises(SignatureError, match="expired"):
        _verify(signed, public_pem, now=NOW + timedelta(minutes=6))


def test_wrong_key_owner_fails(rsa_pair) -> None:
    private_pem, _ = rsa_pair
    _, someone_elses = generate_rsa_keypair()
    with pytest.raises(SignatureError, match="does not verify"):
        _verify(_signed_post(private_pem), someone_elses)


@pytest.mark.parametrize(
    ("alg", "reason"),
    [
        ("hmac-sha256", "unsupported signature algorithm"),
        ("ed25519", "cannot make ed25519 signatures"),
        ("rsa-pss-sha512", "does not verify"),
    ],
)
def test_wrong_algorithm_is_refused(rsa_pair, alg, reason) -> None:
    private_pem, public_pem = rsa_pair
    headers = _signed_post(private_pem)
    headers["Signature-Input"] = headers["Signature-Input"].replace("rsa-v1_5-sha256", alg)
    with pytest.raises(SignatureError, match=reason):
        _verify(headers, public_pem)


@pytest.mark.parametrize(
    ("components", "reason"),
    [
        (("@target-uri", "content-digest"), "does not cover @method"),
        (("@method", "content-digest"), "neither @target-uri nor @authority"),
        (("@method", "@authority", "content-digest"), "neither @target-uri nor @path"),
        (("@method", "@target-uri"), "does not cover content-digest"),
    ],
)
def test_weak_coverage_is_refused(rsa_pair, components, reason) -> None:
    private_pem, public_pem = rsa_pair
    headers = _signed_post(private_pem, components=components)
    with pytest.raises(SignatureError, match=reason):
        _verify(headers, public_pem)


def test_authority_and_path_cover_the_target(rsa_pair) -> None:
    private_pem, public_pem = rsa_pair
    components = ("@method", "@authority", "@path", "@query", "content-digest")
    _verify(_signed_post(private_pem, components=components), public_pem)


def test_missing_created_is_refused(rsa_pair) -> None:
    private_pem, public_pem = rsa_pair
    headers = _signed_post(private_pem)
    headers["Signature-Input"] = headers["Signature-Input"].replace(
        f";created={int(NOW.timestamp())}", ""
    )
    with pytest.raises(SignatureError, match="no created parameter"):
        _verify(headers, public_pem)


def test_get_needs_no_digest(rsa_pair) -> None:
    private_pem, public_pem = rsa_pair
    url = "https://copnet.example/c/nurses/outbox?page=2"
    headers = sign_request_rfc9421(
        "GET", url, {}, key_id=KEY_ID, private_key=load_private_key(private_pem), now=NOW
    )
    assert headers["Signature-Input"].startswith('sig1=("@method" "@target-uri");')
    _verify(headers, public_pem, method="GET", target=url, body=None)


def test_second_label_is_used_when_first_has_no_signature(rsa_pair) -> None:
    private_pem, public_pem = rsa_pair
    headers = _signed_post(private_pem, label="fedify")
    headers["Signature-Input"] = (
        'other=("@method");created=1;keyid="x", ' + headers["Signature-Input"]
    )
    assert parse_message_signature(headers).label == "fedify"
    _verify(headers, public_pem)


@pytest.mark.parametrize(
    "headers",
    [
        {"Signature-Input": "sig1=(", "Signature": "sig1=:AAAA:"},
        {"Signature-Input": 'sig1=("@method");created=1', "Signature": "sig1=:AAAA:"},
        {"Signature-Input": 'sig1=("@method");keyid="k"', "Signature": "sig2=:AAAA:"},
        {"Signature-Input": 'sig1=("@method");keyid="k"', "Signature": 'sig1="text"'},
        {"Signature-Input": 'sig1="x";keyid="k"', "Signature": "sig1=:AAAA:"},
        {"Signature-Input": 'sig1=(@method);keyid="k"', "Signature": "sig1=:AAAA:"},
        {"Signature-Input": 'sig1=("@method");keyid="k"'},
    ],
)
def test_malformed_headers_are_a_signature_error(headers) -> None:
    with pytest.raises(SignatureError):
        parse_message_signature(headers)


def test_content_digest_rules() -> None:
    verify_content_digest(content_digest(BODY), BODY)
    verify_content_digest("sha-512=:" + _b64_sha512(BODY) + ":, md5=:AAAA:", BODY)
    with pytest.raises(SignatureError, match="no sha-256 or sha-512"):
        verify_content_digest("md5=:AAAA:", BODY)
    with pytest.raises(SignatureError, match="not a valid RFC 8941 dictionary"):
        verify_content_digest("SHA-256=:AAAA:", BODY)  # keys are lowercase (Mastodon: 400)
    with pytest.raises(SignatureError, match="missing"):
        verify_content_digest(None, BODY)


def _b64_sha512(body: bytes) -> str:
    return base64.b64encode(hashlib.sha512(body).digest()).decode()


def test_structured_fields_strictness() -> None:
    parsed = parse_dictionary('a=("x" "y");n=1;s="q\\"", b=:AAE=:, c, d=?0')
    assert set(parsed) == {"a", "b", "c", "d"}
    for bad in ("a=1,", "A=1", "a=1.5", 'a="é"', "a=(1 2", "a=:@@:"):
        with pytest.raises(StructuredFieldError):
            parse_dictionary(bad)


def test_request_signature_tells_the_two_standards_apart(rsa_pair) -> None:
    private_pem, public_pem = rsa_pair
    cavage = sign_request("POST", INBOX, {}, BODY, key_id=KEY_ID, private_key=private_pem, now=NOW)
    assert isinstance(request_signature(cavage), ParsedSignature)
    message = _signed_post(private_pem)
    assert request_signature(message).key_id == KEY_ID
    key = load_public_key(public_pem)
    for headers in (cavage, message):
        verify_any(
            "POST",
            "/inbox",
            headers,
            request_signature(headers),
            key,
            scheme="https",
            now=NOW,
            body=BODY,
        )


def test_accept_signature_hint() -> None:
    asked = parse_accept_signature('sig1=("@method" "@target-uri" "content-digest");created;keyid')
    assert asked is not None and asked.components == ("@method", "@target-uri", "content-digest")
    assert parse_accept_signature('sig1=("@status");created') is None  # a response component
    assert parse_accept_signature('sig1=("@method");alg="hmac-sha256"') is None
    assert parse_accept_signature("garbage(") is None
    assert parse_accept_signature(None) is None


# --- http-message-signatures (PyPI) as an independent implementation -------------------------


@dataclass
class _Message:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


class _Keys(HTTPSignatureKeyResolver):
    def __init__(self, private=None, public=None) -> None:
        self.private, self.public = private, public

    def resolve_private_key(self, key_id: str):
        return self.private

    def resolve_public_key(self, key_id: str):
        return self.public


def test_independent_library_verifies_copnet_signature(rsa_pair) -> None:
    private_pem, public_pem = rsa_pair
    headers = _signed_post(private_pem, now=datetime.now(UTC))
    message = _Message("POST", INBOX, headers)
    verifier = HTTPMessageVerifier(
        signature_algorithm=RSA_V1_5_SHA256, key_resolver=_Keys(public=load_public_key(public_pem))
    )
    results = verifier.verify(message, body=BODY)
    assert results[0].parameters["keyid"] == KEY_ID
    message.headers = {**headers, "Content-Digest": content_digest(b"{}")}
    with pytest.raises(InvalidSignature):
        verifier.verify(message, body=b"{}")


def test_copnet_verifies_independent_library_signature(rsa_pair) -> None:
    private_pem, public_pem = rsa_pair
    message = _Message("POST", INBOX, {"Host": "copnet.example"})
    signer = HTTPMessageSigner(
        signature_algorithm=RSA_V1_5_SHA256,
        key_resolver=_Keys(private=load_private_key(private_pem)),
    )
    signer.sign(
        message,
        key_id=KEY_ID,
        created=NOW,
        covered_component_ids=("@method", "@authority", "@target-uri", "content-digest"),
        body=BODY,
    )
    _verify(message.headers, public_pem)


def test_copnet_verifies_independent_ed25519_signature() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    message = _Message("POST", INBOX, {"Host": "copnet.example"})
    signer = HTTPMessageSigner(signature_algorithm=ED25519, key_resolver=_Keys(private=private))
    signer.sign(
        message,
        key_id=KEY_ID,
        created=NOW,
        covered_component_ids=("@method", "@target-uri", "content-digest"),
        body=BODY,
    )
    assert "Content-Digest" in message.headers
    verify_message_signature(
        "POST",
        INBOX,
        message.headers,
        parse_message_signature(message.headers),
        private.public_key(),
        now=NOW,
        body=BODY,
    )
