"""Posts archived in a CoP: thread starters and replies at any depth, and their likes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    case,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, UTCDateTime, utcnow
from models.search_index import index_post

DELETED_TITLE = "(deleted)"
LISTED_THREAD = "thread_id IS NULL AND deleted_at IS NULL AND removed_at IS NULL"


class Post(Base):
    """A Note/Page/Article in a CoP; `thread_id` is null for the thread's top post."""

    __tablename__ = "posts"
    __table_args__ = (
        Index("ix_posts_community_activity", "community_id", "thread_id", "last_activity_at"),
        Index("ix_posts_thread_published", "thread_id", "published"),
        # The thread lists (models.directory.thread_list) walk these in order and stop after a
        # page, instead of reading and sorting every thread of a CoP or of the Network.
        Index(
            "ix_posts_cop_threads",
            "community_id",
            text("(pinned_at IS NULL)"),
            text("last_activity_at DESC"),
            text("id DESC"),
            postgresql_where=text(LISTED_THREAD),
            sqlite_where=text(LISTED_THREAD),
        ),
        Index(
            "ix_posts_network_threads",
            "last_activity_at",
            "id",
            postgresql_where=text(LISTED_THREAD),
            sqlite_where=text(LISTED_THREAD),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ap_id: Mapped[str | None] = mapped_column(String(2048), unique=True)  # null: ours
    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("actors.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("actors.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    depth: Mapped[int] = mapped_column(Integer, default=0)
    type: Mapped[str] = mapped_column(String(32), default="Note")
    title: Mapped[str] = mapped_column(String(512), default="")
    content_html: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")  # content warning
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    url: Mapped[str | None] = mapped_column(String(2048))
    attachments: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of link records
    # Actors a post written here addresses (JSON list of {"href", "name", "inbox"}).
    mentions: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    published: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Moderation: a removed post keeps its content (a moderator may restore it) but nobody sees
    # it; a locked thread takes no replies; pinned threads are the CoP's `featured` collection.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removal_reason: Mapped[str | None] = mapped_column(Text)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pinned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A thread shared from another CoP points back at the original.
    shared_from_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="SET NULL")
    )

    @property
    def is_deleted(self) -> bool:
        """Deleted posts are kept as Tombstones, without content."""
        return self.deleted_at is not None

    @property
    def is_removed(self) -> bool:
        """Removed by a moderator: hidden from everyone until restored."""
        return self.removed_at is not None


class Like(Base):
    """One actor's like of one post."""

    __tablename__ = "likes"

    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    activity_ap_id: Mapped[str | None] = mapped_column(String(2048), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


async def get_post_by_ap_id(session: AsyncSession, ap_id: str) -> Post | None:
    """The archived post with this ActivityPub id."""
    return await session.scalar(select(Post).where(Post.ap_id == ap_id))


async def add_post(session: AsyncSession, post: Post, parent: Post | None) -> Post:
    """Store a post as a thread starter or as a reply under `parent` (any depth)."""
    if parent is not None:
        post.thread_id = parent.thread_id or parent.id
        post.parent_id = parent.id
        post.depth = parent.depth + 1
        post.community_id = parent.community_id
    session.add(post)
    await session.flush()
    if parent is not None:
        root_id = post.thread_id
        await session.execute(
            update(Post)
            .where(Post.id == root_id)
            .values(
                reply_count=Post.reply_count + 1,
                last_activity_at=case(
                    (Post.last_activity_at < post.published, post.published),
                    else_=Post.last_activity_at,
                ),
            )
        )
    await index_post(session, post)
    return post


async def thread_posts(
    session: AsyncSession, root_id: int, *, limit: int, offset: int = 0
) -> list[Post]:
    """The thread's top post first, then every reply in publication order."""
    query = (
        select(Post)
        .where(or_(Post.id == root_id, Post.thread_id == root_id))
        .order_by(Post.thread_id.is_not(None), Post.published, Post.id)
        .limit(limit)
        .offset(offset)
    )
    return list(await session.scalars(query))


async def count_thread_posts(session: AsyncSession, root_id: int) -> int:
    """How many posts a thread holds, its top post included."""
    query = select(func.count()).where(or_(Post.id == root_id, Post.thread_id == root_id))
    return int(await session.scalar(query) or 0)


async def direct_replies(
    session: AsyncSession, post_id: int, *, limit: int, offset: int = 0
) -> tuple[int, list[Post]]:
    """(total, page) of the replies whose parent is this post, oldest first."""
    where = Post.parent_id == post_id
    total = await session.scalar(select(func.count()).where(where))
    query = select(Post).where(where).order_by(Post.published, Post.id).limit(limit).offset(offset)
    return int(total or 0), list(await session.scalars(query))


def tombstone(post: Post, when: datetime) -> None:
    """Delete a post's content but keep its place in the thread."""
    post.deleted_at = when
    if post.thread_id is None and post.title:
        post.title = DELETED_TITLE  # a title can name what the author wanted gone
    post.content_html = ""
    post.source = ""
    post.summary = ""
    post.attachments = "[]"
    post.mentions = "[]"


async def tombstone_post(session: AsyncSession, post: Post, when: datetime) -> None:
    """Tombstone a post and stop counting it among its thread's replies."""
    if post.thread_id is not None and not post.is_deleted:
        await session.execute(
            update(Post)
            .where(Post.id == post.thread_id, Post.reply_count > 0)
            .values(reply_count=Post.reply_count - 1)
        )
    tombstone(post, when)
    await index_post(session, post)


async def add_like(
    session: AsyncSession, post: Post, actor_id: int, activity_ap_id: str | None
) -> bool:
    """Count one like per actor; False if this actor already liked the post."""
    existing = await session.get(Like, (post.id, actor_id))
    if existing is not None:
        return False
    session.add(Like(post_id=post.id, actor_id=actor_id, activity_ap_id=activity_ap_id))
    await session.execute(
        update(Post).where(Post.id == post.id).values(like_count=Post.like_count + 1)
    )
    return True


async def remove_like(
    session: AsyncSession, *, actor_id: int, activity_ap_id: str | None, post: Post | None
) -> Post | None:
    """Undo a like found by its activity id, else by (post, actor); returns the post.

    Lemmy and PieFed embed a Like with a fresh id in their Undo, so the id alone often misses.
    """
    like = None
    if activity_ap_id:
        like = await session.scalar(
            select(Like).where(Like.actor_id == actor_id, Like.activity_ap_id == activity_ap_id)
        )
    if like is None and post is not None:
        like = await session.get(Like, (post.id, actor_id))
    if like is None:
        return None
    await session.delete(like)
    await session.execute(
        update(Post).where(Post.id == like.post_id).values(like_count=Post.like_count - 1)
    )
    return await session.get(Post, like.post_id)


async def liked_among(session: AsyncSession, actor_id: int, post_ids: list[int]) -> set[int]:
    """Which of these posts the actor likes."""
    if not post_ids:
        return set()
    query = select(Like.post_id).where(Like.actor_id == actor_id, Like.post_id.in_(post_ids))
    return set(await session.scalars(query))
