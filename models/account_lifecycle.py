"""A member's account over its life: language, picture, last seen, the list for admins, leaving.

Leaving the Network keeps the member's `Person` row (its name stays taken, so nobody can pose as
them later, and its key still signs the `Delete` that tells other servers) but deletes the account,
its sessions, follows, likes and RSVPs and clears the profile. Their posts and documents are
either tombstoned (`remove`) or kept under the shared "Former member" actor (`anonymise`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.keys import generate_rsa_keypair
from models.accounts import Account, WebSession
from models.actors import Actor, get_local_actor
from models.base import utcnow
from models.communities import Community, CommunityModerator
from models.document_queries import latest_version
from models.documents import Document, DocumentVersion
from models.event_queries import recount
from models.events import Event, EventParticipant
from models.follows import Follow
from models.harvest_sources import source_withdrawn, sources_anonymised
from models.posts import Like, Post, tombstone_post
from models.search_index import index_document, remove_document

FORMER_MEMBER = "former_member"
FORMER_MEMBER_LABEL = "Former member"
CONTENT_CHOICES = ("remove", "anonymise")
# Seen once an hour is precise enough for "last seen" and costs one write per member per hour.
LAST_SEEN_RESOLUTION = timedelta(hours=1)
# Languages a member may choose for their posts (BCP 47), with their names in that language.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "cy": "Cymraeg",
    "ga": "Gaeilge",
    "gd": "Gàidhlig",
    "fr": "Français",
    "de": "Deutsch",
    "es": "Español",
    "it": "Italiano",
    "pt": "Português",
    "nl": "Nederlands",
    "pl": "Polski",
    "ro": "Română",
    "ar": "العربية",
    "ur": "اردو",
    "pa": "ਪੰਜਾਬੀ",
    "bn": "বাংলা",
    "zh": "中文",
}


class UnknownLanguage(ValueError):
    """Not one of LANGUAGES."""


@dataclass(frozen=True)
class MemberRow:
    """One line of the admins' member list."""

    name: str
    display_name: str
    email: str | None
    is_admin: bool
    created_at: datetime
    last_seen_at: datetime | None


async def set_language(session: AsyncSession, actor_id: int, language: str | None) -> None:
    """Store the language of the member's posts (None: the CoP's default)."""
    if language is not None and language not in LANGUAGES:
        raise UnknownLanguage(f"unknown language {language!r}")
    await session.execute(
        update(Account).where(Account.actor_id == actor_id).values(language=language)
    )


async def post_language(session: AsyncSession, actor_id: int) -> str | None:
    """The language a member writes in, for the post publisher (None: not chosen)."""
    return await session.scalar(select(Account.language).where(Account.actor_id == actor_id))


async def language_of_post(
    session: AsyncSession, author_id: int, community: Community | None
) -> str | None:
    """What a post is written in: the author's chosen language, else the CoP's (None: unknown)."""
    chosen = await post_language(session, author_id)
    return chosen or (community.language if community is not None else None)


async def set_picture(session: AsyncSession, actor_id: int, sha256: str | None) -> None:
    """Point the member's profile at a stored, re-encoded picture (None: the generated icon)."""
    await session.execute(
        update(Account).where(Account.actor_id == actor_id).values(picture_sha256=sha256)
    )
    await session.execute(update(Actor).where(Actor.id == actor_id).values(updated=utcnow()))


async def picture_of(session: AsyncSession, actor_id: int) -> str | None:
    """The digest of the member's picture, if they chose one."""
    return await session.scalar(select(Account.picture_sha256).where(Account.actor_id == actor_id))


def seen_long_ago(seen: datetime | None, *, now: datetime | None = None) -> bool:
    """True when `last_seen_at` is worth writing again."""
    return seen is None or (now or utcnow()) - seen >= LAST_SEEN_RESOLUTION


async def touch_last_seen(
    session: AsyncSession, actor_id: int, seen: datetime | None, *, now: datetime | None = None
) -> bool:
    """Record that the member used the site; a no-op within LAST_SEEN_RESOLUTION of the last."""
    now = now or utcnow()
    if not seen_long_ago(seen, now=now):
        return False
    await session.execute(
        update(Account).where(Account.actor_id == actor_id).values(last_seen_at=now)
    )
    return True


async def list_members(session: AsyncSession) -> list[MemberRow]:
    """Every member with when they were last seen (signed in or used the site), by name."""
    query = (
        select(Account, Actor).join(Actor, Actor.id == Account.actor_id).order_by(Actor.local_name)
    )
    rows = []
    for account, actor in (await session.execute(query)).all():
        seen = [when for when in (account.last_seen_at, account.last_login_at) if when is not None]
        rows.append(
            MemberRow(
                name=actor.local_name or "",
                display_name=actor.display_name,
                email=account.email,
                is_admin=bool(account.is_admin),
                created_at=account.created_at,
                last_seen_at=max(seen) if seen else None,
            )
        )
    return rows


async def former_member(session: AsyncSession) -> Actor:
    """The shared author of anonymised posts, created on first use (its name is reserved)."""
    actor = await get_local_actor(session, FORMER_MEMBER)
    if actor is None:
        private_pem, public_pem = generate_rsa_keypair()
        actor = Actor(
            type="Person",
            local_name=FORMER_MEMBER,
            username=FORMER_MEMBER,
            display_name=FORMER_MEMBER_LABEL,
            public_key_pem=public_pem,
            private_key_pem=private_pem,
        )
        session.add(actor)
        await session.flush()
    return actor


@dataclass(frozen=True)
class Removal:
    """What leaving the Network did."""

    posts: int
    documents: int


async def remove_member(
    session: AsyncSession, actor_id: int, content: str, *, now: datetime | None = None
) -> Removal:
    """Delete the account and the member's traces; their content as `content` says.

    The caller federates the `Delete{Person}` (built before this clears the profile) and
    commits.
    """
    if content not in CONTENT_CHOICES:
        raise ValueError(f"content must be one of {', '.join(CONTENT_CHOICES)}")
    now = now or utcnow()
    posts = list(
        await session.scalars(
            select(Post).where(Post.author_id == actor_id, Post.deleted_at.is_(None))
        )
    )
    documents = list(
        await session.scalars(
            select(Document).where(Document.uploader_id == actor_id, Document.deleted_at.is_(None))
        )
    )
    if content == "remove":
        for post in posts:
            await tombstone_post(session, post, now)
            await source_withdrawn(session, post.id)
        for document in documents:
            document.deleted_at = now
            await remove_document(session, document.id)
    else:
        ghost = await former_member(session)
        await sources_anonymised(session, actor_id, ghost.display_name or "Former member")
        await session.execute(
            update(Post).where(Post.author_id == actor_id).values(author_id=ghost.id)
        )
        await session.execute(
            update(Document).where(Document.uploader_id == actor_id).values(uploader_id=ghost.id)
        )
        await session.execute(
            update(DocumentVersion)
            .where(DocumentVersion.uploaded_by == actor_id)
            .values(uploaded_by=ghost.id)
        )
        for document in documents:
            await index_document(session, document, await latest_version(session, document.id))
    await _forget_likes(session, actor_id)
    await _forget_rsvps(session, actor_id)
    await session.execute(
        delete(Follow).where(or_(Follow.follower_id == actor_id, Follow.followed_id == actor_id))
    )
    await session.execute(delete(CommunityModerator).where(CommunityModerator.actor_id == actor_id))
    await session.execute(delete(WebSession).where(WebSession.account_id == actor_id))
    await session.execute(delete(Account).where(Account.actor_id == actor_id))
    await session.execute(
        update(Actor)
        .where(Actor.id == actor_id)
        .values(gone=True, display_name="", summary_source="", summary_html="", updated=now)
    )
    await session.flush()
    return Removal(posts=len(posts), documents=len(documents))


async def _forget_likes(session: AsyncSession, actor_id: int) -> None:
    liked = list(await session.scalars(select(Like.post_id).where(Like.actor_id == actor_id)))
    await session.execute(delete(Like).where(Like.actor_id == actor_id))
    for post_id in liked:
        count = select(func.count()).where(Like.post_id == post_id).scalar_subquery()
        await session.execute(update(Post).where(Post.id == post_id).values(like_count=count))


async def _forget_rsvps(session: AsyncSession, actor_id: int) -> None:
    events = list(
        await session.scalars(
            select(Event)
            .join(EventParticipant, EventParticipant.event_id == Event.id)
            .where(EventParticipant.actor_id == actor_id)
        )
    )
    await session.execute(delete(EventParticipant).where(EventParticipant.actor_id == actor_id))
    await session.flush()
    for event in events:
        await recount(session, event)


@dataclass(frozen=True)
class Archive:
    """Everything a member takes along: their posts, documents and RSVPs, with where they are."""

    posts: list[tuple[Post, Actor]]  # (post, its CoP)
    documents: list[tuple[Document, list[DocumentVersion], Actor]]
    rsvps: list[tuple[EventParticipant, Event]]


async def member_archive(session: AsyncSession, actor_id: int) -> Archive:
    """The member's own content for a data export (deleted posts and documents left out)."""
    posts = (
        await session.execute(
            select(Post, Actor)
            .join(Actor, Actor.id == Post.community_id)
            .where(Post.author_id == actor_id, Post.deleted_at.is_(None))
            .order_by(Post.published, Post.id)
        )
    ).all()
    documents = []
    for document, community in (
        await session.execute(
            select(Document, Actor)
            .join(Actor, Actor.id == Document.community_id)
            .where(Document.uploader_id == actor_id, Document.deleted_at.is_(None))
            .order_by(Document.created_at, Document.id)
        )
    ).all():
        versions = list(
            await session.scalars(
                select(DocumentVersion)
                .where(DocumentVersion.document_id == document.id)
                .order_by(DocumentVersion.created_at, DocumentVersion.id)
            )
        )
        documents.append((document, versions, community))
    rsvps = (
        await session.execute(
            select(EventParticipant, Event)
            .join(Event, Event.id == EventParticipant.event_id)
            .where(EventParticipant.actor_id == actor_id)
            .order_by(Event.starts_at, Event.id)
        )
    ).all()
    return Archive(
        posts=[(row[0], row[1]) for row in posts],
        documents=documents,
        rsvps=[(row[0], row[1]) for row in rsvps],
    )
