"""A CoP's harvest pages on the fediverse: a new page is created and announced like a thread;
later revisions are sent as one `Update` at most once an hour per page (a durable job, so a
busy afternoon of editing does not flood followers and a restart loses nothing)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from models import jobs
from models.actors import Actor, actors_by_ids
from models.communities import Community
from models.deliveries import enqueue
from models.harvest import HarvestPage
from models.harvest_queries import editor_ids
from models.harvest_sources import sources_of
from server.as2.activities import new_activity_id
from server.as2.harvest import article_object
from server.as2.posts import note_activity
from server.services.distribution import audiences, distribute
from server.urls import Urls

PAGE_UPDATE = "harvest.page_update"
UPDATE_INTERVAL = timedelta(hours=1)


def _update_key(page_id: int) -> str:
    return f"{PAGE_UPDATE}:{page_id}"


async def page_article(session: AsyncSession, urls: Urls, page: HarvestPage) -> dict:
    """The page's Article as it stands."""
    group = await session.get(Actor, page.community_id)
    community = await session.get(Community, page.community_id)
    people = await actors_by_ids(session, set(await editor_ids(session, page.id)))
    ordered = [people[actor_id] for actor_id in await editor_ids(session, page.id)]
    return article_object(
        urls,
        page,
        group=group,
        editors=ordered,
        sources=await sources_of(session, page.id),
        private=community is not None and community.manually_approves_followers,
    )


async def _send(session: AsyncSession, urls: Urls, page: HarvestPage, verb: str, now) -> None:
    community = await session.get(Community, page.community_id)
    if community is None or page.ap_id is not None:
        return  # archived from elsewhere: its own server federates it
    article = await page_article(session, urls, page)
    activity = note_activity(verb, new_activity_id(urls), urls.actor(community.actor), article, now)
    await distribute(
        session,
        urls,
        community,
        activity,
        object_id=article["id"],
        now=now,
        new_post=verb == "Create",
        top_level=True,
    )
    # The CoP wrote the page, so microblog followers also get its Create and Update from the
    # author itself, as Mastodon expects an edit to come (the Announce alone shows the post).
    _threadiverse, microblog = await audiences(session, community)
    if microblog:
        await enqueue(
            session,
            actor_id=community.actor_id,
            ap_id=activity["id"],
            type_=verb,
            document=activity,
            inboxes=microblog,
            object_ap_id=article["id"],
        )
    page.announced_revision = page.revision_number
    page.announced_at = now


async def announce_new_page(
    session: AsyncSession, urls: Urls, page: HarvestPage, *, now: datetime
) -> None:
    """Create{Article} by the CoP, announced to its followers in both forms; no commit."""
    await _send(session, urls, page, "Create", now)


async def page_changed(
    session: AsyncSession, urls: Urls, page: HarvestPage, *, now: datetime
) -> None:
    """Queue the Update of a changed page: now if followers last heard of it over an hour
    ago, else an hour after that; an Update already queued carries this change too."""
    if page.ap_id is not None:
        return
    pending = await jobs.get_job(session, _update_key(page.id))
    if pending is not None and pending.state == jobs.PENDING:
        return
    last = page.announced_at
    run_at = now if last is None else max(now, last + UPDATE_INTERVAL)
    await jobs.schedule(
        session,
        kind=PAGE_UPDATE,
        key=_update_key(page.id),
        run_at=run_at,
        payload={"page_id": page.id},
    )


async def run_page_update(session: AsyncSession, urls: Urls, payload: dict, now: datetime) -> None:
    """Send one Update with the page as it stands (nothing if followers already have it)."""
    page = await session.get(HarvestPage, int(payload["page_id"]))
    if page is None or (
        page.revision_number == page.announced_revision and not _retired_news(page)
    ):
        return
    if page.announced_at is not None and page.announced_at + UPDATE_INTERVAL > now:
        await jobs.schedule(  # too early (the clock or a reschedule): wait for the hour
            session,
            kind=PAGE_UPDATE,
            key=_update_key(page.id),
            run_at=page.announced_at + UPDATE_INTERVAL,
            payload=payload,
        )
        return
    await _send(session, urls, page, "Update" if page.announced_revision else "Create", now)


def _retired_news(page: HarvestPage) -> bool:
    """A page retired or reinstated since it was last sent (its revision stays the same)."""
    return page.announced_at is not None and page.updated_at > page.announced_at


JOB_HANDLERS = {PAGE_UPDATE: run_page_update}
