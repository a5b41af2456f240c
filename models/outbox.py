"""Reading what local actors sent: outboxes and single activities."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.outgoing import OutgoingActivity


async def outbox_page(
    session: AsyncSession, actor_id: int, *, limit: int, offset: int
) -> tuple[int, list[str]]:
    """(total, bodies newest first) of the activities an actor lists in its outbox."""
    where = (OutgoingActivity.actor_id == actor_id, OutgoingActivity.in_outbox.is_(True))
    total = await session.scalar(select(func.count()).where(*where))
    query = (
        select(OutgoingActivity.body)
        .where(*where)
        .order_by(OutgoingActivity.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return int(total or 0), list(await session.scalars(query))


async def activity_body(session: AsyncSession, ap_id: str) -> str | None:
    """The exact body of an activity we sent, by its id."""
    return await session.scalar(
        select(OutgoingActivity.body).where(OutgoingActivity.ap_id == ap_id)
    )
