"""Telling the workers that something happened members may want to hear about.

Nothing here writes a notification: each function queues one durable job (models.jobs) in the
caller's transaction, so the request or intake step that caused it commits it with its own
work, and the scheduler turns it into notifications (server.services.notifications) after.
The one thing done at once is the default watch: writing in a thread watches it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models import jobs
from models.accounts import Account
from models.events import Event
from models.notification_audience import going_accounts
from models.posts import Post
from models.reports import Report
from models.watching import watch_by_default

NOTIFY = "notify"
POST, LIKE, JOIN_REQUEST, REPORT, BASECAMP = "post", "like", "join_request", "report", "basecamp"


async def _queue(session: AsyncSession, now: datetime, **payload) -> None:
    await jobs.schedule(session, kind=NOTIFY, run_at=now, payload=payload)


async def post_published(
    session: AsyncSession,
    post: Post,
    *,
    mentioned: list[str],
    now: datetime,
    local_author: bool | None = None,
) -> None:
    """A new thread or reply (ours or from another server); `mentioned` are the actor ids
    its `Mention` tags name. Its local author now watches the thread. `local_author`, when the
    caller knows it, spares asking the database whether the author has an account here."""
    if local_author is None:
        local_author = await session.get(Account, post.author_id) is not None
    if local_author:
        await watch_by_default(session, post.author_id, post.thread_id or post.id)
    await _queue(session, now, what=POST, post_id=post.id, mentioned=sorted(set(mentioned)))


async def post_edited(
    session: AsyncSession, post: Post, *, mentioned: list[str], now: datetime
) -> None:
    """An edited post: people it mentions now and was never notified about hear of it."""
    if mentioned:
        await _queue(
            session, now, what=POST, post_id=post.id, mentioned=sorted(set(mentioned)), edit=True
        )


async def post_liked(session: AsyncSession, post: Post, actor_id: int, *, now: datetime) -> None:
    """Someone liked a post (on our website or with a Like from another server)."""
    await _queue(session, now, what=LIKE, post_id=post.id, actor_id=actor_id)


async def join_requested(
    session: AsyncSession, community_id: int, actor_id: int, *, now: datetime
) -> None:
    """Someone asked to join a private CoP; its moderators decide."""
    await _queue(session, now, what=JOIN_REQUEST, community_id=community_id, actor_id=actor_id)


async def reported(session: AsyncSession, report: Report, *, now: datetime) -> None:
    """A report (a member's, or another server's Flag) waits for the CoP's moderators."""
    await _queue(session, now, what=REPORT, report_id=report.id)


async def basecamp_changed(
    session: AsyncSession,
    event: Event,
    *,
    kind: str,
    detail: str,
    by: int | None,
    now: datetime,
) -> None:
    """A Basecamp moved, changed or was called off (`kind`); `by` made the change. Nothing is
    queued when no member here said yes."""
    if not await going_accounts(session, event.id):
        return
    await _queue(session, now, what=BASECAMP, event_id=event.id, kind=kind, detail=detail, by=by)
