"""What members asked to hear about: threads they watch and CoPs they follow without joining.

A thread's author and everyone who replies watch it by default; a member who unwatches keeps a
row saying so (`watching` false), so the next reply does not quietly watch it again. Following a
CoP (a subscription) only brings notifications of its new threads: it is not membership.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, UTCDateTime, utcnow
from models.upsert import dialect_insert


class ThreadWatch(Base):
    """A member's choice about one thread: watching it, or (false) not any more."""

    __tablename__ = "thread_watches"

    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("accounts.actor_id", ondelete="CASCADE"), primary_key=True
    )
    thread_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    watching: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommunitySubscription(Base):
    """A member follows a CoP (without joining it) to hear of its new threads."""

    __tablename__ = "community_subscriptions"

    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("accounts.actor_id", ondelete="CASCADE"), primary_key=True
    )
    community_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("communities.actor_id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


async def set_watching(
    session: AsyncSession, account_id: int, thread_id: int, watching: bool
) -> None:
    """Watch or unwatch a thread, whatever was chosen before; no commit."""
    statement = dialect_insert(session)(ThreadWatch).values(
        account_id=account_id, thread_id=thread_id, watching=watching, created_at=utcnow()
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["account_id", "thread_id"], set_={"watching": watching}
        )
    )


async def watch_by_default(session: AsyncSession, account_id: int, thread_id: int) -> None:
    """Watch a thread one writes in, unless one chose otherwise before; no commit."""
    statement = dialect_insert(session)(ThreadWatch).values(
        account_id=account_id, thread_id=thread_id, watching=True, created_at=utcnow()
    )
    await session.execute(statement.on_conflict_do_nothing())


async def is_watching(session: AsyncSession, account_id: int, thread_id: int) -> bool:
    """True when the member watches the thread."""
    row = await session.get(ThreadWatch, (account_id, thread_id))
    return row is not None and row.watching


async def watchers(session: AsyncSession, thread_id: int) -> list[int]:
    """The accounts watching a thread."""
    query = select(ThreadWatch.account_id).where(
        ThreadWatch.thread_id == thread_id, ThreadWatch.watching.is_(True)
    )
    return list(await session.scalars(query))


async def subscribe(session: AsyncSession, account_id: int, community_id: int) -> None:
    """Follow a CoP's new threads; no commit."""
    statement = dialect_insert(session)(CommunitySubscription).values(
        account_id=account_id, community_id=community_id, created_at=utcnow()
    )
    await session.execute(statement.on_conflict_do_nothing())


async def unsubscribe(session: AsyncSession, account_id: int, community_id: int) -> bool:
    """Stop following a CoP's new threads; False when one did not follow it."""
    result = await session.execute(
        delete(CommunitySubscription).where(
            CommunitySubscription.account_id == account_id,
            CommunitySubscription.community_id == community_id,
        )
    )
    return bool(result.rowcount)


async def is_subscribed(session: AsyncSession, account_id: int, community_id: int) -> bool:
    """True when the member follows the CoP's new threads."""
    return await session.get(CommunitySubscription, (account_id, community_id)) is not None


async def subscribers(session: AsyncSession, community_id: int) -> list[int]:
    """The accounts following a CoP's new threads."""
    query = select(CommunitySubscription.account_id).where(
        CommunitySubscription.community_id == community_id
    )
    return list(await session.scalars(query))
