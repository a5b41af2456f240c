"""What CoPs send: Accepts for follows and the Announces that redistribute every post.

Two Announce forms: FEP-1b12 `Announce{object: <the original activity>}` for
threadiverse software, and a plain `Announce{object: <object id>}` of new posts for microblog
software, because Mastodon and GoToSocial ignore an embedded Create (mbin #836).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.nodeinfo import audience_kind
from models.actors import Actor
from models.communities import Community
from models.deliveries import enqueue
from models.follows import follower_inboxes
from models.instances import software_by_domain
from server.as2.activities import accept_document, announce_document
from server.urls import Urls


async def send_accept(
    session: AsyncSession, urls: Urls, followed: Actor, follower: Actor, follow: dict
) -> None:
    """Queue the Accept of a Follow (of a CoP or a member) to the follower's own inbox."""
    document = accept_document(urls, urls.actor(followed), follow, urls.actor(follower))
    await enqueue(
        session,
        actor_id=followed.id,
        ap_id=document["id"],
        type_="Accept",
        document=document,
        inboxes=[follower.inbox_url] if follower.inbox_url else [],
        object_ap_id=follow.get("id"),
    )


async def audiences(session: AsyncSession, community: Community) -> tuple[list[str], list[str]]:
    """The inboxes of a CoP's followers: (threadiverse software, microblog software)."""
    followers = await follower_inboxes(session, community.actor_id)
    software = await software_by_domain(session, (domain for _inbox, domain in followers))
    threadiverse, microblog = [], []
    for inbox, domain in followers:
        kind = audience_kind(software.get(domain or ""))
        (threadiverse if kind == "threadiverse" else microblog).append(inbox)
    return threadiverse, microblog


async def distribute(
    session: AsyncSession,
    urls: Urls,
    community: Community | None,
    activity: dict,
    *,
    object_id: str,
    now: datetime,
    new_post: bool = False,
    top_level: bool = False,
) -> int:
    """Announce an accepted activity to the CoP's followers; returns the deliveries queued."""
    if community is None:  # a remote CoP's post, archived here: its own server distributes it
        return 0
    community_url = urls.actor(community.actor)
    threadiverse, microblog = await audiences(session, community)
    # The FEP-1b12 form is always recorded: it is what the outbox lists for backfill.
    private = community.manually_approves_followers
    embedded = announce_document(urls, community_url, activity, now, private=private)
    await enqueue(
        session,
        actor_id=community.actor_id,
        ap_id=embedded["id"],
        type_="Announce",
        document=embedded,
        inboxes=threadiverse,
        object_ap_id=activity.get("id"),
        in_outbox=True,
    )
    queued = len(set(threadiverse))
    wants_plain = new_post and (top_level or community.announce_replies_to_microblogs)
    if wants_plain and microblog:
        plain = announce_document(urls, community_url, object_id, now, private=private)
        await enqueue(
            session,
            actor_id=community.actor_id,
            ap_id=plain["id"],
            type_="Announce",
            document=plain,
            inboxes=microblog,
            object_ap_id=object_id,
        )
        queued += len(set(microblog))
    return queued
