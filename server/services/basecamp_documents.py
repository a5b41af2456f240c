"""What a Basecamp says on the wire: its `Event` and its RSVP poll (`Question`).

The poll keeps one id and one `endTime` for its whole life, so Mastodon and GoToSocial keep
the votes they hold when the Basecamp moves or is edited: GoToSocial starts a new poll (and
drops its votes) when the options or the expiry change (gotosocial
internal/federation/dereferencing/util.go, pollChanged); Mastodon resets votes only when the
options change (app/lib/activitypub/parser/poll_parser.rb, significantly_changes?). A cancelled
Basecamp's poll keeps its `endTime` and gains `closed`, which both read as "closed now".
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.event_audiences import FULL, event_shape, shaped_event_document
from federation.event_documents import EventFacts
from federation.event_polls import PollFacts, question_document
from federation.event_time import describe_when
from federation.event_vocab import Place
from models.actors import Actor
from models.communities import Community
from models.event_queries import hosts_of, tallies
from models.events import Event
from models.instances import software_by_domain
from server.urls import Urls


def event_ap_id(urls: Urls, event: Event) -> str:
    """The ActivityPub id of any event, ours or archived."""
    return event.ap_id or urls.basecamp(event.id)


def parse_basecamp_url(urls: Urls, url: str | None) -> tuple[int, str] | None:
    """(event id, "" or "poll" or "attendees") when `url` is one of our Basecamp URLs."""
    parts = urls.local_path(url)
    if (
        parts is None
        or len(parts) < 2
        or parts[0] != "b"
        or not parts[1].isdigit()
        or len(parts[1]) > 18
    ):
        return None
    rest = parts[2:]
    if rest in ([], ["poll"], ["attendees"]):
        return int(parts[1]), (rest[0] if rest else "")
    return None


async def event_facts(session: AsyncSession, urls: Urls, event: Event) -> EventFacts:
    """What the Basecamp's `Event` document says."""
    organizer = await session.get(Actor, event.organizer_id)
    assert organizer is not None
    hosts = (await hosts_of(session, [event.id]))[event.id]
    return facts_of(urls, event, organizer, hosts)


def facts_of(urls: Urls, event: Event, organizer: Actor, hosts: Sequence[Community]) -> EventFacts:
    """The facts of an event whose organiser and hosts the caller already loaded."""
    organizer_url = urls.actor(organizer)
    return EventFacts(
        id=event_ap_id(urls, event),
        url=event.url or urls.basecamp(event.id),
        name=event.name,
        content_html=event.description_html,
        source=event.description_source,
        start=event.starts_at,
        end=event.ends_at,
        timezone=event.timezone,
        organizer=organizer_url,
        hosts=[(urls.actor(h.actor), h.actor.display_name or h.actor.username) for h in hosts],
        followers=organizer_url + "/followers",
        place=_place(event),
        online_url=event.online_url,
        capacity=event.capacity,
        going=event.participant_count,
        status=event.status,
        category=event.category,
        join_mode=event.join_mode,
        comments_enabled=event.comments_enabled,
        banner_url=event.banner_url,
        published=event.published,
        updated=event.updated,
        attendees_url=urls.basecamp_part(event.id, "attendees") if event.is_basecamp else None,
    )


def _place(event: Event) -> Place:
    return Place(
        name=event.place_name,
        street_address=event.street_address,
        locality=event.locality,
        region=event.region,
        postal_code=event.postal_code,
        country=event.country,
        latitude=event.latitude,
        longitude=event.longitude,
    )


async def event_document_for(
    session: AsyncSession, urls: Urls, event: Event, *, shape: str = FULL
) -> dict:
    """The Basecamp as an AS2 `Event`, in the shape its reader shows well (event_audiences)."""
    return shaped_event_document(await event_facts(session, urls, event), shape)


async def event_shape_for(session: AsyncSession, domain: str | None) -> str:
    """The Event shape for a server, by the software its NodeInfo reported."""
    if not domain:
        return FULL
    software = await software_by_domain(session, [domain])
    return event_shape(software.get(domain))


def poll_closes(event: Event) -> datetime:
    """The poll's `endTime`: fixed when it was first published (the start back then)."""
    return event.poll_closes_at or event.starts_at


def votes_close(event: Event) -> datetime:
    """When RSVP votes stop counting: the poll's end, the start or the call-off, if earlier."""
    ends = min(poll_closes(event), event.starts_at)
    return min(ends, event.updated) if event.is_cancelled else ends


async def question_document_for(
    session: AsyncSession, urls: Urls, event: Event, *, now: datetime
) -> dict:
    """The companion poll as an AS2 `Question` with the current tallies."""
    facts = await event_facts(session, urls, event)
    where = facts.place.one_line() or ("online" if facts.online_url else "")
    page = html.escape(facts.url)
    when = html.escape(describe_when(event.starts_at, event.ends_at, event.timezone))
    place = f", {html.escape(where)}" if where else ""
    title = f'<a href="{page}">{html.escape(event.name)}</a>'
    if event.is_cancelled:
        content = (
            f"<p>CANCELLED: {title} ({when}{place}) has been called off. "
            "This poll is closed.</p>"
            f'<p>Details: <a href="{page}">{page}</a></p>'
        )
    else:
        content = (
            f"<p>Are you coming to {title}? {when}{place}.</p>"
            f'<p>Vote to RSVP. Details and calendar: <a href="{page}">{page}</a></p>'
        )
    closes = poll_closes(event)
    closed_at = min(closes, event.updated) if event.is_cancelled else closes
    poll = PollFacts(
        id=urls.basecamp_part(event.id, "poll"),
        event_id=facts.id,
        event_url=facts.url,
        attributed_to=facts.organizer,
        followers=facts.followers,
        content_html=content,
        tallies=await tallies(session, event.id),
        closes=closes,
        closed=closed_at if event.is_cancelled or now >= closes else None,
        published=event.published,
        # Only a real edit counts as one: Mastodon shows "edited" when `updated` moves.
        updated=event.updated if event.sequence else None,
    )
    return question_document(poll)
