"""Basecamps: gatherings the Network's CoPs host, created, edited and cancelled.

A Basecamp is a Mobilizon-compatible `Event` by the Network actor
(server.services.network_actor) with a companion poll (`Question`, Going / Maybe / Can't go)
because Mastodon users cannot send `Join`. What goes on the wire is in
server.services.basecamp_documents, who gets it in server.services.basecamp_federation, RSVPs
in server.services.basecamp_rsvps and the reminder one day before in
server.services.basecamp_reminders.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.event_time import describe_when
from models import jobs
from models.communities import (
    Community,
    get_community,
    list_communities,
    moderated_by,
)
from models.event_queries import hosts_of, set_hosts
from models.events import CANCELLED, Event
from models.notifications import BASECAMP_CANCELLED, BASECAMP_CHANGED
from server.services import notify
from server.services.basecamp_federation import federate
from server.services.basecamp_input import BasecampInput, InvalidBasecamp
from server.services.basecamp_reminders import (
    REMINDER,
    reminder_key,
    run_reminder,
    schedule_reminder,
)
from server.services.basecamp_rsvps import RSVP_UPDATE, run_rsvp_update
from server.services.markdown import render_markdown
from server.services.network_actor import DEFAULT_TITLE, ensure_network_actor, network_actor
from server.urls import Urls

JOB_HANDLERS = {REMINDER: run_reminder, RSVP_UPDATE: run_rsvp_update}


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
    event.poll_closes_at = event.starts_at  # never moves again (basecamp_documents)
    session.add(event)
    await session.flush()
    await set_hosts(session, event.id, [h.actor_id for h in hosts])
    await federate(session, urls, event, verb="Create", now=now)
    await schedule_reminder(session, event, now=now)
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
    event.poll_closes_at = event.poll_closes_at or event.starts_at  # the one already sent
    _apply(event, data)
    event.sequence += 1
    event.updated = now
    await set_hosts(session, event.id, [h.actor_id for h in hosts])
    await session.flush()
    added = [host for host in hosts if host.actor_id not in before]
    await federate(session, urls, event, verb="Update", now=now, announce_by=added)
    if moved and not event.is_cancelled:
        await schedule_reminder(session, event, now=now)
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
    await federate(session, urls, event, verb="Update", now=now)
    await jobs.cancel(session, reminder_key(event.id), now=now)
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
