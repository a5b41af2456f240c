"""Votes in a Basecamp's poll, counted as RSVPs (Mastodon users cannot send Join).

Mastodon votes with `Create{Note{name: <option>, inReplyTo: <Question>}}` and no content,
addressed to the poll's author only (app/serializers/activitypub/vote_serializer.rb). One
answer per actor: a later vote replaces an earlier one. A "Going" vote beyond capacity waits on
the waitlist, because a vote cannot be refused the way a Join can.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from federation.event_polls import ROLE_BY_OPTION, is_poll_vote
from federation.objects import object_id
from federation.origin import same_origin
from models.actors import Actor
from models.event_queries import get_event
from server.activities.base import Context, Ignore, Reject, remote_actor
from server.services.basecamp_documents import parse_basecamp_url, votes_close
from server.services.basecamp_rsvps import record_rsvp


@dataclass
class Prepared:
    """What verify found: the Basecamp, the voter and the RSVP their option means."""

    event_id: int
    voter: Actor
    role: str
    vote_id: str


def wants(ctx: Context, activity: dict) -> bool:
    """True for a Create carrying a vote in one of our Basecamp polls."""
    note = activity.get("object")
    if activity.get("type") != "Create" or not is_poll_vote(note):
        return False
    found = parse_basecamp_url(ctx.urls, object_id(note.get("inReplyTo")))
    return found is not None and found[1] == "poll"


async def verify(ctx: Context, activity: dict) -> Prepared:
    """The voter must be the sender, the option one of ours, the poll still open."""
    note = activity["object"]
    vote_id = object_id(note)
    if object_id(note.get("attributedTo")) != activity["actor"]:
        raise Reject("a vote must be attributed to its sender")
    if not same_origin(vote_id, activity["actor"]):
        raise Reject("the vote's id is not on the voter's host")
    role = ROLE_BY_OPTION.get(note["name"].strip())
    if role is None:
        raise Reject(f"{note['name']!r} is not an option of this poll")
    found = parse_basecamp_url(ctx.urls, object_id(note.get("inReplyTo")))
    assert found is not None
    async with ctx.sessions() as session:
        event = await get_event(session, found[0])
    if event is None or not event.is_basecamp:
        raise Ignore("no such poll")
    if event.is_cancelled or ctx.clock() >= votes_close(event):
        raise Ignore("the poll is closed")
    voter = await remote_actor(ctx, activity["actor"])
    return Prepared(event_id=event.id, voter=voter, role=role, vote_id=vote_id or activity["id"])


async def receive(ctx: Context, session: AsyncSession, activity: dict, prepared: Prepared) -> None:
    """Record (or change) the voter's RSVP."""
    await record_rsvp(
        session,
        prepared.event_id,
        actor_id=prepared.voter.id,
        role=prepared.role,
        via="vote",
        activity_ap_id=prepared.vote_id,
        now=ctx.clock(),
        waitlist_when_full=True,
    )
