"""RFC 9421 at copnet's inbox: accepted beside draft-cavage, each check tampered once, and the
signer's server remembered as one that reads RFC 9421 (`instances.signature_standard`)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import select

from federation.content_digest import content_digest
from federation.keys import load_private_key
from federation.rfc9421 import parse_message_signature, signature_base
from federation.rfc9421_sign import sign_request_rfc9421
from models.instances import Instance
from server.appkeys import SESSIONS
from tests.server.test_inbox import note_create, stored_count

AS2 = "application/activity+json"


@pytest.fixture
async def cop(network):
    return await network.community("nursing", "Nursing")


@pytest.fixture
def alice(fake):
    return fake.actor("mastodon.test", "alice", software="mastodon")


async def standard_of(network, domain: str) -> str | None:
    async with network.app[SESSIONS]() as session:
        return await session.scalar(
            select(Instance.signature_standard).where(Instance.domain == domain)
        )


def signed(actor, url: str, body: bytes, **options) -> dict[str, str]:
    """RFC 9421 headers for a POST of `body` to `url`, as Fedify or Mastodon 4.5 send them."""
    return sign_request_rfc9421(
        options.pop("method", "POST"),
        url,
        {"Content-Type": AS2},
        key_id=options.pop("key_id", actor.key_id),
        private_key=load_private_key(options.pop("private_pem", actor.private_pem)),
        digest=content_digest(options.pop("digest_of", body)),
        **options,
    )


async def post(network, path: str, body: bytes, headers: dict[str, str]):
    async with network.client.post(network.url + path, data=body, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def test_rfc9421_create_is_accepted_and_its_server_remembered(network, fake, cop, alice):
    domain = f"mastodon.test:{fake.port}"
    assert await standard_of(network, domain) is None
    response = await fake.send(
        alice, f"{cop}/inbox", note_create(fake, alice, cop), session=network.client, rfc9421=True
    )
    assert response.status == 202
    assert await stored_count(network) == 1
    assert await standard_of(network, domain) == "rfc9421"


async def test_replayed_rfc9421_request_is_stored_once(network, fake, cop, alice):
    body = json.dumps(note_create(fake, alice, cop)).encode()
    headers = signed(alice, f"{cop}/inbox", body)
    first = await post(network, "/c/nursing/inbox", body, headers)
    again = await post(network, "/c/nursing/inbox", body, headers)
    assert first == (202, {"status": "accepted", "reason": "queued for processing"})
    assert again[0] == 202 and again[1]["status"] == "duplicate"
    assert await stored_count(network) == 1


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("method", "signature does not verify"),
        ("path", "signature does not verify"),
        ("authority", "signature does not verify"),
        ("body", "Content-Digest does not match body"),
        ("digest_not_covered", "signature does not cover content-digest"),
        ("too_old", "signature is too old"),
        ("future", "signature created in the future"),
        ("expired", "signature has expired"),
        ("keyid_owner", "signature does not verify"),
        ("algorithm", "the signer's key cannot make ed25519 signatures"),
        (
            "unknown_algorithm",
            "unsupported signature algorithm hmac-sha256"
            " (only rsa-v1_5-sha256, rsa-pss-sha512, ed25519)",
        ),
    ],
)
async def test_tampered_rfc9421_request_is_401(network, fake, cop, alice, tamper, reason):
    bob = fake.actor("mastodon.test", "bob", key_index=1)
    body = json.dumps(note_create(fake, alice, cop)).encode()
    url = f"{cop}/inbox"
    path = "/c/nursing/inbox"
    now = datetime.now(UTC)
    options: dict = {}
    if tamper == "method":
        options["method"] = "PUT"
    elif tamper == "path":
        path = "/inbox"
    elif tamper == "authority":
        url = url.replace("copnet.test", "copnet-b.test")
    elif tamper == "digest_not_covered":
        options["components"] = ("@method", "@target-uri")
    elif tamper == "too_old":
        options["now"] = now - timedelta(hours=13)
    elif tamper == "future":
        options["now"] = now + timedelta(hours=2)
    elif tamper == "keyid_owner":
        options["key_id"] = bob.key_id  # bob's keyId, alice's key
    headers = signed(alice, url, body, **options)
    if tamper == "authority":  # signed for another server, replayed to this one
        headers["Host"] = network.url.removeprefix("http://")
    elif tamper == "body":
        body = body.replace(b"handover", b"HANDOVER")
    elif tamper == "expired":
        headers = _with_expires(alice, url, body, now - timedelta(minutes=10))
    elif tamper == "algorithm":
        headers["Signature-Input"] = headers["Signature-Input"].replace(
            "rsa-v1_5-sha256", "ed25519"
        )
    elif tamper == "unknown_algorithm":
        headers["Signature-Input"] = headers["Signature-Input"].replace(
            "rsa-v1_5-sha256", "hmac-sha256"
        )
    status, reply = await post(network, path, body, headers)
    assert (status, reply["error"]) == (401, reason)
    assert await stored_count(network) == 0
    assert await standard_of(network, f"mastodon.test:{fake.port}") is None


def _with_expires(actor, url: str, body: bytes, created: datetime) -> dict[str, str]:
    """A signature made at `created` that expired five minutes later (still within 12 h)."""
    headers = signed(actor, url, body, now=created)
    expires = int(created.timestamp()) + 300
    headers["Signature-Input"] = headers["Signature-Input"].replace(
        ";keyid", f";expires={expires};keyid"
    )
    parsed = parse_message_signature(headers)
    base = signature_base("POST", url, headers, parsed.components, parsed.params)
    key = load_private_key(actor.private_pem)
    raw = key.sign(base.encode(), padding.PKCS1v15(), hashes.SHA256())
    headers["Signature"] = f"sig1=:{base64.b64encode(raw).decode()}:"
    return headers


async def test_malformed_signature_input_is_401_with_reason(network, fake, cop, alice):
    body = json.dumps(note_create(fake, alice, cop)).encode()
    headers = signed(alice, f"{cop}/inbox", body)
    headers["Signature-Input"] = 'sig1=("@method"'
    status, reply = await post(network, "/c/nursing/inbox", body, headers)
    assert status == 401
    assert reply["error"].startswith("malformed signature-input header")
