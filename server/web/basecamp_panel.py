"""The Basecamps panel of the home page and of a CoP page (`_upcoming_basecamps.html`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.event_time import describe_when
from models.base import utcnow
from models.communities import Community
from models.event_queries import hosts_of, list_events
from models.events import Event


@dataclass(frozen=True)
class BasecampCard:
    """A Basecamp as lists show it: when and where in words, who hosts, where to click."""

    event: Event
    hosts: list[Community]
    when: str
    where: str
    href: str


@dataclass(frozen=True)
class BasecampPanel:
    """What `_upcoming_basecamps.html` shows: upcoming and recent past Basecamps."""

    upcoming: list[BasecampCard]
    past: list[BasecampCard]
    calendar_url: str
    listing_url: str


def _where(event: Event) -> str:
    if event.has_place:
        return ", ".join(part for part in (event.place_name, event.locality) if part)
    return "Online" if event.online_url else ""


async def cards(session: AsyncSession, events: list[Event]) -> list[BasecampCard]:
    """Each event as a card, its hosts fetched in one query."""
    hosts = await hosts_of(session, [event.id for event in events])
    return [
        BasecampCard(
            event=event,
            hosts=hosts[event.id],
            when=describe_when(event.starts_at, event.ends_at, event.timezone),
            where=_where(event),
            href=f"/b/{event.id}",
        )
        for event in events
    ]


async def basecamp_panel(
    session: AsyncSession,
    *,
    community: Community | None = None,
    now: datetime | None = None,
    limit: int = 5,
) -> BasecampPanel:
    """Data for the home page (every Basecamp) or a CoP page (those it hosts)."""
    now = now or utcnow()
    community_id = community.actor_id if community is not None else None
    upcoming = await list_events(
        session, now=now, upcoming=True, community_id=community_id, limit=limit
    )
    past = await list_events(session, now=now, upcoming=False, community_id=community_id, limit=3)
    if community is None:
        feed, listing = "/basecamps.ics", "/basecamps"
    else:
        name = community.actor.local_name
        feed, listing = f"/c/{name}/basecamps.ics", f"/basecamps?community={name}"
    return BasecampPanel(
        upcoming=await cards(session, upcoming),
        past=await cards(session, past),
        calendar_url=feed,
        listing_url=listing,
    )
