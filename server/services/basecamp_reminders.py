"""Basecamp reminders: a durable job (models.jobs) that posts a Note one day before."""

from __future__ import annotations

import html
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from federation.event_documents import describe
from models import jobs
from models.communities import Community
from models.event_queries import hosts_of
from models.events import Event
from models.follows import personal_follower_inboxes
from models.notifications import BASECAMP_REMINDER
from server.services.basecamp_documents import event_facts
from server.services.distribution import distribute
from server.services.network_actor import handle, publish_note
from server.services.notifications import tell_attendees
from server.urls import Urls

REMINDER = "basecamp.reminder"
REMINDER_AHEAD = timedelta(days=1)


def reminder_key(event_id: int) -> str:
    return f"{REMINDER}:{event_id}"


async def schedule_reminder(session: AsyncSession, event: Event, *, now: datetime) -> None:
    run_at = event.starts_at - REMINDER_AHEAD
    if run_at <= now:
        # Less than a day to go: a "tomorrow" reminder would be wrong; drop any old one.
        await jobs.cancel(session, reminder_key(event.id), now=now)
        return
    await jobs.schedule(
        session,
        kind=REMINDER,
        key=reminder_key(event.id),
        run_at=run_at,
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
    served = await personal_follower_inboxes(session, network.actor_id)
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
            by_a_group=True,
            already_served=served,
        )
    await tell_attendees(session, event, kind=BASECAMP_REMINDER, detail="", by=None, now=now)
