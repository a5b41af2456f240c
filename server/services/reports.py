"""Reports: members report posts, threads and documents; other servers' `Flag`s become reports;
moderators (their CoPs') and admins (all) resolve each by an action that is recorded.

Reporting a remote post tells its origin, in the two shapes the fediverse reads:
- Mastodon's: `Flag{actor: our instance actor, object: [author, post], content: reason}` to the
  author's inbox (mastodon app/services/report_service.rb `forward_to_origin!`, read back by
  app/lib/activitypub/activity/flag.rb, which needs the account among the objects);
- Lemmy's, when the post is in a remote community: `Flag{actor: the member, to: [community],
  object: post, summary: reason}` to the community's inbox
  (lemmy crates/apub/src/protocol/activities/community/report.rs; fixture report_page.json).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import AS_CONTEXT
from models.actors import Actor, ensure_instance_actor
from models.communities import Community
from models.deliveries import enqueue
from models.documents import Document
from models.posts import Post
from models.reports import RESOLUTIONS, Report
from models.search_index import remove_document
from server.as2.activities import new_activity_id
from server.services import moderation, notify
from server.urls import Urls

REASON_LIMIT = 1000


async def report_post(
    session: AsyncSession,
    urls: Urls,
    reporter: Actor,
    post: Post,
    reason: str,
    now: datetime,
    *,
    document: Document | None = None,
) -> Report:
    """A member's report of a post (a thread's top post reports the thread) or a document."""
    community = await session.get(Community, post.community_id)
    report = Report(
        community_id=community.actor_id if community is not None else None,
        reporter_id=reporter.id,
        post_id=post.id,
        document_id=document.id if document is not None else None,
        target_actor_id=post.author_id,
        target_ap_id=urls.post_id_of(post),
        reason=reason[:REASON_LIMIT],
        created_at=now,
    )
    session.add(report)
    await session.flush()
    await notify.reported(session, report, now=now)
    if post.ap_id is not None:
        await _tell_origin(session, urls, reporter, post, report.reason, now)
    return report


async def _tell_origin(
    session: AsyncSession, urls: Urls, reporter: Actor, post: Post, reason: str, now: datetime
) -> None:
    author = await session.get(Actor, post.author_id)
    group = await session.get(Actor, post.community_id)
    assert author is not None and group is not None
    if not author.is_local and (author.shared_inbox_url or author.inbox_url):
        instance = await ensure_instance_actor(session)
        flag = {
            "@context": AS_CONTEXT,
            "id": new_activity_id(urls),
            "type": "Flag",
            "actor": urls.instance_actor(),
            "object": [urls.actor(author), post.ap_id],
            "content": reason,
            "to": [urls.actor(author)],
        }
        inbox = author.inbox_url or author.shared_inbox_url
        await enqueue(
            session,
            actor_id=instance.id,
            ap_id=flag["id"],
            type_="Flag",
            document=flag,
            inboxes=[inbox],
            now=now,
        )
    if not group.is_local and group.inbox_url:
        flag = {
            "@context": AS_CONTEXT,
            "id": new_activity_id(urls),
            "type": "Flag",
            "actor": urls.actor(reporter),
            "to": [urls.actor(group)],
            "audience": urls.actor(group),
            "object": post.ap_id,
            "summary": reason,
        }
        await enqueue(
            session,
            actor_id=reporter.id,
            ap_id=flag["id"],
            type_="Flag",
            document=flag,
            inboxes=[group.inbox_url],
            now=now,
        )


async def may_handle(session: AsyncSession, report: Report, actor_id: int) -> bool:
    """Moderators of the report's CoP and admins may resolve it."""
    if report.community_id is None:
        return await moderation.is_admin(session, actor_id)
    community = await session.get(Community, report.community_id)
    return community is not None and await moderation.may_moderate(session, community, actor_id)


async def resolve(
    session: AsyncSession,
    urls: Urls,
    report: Report,
    actor_id: int,
    resolution: str,
    reason: str,
    now: datetime,
    *,
    ban_days: int | None = None,
) -> None:
    """Resolve an open report by removing what it names, banning its author, or dismissing it."""
    if not await may_handle(session, report, actor_id):
        raise moderation.NotAllowed("only this community's moderators may resolve its reports")
    if report.state != "open":
        raise moderation.CannotModerate("that report is already closed")
    if resolution not in RESOLUTIONS:
        raise moderation.CannotModerate(f"a report is resolved by one of {', '.join(RESOLUTIONS)}")
    community = await session.get(Community, report.community_id) if report.community_id else None
    post = await session.get(Post, report.post_id) if report.post_id else None
    why = reason or report.reason
    if resolution != "dismiss" and community is None:
        raise moderation.CannotModerate("only reports in our communities can be acted on here")
    if resolution == "remove":
        if post is None:
            raise moderation.CannotModerate("the reported post is gone")
        if not post.is_removed:
            await moderation.remove_post(session, urls, community, actor_id, post, why, now)
        if report.document_id is not None:
            document = await session.get(Document, report.document_id)
            if document is not None and document.deleted_at is None:
                document.deleted_at = now
                await remove_document(session, document.id)
    elif resolution == "ban":
        person = (
            await session.get(Actor, report.target_actor_id) if report.target_actor_id else None
        )
        if person is None:
            raise moderation.CannotModerate("the reported person is unknown")
        await moderation.ban(
            session,
            urls,
            community,
            actor_id,
            person,
            reason=why,
            expires_at=now + timedelta(days=ban_days) if ban_days else None,
            remove_content=False,
            now=now,
        )
    report.state = "resolved"
    report.resolution = resolution
    report.resolved_by_id = actor_id
    report.resolved_at = now
    report.note = reason[:REASON_LIMIT]
