"""Harvesting a conversation: chosen posts (or a passage of one) become quoted blocks of a new or
existing page, each with its provenance.

What may be harvested is decided here: posts of a private CoP only into that CoP's own pages, a
passage only as it stands in the post (nobody can put words in an author's mouth), and never a
deleted or removed post. Whether the member can see the posts at all is the web's question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import Actor
from models.communities import Community
from models.harvest import HarvestPage
from models.harvest_queries import Wording, create_page, fill_new_page, save_revision
from models.harvest_sources import Provenance, add_source, source_marker
from models.posts import Post
from server.services.content import html_to_text
from server.services.harvest import check_writer
from server.services.harvest_federation import announce_new_page, page_changed
from server.urls import Urls

PASSAGE_LIMIT = 5_000


class HarvestRefused(Exception):
    """This harvest may not happen; `status` is the HTTP status it earns."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Target:
    """Where the quotes go: an existing page, or a new page (title) in a CoP."""

    community: Community
    page: HarvestPage | None = None
    new_title: str = ""


def _flat(text: str) -> str:
    return " ".join(text.split())


def post_text(post: Post) -> str:
    """A post's words: the Markdown its author wrote here, else the text of its HTML."""
    if post.ap_id is None and post.source.strip():
        return post.source.strip()
    return html_to_text(post.content_html).strip()


def check_passage(post: Post, passage: str) -> str:
    """The passage, if it stands in the post as written (whitespace aside)."""
    wanted = _flat(passage)
    if len(passage) > PASSAGE_LIMIT:
        raise HarvestRefused(f"a passage can be at most {PASSAGE_LIMIT:,} characters long")
    texts = (post_text(post), html_to_text(post.content_html))
    if not wanted or not any(wanted in _flat(text) for text in texts):
        raise HarvestRefused("the passage is not in the post; copy it from the post as written")
    return passage.strip()


def check_privacy(source: Community | None, target: Community) -> None:
    """Posts of a private CoP stay with that CoP's own members."""
    if source is not None and source.manually_approves_followers:
        if source.actor_id != target.actor_id:
            raise HarvestRefused(
                "posts of a private community may only be harvested into its own pages",
                status=403,
            )


def provenance(
    urls: Urls, post: Post, author: Actor, group: Actor, local_domain: str
) -> Provenance:
    """Who wrote the post, where and when, as the page will show it."""
    name = author.local_name or author.username or "someone"
    domain = author.domain or local_domain
    return Provenance(
        post_url=urls.post_id_of(post),
        author_name=author.display_name or name,
        author_handle=f"@{name}@{domain}",
        community_name=group.display_name or group.username or group.local_name or "",
        posted_at=post.published,
    )


async def harvest(
    session: AsyncSession,
    urls: Urls,
    *,
    harvester_id: int,
    posts: list[Post],
    passage: str,
    target: Target,
    local_domain: str,
    now: datetime,
) -> HarvestPage:
    """Quote the posts (or the passage of the one post) into the target page; no commit."""
    if not posts:
        raise HarvestRefused("choose at least one post to harvest")
    if passage.strip() and len(posts) != 1:
        raise HarvestRefused("a passage comes from one post; choose only that post")
    await check_writer(session, target.community, harvester_id, target.page)
    quotes = []
    for post in posts:
        if post.is_deleted or post.is_removed:
            raise HarvestRefused(f"post {post.id} is no longer there to harvest")
        check_privacy(await session.get(Community, post.community_id), target.community)
        author = await session.get(Actor, post.author_id)
        group = await session.get(Actor, post.community_id)
        text = check_passage(post, passage) if passage.strip() else post_text(post)
        quotes.append((post, provenance(urls, post, author, group, local_domain), text))
    page = target.page
    if page is None:
        if not target.new_title.strip():
            raise HarvestRefused("give the new page a title")
        page = await create_page(
            session,
            community_id=target.community.actor_id,
            author_id=harvester_id,
            wording=Wording(title=target.new_title, summary="", body=""),
            note=_note(len(quotes)),
            now=now,
        )
    markers = []
    for post, where, text in quotes:
        source = await add_source(
            session,
            page,
            post_id=post.id,
            provenance=where,
            quote=text,
            harvested_by=harvester_id,
            now=now,
        )
        markers.append(source_marker(source.id))
    body = "\n\n".join([page.body, *markers]) if page.body else "\n\n".join(markers)
    if target.page is None:
        await fill_new_page(session, page, body)
        await announce_new_page(session, urls, page, now=now)
    else:
        wording = Wording(title=page.title, summary=page.summary, body=body)
        await save_revision(
            session,
            page,
            base=page.revision_number,
            author_id=harvester_id,
            wording=wording,
            note=_note(len(quotes)),
            now=now,
        )
        await page_changed(session, urls, page, now=now)
    return page


def _note(count: int) -> str:
    return f"Harvested {count} post{'s' if count != 1 else ''} from a conversation"
