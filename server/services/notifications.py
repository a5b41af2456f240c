"""Making notifications, in the scheduler, from the jobs server.services.notify queued.

Each member hears of one thing once, by the first reason that applies to them: a reply to
their post, then a mention, then a reply in a thread they watch (or, for a new thread, that
they joined or follow its CoP). Nobody is told of their own doing; a suspended or banned
actor's doing notifies nobody; a banned member, or one who may not read a private CoP, is told
nothing of it; a post deleted or removed before the job ran notifies nobody.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import get_local_actor
from models.communities import Community, is_moderator
from models.events import Event
from models.follows import Follow
from models.notification_audience import (
    admin_accounts,
    going_accounts,
    is_silenced,
    local_accounts,
    member_accounts,
    moderator_accounts,
)
from models.notification_queries import add_notification, told_about
from models.notifications import (
    BASECAMP_CANCELLED,
    BASECAMP_CHANGED,
    JOIN_REQUEST,
    LIKE,
    MENTION,
    NEW_THREAD,
    REPLY,
    REPORT,
    WATCHED_REPLY,
)
from models.posts import Like, Post
from models.reports import Report
from models.watching import subscribers, watchers
from server.services import notify
from server.services.moderation import is_admin
from server.services.private_cops import is_member
from server.urls import Urls


async def may_hear(
    session: AsyncSession, account_id: int, community: Community | None, now: datetime
) -> bool:
    """True when the member may be told of something in this CoP."""
    community_id = community.actor_id if community is not None else None
    if await is_silenced(session, account_id, community_id, now):
        return False
    if community is None or not community.manually_approves_followers:
        return True
    return (
        await is_member(session, community, account_id)
        or await is_moderator(session, community.actor_id, account_id)
        or await is_admin(session, account_id)
    )


async def _tell(
    session: AsyncSession,
    recipients: dict[int, str],
    *,
    actor_id: int | None,
    community: Community | None,
    now: datetime,
    post_id: int | None = None,
    event_id: int | None = None,
    detail: str = "",
    group_id: int | None = None,
) -> None:
    """Notify each recipient (account -> kind) who may hear of it, never the actor; `group_id`
    names a CoP on another server (which has no `community`)."""
    accounts = await local_accounts(session, recipients)
    for account_id, kind in recipients.items():
        if account_id == actor_id or account_id not in accounts:
            continue
        if not await may_hear(session, account_id, community, now):
            continue
        await add_notification(
            session,
            account_id=account_id,
            kind=kind,
            actor_id=actor_id,
            post_id=post_id,
            community_id=community.actor_id if community is not None else group_id,
            event_id=event_id,
            detail=detail,
            now=now,
        )


async def _visible_post(session: AsyncSession, post_id: int) -> Post | None:
    """The post, unless it (or its thread) was deleted or removed meanwhile."""
    post = await session.get(Post, post_id)
    if post is None or post.is_deleted or post.is_removed:
        return None
    if post.thread_id is not None:
        root = await session.get(Post, post.thread_id)
        if root is None or root.is_removed:
            return None
    return post


async def _mentioned_accounts(session: AsyncSession, urls: Urls, hrefs: list[str]) -> list[int]:
    found = []
    for href in hrefs:
        local = urls.parse_local(href)
        if local is not None and local[0] == "u":
            actor = await get_local_actor(session, local[1])
            if actor is not None:
                found.append(actor.id)
    return found


async def _on_post(session: AsyncSession, urls: Urls, payload: dict, now: datetime) -> None:
    post = await _visible_post(session, int(payload["post_id"]))
    if post is None or await is_silenced(session, post.author_id, post.community_id, now):
        return
    community = await session.get(Community, post.community_id)
    mentioned = await _mentioned_accounts(session, urls, payload.get("mentioned", []))
    if payload.get("edit"):
        recipients = {
            account_id: MENTION
            for account_id in mentioned
            if not await told_about(session, account_id, post.id)
        }
    else:
        recipients = await _recipients_of(session, post, mentioned)
    await _tell(
        session,
        recipients,
        actor_id=post.author_id,
        community=community,
        group_id=post.community_id,
        now=now,
        post_id=post.id,
    )


async def _recipients_of(session: AsyncSession, post: Post, mentioned: list[int]) -> dict[int, str]:
    """Who hears of a new post, each by the first reason that applies to them."""
    recipients: dict[int, str] = {}
    parent = await session.get(Post, post.parent_id) if post.parent_id else None
    if parent is not None and not parent.is_deleted:
        recipients.setdefault(parent.author_id, REPLY)
    for account_id in mentioned:
        recipients.setdefault(account_id, MENTION)
    if post.thread_id is not None:
        for account_id in await watchers(session, post.thread_id):
            recipients.setdefault(account_id, WATCHED_REPLY)
    else:  # members of a CoP elsewhere hear of its new threads too
        for account_id in await member_accounts(session, post.community_id):
            recipients.setdefault(account_id, NEW_THREAD)
        for account_id in await subscribers(session, post.community_id):
            recipients.setdefault(account_id, NEW_THREAD)
    return recipients


async def _on_like(session: AsyncSession, urls: Urls, payload: dict, now: datetime) -> None:
    post = await _visible_post(session, int(payload["post_id"]))
    actor_id = int(payload["actor_id"])
    if post is None or await session.get(Like, (post.id, actor_id)) is None:
        return  # gone, or unliked before we got to it
    if await is_silenced(session, actor_id, post.community_id, now):
        return
    community = await session.get(Community, post.community_id)
    await _tell(
        session,
        {post.author_id: LIKE},
        actor_id=actor_id,
        community=community,
        group_id=post.community_id,
        now=now,
        post_id=post.id,
    )


async def _on_join_request(session: AsyncSession, urls: Urls, payload: dict, now: datetime) -> None:
    community = await session.get(Community, int(payload["community_id"]))
    actor_id = int(payload["actor_id"])
    if community is None or await is_silenced(session, actor_id, community.actor_id, now):
        return
    pending = await session.scalar(
        select(Follow.id).where(
            Follow.followed_id == community.actor_id,
            Follow.follower_id == actor_id,
            Follow.state == "pending",
        )
    )
    if pending is None:
        return  # decided (or withdrawn) before we got to it
    moderators = await moderator_accounts(session, community.actor_id)
    await _tell(
        session,
        dict.fromkeys(moderators, JOIN_REQUEST),
        actor_id=actor_id,
        community=community,
        now=now,
    )


async def _on_report(session: AsyncSession, urls: Urls, payload: dict, now: datetime) -> None:
    report = await session.get(Report, int(payload["report_id"]))
    if report is None or report.state != "open":
        return
    community = await session.get(Community, report.community_id) if report.community_id else None
    handlers = await moderator_accounts(session, community.actor_id) if community else []
    if not handlers:
        handlers = await admin_accounts(session)  # nobody here moderates it: the admins do
    await _tell(
        session,
        dict.fromkeys(handlers, REPORT),
        actor_id=report.reporter_id,
        community=community,
        now=now,
        post_id=report.post_id,
        detail=report.reason,
    )


async def tell_attendees(
    session: AsyncSession,
    event: Event,
    *,
    kind: str,
    detail: str,
    by: int | None,
    now: datetime,
) -> None:
    """Tell the local members who said yes to a Basecamp (but not `by`, who did it)."""
    going = await going_accounts(session, event.id)
    for account_id in going:
        if account_id == by or await is_silenced(session, account_id, None, now):
            continue
        await add_notification(
            session,
            account_id=account_id,
            kind=kind,
            actor_id=by,
            event_id=event.id,
            detail=detail,
            now=now,
        )


async def _on_basecamp(session: AsyncSession, urls: Urls, payload: dict, now: datetime) -> None:
    event = await session.get(Event, int(payload["event_id"]))
    kind = payload["kind"]
    if event is None or kind not in (BASECAMP_CHANGED, BASECAMP_CANCELLED):
        return
    await tell_attendees(
        session, event, kind=kind, detail=payload.get("detail", ""), by=payload.get("by"), now=now
    )


_BY_WHAT = {
    notify.POST: _on_post,
    notify.LIKE: _on_like,
    notify.JOIN_REQUEST: _on_join_request,
    notify.REPORT: _on_report,
    notify.BASECAMP: _on_basecamp,
}


async def run_notify(session: AsyncSession, urls: Urls, payload: dict, now: datetime) -> None:
    """The scheduler's handler of `notify` jobs."""
    handler = _BY_WHAT.get(payload.get("what", ""))
    if handler is None:
        raise ValueError(f"no notifications for {payload.get('what')!r}")
    await handler(session, urls, payload, now)


JOB_HANDLERS = {notify.NOTIFY: run_notify}
