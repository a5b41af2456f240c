"""Keyed jobs: two processes scheduling the same key at once end with one row and no error.

Two workers start together and each makes sure its recurring jobs are pending; before the keyed
INSERT ignored a conflict, the slower one died on the unique key (seen in CI on PostgreSQL).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from models import jobs
from models.database import create_engine, write_session_factory

NOW = datetime(2027, 5, 1, 12, tzinfo=UTC)


@pytest.fixture
async def sessions(database_url):
    engine = create_engine(database_url)
    yield write_session_factory(engine)  # as the worker schedules
    await engine.dispose()


async def test_two_sessions_scheduling_one_key_make_one_row(sessions):
    first = sessions()
    await first.begin()
    await jobs.schedule(first, kind="sweep", key="sweep", run_at=NOW)

    async def second() -> None:
        async with sessions.begin() as session:
            await jobs.schedule(
                session, kind="sweep", key="sweep", run_at=NOW + timedelta(minutes=5)
            )

    racing = asyncio.create_task(second())
    await asyncio.sleep(0.2)  # the second is now waiting on the first's uncommitted row
    await first.commit()
    await first.close()
    await racing

    async with sessions() as session:
        rows = await session.scalar(select(func.count()).where(jobs.Job.key == "sweep"))
        job = await jobs.get_job(session, "sweep")
    assert rows == 1
    assert job.state == jobs.PENDING
    assert job.run_at == NOW + timedelta(minutes=5)  # the later schedule wins, as it came last


async def test_rescheduling_a_finished_keyed_job_makes_it_pending_again(sessions):
    async with sessions.begin() as session:
        job = await jobs.schedule(session, kind="sweep", key="sweep", run_at=NOW, payload={"a": 1})
        job.state = jobs.DONE
    async with sessions.begin() as session:
        await jobs.schedule(session, kind="sweep", key="sweep", run_at=NOW + timedelta(hours=1))
    async with sessions() as session:
        job = await jobs.get_job(session, "sweep")
    assert (job.state, job.data, job.run_at) == (jobs.PENDING, {"a": 1}, NOW + timedelta(hours=1))
