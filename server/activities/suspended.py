"""Nothing a suspended account sends is taken: Follow, Create, Like, Join, Flag, anything."""

from __future__ import annotations

from models.moderation import suspended_actor
from server.activities.base import Context, Handler, Reject


def unsuspended(handler: Handler) -> Handler:
    """The handler, refusing activities by an account the Network's admins suspended."""

    async def verify(ctx: Context, activity: dict):
        async with ctx.sessions() as session:
            if await suspended_actor(session, activity["actor"]) is not None:
                raise Reject("the actor is suspended on this Network")
        return await handler.verify(ctx, activity)

    return Handler(verify, handler.receive)
