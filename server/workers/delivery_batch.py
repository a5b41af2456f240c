"""One claimed batch of deliveries as the delivery worker works through it.

Outcomes are written in small batches as POSTs finish (`BatchRun.flush`), so a worker killed
mid-fan-out sends again only what it had not yet written: at most about FLUSH_ROWS plus the
POSTs in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import yarl
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.knock import Knock
from models.deliveries import (
    ClaimedBatch,
    DueDelivery,
    Outcome,
    mark_inboxes_gone,
    postpone_host,
    record_outcomes,
    release,
    save_host_states,
)
from server.workers.breaker import HostBreaker, open_reason
from server.workers.outcomes import WorkerTotals, held_outcome
from server.workers.signing import Presigned

log = logging.getLogger("server.workers.delivery")

# yarl decodes every request's hostname through a 256-entry cache; a fan-out reaches thousands.
HOSTNAME_CACHE = 8192
PROGRESS_EVERY = 10.0
FLUSH_ROWS = 32
FLUSH_SECONDS = 0.25


def grow_hostname_cache() -> None:
    """Let yarl remember as many hostnames as a fan-out reaches."""
    info = yarl.cache_info()
    size = info["idna_decode"].maxsize
    if size is not None and size < HOSTNAME_CACHE:
        yarl.cache_configure(
            idna_encode_size=HOSTNAME_CACHE,
            idna_decode_size=HOSTNAME_CACHE,
            encode_host_size=HOSTNAME_CACHE,
        )


@dataclass
class BatchRun:
    """Book-keeping for one claimed batch: what is left to start, the outcomes and their writing."""

    batch: ClaimedBatch
    hosts: dict[str, HostBreaker]
    deadline: float
    dispatched: asyncio.Event
    waiting: int = 0  # rows neither started nor set aside yet
    started: float = field(default_factory=time.monotonic)
    outcomes: list[Outcome] = field(default_factory=list)
    unstarted: list[int] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    key_ids: dict[int, str] = field(default_factory=dict)
    knocks: dict[str, Knock] = field(default_factory=dict)  # how each host's rows were signed
    signed: Presigned = field(default_factory=Presigned)
    handled: int = 0
    last_log: float = field(default_factory=time.monotonic)
    flushed: int = 0  # outcomes[:flushed] are written
    last_flush: float = field(default_factory=time.monotonic)
    flushing: asyncio.Lock = field(default_factory=asyncio.Lock)

    def take(self, queue: deque[DueDelivery]) -> DueDelivery:
        row = queue.popleft()
        self.settle(1)
        return row

    def settle(self, rows: int) -> None:
        self.waiting -= rows
        if self.waiting <= 0:
            self.dispatched.set()

    async def flush(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]
    ) -> None:
        """Write the outcomes gathered since the last write, once enough have piled up."""
        if not self._due():
            return
        if self.flushing.locked() and self._unwritten() < 2 * FLUSH_ROWS:
            return  # another lane is writing; the next flush takes these
        # Past twice FLUSH_ROWS the lanes wait for the database instead of sending on: the
        # unwritten window stays bounded even when commits are slower than the POSTs.
        async with self.flushing:
            # Asked again: the lane that held the lock may have written them. Lanes queued on a
            # slow commit each wrote the one or two outcomes gathered meanwhile (half of all
            # writes in a fan-out were of one row).
            if not self._due():
                return
            end = len(self.outcomes)
            outcomes = self.outcomes[self.flushed : end]
            self.last_flush = time.monotonic()
            try:
                async with sessions() as session:
                    await session.connection(execution_options={"sqlite_begin": "BEGIN IMMEDIATE"})
                    await record_outcomes(
                        session, outcomes, now=clock(), lease_until=self.batch.lease_until
                    )
                    await session.commit()
            except Exception:
                # Not lost: the batch's final write tries them again.
                log.exception("writing %d delivery outcomes failed", len(outcomes))
                return
            self.flushed = end

    def _unwritten(self) -> int:
        return len(self.outcomes) - self.flushed

    def _due(self) -> bool:
        unwritten = self._unwritten()
        if unwritten >= FLUSH_ROWS:
            return True
        return unwritten > 0 and time.monotonic() - self.last_flush >= FLUSH_SECONDS

    def log_progress(self, totals: WorkerTotals) -> None:
        moment = time.monotonic()
        if moment - self.last_log < PROGRESS_EVERY:
            return
        self.last_log = moment
        log.info(
            "delivering: %d/%d rows of this batch in %.0f s (totals: %s)",
            self.handled,
            len(self.batch.deliveries),
            moment - self.started,
            totals,
        )

    def log_done(self, totals: WorkerTotals) -> None:
        elapsed = time.monotonic() - self.started
        level = logging.INFO if elapsed >= PROGRESS_EVERY else logging.DEBUG
        log.log(
            level,
            "delivery batch: %d rows (%d attempted) in %.1f s; totals: %s",
            len(self.batch.deliveries),
            self.handled,
            elapsed,
            totals,
        )

    def set_aside(
        self, rows: deque[DueDelivery], host: HostBreaker, now: datetime, totals: WorkerTotals
    ) -> None:
        """Rows not started: handed back, or held until the host's open breaker closes."""
        until = host.open_until
        for row in rows:
            if until is None or until <= now:
                self.unstarted.append(row.id)
            else:
                self.outcomes.append(outcome := held_outcome(row, until, now))
                totals.count(outcome, attempted=False)
        self.settle(len(rows))

    async def finish(
        self, sessions: async_sessionmaker[AsyncSession], now: datetime, totals: WorkerTotals
    ) -> None:
        """Write what is left: outcomes, rows handed back unstarted, gone inboxes, host states."""
        lease_until = self.batch.lease_until
        changed = [(h, s) for h in self.hosts.values() if (s := h.changed_state(now)) is not None]
        async with sessions() as session:
            await session.connection(execution_options={"sqlite_begin": "BEGIN IMMEDIATE"})
            await record_outcomes(
                session, self.outcomes[self.flushed :], now=now, lease_until=lease_until
            )
            await release(session, self.unstarted, lease_until=lease_until)
            await mark_inboxes_gone(session, self.gone)
            # Sorted so that two workers lock `instances` rows in the same order.
            await save_host_states(
                session, sorted((s for _, s in changed), key=lambda state: state.domain)
            )
            await session.commit()
        for host, state in changed:
            host.saved(state)
        opened = [
            (name, until)
            for name, host in self.hosts.items()
            if (until := host.newly_opened_until(now)) is not None
        ]
        for host in self.hosts.values():
            host.written()
        totals.released += len(self.unstarted)
        totals.batches += 1
        if opened:
            await _postpone(sessions, opened, now)


async def _postpone(
    sessions: async_sessionmaker[AsyncSession], opened: list[tuple[str, datetime]], now: datetime
) -> None:
    # A separate transaction: it waits on other workers' row locks, so it must hold none
    # of the `instances` locks they may be waiting for.
    async with sessions() as session:
        for name, until in opened:
            await postpone_host(session, name, until=until, now=now, reason=open_reason(until))
        await session.commit()
