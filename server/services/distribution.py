"""What CoPs send: Accepts for follows and the Announces that redistribute every post.

Two Announce forms: FEP-1b12 `Announce{object: <the original activity>}` for
threadiverse software, and a plain `Announce{object: <object id>}` of new posts for microblog
software, because Mastodon and GoToSocial ignore an embedded Create (mbin #836).
"""

from __future__ import annotations

from collections.abc import Collection
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
    by_a_group: bool = False,
    already_served: Collection[str] = (),
) -> int:
    """Announce an accepted activity to the CoP's followers; returns the deliveries queued.

    `by_a_group`: the object is the Network actor's (a `Group`). Lemmy's and PieFed's posts and
    comments need a person as author (lemmy crates/apub/src/protocol/objects/page.rs:
    `attributed_to: ObjectId<ApubPerson>`; PieFed, Lemmy-compatible, failed on a Group author
    when importing a CoP's outbox), so such things are neither sent to threadiverse followers
    nor listed in the CoP's outbox, which they import from.
    `already_served`: personal inboxes that received the object itself (one follower each), so a
    person following both the Network and the CoP does not get it twice.
    """
    if community is None:  # a remote CoP's post, archived here: its own server distributes it
        return 0
    community_url = urls.actor(community.actor)
    threadiverse, microblog = await audiences(session, community)
    private = community.manually_approves_followers
    queued = 0
    if not by_a_group:
        # The FEP-1b12 form is always recorded: it is what the outbox lists for backfill.
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
    microblog = [inbox for inbox in microblog if inbox not in set(already_served)]
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
