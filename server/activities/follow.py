"""Follow of a CoP: a stored follower and an Accept (open CoPs accept at once)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from federation.objects import object_id
from models.actors import Actor, get_local_actor
from models.communities import Community
from models.follows import upsert_follow
from server.activities.base import Context, Ignore, Reject, remote_actor
from server.activities.lookup import addressed_community
from server.services import notify
from server.services.distribution import send_accept
from server.services.moderation_rules import banned_reason


@dataclass
class Prepared:
    followed: Actor
    community: Community | None
    follower: Actor


async def verify(ctx: Context, activity: dict) -> Prepared:
    """The followed actor must be one of our CoPs or members; the follower is fetched."""
    target = object_id(activity.get("object"))
    async with ctx.sessions() as session:
        community = await addressed_community(ctx, session, [target] if target else [])
        followed = community.actor if community is not None else None
        local = ctx.urls.parse_local(target)
        if followed is None and local is not None and local[0] == "u":
            followed = await get_local_actor(session, local[1])
    if followed is None or followed.type not in ("Group", "Person"):
        raise Ignore(f"{target} is not a community or member on this server")
    follower = await remote_actor(ctx, activity["actor"])
    if follower.is_local:
        raise Ignore("local members join from the web")
    if community is not None:
        async with ctx.sessions() as session:
            refused = await banned_reason(session, community.actor_id, follower.id, ctx.clock())
        if refused is not None:
            raise Reject(refused)
    # Cached now so distribution can pick the Announce form without a fetch.
    await ctx.remote.software_for_url(follower.ap_id)
    return Prepared(followed=followed, community=community, follower=follower)


async def receive(ctx: Context, session: AsyncSession, activity: dict, prepared: Prepared) -> None:
    """Store the follower; accept at once unless the CoP approves followers by hand."""
    community = prepared.community
    manual = community is not None and community.manually_approves_followers
    state = "pending" if manual else "accepted"
    follow = await upsert_follow(
        session,
        followed_id=prepared.followed.id,
        follower_id=prepared.follower.id,
        state=state,
        activity_ap_id=activity["id"],
    )
    if follow.state == "pending" and community is not None:
        await notify.join_requested(
            session, community.actor_id, prepared.follower.id, now=ctx.clock()
        )
    if state == "accepted":
        await send_accept(session, ctx.urls, prepared.followed, prepared.follower, activity)
