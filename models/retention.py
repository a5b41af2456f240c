"""Retention: finished queue rows older than the kept period are removed, a small batch at a time.

`received_activities` and `deliveries` keep every row a worker finished, which is what the
status page counts and what dedupes an activity sent twice; left alone they grow by millions a
month. Rows that are finished (not `pending`) and older than the cut-off go, oldest first, in
batches of a few thousand, each its own short transaction, so the workers (which only touch
pending rows) never wait for more than one batch. What stays: the outgoing activities
themselves, which are the documents behind copnet's activity URLs and outboxes.

After its retention period an activity a server sends again is processed again; handlers
upsert, so the only effect is the work.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from models.outgoing import Delivery
from models.received import ReceivedActivity

# table -> (model, the column a row's age counts from)
RETAINED = {
    "received_activities": (ReceivedActivity, ReceivedActivity.received_at),
    "deliveries": (Delivery, Delivery.created_at),
}


@dataclass(frozen=True)
class Purged:
    """How many rows went from each table, and whether old finished rows remain."""

    removed: dict[str, int]
    more: bool


async def purge_batch(engine: AsyncEngine, table: str, *, cutoff: datetime, limit: int) -> int:
    """Delete up to `limit` finished rows of `table` older than `cutoff`; how many went."""
    model, since = RETAINED[table]
    oldest = (
        select(model.id)
        .where(since < cutoff, model.state != "pending")
        .order_by(since)
        .limit(limit)
    )
    async with engine.begin() as connection:
        result = await connection.execute(
            delete(model).where(model.id.in_(oldest.scalar_subquery()))
        )
    return int(result.rowcount or 0)


async def purge_finished(
    engine: AsyncEngine,
    *,
    cutoff: datetime,
    batch: int = 2000,
    pause: float = 0.0,
    budget_seconds: float = 60.0,
) -> Purged:
    """Remove old finished rows from every retained table, batch after batch, until none are
    left or `budget_seconds` ran out (`more` then says to come back soon). `pause` lets other
    writers in between batches (SQLite has one writer at a time)."""
    removed = dict.fromkeys(RETAINED, 0)
    deadline = time.monotonic() + budget_seconds
    for table in RETAINED:
        while True:
            count = await purge_batch(engine, table, cutoff=cutoff, limit=batch)
            removed[table] += count
            if count < batch:
                break
            if time.monotonic() >= deadline:
                return Purged(removed, more=True)
            await asyncio.sleep(pause)
    return Purged(removed, more=False)
