"""Flag: another server reports something of ours; each object becomes a report.

Both shapes are read: Mastodon's (to the instance actor, `object` a list of accounts and
statuses, the reason in `content`: mastodon app/lib/activitypub/activity/flag.rb) and Lemmy's
(to the Group, `object` one post, the reason in `summary`: lemmy
crates/apub/src/activities/community/report.rs; fixture community/report_page.json).
Objects that are not ours are recorded as an ignored report with the reason; one server may send
only so many reports an hour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from yarl import URL

from federation.objects import ids_of
from federation.origin import authority
from models.actors import Actor, get_local_actor
from models.communities import Community
from models.reports import Report, flags_before
from server.activities.base import Context, Reject, remote_actor
from server.activities.lookup import archived_post
from server.services import notify
from server.services.moderation_rules import banned_reason

FLAGS_PER_HOUR = 30
OBJECTS_PER_FLAG = 20
REASON_LIMIT = 1000


@dataclass
class Planned:
    community_id: int | None
    post_id: int | None
    target_actor_id: int | None
    target_ap_id: str
    state: str = "open"
    note: str = ""


@dataclass
class Prepared:
    flagger: Actor
    reason: str
    domain: str
    reports: list[Planned] = field(default_factory=list)


async def verify(ctx: Context, activity: dict) -> Prepared:
    """Who flags (rate limited per server, refused when banned) and which of our things."""
    flagger = await remote_actor(ctx, activity["actor"])
    domain = authority(flagger.ap_id) or ""
    objects = ids_of(activity.get("object"))[:OBJECTS_PER_FLAG]
    if not objects:
        raise Reject("Flag names no object")
    reason = activity.get("content") or activity.get("summary") or ""
    reason = (reason if isinstance(reason, str) else "")[:REASON_LIMIT]
    prepared = Prepared(flagger, reason, domain)
    now = ctx.clock()
    async with ctx.sessions() as session:
        origin = str(URL(flagger.ap_id).origin()) + "/"
        earlier = await flags_before(session, origin, activity["id"], now - timedelta(hours=1))
        if earlier >= FLAGS_PER_HOUR:
            raise Reject(f"too many reports from {domain} this hour; try later")
        for url in objects:
            prepared.reports.append(await _plan(ctx, session, url))
        for planned in prepared.reports:
            if planned.community_id is not None:
                refused = await banned_reason(session, planned.community_id, flagger.id, now)
                if refused is not None:
                    raise Reject(f"the reporter is {refused}")
    # Mastodon lists the account beside its posts: the account alone is only context then.
    posts = {p.target_actor_id for p in prepared.reports if p.post_id is not None}
    prepared.reports = [
        p for p in prepared.reports if p.post_id is not None or p.target_actor_id not in posts
    ]
    return prepared


async def _plan(ctx: Context, session, url: str) -> Planned:
    post = await archived_post(ctx, session, url)
    if post is not None and not post.is_deleted:
        community = await session.get(Community, post.community_id)
        if community is None:
            return _ignored(url, "that post belongs to a community on another server")
        return Planned(community.actor_id, post.id, post.author_id, url)
    local = ctx.urls.parse_local(url)
    if local is not None and local[0] == "u":
        person = await get_local_actor(session, local[1])
        if person is not None:
            return Planned(None, None, person.id, url)  # about a member: the admins' matter
    if local is not None and local[0] == "c":
        return _ignored(url, "a community itself cannot be reported; report its posts")
    if post is not None:
        return _ignored(url, "that post was deleted")
    return _ignored(url, "no such post or member on this server")


def _ignored(url: str, note: str) -> Planned:
    return Planned(None, None, None, url, state="ignored", note=note)


async def receive(ctx: Context, session, activity: dict, prepared: Prepared) -> None:
    """Store one report per object (ignored ones with their reason)."""
    now = ctx.clock()
    stored = []
    for planned in prepared.reports:
        stored.append(
            Report(
                community_id=planned.community_id,
                reporter_id=prepared.flagger.id,
                post_id=planned.post_id,
                target_actor_id=planned.target_actor_id,
                target_ap_id=planned.target_ap_id[:2048],
                reason=prepared.reason,
                activity_ap_id=activity["id"],
                origin_domain=prepared.domain,
                state=planned.state,
                note=planned.note,
                created_at=now,
            )
        )
    session.add_all(stored)
    await session.flush()
    for report in stored:
        if report.state == "open":
            await notify.reported(session, report, now=now)
