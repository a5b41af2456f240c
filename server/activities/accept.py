"""Accept or Reject of a Follow one of our members sent to a remote CoP."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from federation.objects import object_id
from models.follows import Follow, find_by_activity
from server.activities.base import Context, Ignore, Reject, remote_actor


@dataclass
class Prepared:
    follow_id: int


async def verify(ctx: Context, activity: dict) -> Prepared:
    """Only the followed actor may accept or reject the follow."""
    inner = activity.get("object")
    follow_ap_id = object_id(inner)
    if follow_ap_id is None:
        raise Reject("Accept has no object")
    async with ctx.sessions() as session:
        follow = await find_by_activity(session, follow_ap_id)
        if follow is None:
            raise Ignore(f"{follow_ap_id} is not a follow sent from here")
    followed = await remote_actor(ctx, activity["actor"])
    if followed.id != follow.followed_id:
        raise Reject("only the followed actor may answer a follow")
    return Prepared(follow_id=follow.id)


async def receive_accept(
    ctx: Context, session: AsyncSession, activity: dict, prepared: Prepared
) -> None:
    """The remote CoP took our member in."""
    follow = await session.get(Follow, prepared.follow_id)
    if follow is not None:
        follow.state = "accepted"


async def receive_reject(
    ctx: Context, session: AsyncSession, activity: dict, prepared: Prepared
) -> None:
    """The remote CoP refused (or removed) our member."""
    follow = await session.get(Follow, prepared.follow_id)
    if follow is not None:
        await session.delete(follow)
