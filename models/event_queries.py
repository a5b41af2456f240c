"""Queries on events: listings, hosts, and RSVPs kept true under capacity."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import Actor
from models.communities import Community
from models.events import (
    GOING,
    MAYBE,
    WAITLIST,
    Event,
    EventHost,
    EventParticipant,
)


class EventFull(Exception):
    """Every place is taken."""


@dataclass(frozen=True)
class Rsvp:
    """What an RSVP changed: the role now stored and the one before (None if new)."""

    role: str
    previous: str | None

    @property
    def changed(self) -> bool:
        """False when the same answer was given again."""
        return self.role != self.previous


async def get_event(session: AsyncSession, event_id: int) -> Event | None:
    """The event with this row id."""
    return await session.get(Event, event_id)


async def get_event_by_ap_id(session: AsyncSession, ap_id: str) -> Event | None:
    """The archived remote event with this ActivityPub id."""
    return await session.scalar(select(Event).where(Event.ap_id == ap_id))


async def lock_event(session: AsyncSession, event_id: int) -> Event | None:
    """The event, row-locked until commit on PostgreSQL, so capacity checks do not race.

    SQLite needs no lock: it lets one writer at a time through.
    """
    query = select(Event).where(Event.id == event_id).with_for_update()
    return (await session.execute(query.execution_options(populate_existing=True))).scalar()


async def set_hosts(session: AsyncSession, event_id: int, community_ids: Iterable[int]) -> None:
    """Replace the CoPs hosting an event; no commit."""
    await session.execute(delete(EventHost).where(EventHost.event_id == event_id))
    for community_id in dict.fromkeys(community_ids):
        session.add(EventHost(event_id=event_id, community_id=community_id))
    await session.flush()


async def hosts_of(session: AsyncSession, event_ids: Iterable[int]) -> dict[int, list[Community]]:
    """The hosting CoPs of each event, alphabetically."""
    ids = list(set(event_ids))
    found: dict[int, list[Community]] = {event_id: [] for event_id in ids}
    if not ids:
        return found
    query = (
        select(EventHost.event_id, Community)
        .join(Community, Community.actor_id == EventHost.community_id)
        .join(Community.actor)
        .where(EventHost.event_id.in_(ids))
        .order_by(Actor.display_name, Actor.local_name)
    )
    for event_id, community in await session.execute(query):
        found[event_id].append(community)
    return found


async def list_events(
    session: AsyncSession,
    *,
    now: datetime,
    upcoming: bool,
    community_id: int | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[Event]:
    """Events not yet over (soonest first) or past ones (latest first), optionally one CoP's."""
    query = select(Event)
    if community_id is not None:
        query = query.join(EventHost, EventHost.event_id == Event.id).where(
            EventHost.community_id == community_id
        )
    if upcoming:
        query = query.where(Event.ends_at >= now).order_by(Event.starts_at, Event.id)
    else:
        query = query.where(Event.ends_at < now).order_by(Event.starts_at.desc(), Event.id.desc())
    return list(await session.scalars(query.limit(limit).offset(offset)))


async def calendar_events(
    session: AsyncSession, *, since: datetime, community_id: int | None = None, limit: int = 500
) -> list[Event]:
    """Events ending after `since`, soonest first, for a calendar feed."""
    query = select(Event).where(Event.ends_at >= since)
    if community_id is not None:
        query = query.join(EventHost, EventHost.event_id == Event.id).where(
            EventHost.community_id == community_id
        )
    return list(await session.scalars(query.order_by(Event.starts_at, Event.id).limit(limit)))


async def participant(
    session: AsyncSession, event_id: int, actor_id: int
) -> EventParticipant | None:
    """One actor's RSVP to an event."""
    return await session.scalar(
        select(EventParticipant).where(
            EventParticipant.event_id == event_id, EventParticipant.actor_id == actor_id
        )
    )


async def count_role(session: AsyncSession, event_id: int, role: str) -> int:
    """How many RSVPs of one role an event has."""
    query = select(func.count()).where(
        EventParticipant.event_id == event_id, EventParticipant.role == role
    )
    return int(await session.scalar(query) or 0)


async def tallies(session: AsyncSession, event_id: int) -> dict[str, int]:
    """RSVP counts per role (roles nobody chose are absent)."""
    query = (
        select(EventParticipant.role, func.count())
        .where(EventParticipant.event_id == event_id)
        .group_by(EventParticipant.role)
    )
    return {role: int(n) for role, n in await session.execute(query)}


async def set_rsvp(
    session: AsyncSession,
    event: Event,
    *,
    actor_id: int,
    role: str,
    via: str,
    activity_ap_id: str | None,
    now: datetime,
    waitlist_when_full: bool = False,
) -> Rsvp:
    """Record an actor's answer (one per actor; a new one replaces the old); no commit.

    Lock the event first (lock_event). A "going" answer beyond capacity raises EventFull, or
    is kept on the waitlist when `waitlist_when_full` (poll votes cannot be refused).
    """
    existing = await participant(session, event.id, actor_id)
    previous = existing.role if existing is not None else None
    if role == GOING and previous != GOING and event.capacity is not None:
        if await count_role(session, event.id, GOING) >= event.capacity:
            if not waitlist_when_full:
                raise EventFull(f"all {event.capacity} places are taken")
            role = WAITLIST
    if existing is None:
        existing = EventParticipant(event_id=event.id, actor_id=actor_id, created_at=now)
        session.add(existing)
    existing.role = role
    existing.via = via
    existing.activity_ap_id = activity_ap_id
    existing.updated_at = now
    await session.flush()
    await recount(session, event)
    return Rsvp(role=role, previous=previous)


async def remove_rsvp(session: AsyncSession, event: Event, actor_id: int) -> str | None:
    """Withdraw an actor's answer; returns the role they had (None if none); no commit."""
    existing = await participant(session, event.id, actor_id)
    if existing is None:
        return None
    role = existing.role
    await session.delete(existing)
    await session.flush()
    await recount(session, event)
    return role


async def recount(session: AsyncSession, event: Event) -> int:
    """Move waitlisted people into freed places, then store the true "going" count."""
    going = await count_role(session, event.id, GOING)
    if event.capacity is not None and going < event.capacity:
        waiting = await session.scalars(
            select(EventParticipant)
            .where(EventParticipant.event_id == event.id, EventParticipant.role == WAITLIST)
            .order_by(EventParticipant.updated_at, EventParticipant.id)
            .limit(event.capacity - going)
        )
        for row in waiting:
            row.role = GOING
            going += 1
        await session.flush()
    event.participant_count = going
    return going


async def participant_inboxes(session: AsyncSession, event_id: int) -> list[tuple[str, str | None]]:
    """(inbox, domain) of remote actors who said they are going or might (for Updates)."""
    query = (
        select(func.coalesce(Actor.shared_inbox_url, Actor.inbox_url), Actor.domain)
        .join(EventParticipant, EventParticipant.actor_id == Actor.id)
        .where(
            EventParticipant.event_id == event_id,
            EventParticipant.role.in_((GOING, MAYBE, WAITLIST)),
            Actor.local_name.is_(None),
            Actor.gone.is_(False),
            Actor.inbox_url.is_not(None),
        )
        .distinct()
    )
    return [(inbox, domain) for inbox, domain in await session.execute(query) if inbox]


async def participant_by_activity(
    session: AsyncSession, activity_ap_id: str
) -> EventParticipant | None:
    """The RSVP recorded from a given Join or vote activity id."""
    return await session.scalar(
        select(EventParticipant).where(EventParticipant.activity_ap_id == activity_ap_id)
    )
