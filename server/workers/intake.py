"""The intake worker: processes received activities after the inbox has answered 202.

Each row is leased (models.claims), then the handler's `verify()` runs (it may fetch, but
writes nothing to the archive), then `receive()` writes the archive and queues deliveries in
the same transaction that marks the row done. A process killed mid-way leaves the row leased;
the lease expires and another worker takes it, so nothing accepted is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.fetch import FetchError
from federation.jsonload import JsonRejected, loads_strict
from federation.objects import InvalidActivity, object_id
from federation.retry import next_attempt
from models.base import utcnow
from models.claims import claim_due
from models.received import ReceivedActivity, finish, postpone
from server.activities import handler_for
from server.activities.base import (
    Context,
    Ignore,
    Reject,
    TryAgainLater,
    reject_or_retry,
    well_formed,
)
from server.peers.policy import DomainBlocked
from server.workers.loop import Wakeable

log = logging.getLogger(__name__)
FORWARDABLE = frozenset({"Create", "Update", "Delete"})


class IntakeWorker(Wakeable):
    """Claims received activities and runs their handlers."""

    name = "intake"

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        make_context: Callable[[bool], Context],
        *,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 50,
        concurrency: int = 8,
        lease: timedelta = timedelta(minutes=5),
        on_committed: Callable[[], None] | None = None,
    ):
        self.engine = engine
        self.sessions = sessions
        self.make_context = make_context
        self.clock = clock
        self.batch = batch
        self.concurrency = concurrency
        self.lease = lease
        self.on_committed = on_committed

    async def run_once(self) -> int:
        """Claim one batch of due activities and process them; returns how many."""
        now = self.clock()
        ids = await claim_due(
            self.engine, ReceivedActivity, now=now, limit=self.batch, lease=self.lease
        )
        if not ids:
            return 0
        lease_until = now + self.lease
        async with self.sessions() as session:
            found = await session.scalars(
                select(ReceivedActivity).where(ReceivedActivity.id.in_(ids))
            )
            by_id = {row.id: row for row in found}
        rows = [by_id.get(row_id) for row_id in ids]  # in the order they were claimed
        # One actor's activities stay in order (Create before Update); actors run side by side.
        by_actor: dict[str, list[ReceivedActivity]] = defaultdict(list)
        for row in rows:
            if row is not None:
                by_actor[row.actor_ap_id].append(row)
        limit = asyncio.Semaphore(self.concurrency)

        async def run_actor(queue: list[ReceivedActivity]) -> None:
            async with limit:
                for row in queue:
                    await self._process_guarded(row, lease_until)

        await asyncio.gather(*(run_actor(queue) for queue in by_actor.values()))
        return len(ids)

    async def _process_guarded(self, row: ReceivedActivity, lease_until: datetime) -> None:
        # A row whose outcome cannot even be recorded is failed on its own; the rows claimed
        # with it go on.
        try:
            await self.process(row, lease_until=lease_until)
        except Exception as error:
            log.exception("recording the outcome of %s %r failed", row.type, row.ap_id[:200])
            reason = f"could not record the outcome: {type(error).__name__}"
            try:
                await self._record(row, lease_until, "failed", reason)
            except Exception:
                log.exception("marking %r failed failed too; its lease will expire", row.id)

    async def process(self, row: ReceivedActivity, *, lease_until: datetime) -> None:
        """Verify and receive one activity, recording the outcome on its row (while the lease
        `lease_until` is still ours; otherwise nothing is written)."""
        ctx = self.make_context(row.forwarded)
        try:
            # Strict again: rows stored before the inbox parsed strictly may hold NaN.
            activity = well_formed(loads_strict(row.body))
            if row.forwarded:
                # The object fetched from its origin is checked like any other.
                activity = well_formed(await confirm_forwarded(ctx, activity))
            handler = handler_for(ctx, activity)
            if handler is None:
                raise Ignore(f"copnet does not handle {row.type} activities")
            prepared = await handler.verify(ctx, activity)
            async with self.sessions.begin() as session:
                await handler.receive(ctx, session, activity, prepared)
                done = await finish(
                    session, row.id, lease_until=lease_until, state="done", now=self.clock()
                )
                if not done:
                    raise LeaseLost()
        except LeaseLost:
            log.info("lease on %s %r lost; its outcome is discarded", row.type, row.ap_id[:200])
            return
        except Ignore as outcome:
            await self._finish(row, lease_until, "ignored", outcome.reason)
            return
        except (Reject, InvalidActivity, DomainBlocked, JsonRejected) as outcome:
            reason = getattr(outcome, "reason", str(outcome))
            await self._finish(row, lease_until, "rejected", reason)
            return
        except TryAgainLater as outcome:
            await self._postpone(row, lease_until, outcome.reason)
            return
        except Exception as error:
            log.exception("processing %s %r failed", row.type, row.ap_id[:200])
            reason = f"internal error: {type(error).__name__}: {error}"
            await self._postpone(row, lease_until, reason)
            return
        if self.on_committed is not None:
            self.on_committed()

    async def _finish(
        self, row: ReceivedActivity, lease_until: datetime, state: str, reason: str
    ) -> None:
        log.info("%s %s %r: %r", state, row.type, row.ap_id[:200], reason[:500])
        await self._record(row, lease_until, state, reason)

    async def _record(
        self, row: ReceivedActivity, lease_until: datetime, state: str, reason: str
    ) -> None:
        async with self.sessions.begin() as session:
            await finish(
                session,
                row.id,
                lease_until=lease_until,
                state=state,
                now=self.clock(),
                error=reason,
            )

    async def _postpone(self, row: ReceivedActivity, lease_until: datetime, reason: str) -> None:
        attempts = row.attempts + 1
        now = self.clock()
        wait = next_attempt(attempts)
        log.warning(
            "%s %s %r (attempt %d): %r",
            "retry" if wait is not None else "give up",
            row.type,
            row.ap_id[:200],
            attempts,
            reason[:500],
        )
        async with self.sessions.begin() as session:
            await postpone(
                session,
                row.id,
                lease_until=lease_until,
                attempts=attempts,
                next_attempt_at=None if wait is None else now + wait,
                error=reason,
                now=now,
            )


class LeaseLost(Exception):
    """Another worker took the row after our lease ran out; our work is rolled back."""


async def confirm_forwarded(ctx: Context, activity: dict) -> dict:
    """A forwarded activity is not trusted: its object is fetched from its origin instead."""
    kind = activity.get("type")
    if kind not in FORWARDABLE:
        raise Reject(f"forwarded {kind} activities are not accepted")
    target = object_id(activity.get("object"))
    if target is None:
        raise Reject("forwarded activity has no object")
    await ctx.policy.check_urls([target])
    try:
        document = await ctx.fetcher.fetch_json(target, budget=ctx.budget)
    except FetchError as error:
        if kind == "Delete" and (error.status in (404, 410)):
            return activity  # the origin confirms the object is gone
        raise reject_or_retry(error, f"cannot confirm forwarded object {target}") from error
    if kind == "Delete":
        if document.get("type") == "Tombstone":
            return activity
        raise Reject("forwarded Delete, but the object still exists at its origin")
    if object_id(document.get("attributedTo")) != object_id(activity.get("actor")):
        raise Reject("forwarded object is attributed to someone else at its origin")
    return {**activity, "object": document}
