"""A partner copnet's harvest page, announced by its CoP that a member here follows: the page is
archived here with its sources, and updated when the CoP announces an Update.

As with posts (server/activities/announce.py), the Article is never trusted inline: it is
fetched from its origin, which must be the announcing CoP's own server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from federation.fetch import FetchError
from federation.objects import as_list, object_id
from federation.origin import same_origin
from models.actors import Actor
from models.follows import count_followers
from models.harvest import HarvestPage, PageSource
from models.harvest_queries import Wording, create_page, get_page_by_ap_id, save_revision
from models.harvest_sources import Provenance, add_source
from models.posts import get_post_by_ap_id
from models.search_index import index_page
from server.activities.base import (
    Context,
    Ignore,
    Reject,
    reject_or_retry,
    remote_actor,
    well_formed,
)
from server.services.content import html_to_text

BODY_LIMIT = 100_000
SOURCE_LIMIT = 500


def wants(_ctx: Context, activity: dict) -> bool:
    """An Announce of a Create or Update whose object is a copnet harvest page."""
    inner = activity.get("object")
    if not isinstance(inner, dict) or inner.get("type") not in ("Create", "Update"):
        return False
    article = inner.get("object")
    return (
        isinstance(article, dict)
        and article.get("type") == "Article"
        and article.get("harvestPage") is True
    )


@dataclass(frozen=True)
class ArchivedSource:
    href: str
    name: str


@dataclass(frozen=True)
class Prepared:
    group: Actor
    ap_id: str
    wording: Wording
    retired: bool
    sources: list[ArchivedSource]


def _text(value, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _body(article: dict) -> str:
    source = article.get("source")
    if isinstance(source, dict) and source.get("mediaType") == "text/markdown":
        return _text(source.get("content"), BODY_LIMIT)
    return html_to_text(_text(article.get("content"), BODY_LIMIT))


def _sources(article: dict) -> list[ArchivedSource]:
    found = []
    for tag in as_list(article.get("tag"))[:SOURCE_LIMIT]:
        if not isinstance(tag, dict) or tag.get("type") != "Link":
            continue
        href = tag.get("href")
        if isinstance(href, str) and href.startswith(("https://", "http://")):
            found.append(ArchivedSource(href=href[:2048], name=_text(tag.get("name"), 255)))
    return found


async def verify(ctx: Context, activity: dict) -> Prepared:
    """The announcer is a CoP followed here; the Article comes from the CoP's own server."""
    group = await remote_actor(ctx, activity["actor"])
    async with ctx.sessions() as session:
        if not await count_followers(session, group.id):
            raise Ignore("nobody here follows the announcing actor")
    target = object_id(activity["object"].get("object"))
    if target is None or not same_origin(target, group.ap_id):
        raise Reject("a harvest page is announced only by its own CoP's server")
    await ctx.policy.check_urls([target])
    try:
        article = well_formed(await ctx.fetcher.fetch_json(target, budget=ctx.budget))
    except FetchError as error:
        raise reject_or_retry(error, f"cannot fetch harvest page {target}") from error
    if article.get("id") != target or article.get("type") != "Article":
        raise Reject("the harvest page's origin serves another object")
    if group.ap_id not in {object_id(entry) for entry in as_list(article.get("attributedTo"))}:
        raise Reject("the harvest page is not attributed to the announcing CoP")
    title = " ".join(_text(article.get("name"), 1000).split())[:200] or "Untitled page"
    wording = Wording(
        title=title,
        summary=html_to_text(_text(article.get("summary"), 2000)),
        body=_body(article),
    )
    return Prepared(group, target, wording, article.get("retired") is True, _sources(article))


async def receive(ctx: Context, session: AsyncSession, activity: dict, prepared: Prepared) -> None:
    """Archive the page, or add the new wording as a revision; its sources replace the old."""
    now = ctx.clock()
    page = await get_page_by_ap_id(session, prepared.ap_id)
    if page is None:
        page = await create_page(
            session,
            community_id=prepared.group.id,
            author_id=None,
            wording=prepared.wording,
            note="Archived from its home server",
            now=now,
            ap_id=prepared.ap_id,
        )
    elif _changed(page, prepared.wording):
        await save_revision(
            session,
            page,
            base=page.revision_number,
            author_id=None,
            wording=prepared.wording,
            note="Updated at its home server",
            now=now,
        )
    page.retired_at = (page.retired_at or now) if prepared.retired else None
    await _replace_sources(session, page, prepared, now)
    await index_page(session, page)


def _changed(page: HarvestPage, wording: Wording) -> bool:
    cleaned = wording.cleaned()
    return (page.title, page.summary, page.body) != (cleaned.title, cleaned.summary, cleaned.body)


async def _replace_sources(
    session: AsyncSession, page: HarvestPage, prepared: Prepared, now: datetime
) -> None:
    await session.execute(delete(PageSource).where(PageSource.page_id == page.id))
    for source in prepared.sources:
        post = await get_post_by_ap_id(session, source.href)
        await add_source(
            session,
            page,
            post_id=post.id if post is not None else None,
            provenance=Provenance(
                post_url=source.href,
                author_name=source.name,
                author_handle="",
                community_name="",
                posted_at=post.published if post is not None else None,
            ),
            quote="",
            harvested_by=None,
            now=now,
        )
