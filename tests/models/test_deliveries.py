"""The delivery queue in the database: enqueue, claim with a lease, load, record outcomes."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from federation.content_digest import digest_sha256
from federation.keys import generate_rsa_keypair
from models.actors import Actor
from models.database import create_engine, session_factory
from models.deliveries import (
    DeliveryCounts,
    HostState,
    Outcome,
    claim,
    delivery_counts,
    enqueue,
    inbox_host,
    load_claimed,
    load_host_states,
    mark_inboxes_gone,
    postpone_host,
    record_outcomes,
    release,
    save_host_states,
)
from models.instances import Instance
from models.outgoing import Delivery, OutgoingActivity

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
DOC = {
    "@context": "https://www.w3.org/ns/activitystreams",
    "id": "https://copnet.test/activities/1",
    "type": "Announce",
    "actor": "https://copnet.test/c/nursing",
    "summary": "Pflege & Gesundheit für alle (café)",
}


@pytest.fixture(scope="module")
def keys():
    return generate_rsa_keypair()


@pytest.fixture
async def db(database_url):
    engine = create_engine(database_url)
    yield engine, session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def sender(db, keys):
    _, sessions = db
    async with sessions() as session:
        actor = Actor(
            type="Group",
            local_name="nursing",
            username="nursing",
            public_key_pem=keys[1],
            private_key_pem=keys[0],
        )
        session.add(actor)
        await session.commit()
    return actor


async def add_activity(sessions, sender, inboxes, *, n=1, now=NOW):
    async with sessions() as session:
        activity = await enqueue(
            session,
            actor_id=sender.id,
            ap_id=f"https://copnet.test/activities/{n}",
            type_="Announce",
            document={**DOC, "id": f"https://copnet.test/activities/{n}"},
            inboxes=inboxes,
            now=now,
        )
        await session.commit()
    return activity


async def rows(sessions):
    async with sessions() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def test_enqueue_stores_one_row_per_distinct_inbox(db, sender):
    _, sessions = db
    inboxes = [
        "https://a.example/inbox",
        "https://b.example:8443/users/x/inbox",
        "https://a.example/inbox",
        "https://A.example/users/y/inbox",
        "",
        "ftp://c.example/inbox",
        "not a url",
    ]
    activity = await add_activity(sessions, sender, inboxes)
    stored = await rows(sessions)
    assert [r.inbox_url for r in stored] == [
        "https://a.example/inbox",
        "https://b.example:8443/users/x/inbox",
        "https://A.example/users/y/inbox",
    ]
    assert [r.host for r in stored] == ["a.example", "b.example:8443", "a.example"]
    assert {r.activity_id for r in stored} == {activity.id}
    assert all(r.state == "pending" and r.attempts == 0 for r in stored)
    assert all(r.next_attempt_at == NOW and r.locked_until is None for r in stored)


async def test_enqueue_serialises_once_compactly_and_digests_the_exact_bytes(db, sender):
    _, sessions = db
    activity = await add_activity(sessions, sender, ["https://a.example/inbox"])
    async with sessions() as session:
        stored = await session.get(OutgoingActivity, activity.id)
    assert json.loads(stored.body) == DOC
    assert "café" in stored.body and ", " not in stored.body and ": " not in stored.body
    assert stored.digest == digest_sha256(stored.body.encode("utf-8"))
    assert stored.type == "Announce" and stored.actor_id == sender.id


async def test_enqueue_does_not_commit(db, sender):
    _, sessions = db
    async with sessions() as session:
        await enqueue(
            session,
            actor_id=sender.id,
            ap_id="https://copnet.test/activities/9",
            type_="Create",
            document=DOC,
            inboxes=["https://a.example/inbox"],
        )
        await session.rollback()
    assert await rows(sessions) == []


async def test_a_ten_thousand_inbox_fan_out_is_fast(db, sender):
    _, sessions = db
    inboxes = [f"https://i{n % 1000:04d}.example/users/u{n}/inbox" for n in range(10_000)]
    started = time.perf_counter()
    activity = await add_activity(sessions, sender, inboxes)
    elapsed = time.perf_counter() - started
    async with sessions() as session:
        assert await delivery_counts(session, activity_id=activity.id) == DeliveryCounts(10_000)
    assert elapsed < 5, f"enqueue of 10,000 inboxes took {elapsed:.1f} s"


async def test_claim_leases_rows_until_the_lease_passes(db, sender):
    engine, sessions = db
    await add_activity(sessions, sender, [f"https://h{n}.example/inbox" for n in range(5)])
    first = await claim(engine, now=NOW, limit=3, lease=LEASE)
    second = await claim(engine, now=NOW, limit=10, lease=LEASE)
    assert len(first) == 3 and len(second) == 2
    assert not set(first) & set(second)
    assert await claim(engine, now=NOW + LEASE, limit=10, lease=LEASE) == []
    again = await claim(engine, now=NOW + LEASE + timedelta(seconds=1), limit=10, lease=LEASE)
    assert sorted(again) == sorted(first + second)


async def test_claim_skips_rows_not_yet_due(db, sender):
    engine, sessions = db
    await add_activity(sessions, sender, ["https://a.example/inbox"], now=NOW + timedelta(hours=1))
    assert await claim(engine, now=NOW, limit=10, lease=LEASE) == []
    assert len(await claim(engine, now=NOW + timedelta(hours=1), limit=10, lease=LEASE)) == 1


async def test_load_claimed_reads_each_activity_body_once(db, sender):
    engine, sessions = db
    one = await add_activity(sessions, sender, [f"https://h{n}.example/inbox" for n in range(4)])
    two = await add_activity(sessions, sender, ["https://h0.example/inbox"], n=2)
    ids = await claim(engine, now=NOW, limit=10, lease=LEASE)
    async with sessions() as session:
        batch = await load_claimed(session, ids, lease_until=NOW + LEASE)
    assert len(batch.deliveries) == 5
    assert set(batch.activities) == {one.id, two.id}
    shared = {id(d.activity) for d in batch.deliveries if d.activity.id == one.id}
    assert len(shared) == 1
    first = batch.activities[one.id]
    assert first.body == one.body.encode("utf-8")
    assert first.digest == one.digest
    assert first.sender.private_key_pem == sender.private_key_pem
    assert set(batch.hosts) == {f"h{n}.example" for n in range(4)}
    assert batch.hosts["h0.example"] == HostState("h0.example")


async def test_outcomes_are_recorded(db, sender):
    engine, sessions = db
    await add_activity(sessions, sender, [f"https://h{n}.example/inbox" for n in range(4)])
    ids = await claim(engine, now=NOW, limit=10, lease=LEASE)
    later = NOW + timedelta(seconds=7)
    async with sessions() as session:
        batch = await load_claimed(session, ids, lease_until=NOW + LEASE)
        a, b, c, d = batch.deliveries
        outcomes = [
            Outcome.done(a, 202),
            Outcome.retry(b, later + timedelta(minutes=1), 503, "HTTP 503"),
            Outcome.failed(c, 400, "HTTP 400: bad"),
            Outcome.postponed(d, later + timedelta(hours=1), "breaker open"),
        ]
        await record_outcomes(session, outcomes, now=later, lease_until=NOW + LEASE)
        await session.commit()
    done, retry, failed, postponed = await rows(sessions)
    assert (done.state, done.attempts, done.last_status, done.finished_at) == (
        "done",
        1,
        202,
        later,
    )
    assert (retry.state, retry.attempts, retry.last_status, retry.last_error) == (
        "pending",
        1,
        503,
        "HTTP 503",
    )
    assert retry.next_attempt_at == later + timedelta(minutes=1)
    assert (failed.state, failed.attempts, failed.finished_at) == ("failed", 1, later)
    assert (postponed.state, postponed.attempts) == ("pending", 0)
    assert postponed.next_attempt_at == later + timedelta(hours=1)
    assert all(r.locked_until is None for r in (done, retry, failed, postponed))
    async with sessions() as session:
        assert await delivery_counts(session) == DeliveryCounts(pending=2, done=1, failed=1)


async def test_a_presumed_dead_workers_late_outcome_is_ignored(db, sender):
    engine, sessions = db
    await add_activity(sessions, sender, ["https://a.example/inbox"])
    first = await claim(engine, now=NOW, limit=1, lease=LEASE)
    later = NOW + LEASE + timedelta(seconds=1)
    second = await claim(engine, now=later, limit=1, lease=LEASE)
    assert first == second
    async with sessions() as session:
        stale = await load_claimed(session, first, lease_until=NOW + LEASE)
        assert stale.deliveries == []  # the lease moved on: nothing to send
        current = await load_claimed(session, second, lease_until=later + LEASE)
        (row,) = current.deliveries
        await record_outcomes(
            session, [Outcome.failed(row, 400, "late")], now=later, lease_until=NOW + LEASE
        )
        await record_outcomes(session, [Outcome.done(row, 202)], now=later, lease_until=NOW + LEASE)
        await session.commit()
    (stored,) = await rows(sessions)
    assert stored.state == "pending" and stored.locked_until == later + LEASE


async def test_released_rows_are_claimable_at_once(db, sender):
    engine, sessions = db
    await add_activity(sessions, sender, ["https://a.example/inbox"])
    ids = await claim(engine, now=NOW, limit=1, lease=LEASE)
    async with sessions() as session:
        await release(session, ids, lease_until=NOW + LEASE)
        await session.commit()
    assert await claim(engine, now=NOW, limit=1, lease=LEASE) == ids


async def test_gone_inboxes_mark_only_their_remote_actors(db, sender):
    _, sessions = db
    async with sessions() as session:
        for name in ("bob", "carol"):
            session.add(
                Actor(
                    type="Person",
                    ap_id=f"https://r.example/users/{name}",
                    username=name,
                    domain="r.example",
                    inbox_url=f"https://r.example/users/{name}/inbox",
                    shared_inbox_url="https://r.example/inbox",
                    public_key_pem="-",
                )
            )
        await session.commit()
        marked = await mark_inboxes_gone(
            session, ["https://r.example/users/bob/inbox", "https://r.example/inbox"]
        )
        await session.commit()
        gone = dict((await session.execute(select(Actor.username, Actor.gone))).all())
    assert marked == 1
    assert gone == {"nursing": False, "bob": True, "carol": False}


async def test_host_states_are_upserted(db, sender):
    _, sessions = db
    until = NOW + timedelta(minutes=1)
    async with sessions() as session:
        await save_host_states(
            session,
            [HostState("a.example", 5, until, None), HostState("b.example", 0, None, NOW)],
        )
        await session.commit()
        await save_host_states(session, [HostState("b.example", 2, None, None)])
        await session.commit()
        states = await load_host_states(session, ["a.example", "b.example", "c.example"])
        count = await session.scalar(select(func.count()).select_from(Instance))
    assert states["a.example"] == HostState("a.example", 5, until, None)
    # last_success_at is kept when an update does not bring a newer one
    assert states["b.example"] == HostState("b.example", 2, None, NOW)
    assert states["c.example"] == HostState("c.example")
    assert count == 2


async def test_postpone_host_moves_only_unclaimed_pending_rows_of_that_host(db, sender):
    engine, sessions = db
    await add_activity(sessions, sender, ["https://a.example/1", "https://a.example/2"])
    await add_activity(sessions, sender, ["https://a.example/3", "https://b.example/1"], n=2)
    claimed = await claim(engine, now=NOW, limit=1, lease=LEASE)
    until = NOW + timedelta(minutes=10)
    async with sessions() as session:
        moved = await postpone_host(session, "a.example", until=until, now=NOW, reason="open")
        await session.commit()
    assert moved == 2
    by_inbox = {(r.host, r.id): r.next_attempt_at for r in await rows(sessions)}
    assert by_inbox == {
        ("a.example", claimed[0]): NOW,
        ("a.example", claimed[0] + 1): until,
        ("a.example", claimed[0] + 2): until,
        ("b.example", claimed[0] + 3): NOW,
    }


def test_inbox_host_keeps_non_default_ports():
    assert inbox_host("https://Social.Example/inbox") == "social.example"
    assert inbox_host("https://social.example:443/inbox") == "social.example"
    assert inbox_host("http://social.example:8080/inbox") == "social.example:8080"
    assert inbox_host("https://[2001:db8::1]:8443/inbox") == "[2001:db8::1]:8443"
    assert inbox_host("mailto:x@y") is None
