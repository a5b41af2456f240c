"""The inbox pipeline: each check of server/views/inbox.py tampers exactly one thing."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy import func, select

from federation.http_dates import format_http_date
from federation.keys import load_private_key
from federation.signatures import sign_request
from models.policy_queries import set_domain
from models.received import ReceivedActivity
from server.appkeys import SESSIONS, WRITE_SESSIONS
from server.http.errors import json_errors
from server.views.inbox import shared_inbox
from tests.support.instances import free_port


def note_create(fake, author, cop, **object_changes):
    """A Mastodon-shaped Create{Note} that mentions the CoP."""
    note_id = fake.new_id(author, "statuses")
    note = {
        "id": note_id,
        "type": "Note",
        "attributedTo": author.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [cop],
        "content": "<p>@nursing How do you run a safe handover?</p>",
        "tag": [{"type": "Mention", "href": cop, "name": "@nursing"}],
        "published": "2026-11-26T09:00:00Z",
        **object_changes,
    }
    return {"id": note_id + "/activity", "type": "Create", "actor": author.id, "object": note}


async def stored_count(network) -> int:
    async with network.app[SESSIONS]() as session:
        return int(await session.scalar(select(func.count()).select_from(ReceivedActivity)))


async def post_raw(network, path, body: bytes, headers=None):
    async with network.client.post(network.url + path, data=body, headers=headers or {}) as r:
        return r.status, await r.json(content_type=None)


@pytest.fixture
async def cop(network):
    return await network.community("nursing", "Nursing")


@pytest.fixture
def alice(fake):
    return fake.actor("mastodon.test", "alice", software="mastodon")


async def test_signed_create_is_accepted_with_202(network, fake, cop, alice):
    response = await fake.send(
        alice, f"{cop}/inbox", note_create(fake, alice, cop), session=network.client
    )
    assert response.status == 202
    assert await stored_count(network) == 1


async def test_unsigned_post_is_401(network, cop, fake, alice):
    body = json.dumps(note_create(fake, alice, cop)).encode()
    status, reply = await post_raw(network, "/inbox", body)
    assert status == 401
    assert reply["error"] == "request is not signed"
    assert await stored_count(network) == 0


def replace_header(name, value):
    def tamper(headers, body):
        return {**headers, name: value}, body

    return tamper


@pytest.mark.parametrize(
    ("tamper_name", "reason"),
    [
        ("body", "digest does not match body"),
        ("date_old", "Date is too old"),
        ("date_future", "Date is in the future"),
        ("signature", "signature does not verify"),
        ("digest_header", "digest does not match body"),
    ],
)
async def test_tampered_request_is_401(network, fake, cop, alice, tamper_name, reason):
    now = datetime.now(UTC)

    def tamper(headers, body):
        headers = dict(headers)
        if tamper_name == "body":
            body = body.replace(b"handover", b"HANDOVER")
        elif tamper_name == "date_old":
            headers["Date"] = format_http_date(now - timedelta(hours=13))
        elif tamper_name == "date_future":
            headers["Date"] = format_http_date(now + timedelta(hours=2))
        elif tamper_name == "signature":
            headers["Signature"] = headers["Signature"].replace('signature="', 'signature="AA')
        elif tamper_name == "digest_header":
            headers["Digest"] = "SHA-256=" + "A" * 43 + "="
        return headers, body

    response = await fake.send(
        alice,
        f"{cop}/inbox",
        note_create(fake, alice, cop),
        session=network.client,
        tamper=tamper,
    )
    assert response.status == 401
    # The reason proves which check refused it (a changed Date also breaks the signature).
    assert (await response.json())["error"] == reason
    assert await stored_count(network) == 0


async def test_signature_not_covering_digest_is_401(network, fake, cop, alice):
    def tamper(headers, body):
        signature = headers["Signature"].replace(' digest"', '"')
        return {**headers, "Signature": signature}, body

    response = await fake.send(
        alice, f"{cop}/inbox", note_create(fake, alice, cop), session=network.client, tamper=tamper
    )
    assert response.status == 401
    assert (await response.json())["error"] == "signature does not cover digest"


async def test_activity_id_on_another_host_is_400(network, fake, cop, alice):
    activity = note_create(fake, alice, cop)
    activity["id"] = "http://elsewhere.test/activities/1"
    response = await fake.send(alice, f"{cop}/inbox", activity, session=network.client)
    assert response.status == 400


async def test_object_on_another_host_is_rejected_cve_2024_23832(network, fake, cop, alice):
    activity = note_create(fake, alice, cop)
    activity["object"]["id"] = fake.base("lemmy.test") + "/post/1"
    response = await fake.send(alice, f"{cop}/inbox", activity, session=network.client)
    assert response.status == 202
    await network.settle()
    async with network.app[SESSIONS]() as session:
        row = await session.scalar(select(ReceivedActivity))
    assert row.state == "rejected"
    assert "not on the actor's host" in row.last_error


async def test_someone_elses_object_is_rejected(network, fake, cop, alice):
    mallory = fake.actor("mastodon.test", "mallory", key_index=1)
    activity = note_create(fake, alice, cop)
    activity["actor"] = mallory.id
    activity["id"] = fake.new_id(mallory)
    await fake.send(mallory, f"{cop}/inbox", activity, session=network.client)
    await network.settle()
    async with network.app[SESSIONS]() as session:
        row = await session.scalar(select(ReceivedActivity))
    assert row.state == "rejected"
    assert "attributed to someone other" in row.last_error


async def test_key_owner_not_actor_is_treated_as_forwarded(network, fake, cop, alice):
    relay = fake.actor("lemmy.test", "relay", key_index=1)
    activity = note_create(fake, alice, cop)
    # The origin does not have the object: a forged forward must not be trusted.
    response = await fake.send(
        alice, f"{cop}/inbox", activity, session=network.client, signer=relay
    )
    assert response.status == 202
    await network.settle()
    async with network.app[SESSIONS]() as session:
        row = await session.scalar(select(ReceivedActivity))
    assert row.forwarded is True
    assert row.state == "rejected"
    assert "cannot confirm forwarded object" in row.last_error


async def test_forwarded_create_is_refetched_from_its_origin(network, fake, cop, alice):
    relay = fake.actor("lemmy.test", "relay", key_index=1)
    activity = note_create(fake, alice, cop)
    original = dict(activity["object"])
    fake.serve(original["id"], original)
    activity["object"]["content"] = "<p>@nursing forged words</p>"
    await fake.send(alice, f"{cop}/inbox", activity, session=network.client, signer=relay)
    await network.settle()
    from models.posts import Post

    async with network.app[SESSIONS]() as session:
        post = await session.scalar(select(Post))
    assert "forged" not in post.content_html
    assert "safe handover" in post.content_html


async def test_oversized_body_is_413(network, cop):
    status, reply = await post_raw(network, "/inbox", b"{" + b" " * (600 * 1024) + b"}")
    assert status == 413
    assert "larger than" in reply["error"]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1,2,3]", b'{"type":"Create"}', ("[" * 40 + "]" * 40).encode()],
)
async def test_malformed_activity_is_400_with_reason(network, cop, body):
    status, reply = await post_raw(network, "/inbox", body)
    assert status == 400
    assert reply["error"]


async def test_duplicate_activity_is_stored_once(network, fake, cop, alice):
    activity = note_create(fake, alice, cop)
    for _ in range(2):
        response = await fake.send(alice, f"{cop}/inbox", activity, session=network.client)
        assert response.status == 202
    assert await stored_count(network) == 1


async def test_unhandled_type_is_ignored_with_reason(network, fake, cop, alice):
    activity = {"id": fake.new_id(alice), "type": "Move", "actor": alice.id, "object": alice.id}
    response = await fake.send(alice, f"{cop}/inbox", activity, session=network.client)
    assert response.status == 202
    assert await response.json() == {
        "status": "ignored",
        "reason": "copnet does not handle Move activities",
    }
    assert await stored_count(network) == 0


async def test_a_long_unhandled_type_is_echoed_only_in_part(network, fake, cop, alice):
    kind = "Move" + "e" * 200_000
    activity = {"id": fake.new_id(alice), "type": kind, "actor": alice.id, "object": alice.id}
    response = await fake.send(alice, f"{cop}/inbox", activity, session=network.client)
    assert response.status == 202
    answer = await response.json()
    assert answer["reason"] == f"copnet does not handle {kind[:100]} activities"


async def test_blocked_domain_gets_403_before_any_fetch(network, fake, cop):
    eve = fake.actor("blocked.test", "eve", key_index=1)
    async with network.app[WRITE_SESSIONS].begin() as session:
        await set_domain(session, "blocked.test", "block", "spam")
    network.app_policy_invalidate()
    response = await fake.send(
        eve, f"{cop}/inbox", note_create(fake, eve, cop), session=network.client
    )
    assert response.status == 403
    assert ("blocked.test", "/users/eve") not in fake.gets


async def test_activity_naming_a_blocked_domain_is_403(network, fake, cop, alice):
    async with network.app[WRITE_SESSIONS].begin() as session:
        await set_domain(session, "blocked.test", "block", "")
    network.app_policy_invalidate()
    activity = note_create(fake, alice, cop, inReplyTo="http://blocked.test/statuses/1")
    response = await fake.send(alice, f"{cop}/inbox", activity, session=network.client)
    assert response.status == 403


async def test_unknown_cop_inbox_is_404(network, fake, alice):
    response = await fake.send(
        alice,
        f"{network.url}/c/ghost/inbox",
        {"id": fake.new_id(alice), "type": "Follow", "actor": alice.id},
        session=network.client,
    )
    assert response.status == 404


@pytest.mark.parametrize(
    ("number", "reason_part"),
    [
        ("NaN", "NaN"),
        ("Infinity", "Infinity"),
        ("-Infinity", "Infinity"),
        ("1e400", "out of range"),
        ("9" * 5000, "digits"),
    ],
)
async def test_non_finite_or_huge_number_is_400_with_reason(
    network, fake, cop, alice, number, reason_part
):
    activity = note_create(fake, alice, cop)
    text = json.dumps({**activity, "capacity": "NUMBER"}).replace('"NUMBER"', number)
    status, reply = await post_raw(network, "/inbox", text.encode())
    assert status == 400
    assert reason_part in reply["error"]
    assert await stored_count(network) == 0


async def test_one_unstorable_activity_does_not_spoil_the_others(network, fake, cop, alice):
    valid = [note_create(fake, alice, cop) for _ in range(40)]
    poisoned = note_create(fake, alice, cop)
    poisoned["id"] = fake.new_id(alice, "statuses") + "/" + "x" * 2100
    sends = [fake.send(alice, f"{cop}/inbox", a, session=network.client) for a in valid]
    sends.insert(20, fake.send(alice, f"{cop}/inbox", poisoned, session=network.client))
    responses = await asyncio.gather(*sends)
    statuses = [r.status for r in responses]
    assert statuses[20] == 400
    assert statuses[:20] + statuses[21:] == [202] * 40
    assert await stored_count(network) == 40


async def test_a_delete_cannot_be_suppressed_by_taking_its_id_first(network, fake, cop, alice):
    from models.posts import Post

    create = note_create(fake, alice, cop)
    note = create["object"]
    fake.serve(note["id"], note)
    assert (await fake.send(alice, f"{cop}/inbox", create, session=network.client)).status == 202
    await network.settle()
    delete = {
        "id": note["id"] + "#delete",  # Mastodon's predictable Delete id
        "type": "Delete",
        "actor": alice.id,
        "object": {"id": note["id"], "type": "Tombstone"},
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    mallory = fake.actor("lemmy.test", "mallory", key_index=1)
    forged = await fake.send(alice, f"{cop}/inbox", delete, session=network.client, signer=mallory)
    assert forged.status == 202
    await network.settle()  # rejected: the note is still up at its origin

    fake.serve(note["id"], {"id": note["id"], "type": "Tombstone"})
    real = await fake.send(alice, f"{cop}/inbox", delete, session=network.client)
    assert real.status == 202
    assert (await real.json())["status"] == "accepted"
    await network.settle()
    async with network.app[SESSIONS]() as session:
        post = await session.scalar(select(Post).where(Post.ap_id == note["id"]))
    assert post.is_deleted


async def test_forwarded_activity_id_on_neither_signer_nor_actor_host_is_400(
    network, fake, cop, alice
):
    relay = fake.actor("lemmy.test", "relay", key_index=1)
    activity = note_create(fake, alice, cop)
    activity["id"] = fake.base("elsewhere.test") + "/activities/1"
    response = await fake.send(
        alice, f"{cop}/inbox", activity, session=network.client, signer=relay
    )
    assert response.status == 400
    assert await stored_count(network) == 0


@pytest.mark.parametrize("host", ["other.example", "other.example:{port}", "copnet.test"])
async def test_request_signed_for_another_host_is_401(network, fake, cop, alice, host):
    port = network.url.rsplit(":", 1)[1]
    host = host.format(port=port)
    activity = note_create(fake, alice, cop)
    body = json.dumps(activity).encode()
    headers = sign_request(
        "POST",
        f"http://{host}/c/nursing/inbox",
        {"Content-Type": "application/activity+json"},
        body,
        key_id=alice.key_id,
        private_key=load_private_key(alice.private_pem),
    )
    status, reply = await post_raw(network, "/c/nursing/inbox", body, headers)
    assert status == 401
    assert reply["error"] == f"request is addressed to {host}, not copnet.test:{port}"
    assert await stored_count(network) == 0


async def test_unreachable_key_is_401_without_network_details(network, fake, cop, alice):
    closed_port = free_port()
    ghost = fake.actor("mastodon.test", "ghost")
    ghost_key = ghost.key_id.replace(f":{fake.port}/", f":{closed_port}/")
    activity = note_create(fake, alice, cop)
    body = json.dumps(activity).encode()
    headers = sign_request(
        "POST",
        f"{cop}/inbox",
        {"Content-Type": "application/activity+json"},
        body,
        key_id=ghost_key,
        private_key=load_private_key(ghost.private_pem),
    )
    status, reply = await post_raw(network, "/c/nursing/inbox", body, headers)
    assert status == 401
    assert reply["error"] == "could not fetch the signer's key"


@pytest.mark.parametrize(
    ("key_id", "status", "reason"),
    [
        ("not a url", 401, "keyId is not an absolute http(s) URL"),
        ("/users/alice#main-key", 401, "keyId is not an absolute http(s) URL"),
        ("ftp://mastodon.test/key", 401, "keyId is not an absolute http(s) URL"),
    ],
)
async def test_malformed_key_id_gets_its_real_reason(
    network, fake, cop, alice, key_id, status, reason
):
    body = json.dumps(note_create(fake, alice, cop)).encode()
    headers = sign_request(
        "POST",
        f"{cop}/inbox",
        {"Content-Type": "application/activity+json"},
        body,
        key_id=key_id,
        private_key=load_private_key(alice.private_pem),
    )
    got, reply = await post_raw(network, "/c/nursing/inbox", body, headers)
    assert (got, reply["error"]) == (status, reason)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"object": "/statuses/1"}, "object is not an absolute http(s) URL"),
        ({"object": "javascript:alert(1)"}, "object is not an absolute http(s) URL"),
        ({"object": {"id": "http://", "type": "Note"}}, "object is not an absolute http(s) URL"),
    ],
)
async def test_malformed_url_in_activity_is_400_with_its_real_reason(
    network, fake, cop, alice, change, reason
):
    activity = {**note_create(fake, alice, cop), **change}
    response = await fake.send(alice, f"{cop}/inbox", activity, session=network.client)
    assert response.status == 400
    assert (await response.json())["error"] == reason


async def test_malformed_inner_url_is_400_with_its_real_reason(network, fake, cop, alice):
    activity = note_create(fake, alice, cop, inReplyTo="http:///nohost")
    response = await fake.send(alice, f"{cop}/inbox", activity, session=network.client)
    assert response.status == 400
    assert (await response.json())["error"] == "object.inReplyTo is not an absolute http(s) URL"


async def test_a_body_cut_short_by_the_client_is_a_quiet_disconnect(caplog):
    # Served as `copnet serve` serves (handlers are not cancelled when the client goes, unlike
    # in aiohttp's test server), so the handler sees the lost connection while reading.
    app = web.Application(middlewares=[json_errors])
    app.router.add_post("/inbox", shared_inbox)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    caplog.set_level(logging.INFO)
    try:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = (
            f"POST /inbox HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/activity+json\r\nContent-Length: 10000\r\n\r\n"
        )
        writer.write(head.encode() + b'{"type": "Create", "actor": ')
        await writer.drain()
        await asyncio.sleep(0.2)  # the handler is now waiting for the rest of the body
        writer.close()
        await writer.wait_closed()
        for _ in range(100):
            if any("cut short" in record.getMessage() for record in caplog.records):
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)  # anything logged after the handler returned
    finally:
        await runner.cleanup()
    messages = [record.getMessage() for record in caplog.records]
    assert any("cut short by the client" in message for message in messages)
    assert not [m for m in messages if "unhandled error" in m]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]
