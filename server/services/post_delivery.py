"""Sending a member's own activities about their post (Create, Update, Delete) to each audience.

Microblog software (Mastodon, GoToSocial) reads a Note's `name` as its content warning when
`summary` is absent (GoToSocial `internal/typeutils/astointernal.go`: "prefer Summary, fall back
to Name"), so microblog inboxes get the object without `name` (its title is already the first
line of `content`); threadiverse inboxes (Lemmy and kin, from NodeInfo as for Announces) get it
with `name`, which Lemmy needs for a post's title.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from federation.nodeinfo import audience_kind
from models.actors import Actor
from models.deliveries import enqueue
from models.follows import follower_inboxes
from models.instances import software_by_domain
from server.as2.activities import new_activity_id
from server.services.mentions import Mention
from server.urls import Urls

Inbox = tuple[str, str | None]  # (inbox URL, the domain whose software decides the shape)


async def author_audience(
    session: AsyncSession,
    author: Actor,
    group: Actor,
    mentions: Iterable[Mention],
    *,
    community_microblogs: bool = False,
    private: bool = False,
) -> list[Inbox]:
    """Where an author's activity about a post goes: their followers, a remote CoP, the people
    mentioned (the parent's author included) and, for edits and deletions, the microblog
    servers that got the post by the CoP's Announce (Mastodon only takes an Update or Delete
    from the post's author). A private CoP's post goes to the CoP alone: its members get it from
    the CoP, and nobody else (the author's followers, people mentioned) may."""
    inboxes: list[Inbox] = []
    if group.ap_id and group.inbox_url:
        inboxes.append((group.inbox_url, group.domain))
    if private:
        return inboxes
    inboxes.extend(await follower_inboxes(session, author.id))
    inboxes.extend((m.inbox, m.domain) for m in mentions if m.inbox)
    if community_microblogs and group.ap_id is None:
        followers = await follower_inboxes(session, group.id)
        software = await software_by_domain(session, (d for _i, d in followers))
        inboxes.extend(
            (inbox, domain)
            for inbox, domain in followers
            if audience_kind(software.get(domain or "")) == "microblog"
        )
    return inboxes


async def enqueue_by_audience(
    session: AsyncSession,
    urls: Urls,
    *,
    author: Actor,
    type_: str,
    build: Callable[[str, bool], dict],
    inboxes: list[Inbox],
    object_ap_id: str,
) -> dict:
    """Queue `build(activity_id, microblog)` to each inbox in the shape its software reads.

    The threadiverse form is always stored (the outbox lists it) and returned.
    """
    software = await software_by_domain(session, (d for _i, d in inboxes))
    threadiverse, microblog = [], []
    for inbox, domain in inboxes:
        kind = audience_kind(software.get(domain or ""))
        (threadiverse if kind == "threadiverse" else microblog).append(inbox)
    full = build(new_activity_id(urls), False)
    await enqueue(
        session,
        actor_id=author.id,
        ap_id=full["id"],
        type_=type_,
        document=full,
        inboxes=threadiverse,
        object_ap_id=object_ap_id,
        in_outbox=True,
    )
    microblog = [inbox for inbox in dict.fromkeys(microblog) if inbox not in threadiverse]
    if microblog:
        plain = build(new_activity_id(urls), True)
        await enqueue(
            session,
            actor_id=author.id,
            ap_id=plain["id"],
            type_=type_,
            document=plain,
            inboxes=microblog,
            object_ap_id=object_ap_id,
        )
    return full
