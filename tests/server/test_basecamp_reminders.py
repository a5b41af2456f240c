"""The Basecamp reminder: a durable job row that fires once, a day ahead, with an injected clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models import jobs
from models.database import create_engine, session_factory
from models.event_queries import get_event
from models.outgoing import OutgoingActivity
from models.posts import Post
from server.services.basecamp_input import parse_input
from server.services.basecamp_reminders import REMINDER
from server.services.basecamps import cancel_basecamp, create_basecamp, update_basecamp
from server.services.markdown import render_markdown
from server.urls import Urls
from server.workers.scheduler import SchedulerWorker
from tests.support.instances import settings_for

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
START = datetime(2027, 3, 27, 10, tzinfo=UTC)  # 10:00 in London (GMT)
URLS = Urls("https://copnet.test")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def db(database_url):
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        from models.communities import create_community

        await create_community(
            session, "nursing", title="Nursing Practice", summary_html=render_markdown("Nurses.")
        )
    yield engine, sessions
    await engine.dispose()


def basecamp(day: str = "2027-03-27", time: str = "10:00"):
    return parse_input(
        {
            "name": "Basecamp Leeds",
            "start": f"{day} {time}",
            "end": f"{day} 16:00",
            "timezone": "Europe/London",
            "place_name": "Leeds Town Hall",
            "locality": "Leeds",
        },
        ["nursing"],
    )


async def organise(sessions) -> int:
    async with sessions.begin() as session:
        event = await create_basecamp(session, URLS, basecamp(), creator_id=None, now=NOW)
    return event.id


async def reminders(sessions) -> list[Post]:
    async with sessions() as session:
        return list(await session.scalars(select(Post).where(Post.title.like("Tomorrow:%"))))


def scheduler(engine, sessions, clock) -> SchedulerWorker:
    return SchedulerWorker(engine, sessions, URLS, clock=clock)


async def test_the_reminder_fires_once_a_day_before(db):
    engine, sessions = db
    event_id = await organise(sessions)
    clock = Clock(NOW)
    worker = scheduler(engine, sessions, clock)
    assert await worker.run_once() == 0
    clock.now = START - timedelta(days=1, seconds=1)
    assert await worker.run_once() == 0
    clock.now = START - timedelta(days=1)
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    clock.now += timedelta(hours=2)
    assert await worker.run_once() == 0
    (note,) = await reminders(sessions)
    assert note.title == "Tomorrow: Basecamp Leeds"
    assert f"https://copnet.test/b/{event_id}" in note.content_html
    assert "Saturday 27 March 2027, 10:00" in note.content_html
    async with sessions() as session:
        note_id = f"https://copnet.test/p/{note.id}"
        sent = list(
            await session.scalars(
                select(OutgoingActivity).where(OutgoingActivity.object_ap_id == note_id)
            )
        )
    creates = [json.loads(a.body) for a in sent if a.type == "Create"]
    assert [c["actor"] for c in creates] == ["https://copnet.test/c/network"]
    assert creates[0]["object"]["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    async with sessions() as session:
        # The note is the Network's (a Group's): no FEP-1b12 Announce embedding its Create is
        # recorded for the hosting CoP's outbox, which Lemmy and PieFed import from and where
        # they need a person as author (lemmy crates/apub/src/protocol/objects/page.rs).
        announce = await session.scalar(
            select(OutgoingActivity).where(OutgoingActivity.object_ap_id == creates[0]["id"])
        )
    assert announce is None


async def test_the_reminder_survives_a_restart_because_it_is_a_row(db, database_url):
    engine, sessions = db
    await organise(sessions)
    await engine.dispose()  # the process that scheduled it is gone
    fresh = create_engine(settings_for(database_url).database_url)
    try:
        fresh_sessions = session_factory(fresh)
        async with fresh_sessions() as session:
            job = await session.scalar(select(jobs.Job).where(jobs.Job.kind == REMINDER))
        assert (job.state, job.run_at) == (jobs.PENDING, START - timedelta(days=1))
        worker = scheduler(fresh, fresh_sessions, Clock(START - timedelta(hours=20)))
        assert await worker.run_once() == 1
        assert len(await reminders(fresh_sessions)) == 1
    finally:
        await fresh.dispose()


async def test_a_crashed_worker_leaves_the_job_for_another_once_its_lease_ends(db):
    engine, sessions = db
    await organise(sessions)
    due = START - timedelta(days=1)
    lease = timedelta(minutes=5)
    assert len(await jobs.claim(engine, now=due, limit=10, lease=lease)) == 1  # then it died
    assert await scheduler(engine, sessions, Clock(due + timedelta(minutes=1))).run_once() == 0
    assert await scheduler(engine, sessions, Clock(due + timedelta(minutes=6))).run_once() == 1
    assert len(await reminders(sessions)) == 1


async def test_moving_the_basecamp_moves_its_reminder(db):
    engine, sessions = db
    event_id = await organise(sessions)
    async with sessions.begin() as session:
        event = await get_event(session, event_id)
        await update_basecamp(session, URLS, event, basecamp("2027-04-03"), now=NOW)
    clock = Clock(START - timedelta(days=1))
    worker = scheduler(engine, sessions, clock)
    assert await worker.run_once() == 0
    assert await reminders(sessions) == []
    # 3 April is after the clocks change: 10:00 BST is 09:00 UTC, so the reminder is at 09:00.
    clock.now = datetime(2027, 4, 2, 9, tzinfo=UTC)
    assert await worker.run_once() == 1
    assert len(await reminders(sessions)) == 1


async def test_an_edit_that_keeps_the_time_does_not_resend_a_sent_reminder(db):
    engine, sessions = db
    event_id = await organise(sessions)
    assert await scheduler(engine, sessions, Clock(START - timedelta(days=1))).run_once() == 1
    async with sessions.begin() as session:
        event = await get_event(session, event_id)
        data = basecamp()
        await update_basecamp(session, URLS, event, data, now=START - timedelta(hours=23))
    assert await scheduler(engine, sessions, Clock(START - timedelta(hours=22))).run_once() == 0
    assert len(await reminders(sessions)) == 1


async def test_cancelling_the_basecamp_cancels_its_reminder(db):
    engine, sessions = db
    event_id = await organise(sessions)
    async with sessions.begin() as session:
        event = await get_event(session, event_id)
        await cancel_basecamp(session, URLS, event, now=NOW)
        job = await session.scalar(select(jobs.Job).where(jobs.Job.kind == REMINDER))
        assert job.state == jobs.CANCELLED
    assert await scheduler(engine, sessions, Clock(START - timedelta(days=1))).run_once() == 0
    assert await reminders(sessions) == []


async def test_a_failing_job_is_retried_later_and_then_given_up(db):
    engine, sessions = db
    async with sessions.begin() as session:
        await jobs.schedule(session, kind="broken", key="broken:1", run_at=NOW)

    async def broken(*_args):
        raise RuntimeError("the disk is full")

    clock = Clock(NOW)
    worker = SchedulerWorker(engine, sessions, URLS, clock=clock, handlers={"broken": broken})
    assert await worker.run_once() == 1
    async with sessions() as session:
        job = await jobs.get_job(session, "broken:1")
    assert (job.state, job.attempts) == (jobs.PENDING, 1)
    assert job.run_at > NOW and "the disk is full" in job.last_error
    assert await worker.run_once() == 0  # not due again yet
