"""Remote `Event`s (Mobilizon, Gancio, Friendica...) posted into a CoP, archived as events.

An Event is kept as an event of the CoP (with its times, place and status), not flattened into
a thread, and the CoP announces it like a post. An Update from the organiser refreshes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from federation.event_parsing import ParsedEvent, parse_event
from federation.objects import InvalidActivity, ids_of
from federation.origin import same_origin
from models.actors import Actor
from models.communities import Community, is_moderator
from models.event_queries import get_event_by_ap_id, set_hosts
from models.events import Event
from server.activities.base import Context, Ignore, Reject, remote_actor
from server.activities.create import authors_addressing
from server.activities.lookup import addressed_community
from server.services.content import sanitize_remote_html
from server.services.distribution import distribute

# The counts' columns are 32-bit integers.
MAX_COUNT = 2**31 - 1


@dataclass
class Prepared:
    """What verify found: the parsed Event, its organiser and its CoP (or the archived row)."""

    event: ParsedEvent
    organizer: Actor
    community: Community | None
    existing_id: int | None = None


def _parse(activity: dict) -> ParsedEvent:
    try:
        event = parse_event(activity.get("object"))
    except InvalidActivity as error:
        raise Reject(str(error)) from error
    sender = activity["actor"]
    # Mobilizon sends as the organising person with the group in attributedTo; either may.
    if sender not in (*event.attributed_to, event.actor):
        raise Reject("the Event is organised by someone other than the activity's actor")
    if not same_origin(event.id, sender):
        raise Reject("the Event's id is not on the actor's host")
    for label, count in (
        ("capacity", event.capacity),
        ("participantCount", event.participant_count),
    ):
        if count is not None and count > MAX_COUNT:
            raise Reject(f"the Event's {label} {count} is out of range")
    return event


def _organizer_id(event: ParsedEvent, sender: str) -> str:
    return next((a for a in event.attributed_to if same_origin(a, event.id)), sender)


async def verify(ctx: Context, activity: dict) -> Prepared:
    """A public Event addressed to one of our CoPs, by its organiser, not yet archived."""
    event = _parse(activity)
    if not event.is_public:
        raise Ignore("only public events are archived in a community")
    await ctx.policy.check_urls([event.id, activity["actor"]])
    organizer = await remote_actor(ctx, _organizer_id(event, activity["actor"]))
    sender = await remote_actor(ctx, activity["actor"])
    recipients = [*event.recipients]
    for key in () if ctx.forwarded else ("to", "cc", "audience"):
        recipients += ids_of(activity.get(key))
    async with ctx.sessions() as session:
        if await get_event_by_ap_id(session, event.id) is not None:
            raise Ignore(f"{event.id} is already archived")
        community = await addressed_community(ctx, session, recipients)
        if community is None:
            raise Ignore("not addressed to a community on this server")
        if community.posting_restricted_to_mods and not await is_moderator(
            session, community.actor_id, sender.id
        ):
            raise Reject("only moderators may post in this community")
    return Prepared(event=event, organizer=organizer, community=community)


async def receive(ctx: Context, session: AsyncSession, activity: dict, prepared: Prepared) -> None:
    """Archive the event in the CoP and announce it to the CoP's followers."""
    assert prepared.community is not None
    now = ctx.clock()
    row = Event(
        ap_id=prepared.event.id,
        organizer_id=prepared.organizer.id,
        sequence=0,
        published=prepared.event.published or now,
    )
    _copy(row, prepared.event, now)
    session.add(row)
    await session.flush()
    await set_hosts(session, row.id, [prepared.community.actor_id])
    await distribute(
        session,
        ctx.urls,
        prepared.community,
        authors_addressing(activity) if ctx.forwarded else activity,
        object_id=prepared.event.id,
        now=now,
        new_post=True,
        top_level=True,
    )


async def verify_update(ctx: Context, activity: dict) -> Prepared:
    """An Update of an archived Event, from its host (the organiser's server)."""
    event = _parse(activity)
    async with ctx.sessions() as session:
        existing = await get_event_by_ap_id(session, event.id)
        if existing is None:
            raise Ignore(f"{event.id} is not archived here")
        organizer = await session.get(Actor, existing.organizer_id)
    assert organizer is not None
    if not same_origin(organizer.ap_id, activity["actor"]):
        raise Reject("only the organiser's server may update an event")
    return Prepared(event=event, organizer=organizer, community=None, existing_id=existing.id)


async def receive_update(
    ctx: Context, session: AsyncSession, activity: dict, prepared: Prepared
) -> None:
    """Refresh the archived copy (time, place, status...)."""
    row = await session.get(Event, prepared.existing_id)
    if row is None:
        return
    _copy(row, prepared.event, ctx.clock())
    row.sequence += 1


def _copy(row: Event, event: ParsedEvent, now) -> None:
    row.url = event.url
    row.name = event.name
    row.description_html = sanitize_remote_html(event.content_html)
    row.description_source = event.source
    row.starts_at = event.start
    row.ends_at = event.end
    row.timezone = event.timezone
    row.place_name = event.place.name[:512]
    row.street_address = event.place.street_address[:512]
    row.locality = event.place.locality[:255]
    row.region = event.place.region[:255]
    row.postal_code = event.place.postal_code[:32]
    row.country = event.place.country[:255]
    row.latitude = event.place.latitude
    row.longitude = event.place.longitude
    row.online_url = (event.online_url or "")[:2048] or None
    row.capacity = event.capacity
    row.banner_url = (event.banner_url or "")[:2048] or None
    row.category = event.category
    row.join_mode = event.join_mode[:16]
    row.comments_enabled = event.comments_enabled
    row.status = event.status
    row.participant_count = event.participant_count
    row.updated = event.updated or now
