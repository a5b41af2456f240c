"""RSVPs to a Basecamp: recorded under the event's lock, counts sent in batched Updates.

A Join (FEP-8a8e), a poll vote (Mastodon's wire format) or the website's form all land here;
each actor has one answer, and a new one replaces the old.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import AS_CONTEXT, format_datetime
from models import jobs
from models.actors import Actor
from models.deliveries import enqueue
from models.event_queries import Rsvp, lock_event, remove_rsvp, set_rsvp
from models.events import Event
from server.as2.activities import new_activity_id
from server.services.basecamp_federation import federate
from server.urls import Urls

RSVP_UPDATE = "basecamp.rsvp_update"
# Mastodon sends its own poll updates 3 minutes after a vote (DistributePollUpdateWorker);
# RSVPs are batched the same way, so a busy Basecamp sends one Update per few minutes.
RSVP_UPDATE_DELAY = timedelta(minutes=3)


async def record_rsvp(
    session: AsyncSession,
    event_id: int,
    *,
    actor_id: int,
    role: str,
    via: str,
    activity_ap_id: str | None,
    now: datetime,
    waitlist_when_full: bool = False,
) -> tuple[Event, Rsvp]:
    """Store an RSVP under the event's lock and batch an Update of the counts; no commit.

    Raises models.event_queries.EventFull when "going" is asked of a full Basecamp.
    """
    event = await lock_event(session, event_id)
    if event is None:
        raise LookupError(f"no event {event_id}")
    rsvp = await set_rsvp(
        session,
        event,
        actor_id=actor_id,
        role=role,
        via=via,
        activity_ap_id=activity_ap_id,
        now=now,
        waitlist_when_full=waitlist_when_full,
    )
    if rsvp.changed:
        await schedule_rsvp_update(session, event, now=now)
    return event, rsvp


async def withdraw_rsvp(
    session: AsyncSession, event_id: int, *, actor_id: int, now: datetime
) -> str | None:
    """Remove an actor's RSVP (a Leave, or "not any more" on the web); returns the old role."""
    event = await lock_event(session, event_id)
    if event is None:
        return None
    role = await remove_rsvp(session, event, actor_id)
    if role is not None:
        await schedule_rsvp_update(session, event, now=now)
    return role


async def answer_join(
    session: AsyncSession,
    urls: Urls,
    event: Event,
    joiner: Actor,
    join: dict,
    *,
    accepted: bool,
    now: datetime,
) -> dict:
    """Queue the organiser's Accept (or Reject, when full) of a Join to the joiner (FEP-8a8e)."""
    network = await session.get(Actor, event.organizer_id)
    assert network is not None
    document = {
        "@context": AS_CONTEXT,
        "id": new_activity_id(urls),
        "type": "Accept" if accepted else "Reject",
        "actor": urls.actor(network),
        "to": [urls.actor(joiner)],
        "object": join,
        "published": format_datetime(now),
    }
    await enqueue(
        session,
        actor_id=network.id,
        ap_id=document["id"],
        type_=document["type"],
        document=document,
        inboxes=[joiner.inbox_url] if joiner.inbox_url else [],
        object_ap_id=join.get("id"),
        now=now,
    )
    return document


def _rsvp_key(event_id: int) -> str:
    return f"{RSVP_UPDATE}:{event_id}"


async def schedule_rsvp_update(session: AsyncSession, event: Event, *, now: datetime) -> None:
    """Send the new counts in a few minutes, unless an update is already waiting."""
    if not event.is_basecamp:
        return
    pending = await jobs.get_job(session, _rsvp_key(event.id))
    if pending is not None and pending.state == jobs.PENDING:
        return
    await jobs.schedule(
        session,
        kind=RSVP_UPDATE,
        key=_rsvp_key(event.id),
        run_at=now + RSVP_UPDATE_DELAY,
        payload={"event_id": event.id},
        event_id=event.id,
    )


async def run_rsvp_update(session: AsyncSession, urls: Urls, payload: dict, now: datetime) -> None:
    """Send Update{Event} (participantCount) and Update{Question} (tallies) with today's counts."""
    event = await session.get(Event, int(payload["event_id"]))
    if event is None:
        return
    await federate(session, urls, event, verb="Update", now=now)
