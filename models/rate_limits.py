"""Rate-limit events shared by every web process: one row per counted attempt.

A sign-in guess or a sign-up is one row (bucket, hashed key, wall-clock time); counting the
rows of a key within a window gives the same answer in whichever process the request lands,
so N web processes allow what one would, not N times as much. Keys are stored hashed: the
table need not hold addresses or the names people typed.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Double, Index, String, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId


class RateLimitHit(Base):
    """One counted event of a rate limit."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_key", "bucket", "key", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))  # SHA-256 hex of the key
    at: Mapped[float] = mapped_column(Double)  # seconds since the epoch


def hashed(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()


async def recent_hits(
    engine: AsyncEngine,
    bucket: str,
    key: str,
    *,
    since: float,
    limit: int,
    before: int | None = None,
) -> list[float]:
    """The times of the newest `limit` events of a key after `since` (and recorded before the
    event numbered `before`, when given), oldest first."""
    table = RateLimitHit.__table__
    query = (
        select(table.c.at)
        .where(table.c.bucket == bucket, table.c.key == hashed(key), table.c.at > since)
        .order_by(table.c.at.desc(), table.c.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(table.c.id < before)
    async with engine.connect() as connection:
        return sorted((await connection.execute(query)).scalars())


async def add_hit(engine: AsyncEngine, bucket: str, key: str, *, at: float, expired: float) -> int:
    """Count one event, and drop this key's events older than `expired`; the event's number
    (numbers grow in the order events are recorded)."""
    table = RateLimitHit.__table__
    digest = hashed(key)
    async with engine.begin() as connection:
        await connection.execute(
            delete(table).where(
                table.c.bucket == bucket, table.c.key == digest, table.c.at <= expired
            )
        )
        result = await connection.execute(
            insert(table).values(bucket=bucket, key=digest, at=at).returning(table.c.id)
        )
        return int(result.scalar_one())


async def clear_hits(engine: AsyncEngine, bucket: str, key: str) -> None:
    """Forget every event of a key."""
    table = RateLimitHit.__table__
    async with engine.begin() as connection:
        await connection.execute(
            delete(table).where(table.c.bucket == bucket, table.c.key == hashed(key))
        )


async def remove_hit(engine: AsyncEngine, number: int) -> None:
    """Forget one event by its number."""
    table = RateLimitHit.__table__
    async with engine.begin() as connection:
        await connection.execute(delete(table).where(table.c.id == number))


async def drop_latest_hit(engine: AsyncEngine, bucket: str, key: str) -> None:
    """Forget the most recent event of a key."""
    table = RateLimitHit.__table__
    digest = hashed(key)
    latest = (
        select(func.max(table.c.id))
        .where(table.c.bucket == bucket, table.c.key == digest)
        .scalar_subquery()
    )
    async with engine.begin() as connection:
        await connection.execute(delete(table).where(table.c.id == latest))


async def purge_hits(engine: AsyncEngine, *, before: float) -> int:
    """Remove every event older than `before` (keys nobody used again); how many went."""
    table = RateLimitHit.__table__
    async with engine.begin() as connection:
        result = await connection.execute(delete(table).where(table.c.at < before))
    return int(result.rowcount or 0)
