"""Earlier wordings of edited posts: each revision a member replaced, with its time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, UTCDateTime
from models.harvest_sources import source_edited
from models.posts import Post
from models.search_index import index_post


class PostRevision(Base):
    """What a post said before an edit: written at `written_at`, replaced at `replaced_at`."""

    __tablename__ = "post_revisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(512), default="")
    source: Mapped[str] = mapped_column(Text, default="")
    content_html: Mapped[str] = mapped_column(Text, default="")
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PostDeleted(Exception):
    """A deleted post keeps only its place in the thread: it cannot be edited back."""


async def edit_post(
    session: AsyncSession,
    post: Post,
    *,
    title: str,
    source: str,
    content_html: str,
    now: datetime,
) -> PostRevision:
    """Keep the current wording as a revision, then apply the new one and re-index."""
    if post.is_deleted:
        raise PostDeleted(f"post {post.id} is deleted")
    revision = remember_wording(session, post, now)
    if post.thread_id is None:
        post.title = title
    post.source = source
    post.content_html = content_html
    post.updated = now
    await session.flush()
    await index_post(session, post)
    await source_edited(session, post.id)
    return revision


def remember_wording(session: AsyncSession, post: Post, now: datetime) -> PostRevision:
    """Keep what a post says now as a revision, before an edit (ours or a remote author's)."""
    revision = PostRevision(
        post_id=post.id,
        title=post.title,
        source=post.source,
        content_html=post.content_html,
        written_at=post.updated or post.published,
        replaced_at=now,
    )
    session.add(revision)
    return revision


async def delete_revisions(session: AsyncSession, post_id: int) -> None:
    """A deleted post keeps no earlier wording either (the point of deleting it)."""
    for revision in await session.scalars(
        select(PostRevision).where(PostRevision.post_id == post_id)
    ):
        await session.delete(revision)


async def revisions_of(session: AsyncSession, post_id: int) -> list[PostRevision]:
    """Every earlier wording of a post, oldest first."""
    query = (
        select(PostRevision)
        .where(PostRevision.post_id == post_id)
        .order_by(PostRevision.replaced_at, PostRevision.id)
    )
    return list(await session.scalars(query))
