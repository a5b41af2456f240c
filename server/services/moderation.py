"""What a CoP's moderators (and the Network's admins) may do, for the web, the CLI and tests.

Every action checks the actor's authority first, changes the archive, writes one entry of the
public moderation log and queues its federation: the moderator's activity (server.as2.moderation)
Announced by the CoP to its threadiverse followers (FEP-1b12), and to the person concerned when
they are on another server (Lemmy sends a ban to the banned person's inbox the same way).
The caller commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.nodeinfo import audience_kind
from models.accounts import Account
from models.actors import Actor
from models.communities import Community, CommunityModerator
from models.deliveries import enqueue
from models.follows import follower_inboxes, remove_follow
from models.instances import software_by_domain
from models.moderation import active_ban, lift_ban, log_action, set_ban
from models.posts import Post
from models.search_index import index_post
from server.as2 import moderation as as2
from server.as2.activities import announce_document
from server.urls import Urls


class NotAllowed(Exception):
    """The actor may not moderate this CoP (403)."""


class CannotModerate(Exception):
    """The action makes no sense as asked (400): already done, not in this CoP, the last mod."""


async def is_admin(session: AsyncSession, actor_id: int) -> bool:
    """True when the actor is a local member with the admin role."""
    account = await session.get(Account, actor_id)
    return account is not None and account.is_admin


async def is_moderator(session: AsyncSession, community_id: int, actor_id: int) -> bool:
    """True when the actor is one of the CoP's moderators."""
    found = await session.get(CommunityModerator, (community_id, actor_id))
    return found is not None


async def may_moderate(session: AsyncSession, community: Community, actor_id: int) -> bool:
    """Moderators of the CoP and the Network's admins may moderate it."""
    return await is_moderator(session, community.actor_id, actor_id) or await is_admin(
        session, actor_id
    )


async def _authorize(session: AsyncSession, community: Community, actor_id: int) -> Actor:
    if not await may_moderate(session, community, actor_id):
        raise NotAllowed(f"only moderators of {community.actor.local_name} may do that")
    actor = await session.get(Actor, actor_id)
    assert actor is not None
    return actor


def _in(community: Community, post: Post) -> Post:
    if post.community_id != community.actor_id:
        raise CannotModerate("that post is not in this community")
    return post


async def _federate(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    moderator: Actor,
    activity: dict,
    now: datetime,
    also: list[str | None] | None = None,
) -> None:
    """Keep the moderator's activity (so its id dereferences) and Announce it to followers."""
    await enqueue(
        session,
        actor_id=moderator.id,
        ap_id=activity["id"],
        type_=activity["type"],
        document=activity,
        inboxes=[],
        now=now,
    )
    followers = await follower_inboxes(session, community.actor_id)
    software = await software_by_domain(session, (domain for _inbox, domain in followers))
    # Microblog software does not read moderation activities (it ignores an embedded activity).
    inboxes = [
        inbox
        for inbox, domain in followers
        if audience_kind(software.get(domain or "")) == "threadiverse"
    ]
    inboxes.extend(inbox for inbox in also or [] if inbox)
    private = community.manually_approves_followers
    announce = announce_document(urls, urls.actor(community.actor), activity, now, private=private)
    await enqueue(
        session,
        actor_id=community.actor_id,
        ap_id=announce["id"],
        type_="Announce",
        document=announce,
        inboxes=inboxes,
        object_ap_id=activity["id"],
        in_outbox=True,
        now=now,
    )


async def _remote_inbox(session: AsyncSession, actor_id: int) -> str | None:
    actor = await session.get(Actor, actor_id)
    if actor is None or actor.is_local:
        return None
    return actor.shared_inbox_url or actor.inbox_url


async def remove_post(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    actor_id: int,
    post: Post,
    reason: str,
    now: datetime,
) -> None:
    """Hide a post (a thread, when it is the top post) from everyone, with a reason."""
    moderator = await _authorize(session, community, actor_id)
    _in(community, post)
    if post.is_removed:
        raise CannotModerate("that post is already removed")
    await hide_post(session, post, reason, now)
    await log_action(
        session,
        community_id=community.actor_id,
        moderator_id=moderator.id,
        action="remove",
        target_post_id=post.id,
        target_actor_id=post.author_id,
        reason=reason,
        now=now,
    )
    post_id = urls.post_id_of(post)
    activity = as2.removal(
        urls, urls.actor(moderator), urls.actor(community.actor), post_id, reason
    )
    author_inbox = await _remote_inbox(session, post.author_id)
    await _federate(session, urls, community, moderator, activity, now, [author_inbox])


async def hide_post(session: AsyncSession, post: Post, reason: str, now: datetime) -> None:
    """Mark a post removed and take it out of search."""
    post.removed_at = now
    post.removal_reason = reason
    await index_post(session, post)


async def restore_post(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    actor_id: int,
    post: Post,
    reason: str,
    now: datetime,
) -> None:
    """Bring a removed post back."""
    moderator = await _authorize(session, community, actor_id)
    _in(community, post)
    if not post.is_removed:
        raise CannotModerate("that post is not removed")
    post.removed_at = None
    post.removal_reason = None
    await index_post(session, post)
    await log_action(
        session,
        community_id=community.actor_id,
        moderator_id=moderator.id,
        action="restore",
        target_post_id=post.id,
        target_actor_id=post.author_id,
        reason=reason,
        now=now,
    )
    community_url = urls.actor(community.actor)
    removed = as2.removal(urls, urls.actor(moderator), community_url, urls.post_id_of(post), "")
    author_inbox = await _remote_inbox(session, post.author_id)
    await _federate(
        session, urls, community, moderator, as2.undo(urls, removed, reason), now, [author_inbox]
    )


def _thread_top(community: Community, post: Post) -> Post:
    _in(community, post)
    if post.thread_id is not None:
        raise CannotModerate("only a thread (its top post) can be locked or pinned")
    return post


async def set_locked(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    actor_id: int,
    thread: Post,
    locked: bool,
    reason: str,
    now: datetime,
) -> None:
    """Lock a thread against new replies (from anyone, anywhere), or unlock it."""
    moderator = await _authorize(session, community, actor_id)
    _thread_top(community, thread)
    if (thread.locked_at is not None) == locked:
        raise CannotModerate(f"that thread is already {'locked' if locked else 'unlocked'}")
    thread.locked_at = now if locked else None
    await log_action(
        session,
        community_id=community.actor_id,
        moderator_id=moderator.id,
        action="lock" if locked else "unlock",
        target_post_id=thread.id,
        reason=reason,
        now=now,
    )
    community_url = urls.actor(community.actor)
    lock = as2.lock(urls, urls.actor(moderator), community_url, urls.post_id_of(thread), reason)
    activity = lock if locked else as2.undo(urls, {**lock, "summary": ""}, reason)
    await _federate(session, urls, community, moderator, activity, now)


async def set_pinned(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    actor_id: int,
    thread: Post,
    pinned: bool,
    now: datetime,
) -> None:
    """Pin a thread to the CoP's featured collection, or unpin it."""
    moderator = await _authorize(session, community, actor_id)
    _thread_top(community, thread)
    if (thread.pinned_at is not None) == pinned:
        raise CannotModerate(f"that thread is already {'pinned' if pinned else 'unpinned'}")
    thread.pinned_at = now if pinned else None
    await log_action(
        session,
        community_id=community.actor_id,
        moderator_id=moderator.id,
        action="pin" if pinned else "unpin",
        target_post_id=thread.id,
        now=now,
    )
    name = community.actor.local_name or ""
    activity = as2.collection_change(
        urls,
        "Add" if pinned else "Remove",
        urls.actor(moderator),
        urls.actor(community.actor),
        urls.post_id_of(thread),
        urls.community_part(name, "featured"),
    )
    await _federate(session, urls, community, moderator, activity, now)


async def ban(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    actor_id: int,
    person: Actor,
    *,
    reason: str,
    expires_at: datetime | None,
    remove_content: bool,
    now: datetime,
) -> int:
    """Ban a person from the CoP (until `expires_at`, or for good); returns posts removed."""
    moderator = await _authorize(session, community, actor_id)
    if person.type not in ("Person", "Service", "Application") or person.id == community.actor_id:
        raise CannotModerate("only people can be banned")
    if await is_moderator(session, community.actor_id, person.id):
        raise CannotModerate("a moderator cannot be banned; remove them as moderator first")
    if expires_at is not None and expires_at <= now:
        raise CannotModerate("a ban must end in the future")
    await set_ban(
        session, community.actor_id, person.id, reason=reason, expires_at=expires_at, now=now
    )
    # Lemmy also ends the banned person's subscription (block_user.rs, CommunityFollower::unfollow).
    await remove_follow(session, followed_id=community.actor_id, follower_id=person.id)
    removed = 0
    if remove_content:
        posts = await session.scalars(
            select(Post).where(
                Post.community_id == community.actor_id,
                Post.author_id == person.id,
                Post.removed_at.is_(None),
            )
        )
        for post in posts:
            await hide_post(session, post, reason, now)
            removed += 1
    await log_action(
        session,
        community_id=community.actor_id,
        moderator_id=moderator.id,
        action="ban",
        target_actor_id=person.id,
        reason=reason,
        expires_at=expires_at,
        now=now,
    )
    activity = as2.block(
        urls,
        urls.actor(moderator),
        urls.actor(community.actor),
        urls.actor(person),
        reason=reason,
        expires=expires_at,
        remove_data=remove_content,
    )
    await _federate(
        session,
        urls,
        community,
        moderator,
        activity,
        now,
        [await _remote_inbox(session, person.id)],
    )
    return removed


async def unban(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    actor_id: int,
    person: Actor,
    *,
    reason: str,
    now: datetime,
) -> None:
    """Lift a person's ban from the CoP."""
    moderator = await _authorize(session, community, actor_id)
    if await active_ban(session, community.actor_id, person.id, now) is None:
        await lift_ban(session, community.actor_id, person.id)  # an expired one, if any
        raise CannotModerate("that person is not banned here")
    await lift_ban(session, community.actor_id, person.id)
    await log_action(
        session,
        community_id=community.actor_id,
        moderator_id=moderator.id,
        action="unban",
        target_actor_id=person.id,
        reason=reason,
        now=now,
    )
    blocked = as2.block(
        urls,
        urls.actor(moderator),
        urls.actor(community.actor),
        urls.actor(person),
        reason="",
        expires=None,
        remove_data=False,
    )
    await _federate(
        session,
        urls,
        community,
        moderator,
        as2.undo(urls, blocked, reason),
        now,
        [await _remote_inbox(session, person.id)],
    )


async def set_moderator(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    actor_id: int,
    person: Actor,
    appointed: bool,
    now: datetime,
) -> None:
    """Add a person to the CoP's moderators, or remove one (never the last)."""
    moderator = await _authorize(session, community, actor_id)
    if person.type != "Person":
        raise CannotModerate("only people can moderate")
    current = await is_moderator(session, community.actor_id, person.id)
    if current == appointed:
        raise CannotModerate(f"that person is {'already' if appointed else 'not'} a moderator")
    if appointed:
        if await active_ban(session, community.actor_id, person.id, now) is not None:
            raise CannotModerate("a banned person cannot moderate; unban them first")
        session.add(CommunityModerator(community_id=community.actor_id, actor_id=person.id))
    else:
        mods = await session.scalars(
            select(CommunityModerator.actor_id).where(
                CommunityModerator.community_id == community.actor_id
            )
        )
        if len(list(mods)) <= 1:
            raise CannotModerate("a community keeps at least one moderator")
        row = await session.get(CommunityModerator, (community.actor_id, person.id))
        await session.delete(row)
    await session.flush()
    await log_action(
        session,
        community_id=community.actor_id,
        moderator_id=moderator.id,
        action="add_moderator" if appointed else "remove_moderator",
        target_actor_id=person.id,
        now=now,
    )
    name = community.actor.local_name or ""
    activity = as2.collection_change(
        urls,
        "Add" if appointed else "Remove",
        urls.actor(moderator),
        urls.actor(community.actor),
        urls.actor(person),
        urls.community_part(name, "moderators"),
    )
    await _federate(session, urls, community, moderator, activity, now)
