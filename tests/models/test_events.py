"""Events, RSVPs and scheduled jobs in storage, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import models.all  # noqa: F401
from models import jobs
from models.actors import Actor, create_local_actor
from models.base import Base
from models.communities import create_community
from models.database import create_engine, session_factory
from models.event_queries import EventFull, list_events, lock_event, remove_rsvp, set_rsvp, tallies
from models.events import GOING, MAYBE, WAITLIST, Event, EventHost, EventParticipant

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
TABLES = {"events", "event_hosts", "event_participants", "scheduled_jobs"}


@pytest.fixture
async def db(database_url):
    engine = create_engine(database_url)
    yield engine, session_factory(engine)
    await engine.dispose()


async def test_the_migration_builds_the_event_tables_the_models_describe(db):
    engine, _sessions = db

    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    ours = [d for d in differences if any(table in str(d) for table in TABLES)]
    assert ours == []
    assert set(Base.metadata.tables) >= TABLES
    assert {EventHost.__tablename__, EventParticipant.__tablename__} <= TABLES


async def _event(session, *, capacity=None, starts=NOW + timedelta(days=10)) -> Event:
    community = await create_community(session, "network", title="Network")
    event = Event(
        organizer_id=community.actor_id,
        name="Basecamp",
        starts_at=starts,
        ends_at=starts + timedelta(hours=6),
        timezone="Europe/London",
        capacity=capacity,
        published=NOW,
        updated=NOW,
    )
    session.add(event)
    await session.flush()
    return event


async def _people(session, count: int) -> list[Actor]:
    return [await create_local_actor(session, f"person{i}", "Person") for i in range(count)]


async def test_rsvps_are_one_per_actor_and_capacity_holds(db):
    _engine, sessions = db
    async with sessions() as session:
        event = await _event(session, capacity=2)
        alice, bob, carol = await _people(session, 3)
        event = await lock_event(session, event.id)
        first = await set_rsvp(
            session, event, actor_id=alice.id, role=MAYBE, via="web", activity_ap_id=None, now=NOW
        )
        assert (first.role, first.previous, first.changed) == (MAYBE, None, True)
        changed = await set_rsvp(
            session, event, actor_id=alice.id, role=GOING, via="web", activity_ap_id=None, now=NOW
        )
        assert (changed.role, changed.previous) == (GOING, MAYBE)
        await set_rsvp(
            session,
            event,
            actor_id=bob.id,
            role=GOING,
            via="join",
            activity_ap_id="https://m.example/join/1",
            now=NOW,
        )
        assert event.participant_count == 2
        with pytest.raises(EventFull):
            await set_rsvp(
                session,
                event,
                actor_id=carol.id,
                role=GOING,
                via="join",
                activity_ap_id=None,
                now=NOW,
            )
        waiting = await set_rsvp(
            session,
            event,
            actor_id=carol.id,
            role=GOING,
            via="vote",
            activity_ap_id=None,
            now=NOW,
            waitlist_when_full=True,
        )
        assert waiting.role == WAITLIST
        assert await tallies(session, event.id) == {GOING: 2, WAITLIST: 1}
        # A freed place goes to the first person waiting.
        assert await remove_rsvp(session, event, bob.id) == GOING
        assert await tallies(session, event.id) == {GOING: 2}
        assert event.participant_count == 2
        await session.commit()


async def test_upcoming_and_past_listings(db):
    _engine, sessions = db
    async with sessions() as session:
        soon = await _event(session)
        past = Event(
            organizer_id=soon.organizer_id,
            name="Last year",
            timezone="UTC",
            starts_at=NOW - timedelta(days=300),
            ends_at=NOW - timedelta(days=299),
            published=NOW,
            updated=NOW,
        )
        session.add(past)
        await session.commit()
        upcoming = await list_events(session, now=NOW, upcoming=True)
        before = await list_events(session, now=NOW, upcoming=False)
    assert [e.name for e in upcoming] == ["Basecamp"]
    assert [e.name for e in before] == ["Last year"]


async def test_a_job_is_claimed_once_finished_fenced_and_moved_by_its_key(db):
    engine, sessions = db
    lease = timedelta(minutes=5)
    async with sessions() as session:
        job = await jobs.schedule(
            session, kind="k", key="reminder:1", run_at=NOW, payload={"event_id": 1}
        )
        await session.commit()
    assert await jobs.claim(engine, now=NOW - timedelta(seconds=1), limit=5, lease=lease) == []
    assert await jobs.claim(engine, now=NOW, limit=5, lease=lease) == [job.id]
    assert await jobs.claim(engine, now=NOW, limit=5, lease=lease) == []  # leased
    async with sessions() as session:
        # Rescheduled while a worker holds it: that worker may no longer mark it done.
        await jobs.schedule(session, kind="k", key="reminder:1", run_at=NOW + timedelta(hours=1))
        assert not await jobs.mark_done(session, job.id, lease_until=NOW + lease, now=NOW)
        await session.commit()
    later = NOW + timedelta(hours=1)
    assert await jobs.claim(engine, now=later, limit=5, lease=lease) == [job.id]
    async with sessions() as session:
        assert await jobs.mark_done(session, job.id, lease_until=later + lease, now=later)
        await session.commit()
        row = await session.get(jobs.Job, job.id)
        assert (row.state, row.data) == (jobs.DONE, {"event_id": 1})
        assert not await jobs.cancel(session, "reminder:1")  # done jobs stay done
