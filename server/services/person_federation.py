"""Telling other servers about a member: `Update{Person}` after a profile change, `Delete{Person}`
when they leave.

Both go to the member's followers, to the remote actors they follow, and to the followers of the
local CoPs they belong to (people who read their posts there cache their profile too).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import PUBLIC, format_datetime
from models.actors import Actor
from models.deliveries import enqueue
from models.follows import follower_inboxes
from models.membership_queries import following_inboxes, memberships
from server.as2.activities import new_activity_id
from server.as2.actors import person_document
from server.urls import Urls


async def audience_inboxes(session: AsyncSession, actor_id: int) -> list[str]:
    """Every inbox that should hear about this member's profile, once each."""
    inboxes = [inbox for inbox, _domain in await follower_inboxes(session, actor_id)]
    inboxes += await following_inboxes(session, actor_id)
    for group in await memberships(session, actor_id):
        if group.is_local:
            inboxes += [inbox for inbox, _domain in await follower_inboxes(session, group.id)]
    return list(dict.fromkeys(inboxes))


async def queue_person_update(
    session: AsyncSession, actor: Actor, urls: Urls, *, picture: str | None
) -> int:
    """Queue an `Update` of the member's Person to its audience; returns how many inboxes."""
    inboxes = await audience_inboxes(session, actor.id)
    if not inboxes:
        return 0
    person = person_document(actor, urls, picture=picture)
    update = {
        "@context": person["@context"],
        "id": new_activity_id(urls),
        "type": "Update",
        "actor": person["id"],
        "to": [PUBLIC],
        "cc": [person["followers"]],
        "object": {k: v for k, v in person.items() if k != "@context"},
        "published": format_datetime(actor.updated),
    }
    await enqueue(
        session,
        actor_id=actor.id,
        ap_id=update["id"],
        type_="Update",
        document=update,
        inboxes=inboxes,
        object_ap_id=person["id"],
    )
    return len(inboxes)


def person_delete_document(urls: Urls, actor: Actor) -> dict:
    """`Delete` whose object is the actor itself, the shape Mastodon and Lemmy send and accept.

    Mastodon: app/lib/activitypub/activity/delete.rb (`delete_person` when the object is the
    actor); Lemmy: crates/apub/src/activities/deletion/delete_user.rs (actor == object, to Public).
    """
    person_id = urls.person(actor.local_name or "")
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": new_activity_id(urls),
        "type": "Delete",
        "actor": person_id,
        "to": [PUBLIC],
        "object": person_id,
    }


async def queue_person_delete(session: AsyncSession, actor: Actor, urls: Urls) -> int:
    """Queue the `Delete{Person}`; call before the member's follows are removed."""
    inboxes = await audience_inboxes(session, actor.id)
    if not inboxes:
        return 0
    document = person_delete_document(urls, actor)
    await enqueue(
        session,
        actor_id=actor.id,
        ap_id=document["id"],
        type_="Delete",
        document=document,
        inboxes=inboxes,
        object_ap_id=document["object"],
    )
    return len(inboxes)
