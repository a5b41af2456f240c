"""Key resolution and signature verification with caching and rotation, over loopback."""

from __future__ import annotations

import json

import aiohttp
import pytest

from federation.fetch import FetchBudget, Fetcher, FetchPolicy, Signer
from federation.keyresolver import KeyResolver, MemoryKeyCache, ResolvedKey
from federation.keys import generate_rsa_keypair
from federation.netguard import make_connector
from federation.signature_header import SignatureError, signature_from_headers
from federation.signatures import sign_request
from tests.federation.test_fetch import HOSTS, Remote

INBOX = "https://copnet.test/inbox"


@pytest.fixture(scope="module")
def keys():
    # old, new and attacker keys for the remote actor; instance key for our own fetches.
    return {name: generate_rsa_keypair() for name in ("old", "new", "attacker", "instance")}


@pytest.fixture
async def remote(aiohttp_server):
    r = Remote()
    server = await aiohttp_server(r.app)
    r.port = server.port
    return r


@pytest.fixture
async def fetcher(keys):
    connector = make_connector(allow_private=True, host_map=HOSTS)
    async with aiohttp.ClientSession(connector=connector) as session:
        signer = Signer("https://copnet.test/actor#main-key", keys["instance"][0])
        yield Fetcher(session, FetchPolicy(allow_private=True), signer=signer)


@pytest.fixture
def resolver(fetcher):
    return KeyResolver(fetcher)


def actor(remote: Remote, public_pem: str, path: str = "/users/alice", **extra) -> dict:
    """An actor document with one publicKey, as Mastodon serves it."""
    actor_id = remote.url(path)
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": actor_id,
        "type": "Person",
        "inbox": actor_id + "/inbox",
        "publicKey": {"id": actor_id + "#main-key", "owner": actor_id, "publicKeyPem": public_pem},
        **extra,
    }


def signed_post(key_id: str, private_pem: str) -> tuple[dict[str, str], bytes]:
    body = json.dumps({"type": "Follow", "actor": key_id.split("#")[0]}).encode()
    headers = sign_request(
        "POST",
        INBOX,
        {"Content-Type": "application/activity+json"},
        body,
        key_id=key_id,
        private_key=private_pem,
    )
    return headers, body


async def verify(resolver: KeyResolver, headers: dict[str, str], body: bytes) -> ResolvedKey:
    return await resolver.verify("POST", "/inbox", headers, body)


async def test_actor_with_public_key(remote, resolver, keys):
    remote.serve("/users/alice", actor(remote, keys["old"][1]))
    key_id = remote.url("/users/alice#main-key")
    key = await resolver.resolve(key_id)
    assert key == ResolvedKey(
        key_id=key_id, owner=remote.url("/users/alice"), public_key_pem=keys["old"][1]
    )


async def test_actor_with_key_list_picks_matching_key(remote, resolver, keys):
    alice = remote.url("/users/alice")
    doc = actor(remote, keys["old"][1])
    doc["publicKey"] = [
        {"id": alice + "#other-key", "owner": alice, "publicKeyPem": keys["attacker"][1]},
        {"id": alice + "#main-key", "owner": alice, "publicKeyPem": keys["old"][1]},
    ]
    remote.serve("/users/alice", doc)
    key = await resolver.resolve(alice + "#main-key")
    assert key.public_key_pem == keys["old"][1]


async def test_actor_without_the_requested_key_rejected(remote, resolver, keys):
    remote.serve("/users/alice", actor(remote, keys["old"][1]))
    with pytest.raises(SignatureError, match="document does not contain the key"):
        await resolver.resolve(remote.url("/users/alice#second-key"))


async def test_key_entry_owned_by_someone_else_rejected(remote, resolver, keys):
    doc = actor(remote, keys["old"][1])
    doc["publicKey"]["owner"] = remote.url("/users/mallory")
    remote.serve("/users/alice", doc)
    with pytest.raises(SignatureError, match="key owner is not the actor that lists it"):
        await resolver.resolve(remote.url("/users/alice#main-key"))


async def test_invalid_public_key_pem_rejected(remote, resolver, keys):
    remote.serve("/users/alice", actor(remote, "-----BEGIN PUBLIC KEY-----\njunk\n"))
    with pytest.raises(SignatureError, match="not a valid public key"):
        await resolver.resolve(remote.url("/users/alice#main-key"))


def standalone_key(remote: Remote, public_pem: str, owner_path: str = "/users/alice") -> dict:
    return {
        "type": "CryptographicKey",
        "owner": remote.url(owner_path),
        "publicKeyPem": public_pem,
    }


async def test_standalone_key_confirmed_by_owner(remote, resolver, keys):
    key_id = remote.url("/users/alice/main-key")
    remote.serve("/users/alice/main-key", standalone_key(remote, keys["old"][1]))
    remote.serve("/users/alice", {**actor(remote, keys["old"][1]), "publicKey": key_id})
    key = await resolver.resolve(key_id)
    assert key.owner == remote.url("/users/alice")
    assert key.public_key_pem == keys["old"][1]
    assert remote.count("/users/alice/main-key") == remote.count("/users/alice") == 1


async def test_standalone_key_whose_owner_does_not_list_it_rejected(remote, resolver, keys):
    key_id = remote.url("/users/mallory/main-key")
    remote.serve("/users/mallory/main-key", standalone_key(remote, keys["attacker"][1]))
    remote.serve("/users/alice", actor(remote, keys["old"][1]))
    with pytest.raises(SignatureError, match="key owner does not list the key"):
        await resolver.resolve(key_id)


async def test_standalone_key_whose_owner_lists_another_pem_rejected(remote, resolver, keys):
    key_id = remote.url("/users/alice/main-key")
    remote.serve("/users/alice/main-key", standalone_key(remote, keys["attacker"][1]))
    owner = actor(remote, keys["old"][1])
    owner["publicKey"]["id"] = key_id
    remote.serve("/users/alice", owner)
    with pytest.raises(SignatureError, match="key owner lists a different key"):
        await resolver.resolve(key_id)


async def test_standalone_key_with_owner_on_another_host_rejected(remote, resolver, keys):
    key_id = remote.url("/keys/1")
    doc = standalone_key(remote, keys["attacker"][1])
    doc["owner"] = remote.url("/users/alice", host="other.test")
    remote.serve("/keys/1", doc)
    with pytest.raises(SignatureError, match="key owner is on another origin"):
        await resolver.resolve(key_id)
    assert remote.count("/users/alice", host="other.test") == 0


async def test_key_document_redirected_to_another_host_rejected(remote, resolver, keys):
    remote.redirect("/users/alice", remote.url("/users/alice", host="other.test"))
    other_alice = remote.url("/users/alice", host="other.test")
    doc = actor(remote, keys["attacker"][1], id=other_alice)
    doc["publicKey"].update(id=remote.url("/users/alice#main-key"), owner=other_alice)
    remote.serve("/users/alice", doc, host="other.test")
    with pytest.raises(SignatureError, match="key owner is on another origin"):
        await resolver.resolve(remote.url("/users/alice#main-key"))


async def test_verify_returns_signing_key(remote, resolver, keys):
    remote.serve("/users/alice", actor(remote, keys["old"][1]))
    headers, body = signed_post(remote.url("/users/alice#main-key"), keys["old"][0])
    key = await verify(resolver, headers, body)
    assert key.owner == remote.url("/users/alice")


async def test_cache_hit_avoids_refetch(remote, resolver, keys):
    remote.serve("/users/alice", actor(remote, keys["old"][1]))
    key_id = remote.url("/users/alice#main-key")
    for _ in range(3):
        headers, body = signed_post(key_id, keys["old"][0])
        await verify(resolver, headers, body)
    assert remote.count("/users/alice") == 1


async def test_rotated_key_refetched_once_and_verifies(remote, resolver, keys):
    remote.serve("/users/alice", actor(remote, keys["old"][1]))
    key_id = remote.url("/users/alice#main-key")
    await verify(resolver, *signed_post(key_id, keys["old"][0]))
    remote.serve("/users/alice", actor(remote, keys["new"][1]))
    key = await verify(resolver, *signed_post(key_id, keys["new"][0]))
    assert key.public_key_pem == keys["new"][1]
    assert remote.count("/users/alice") == 2
    await verify(resolver, *signed_post(key_id, keys["new"][0]))
    assert remote.count("/users/alice") == 2


async def test_signature_still_failing_after_refetch_rejected(remote, resolver, keys):
    remote.serve("/users/alice", actor(remote, keys["old"][1]))
    key_id = remote.url("/users/alice#main-key")
    await verify(resolver, *signed_post(key_id, keys["old"][0]))
    remote.serve("/users/alice", actor(remote, keys["new"][1]))
    with pytest.raises(SignatureError, match="signature does not verify"):
        await verify(resolver, *signed_post(key_id, keys["attacker"][0]))
    assert remote.count("/users/alice") == 2


async def test_unchanged_key_after_refetch_rejected(remote, resolver, keys):
    remote.serve("/users/alice", actor(remote, keys["old"][1]))
    key_id = remote.url("/users/alice#main-key")
    await verify(resolver, *signed_post(key_id, keys["old"][0]))
    with pytest.raises(SignatureError, match="signature does not verify"):
        await verify(resolver, *signed_post(key_id, keys["attacker"][0]))
    assert remote.count("/users/alice") == 2


async def test_freshly_fetched_key_that_fails_is_not_refetched(remote, resolver, keys):
    remote.serve("/users/alice", actor(remote, keys["old"][1]))
    with pytest.raises(SignatureError, match="signature does not verify"):
        await verify(resolver, *signed_post(remote.url("/users/alice#main-key"), keys["new"][0]))
    assert remote.count("/users/alice") == 1


async def test_bad_signatures_refetch_at_most_once_per_interval(remote, fetcher, keys):
    now = [1000.0]
    resolver = KeyResolver(fetcher, refetch_interval=60.0, clock=lambda: now[0])
    remote.serve("/users/alice", actor(remote, keys["old"][1]))
    key_id = remote.url("/users/alice#main-key")
    await verify(resolver, *signed_post(key_id, keys["old"][0]))
    for _ in range(3):
        with pytest.raises(SignatureError):
            await verify(resolver, *signed_post(key_id, keys["attacker"][0]))
    assert remote.count("/users/alice") == 2
    now[0] += 61
    with pytest.raises(SignatureError):
        await verify(resolver, *signed_post(key_id, keys["attacker"][0]))
    assert remote.count("/users/alice") == 3


async def test_unreachable_key_host_is_signature_error(resolver, keys, unused_tcp_port):
    key_id = f"http://remote.test:{unused_tcp_port}/users/alice#main-key"
    with pytest.raises(SignatureError) as info:
        await verify(resolver, *signed_post(key_id, keys["old"][0]))
    assert info.value.reason == "could not fetch the signer's key"  # no network details
    assert str(info.value.__cause__).startswith("cannot connect to remote.test")


async def test_gone_key_document_is_signature_error(remote, resolver, keys):
    remote.serve("/users/alice", {}, status=410)
    with pytest.raises(SignatureError) as info:
        await verify(resolver, *signed_post(remote.url("/users/alice#main-key"), keys["old"][0]))
    assert info.value.reason == "could not fetch the signer's key"
    assert str(info.value.__cause__) == "remote answered HTTP 410 Gone"


async def test_non_url_key_id_rejected(resolver, keys):
    with pytest.raises(SignatureError, match=r"keyId is not an absolute http\(s\) URL"):
        await verify(resolver, *signed_post("main-key", keys["old"][0]))


async def test_unsigned_request_rejected(resolver):
    with pytest.raises(SignatureError, match="request is not signed"):
        await resolver.verify("POST", "/inbox", {"Host": "copnet.test"}, b"{}")


async def test_a_signature_parsed_by_the_caller_is_not_parsed_again(remote, resolver, keys):
    remote.serve("/users/alice", actor(remote, keys["old"][1]))
    headers, body = signed_post(remote.url("/users/alice#main-key"), keys["old"][0])
    parsed = signature_from_headers(headers)
    # The header itself is not signed; were it parsed again, this garbage would be rejected.
    headers["Signature"] = "not a signature header"
    key = await resolver.verify("POST", "/inbox", headers, body, signature=parsed)
    assert key.key_id == parsed.key_id
    with pytest.raises(SignatureError):
        await resolver.verify("POST", "/inbox", headers, body)


async def test_key_fetch_spends_budget(remote, resolver, keys):
    remote.serve("/users/alice", actor(remote, keys["old"][1]))
    budget = FetchBudget(0)
    headers, body = signed_post(remote.url("/users/alice#main-key"), keys["old"][0])
    with pytest.raises(SignatureError) as info:
        await resolver.verify("POST", "/inbox", headers, body, budget=budget)
    assert str(info.value.__cause__) == "fetch budget of 0 exhausted"
    assert remote.count("/users/alice") == 0


async def test_memory_cache_expires_entries():
    now = [0.0]
    cache = MemoryKeyCache(ttl=10.0, clock=lambda: now[0])
    key = ResolvedKey("https://a.example/u#k", "https://a.example/u", "pem")
    await cache.put(key)
    now[0] = 9.9
    assert await cache.get(key.key_id) == key
    now[0] = 10.0
    assert await cache.get(key.key_id) is None


async def test_memory_cache_evicts_least_recently_used():
    cache = MemoryKeyCache(max_entries=2)
    a, b, c = (ResolvedKey(f"https://a.example/{n}#k", f"https://a.example/{n}", n) for n in "abc")
    await cache.put(a)
    await cache.put(b)
    assert await cache.get(a.key_id) == a
    await cache.put(c)
    assert await cache.get(b.key_id) is None
    assert await cache.get(a.key_id) == a
    assert await cache.get(c.key_id) == c
    assert len(cache) == 2
