"""Claiming due work rows so that several worker processes never take the same one.

PostgreSQL: `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n) RETURNING id`:
concurrent claimers skip each other's locked rows instead of waiting for them.
SQLite: `BEGIN IMMEDIATE` takes the write lock before reading, so claims are serialised.
A claim is a lease (`locked_until = now + lease`): if the worker dies, the row becomes due
again once the lease has passed. The lease value doubles as a fencing token: a worker records
an outcome only while `locked_until` still holds the value it set.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine


async def claim_due(
    engine: AsyncEngine,
    model: Any,
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    extra: Sequence[Any] = (),
    order_by: Sequence[Any] = (),
) -> list[int]:
    """Lease up to `limit` pending rows of `model` that are due; return their ids."""
    due = (
        model.state == "pending",
        model.next_attempt_at <= now,
        or_(model.locked_until.is_(None), model.locked_until < now),
        *extra,
    )
    query = select(model.id).where(*due).order_by(*(order_by or (model.next_attempt_at, model.id)))
    query = query.limit(limit)
    postgresql = engine.dialect.name == "postgresql"
    if postgresql:
        query = query.with_for_update(skip_locked=True)
        options: dict[str, Any] = {}
    else:
        options = {"sqlite_begin": "BEGIN IMMEDIATE"}
    async with engine.connect() as connection:
        connection = await connection.execution_options(**options)
        async with connection.begin():
            if engine.dialect.update_returning:
                # One round trip: select, lock and lease in a single statement.
                claim = (
                    update(model)
                    .where(model.id.in_(query.scalar_subquery()))
                    .values(locked_until=now + lease)
                    .returning(model.id)
                    .execution_options(synchronize_session=False)
                )
                return list((await connection.execute(claim)).scalars())
            ids = list((await connection.execute(query)).scalars())
            if ids:
                await connection.execute(
                    update(model).where(model.id.in_(ids)).values(locked_until=now + lease)
                )
    return ids
