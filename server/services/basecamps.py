"""Basecamps: gatherings the Network's CoPs host, created, edited, cancelled and federated.

A Basecamp is a Mobilizon-compatible `Event` by the Network actor
(server.services.network_actor), sent as Create to the actor's followers and announced by each
hosting CoP (server.services.distribution:
FEP-1b12 for threadiverse followers, a plain Announce for microblogs). Each one has a companion
poll (`Question`, Going / Maybe / Can't go, closing when the Basecamp starts) because Mastodon
users cannot send `Join`. Edits and cancellations go out as Updates. A reminder is a durable
job (models.jobs) that the scheduler runs one day before.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.events import (
    EventFacts,
    Place,
    PollFacts,
    describe,
    describe_when,
    event_document,
    question_document,
)
from federation.vocab import AS_CONTEXT, format_datetime
from models import jobs
from models.actors import Actor
from models.communities import (
    Community,
    get_community,
    list_communities,
    moderated_by,
)
from models.deliveries import enqueue
from models.event_queries import (
    Rsvp,
    hosts_of,
    lock_event,
    participant_inboxes,
    remove_rsvp,
    set_hosts,
    set_rsvp,
    tallies,
)
from models.events import CANCELLED, Event
from models.follows import follower_inboxes
from models.notifications import BASECAMP_CANCELLED, BASECAMP_CHANGED, BASECAMP_REMINDER
from server.as2.activities import new_activity_id
from server.services import notify
from server.services.basecamp_input import BasecampInput, InvalidBasecamp, parse_input
from server.services.distribution import distribute
from server.services.markdown import render_markdown
from server.services.network_actor import (
    DEFAULT_TITLE,
    ensure_network_actor,
    handle,
    network_actor,
    publish_note,
)
from server.services.notifications import tell_attendees
from server.urls import Urls

REMINDER = "basecamp.reminder"
RSVP_UPDATE = "basecamp.rsvp_update"
REMINDER_AHEAD = timedelta(days=1)
# Mastodon sends its own poll updates 3 minutes after a vote (DistributePollUpdateWorker);
# RSVPs are batched the same way, so a busy Basecamp sends one Update per few minutes.
RSVP_UPDATE_DELAY = timedelta(minutes=3)


# ---- URLs -----------------------------------------------------------------------------------


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


# ---- who may organise -----------------------------------------------------------------------


async def organisable_hosts(
    session: AsyncSession, actor_id: int, is_admin: bool
) -> list[Community]:
    """CoPs this member may name as hosts: every active CoP for admins, else those they moderate."""
    network = await network_actor(session)
    if is_admin:
        found = [c for c in await list_communities(session) if c.status == "active"]
    else:
        found = await moderated_by(session, actor_id)
    return [c for c in found if network is None or c.actor_id != network.actor_id]


async def may_organise(session: AsyncSession, actor_id: int, is_admin: bool) -> bool:
    """Admins and CoP moderators may create Basecamps."""
    return is_admin or bool(await organisable_hosts(session, actor_id, False))


async def may_manage(session: AsyncSession, event: Event, actor_id: int, is_admin: bool) -> bool:
    """Admins, the Basecamp's creator and moderators of a hosting CoP may edit or cancel it."""
    if not event.is_basecamp:
        return False
    if is_admin or event.created_by_id == actor_id:
        return True
    hosts = (await hosts_of(session, [event.id]))[event.id]
    allowed = {c.actor_id for c in await organisable_hosts(session, actor_id, False)}
    return any(host.actor_id in allowed for host in hosts)


async def _resolve_hosts(
    session: AsyncSession, names: Sequence[str], allowed: Sequence[Community] | None
) -> list[Community]:
    found, unknown = [], []
    allowed_ids = None if allowed is None else {c.actor_id for c in allowed}
    network = await network_actor(session)
    for name in names:
        community = await get_community(session, name)
        if community is None or (network is not None and community.actor_id == network.actor_id):
            unknown.append(name)
        elif allowed_ids is not None and community.actor_id not in allowed_ids:
            raise InvalidBasecamp({"hosts": f"You do not moderate {name}."})
        else:
            found.append(community)
    if unknown:
        raise InvalidBasecamp({"hosts": "No community named " + ", ".join(unknown) + "."})
    return found


# ---- documents ------------------------------------------------------------------------------


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


async def event_document_for(session: AsyncSession, urls: Urls, event: Event) -> dict:
    """The Basecamp as a Mobilizon-compatible AS2 `Event`."""
    return event_document(await event_facts(session, urls, event))


def poll_closes(event: Event) -> datetime:
    """When RSVP votes stop: at the start, or when the Basecamp was called off."""
    return min(event.starts_at, event.updated) if event.is_cancelled else event.starts_at


async def question_document_for(
    session: AsyncSession, urls: Urls, event: Event, *, now: datetime
) -> dict:
    """The companion poll as an AS2 `Question` with the current tallies."""
    facts = await event_facts(session, urls, event)
    where = facts.place.one_line() or ("online" if facts.online_url else "")
    page = html.escape(facts.url)
    lead = "CANCELLED: " if event.is_cancelled else ""
    content = (
        f'<p>{lead}Are you coming to <a href="{page}">{html.escape(event.name)}</a>? '
        f"{html.escape(describe_when(event.starts_at, event.ends_at, event.timezone))}"
        f"{', ' + html.escape(where) if where else ''}.</p>"
        f'<p>Vote to RSVP. Details and calendar: <a href="{page}">{page}</a></p>'
    )
    closes = poll_closes(event)
    poll = PollFacts(
        id=urls.basecamp_part(event.id, "poll"),
        event_id=facts.id,
        event_url=facts.url,
        attributed_to=facts.organizer,
        followers=facts.followers,
        content_html=content,
        tallies=await tallies(session, event.id),
        closes=closes,
        closed=now >= closes,
        published=event.published,
        # Only a real edit counts as one: Mastodon shows "edited" when `updated` moves.
        updated=event.updated if event.sequence else None,
    )
    return question_document(poll)


# ---- publishing -----------------------------------------------------------------------------


async def create_basecamp(
    session: AsyncSession,
    urls: Urls,
    data: BasecampInput,
    *,
    creator_id: int | None,
    now: datetime,
    allowed_hosts: Sequence[Community] | None = None,
    network_title: str | None = None,
) -> Event:
    """Create a Basecamp, federate it and its poll, and schedule its reminder; no commit."""
    hosts = await _resolve_hosts(session, data.host_names, allowed_hosts)
    if allowed_hosts is not None and not hosts:
        raise InvalidBasecamp({"hosts": "Choose at least one community you moderate."})
    network = await ensure_network_actor(session, title=network_title or DEFAULT_TITLE)
    event = Event(
        organizer_id=network.actor_id,
        created_by_id=creator_id,
        published=now,
        updated=now,
        sequence=0,
        participant_count=0,
    )
    _apply(event, data)
    session.add(event)
    await session.flush()
    await set_hosts(session, event.id, [h.actor_id for h in hosts])
    await _federate(session, urls, event, verb="Create", now=now)
    await _schedule_reminder(session, event, now=now)
    return event


async def update_basecamp(
    session: AsyncSession,
    urls: Urls,
    event: Event,
    data: BasecampInput,
    *,
    now: datetime,
    allowed_hosts: Sequence[Community] | None = None,
    by: int | None = None,
) -> Event:
    """Apply an edit (SEQUENCE + 1), send Updates and move the reminder if the time moved;
    those who said yes hear of it (but not `by`, who made the change)."""
    hosts = await _resolve_hosts(session, data.host_names, allowed_hosts)
    before = {host.actor_id for host in (await hosts_of(session, [event.id]))[event.id]}
    moved = data.starts_at != event.starts_at
    _apply(event, data)
    event.sequence += 1
    event.updated = now
    await set_hosts(session, event.id, [h.actor_id for h in hosts])
    await session.flush()
    added = [host for host in hosts if host.actor_id not in before]
    await _federate(session, urls, event, verb="Update", now=now, announce_by=added)
    if moved and not event.is_cancelled:
        await _schedule_reminder(session, event, now=now)
    if not event.is_cancelled:
        when = describe_when(event.starts_at, event.ends_at, event.timezone)
        detail = f"now {when}" if moved else ""
        await notify.basecamp_changed(
            session, event, kind=BASECAMP_CHANGED, detail=detail, by=by, now=now
        )
    return event


async def cancel_basecamp(
    session: AsyncSession, urls: Urls, event: Event, *, now: datetime, by: int | None = None
) -> Event:
    """Call a Basecamp off: status CANCELLED, federated as an Update; the reminder is dropped
    and those who said yes hear of it (but not `by`, who called it off)."""
    if event.is_cancelled:
        return event
    event.status = CANCELLED
    event.sequence += 1
    event.updated = now
    await session.flush()
    await _federate(session, urls, event, verb="Update", now=now)
    await jobs.cancel(session, _reminder_key(event.id), now=now)
    await notify.basecamp_changed(
        session, event, kind=BASECAMP_CANCELLED, detail="", by=by, now=now
    )
    return event


def _apply(event: Event, data: BasecampInput) -> None:
    event.name = data.name
    event.description_source = data.description
    event.description_html = render_markdown(data.description)
    event.starts_at = data.starts_at
    event.ends_at = data.ends_at
    event.timezone = data.timezone
    event.place_name = data.place.name
    event.street_address = data.place.street_address
    event.locality = data.place.locality
    event.region = data.place.region
    event.postal_code = data.place.postal_code
    event.country = data.place.country
    event.latitude = data.place.latitude
    event.longitude = data.place.longitude
    event.online_url = data.online_url
    event.capacity = data.capacity
    event.banner_url = data.banner_url
    event.category = data.category


async def _federate(
    session: AsyncSession,
    urls: Urls,
    event: Event,
    *,
    verb: str,
    now: datetime,
    announce_by: Sequence[Community] | None = None,
) -> None:
    """Send the Event and its poll: Create or Update, announced by `announce_by` (default:
    every host on Create, nobody on Update)."""
    network = await session.get(Community, event.organizer_id)
    assert network is not None
    hosts = (await hosts_of(session, [event.id]))[event.id]
    if announce_by is None:
        announce_by = hosts if verb == "Create" else []
    inboxes = [inbox for inbox, _domain in await follower_inboxes(session, network.actor_id)]
    if verb == "Update":
        # Mastodon applies an Update from the author to any status it holds, so followers of
        # the hosts (who saw the Announce) and remote participants get it directly.
        for host in hosts:
            inboxes += [inbox for inbox, _domain in await follower_inboxes(session, host.actor_id)]
        inboxes += await participant_inboxes(session, event.id)
    documents = [
        await event_document_for(session, urls, event),
        await question_document_for(session, urls, event, now=now),
    ]
    for document in documents:
        activity = _activity(urls, verb, network, document, now)
        await enqueue(
            session,
            actor_id=network.actor_id,
            ap_id=activity["id"],
            type_=verb,
            document=activity,
            inboxes=inboxes,
            object_ap_id=document["id"],
            in_outbox=True,
            now=now,
        )
        for host in announce_by:
            await distribute(
                session,
                urls,
                host,
                activity,
                object_id=document["id"],
                now=now,
                new_post=True,
                top_level=True,
            )


def _activity(urls: Urls, verb: str, network: Community, document: dict, now: datetime) -> dict:
    body = {key: value for key, value in document.items() if key != "@context"}
    return {
        # The object's terms (mz:, sc:, ical:) must be in scope for the whole activity.
        "@context": document["@context"],
        "id": new_activity_id(urls),
        "type": verb,
        "actor": urls.actor(network.actor),
        "to": document["to"],
        "cc": document["cc"],
        "object": body,
        "published": format_datetime(now),
    }


# ---- RSVPs ----------------------------------------------------------------------------------


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


# ---- scheduled jobs -------------------------------------------------------------------------


def _reminder_key(event_id: int) -> str:
    return f"{REMINDER}:{event_id}"


def _rsvp_key(event_id: int) -> str:
    return f"{RSVP_UPDATE}:{event_id}"


async def _schedule_reminder(session: AsyncSession, event: Event, *, now: datetime) -> None:
    run_at = event.starts_at - REMINDER_AHEAD
    if run_at <= now:
        # Less than a day to go: a "tomorrow" reminder would be wrong; drop any old one.
        await jobs.cancel(session, _reminder_key(event.id), now=now)
        return
    await jobs.schedule(
        session,
        kind=REMINDER,
        key=_reminder_key(event.id),
        run_at=run_at,
        payload={"event_id": event.id},
        event_id=event.id,
    )


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


async def run_reminder(session: AsyncSession, urls: Urls, payload: dict, now: datetime) -> None:
    """Post the Network actor's reminder Note and have the hosting CoPs announce it."""
    event = await session.get(Event, int(payload["event_id"]))
    if event is None or event.is_cancelled or event.starts_at <= now:
        return
    network = await session.get(Community, event.organizer_id)
    assert network is not None
    facts = await event_facts(session, urls, event)
    hosts = (await hosts_of(session, [event.id]))[event.id]
    page = html.escape(facts.url)
    content = (
        f'<p>Reminder: <a href="{page}">{html.escape(event.name)}</a> is tomorrow.</p>'
        f"<p>{html.escape(describe(facts))}</p>"
        f'<p>Details, RSVP and calendar: <a href="{page}">{page}</a></p>'
    )
    mentions = [(urls.actor(h.actor), handle(urls, h)) for h in hosts]
    _post, create = await publish_note(
        session,
        urls,
        network,
        title=f"Tomorrow: {event.name}",
        content_html=content,
        mentions=mentions,
        now=now,
    )
    for host in hosts:
        await distribute(
            session,
            urls,
            host,
            create,
            object_id=create["object"]["id"],
            now=now,
            new_post=True,
            top_level=True,
        )
    await tell_attendees(session, event, kind=BASECAMP_REMINDER, detail="", by=None, now=now)


async def run_rsvp_update(session: AsyncSession, urls: Urls, payload: dict, now: datetime) -> None:
    """Send Update{Event} (participantCount) and Update{Question} (tallies) with today's counts."""
    event = await session.get(Event, int(payload["event_id"]))
    if event is None:
        return
    await _federate(session, urls, event, verb="Update", now=now)


JOB_HANDLERS = {REMINDER: run_reminder, RSVP_UPDATE: run_rsvp_update}


# ---- demo -----------------------------------------------------------------------------------

DEMO_NAME = "Basecamp Leeds: learning from each other"
DEMO_DESCRIPTION = """\
A day together for the Network's communities in the North of England.

- **Morning:** short talks from ward nurses and social workers on what changed their practice
- **Lunch:** provided; tell us about dietary needs when you RSVP
- **Afternoon:** open-space sessions chosen on the day

Step-free access from The Headrow entrance; hearing loop in the Albert Room.
"""


async def seed_demo_basecamp(
    session: AsyncSession,
    urls: Urls,
    *,
    now: datetime,
    hosts: Sequence[str] = ("nursing_practice", "dementia_care"),
) -> Event | None:
    """Create the demo's upcoming Basecamp in Leeds (once); None if it already exists."""
    existing = await session.scalar(select(Event).where(Event.name == DEMO_NAME))
    if existing is not None:
        return None
    tz = ZoneInfo("Europe/London")
    day = (now + timedelta(days=21)).astimezone(tz).date()
    day += timedelta(days=(5 - day.weekday()) % 7)  # the Saturday three weeks or so ahead
    present = [name for name in hosts if await get_community(session, name) is not None]
    data = parse_input(
        {
            "name": DEMO_NAME,
            "description": DEMO_DESCRIPTION,
            "start": f"{day.isoformat()} 10:00",
            "end": f"{day.isoformat()} 16:00",
            "timezone": "Europe/London",
            "place_name": "Leeds Town Hall, Albert Room",
            "street_address": "The Headrow",
            "locality": "Leeds",
            "region": "West Yorkshire",
            "postal_code": "LS1 3AD",
            "country": "United Kingdom",
            "latitude": "53.80004",
            "longitude": "-1.54921",
            "capacity": "120",
            "category": "LEARNING",
        },
        present,
    )
    return await create_basecamp(session, urls, data, creator_id=None, now=now)
