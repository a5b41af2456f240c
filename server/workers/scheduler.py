"""The scheduler: runs durable jobs (models.jobs) when they fall due.

Each due row is leased with models.claims.claim_due, so several worker processes share the
jobs and a crashed worker's lease simply runs out. A job's work and its `done` mark commit in
one transaction, and the mark is fenced by the lease: a job rescheduled or cancelled while it
ran is not marked done and its work is rolled back, so a reminder is never sent for an old
time. Failures are retried with the delivery queue's backoff (federation.retry).

A kind may also have a preparer: work that needs no database (sending a mail, extracting a
document's text) runs before the transaction opens, so no connection or SQLite write lock waits
on a remote server or a slow parser; what it returns joins the payload the handler gets. A kind
with a preparer and no handler is done once the preparer succeeded (a mail may then, rarely, go
twice; never not at all). Some kinds give up sooner than the two-day schedule
(`give_up_after`), a preparer or handler that knows trying again cannot help raises `GiveUpJob`
(the job fails at once), and `private` kinds have their payload emptied once finished.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.retry import next_attempt
from models import jobs
from models.base import utcnow
from server.urls import Urls
from server.workers.loop import Wakeable

log = logging.getLogger(__name__)

JobHandler = Callable[[AsyncSession, Urls, dict[str, Any], datetime], Awaitable[None]]
# Work outside the database, before the job's transaction opens; returns what joins the payload.
JobPreparer = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]


class GiveUpJob(Exception):
    """Trying again cannot help (a mail server refused the address for good): the job fails at
    once, with this exception's message as its error."""


class _Superseded(Exception):
    """The job was rescheduled or cancelled while it ran; its work must not commit."""


class SchedulerWorker(Wakeable):
    """Claims due scheduled jobs and runs the handler registered for their kind."""

    name = "scheduler"
    poll = 15.0

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        urls: Urls,
        *,
        handlers: Mapping[str, JobHandler] | None = None,
        preparers: Mapping[str, JobPreparer] | None = None,
        give_up_after: Mapping[str, timedelta] | None = None,
        private: Collection[str] = (),
        clock: Callable[[], datetime] = utcnow,
        batch: int = 20,
        lease: timedelta = timedelta(minutes=5),
        on_committed: Callable[[], None] | None = None,
    ):
        if handlers is None:
            from server.services.job_kinds import JOB_HANDLERS

            handlers = JOB_HANDLERS
        self.engine = engine
        self.sessions = sessions
        self.urls = urls
        self.handlers = dict(handlers)
        self.preparers = dict(preparers or {})
        # Kinds given up sooner than the retry schedule's two days (a mail a day late is news
        # no more).
        self.give_up_after = dict(give_up_after or {})
        # Kinds whose payload is personal or secret (a mail, an address): emptied once finished.
        self.private = frozenset(private)
        self.clock = clock
        self.batch = batch
        self.lease = lease
        self.on_committed = on_committed

    async def run_once(self) -> int:
        """Claim one batch of due jobs and run them one by one; returns how many were claimed."""
        now = self.clock()
        lease_until = now + self.lease
        ids = await jobs.claim(self.engine, now=now, limit=self.batch, lease=self.lease)
        if not ids:
            return 0
        # Read once for the batch: a job rescheduled meanwhile loses our lease and is not run.
        async with self.sessions() as session:
            claimed = {job.id: job for job in await session.scalars(jobs.by_ids(ids))}
        for job_id in ids:
            job = claimed.get(job_id)
            if job is not None:
                await self._run(job_id, job.kind, job.payload, lease_until)
        return len(ids)

    async def _run(self, job_id: int, kind: str, stored: str, lease_until: datetime) -> None:
        try:
            payload = json.loads(stored or "{}")
            handler = self.handlers.get(kind)
            prepare = self.preparers.get(kind)
            if handler is None and prepare is None:
                raise LookupError(f"no handler for scheduled jobs of kind {kind!r}")
            if prepare is not None:
                payload = {**payload, **(await prepare(payload) or {})}
            async with self.sessions.begin() as session:
                now = self.clock()
                # Marked first: on PostgreSQL this row lock makes a concurrent reschedule wait.
                done = await jobs.mark_done(
                    session,
                    job_id,
                    lease_until=lease_until,
                    now=now,
                    forget_payload=kind in self.private,
                )
                if not done:
                    raise _Superseded
                if handler is not None:
                    await handler(session, self.urls, payload, now)
        except _Superseded:
            log.info("scheduled job %s (%s) changed while running; not done", job_id, kind)
            return
        except GiveUpJob as hopeless:
            log.warning("scheduled job %s (%s) given up: %s", job_id, kind, hopeless)
            await self._failed(job_id, kind, lease_until, str(hopeless), retry=False)
            return
        except Exception as error:
            log.exception("scheduled job %s (%s) failed", job_id, kind)
            await self._failed(job_id, kind, lease_until, f"{type(error).__name__}: {error}")
            return
        if self.on_committed is not None:
            self.on_committed()

    async def _failed(
        self, job_id: int, kind: str, lease_until: datetime, error: str, *, retry: bool = True
    ) -> None:
        now = self.clock()
        async with self.sessions.begin() as session:
            job = await session.get(jobs.Job, job_id)
            attempts = (job.attempts if job is not None else 0) + 1
            wait = next_attempt(attempts) if retry else None
            limit = self.give_up_after.get(kind)
            if wait is not None and limit is not None and job is not None:
                if now + wait - job.created_at > limit:
                    wait = None
            retry_at = None if wait is None else now + wait
            await jobs.mark_failed(
                session,
                job_id,
                lease_until=lease_until,
                now=now,
                error=error,
                retry_at=retry_at,
                forget_payload=kind in self.private,
            )
