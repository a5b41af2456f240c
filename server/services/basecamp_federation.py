"""Sending a Basecamp: its `Event` and poll as Create or Update, and the hosts' Announces.

Who gets what, so that a person sees each Basecamp's Event once and its poll once:
- the Network actor sends the Event and the poll to its followers (and, for an Update, to the
  hosts' followers and remote participants, because Mastodon applies an author's Update to
  any status it holds); GoToSocial inboxes get the Event in the shape GoToSocial shows well
  (federation.event_audiences), everyone else the full Mobilizon-compatible one;
- each hosting CoP announces both to its microblog followers, except the personal inboxes that
  already got them from the Network actor (on Mastodon, whose shared inbox serves many people,
  a reblog of a status already in the home feed is folded away: FeedManager's REBLOG_FALLOFF);
- threadiverse followers and the CoPs' outboxes get none of it: Lemmy and PieFed take posts
  only from people, never from a `Group` (server.services.distribution).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.event_audiences import FULL, event_shape, shaped_event_document
from federation.vocab import format_datetime
from models.communities import Community
from models.deliveries import enqueue
from models.event_queries import hosts_of, participant_inboxes
from models.events import Event
from models.follows import follower_inboxes, personal_follower_inboxes
from models.instances import software_by_domain
from server.as2.activities import new_activity_id
from server.services.basecamp_documents import event_facts, question_document_for
from server.services.distribution import distribute
from server.urls import Urls


async def federate(
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
    recipients = list(await follower_inboxes(session, network.actor_id))
    if verb == "Update":
        for host in hosts:
            recipients += await follower_inboxes(session, host.actor_id)
        recipients += await participant_inboxes(session, event.id)
    software = await software_by_domain(session, (domain for _inbox, domain in recipients))
    by_shape: dict[str, list[str]] = {FULL: []}
    for inbox, domain in recipients:
        by_shape.setdefault(event_shape(software.get(domain or "")), []).append(inbox)
    facts = await event_facts(session, urls, event)
    question = await question_document_for(session, urls, event, now=now)
    sent: list[dict] = []
    for shape, inboxes in by_shape.items():
        activity = _activity(urls, verb, network, shaped_event_document(facts, shape), now)
        await _send(session, network, activity, inboxes, in_outbox=shape == FULL, now=now)
        if shape == FULL:
            sent.append(activity)
    poll_activity = _activity(urls, verb, network, question, now)
    all_inboxes = [inbox for inbox, _domain in recipients]
    await _send(session, network, poll_activity, all_inboxes, in_outbox=True, now=now)
    sent.append(poll_activity)
    served = await personal_follower_inboxes(session, network.actor_id)
    for host in announce_by:
        for activity in sent:
            await distribute(
                session,
                urls,
                host,
                activity,
                object_id=activity["object"]["id"],
                now=now,
                new_post=True,
                top_level=True,
                by_a_group=True,
                already_served=served,
            )


async def _send(
    session: AsyncSession,
    network: Community,
    activity: dict,
    inboxes: list[str],
    *,
    in_outbox: bool,
    now: datetime,
) -> None:
    await enqueue(
        session,
        actor_id=network.actor_id,
        ap_id=activity["id"],
        type_=activity["type"],
        document=activity,
        inboxes=inboxes,
        object_ap_id=activity["object"]["id"],
        in_outbox=in_outbox,
        now=now,
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
