"""Join and Leave of a Basecamp (FEP-8a8e RSVP, as Mobilizon sends them).

A Join gets an Accept from the organiser (the Network actor), or a Reject when every place is
taken or the Basecamp is cancelled or over. A Leave, or an Undo of the Join, withdraws the RSVP.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.objects import object_id
from models.actors import Actor
from models.event_queries import EventFull, get_event, participant_by_activity
from models.events import GOING, Event, EventHost
from server.activities.base import Context, Ignore, Reject, remote_actor
from server.services.basecamp_documents import parse_basecamp_url
from server.services.basecamp_rsvps import answer_join, record_rsvp, withdraw_rsvp
from server.services.moderation_rules import banned_from_any


@dataclass
class Prepared:
    """What verify found: the Basecamp and the remote actor answering."""

    event_id: int
    actor: Actor


async def verify(ctx: Context, activity: dict) -> Prepared:
    """The object must be one of our Basecamps; the sender is fetched and cached."""
    return await _prepare(ctx, activity, object_id(activity.get("object")))


async def _prepare(ctx: Context, activity: dict, target: str | None) -> Prepared:
    found = parse_basecamp_url(ctx.urls, target)
    if found is None or found[1] != "":
        raise Ignore(f"{target} is not a Basecamp on this server")
    async with ctx.sessions() as session:
        event = await get_event(session, found[0])
    if event is None or not event.is_basecamp:
        raise Ignore(f"{target} is not a Basecamp on this server")
    actor = await remote_actor(ctx, activity["actor"])
    if actor.is_local:
        raise Ignore("local members answer on the Basecamp's page")
    if activity["type"] == "Join":
        async with ctx.sessions() as session:
            hosts = await session.scalars(
                select(EventHost.community_id).where(EventHost.event_id == event.id)
            )
            refused = await banned_from_any(session, list(hosts), actor.id, ctx.clock())
        if refused is not None:
            raise Reject(f"the Basecamp's host says: {refused}")
    return Prepared(event_id=event.id, actor=actor)


async def verify_undo(ctx: Context, activity: dict) -> Prepared:
    """Undo{Join}: only the joiner may withdraw, found by the Join or by its id."""
    inner = activity.get("object")
    if isinstance(inner, dict):
        if object_id(inner.get("actor")) != activity["actor"]:
            raise Reject("an actor may only undo its own Join")
        return await _prepare(ctx, activity, object_id(inner.get("object")))
    inner_id = object_id(inner)
    async with ctx.sessions() as session:
        row = await participant_by_activity(session, inner_id) if inner_id else None
    if row is None:
        raise Ignore("no RSVP was made by that activity")
    actor = await remote_actor(ctx, activity["actor"])
    if actor.id != row.actor_id:
        raise Reject("an actor may only undo its own Join")
    return Prepared(event_id=row.event_id, actor=actor)


async def receive_join(
    ctx: Context, session: AsyncSession, activity: dict, prepared: Prepared
) -> None:
    """Count the joiner as going and Accept; Reject when full, cancelled or over."""
    now = ctx.clock()
    event = await session.get(Event, prepared.event_id)
    assert event is not None
    accepted = not event.is_cancelled and event.ends_at > now
    if accepted:
        try:
            await record_rsvp(
                session,
                event.id,
                actor_id=prepared.actor.id,
                role=GOING,
                via="join",
                activity_ap_id=activity["id"],
                now=now,
            )
        except EventFull:
            accepted = False
    await answer_join(
        session, ctx.urls, event, prepared.actor, activity, accepted=accepted, now=now
    )


async def receive_leave(
    ctx: Context, session: AsyncSession, activity: dict, prepared: Prepared
) -> None:
    """Withdraw the RSVP (a Leave, or an Undo of the Join)."""
    await withdraw_rsvp(session, prepared.event_id, actor_id=prepared.actor.id, now=ctx.clock())
