"""Retention: old finished queue rows go in small batches; pending and recent rows stay.

Runs on SQLite and PostgreSQL, directly (models.retention) and as the scheduled job a worker
runs (server.workers.retention through the SchedulerWorker).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from models import jobs
from models.actors import Actor
from models.database import create_engine, session_factory
from models.outgoing import Delivery, OutgoingActivity
from models.received import ReceivedActivity, received_row
from models.retention import purge_finished
from server.urls import Urls
from server.workers.retention import (
    EVERY,
    RETENTION,
    ensure_scheduled,
    purger,
    reschedule,
)
from server.workers.scheduler import SchedulerWorker

NOW = datetime(2027, 5, 1, 12, tzinfo=UTC)
CUTOFF = NOW - timedelta(days=30)
OLD = NOW - timedelta(days=31)
RECENT = NOW - timedelta(days=29)


@pytest.fixture
async def db(database_url):
    engine = create_engine(database_url)
    yield engine, session_factory(engine)
    await engine.dispose()


async def fill(sessions, rows: list[tuple[str, str, datetime]]) -> None:
    """One received activity and one delivery per (name, state, age)."""
    async with sessions.begin() as session:
        actor = Actor(
            type="Group",
            local_name="nursing",
            username="nursing",
            public_key_pem="unused",
            private_key_pem="unused",
        )
        session.add(actor)
        await session.flush()
        activity = OutgoingActivity(
            ap_id="https://copnet.test/activities/1",
            actor_id=actor.id,
            type="Announce",
            body="{}",
            digest="SHA-256=x",
        )
        session.add(activity)
        await session.flush()
        received, deliveries = [], []
        for name, state, at in rows:
            row = received_row(
                ap_id=f"https://mastodon.test/activities/{name}",
                type="Create",
                actor_ap_id="https://mastodon.test/users/alice",
                signer_key_id="https://mastodon.test/users/alice#main-key",
                inbox="shared",
                body="{}",
            )
            received.append({**row, "state": state, "received_at": at})
            deliveries.append(
                {
                    "activity_id": activity.id,
                    "inbox_url": f"https://mastodon.test/inbox/{name}",
                    "host": "mastodon.test",
                    "state": state,
                    "next_attempt_at": at,
                    "created_at": at,
                }
            )
        await session.execute(insert(ReceivedActivity), received)
        await session.execute(insert(Delivery), deliveries)


async def left(sessions) -> tuple[set[str], set[str]]:
    async with sessions() as session:
        received = await session.scalars(select(ReceivedActivity.ap_id))
        delivered = await session.scalars(select(Delivery.inbox_url))
        return (
            {ap_id.rsplit("/", 1)[1] for ap_id in received},
            {url.rsplit("/", 1)[1] for url in delivered},
        )


MIXED = [
    ("old-done", "done", OLD),
    ("old-failed", "failed", OLD),
    ("old-rejected", "rejected", OLD),
    ("old-pending", "pending", OLD),
    ("recent-done", "done", RECENT),
    ("recent-pending", "pending", RECENT),
]
KEPT = {"old-pending", "recent-done", "recent-pending"}


async def test_old_finished_rows_go_and_pending_or_recent_rows_stay(db):
    engine, sessions = db
    await fill(sessions, MIXED)
    purged = await purge_finished(engine, cutoff=CUTOFF, batch=2)
    # Deliveries have no "rejected" state in practice, but anything not pending is finished.
    assert purged.removed == {"received_activities": 3, "deliveries": 3}
    assert purged.more is False
    assert await left(sessions) == (KEPT, KEPT)
    assert (await purge_finished(engine, cutoff=CUTOFF, batch=2)).removed == {
        "received_activities": 0,
        "deliveries": 0,
    }


async def test_removal_stops_at_its_time_budget_and_says_more_remain(db):
    engine, sessions = db
    await fill(sessions, [(f"old-{n}", "done", OLD + timedelta(minutes=n)) for n in range(7)])
    purged = await purge_finished(engine, cutoff=CUTOFF, batch=3, budget_seconds=0)
    assert purged.removed == {"received_activities": 3, "deliveries": 0}
    assert purged.more is True
    received, _delivered = await left(sessions)
    assert received == {"old-3", "old-4", "old-5", "old-6"}  # the oldest went first
    purged = await purge_finished(engine, cutoff=CUTOFF, batch=3)
    assert purged.removed == {"received_activities": 4, "deliveries": 7}
    assert await left(sessions) == (set(), set())


async def scheduled(sessions) -> jobs.Job:
    async with sessions() as session:
        job = await jobs.get_job(session, RETENTION)
        assert job is not None
        return job


def worker(engine, sessions, days: int, budget: float = 10.0) -> SchedulerWorker:
    return SchedulerWorker(
        engine,
        sessions,
        Urls("https://copnet.test"),
        handlers={RETENTION: reschedule},
        preparers={RETENTION: purger(engine, days, pause=0, budget=budget, clock=lambda: NOW)},
        clock=lambda: NOW,
    )


async def test_the_job_removes_old_rows_and_comes_back_an_hour_later(db):
    engine, sessions = db
    await fill(sessions, MIXED)
    await ensure_scheduled(sessions, NOW)
    await ensure_scheduled(sessions, NOW)  # a second process starting: still one job
    assert await worker(engine, sessions, 30).run_once() == 1
    assert await left(sessions) == (KEPT, KEPT)
    job = await scheduled(sessions)
    assert job.state == jobs.PENDING
    assert job.run_at == NOW + EVERY
    async with sessions() as session:
        assert len(list(await session.scalars(select(jobs.Job)))) == 1


async def test_zero_days_keeps_everything(db):
    engine, sessions = db
    await fill(sessions, MIXED)
    await ensure_scheduled(sessions, NOW)
    assert await worker(engine, sessions, 0).run_once() == 1
    everything = {name for name, _state, _at in MIXED}
    assert await left(sessions) == (everything, everything)
    assert (await scheduled(sessions)).run_at == NOW + EVERY
