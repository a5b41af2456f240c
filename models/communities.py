"""Communities of Practice: each one a local `Group` actor plus its settings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.actors import Actor, NameTaken, create_local_actor
from models.base import Base, BigId, UTCDateTime, utcnow


class Community(Base):
    """Settings of a CoP; its identity and keys live on its `Actor` row."""

    __tablename__ = "communities"

    actor_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    posting_restricted_to_mods: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who may write the CoP's harvest pages: every member, or (when set) only its moderators.
    harvest_restricted_to_mods: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    manually_approves_followers: Mapped[bool] = mapped_column(Boolean, default=False)
    discoverable: Mapped[bool] = mapped_column(Boolean, default=True)
    # Plain Announces of replies flood Mastodon timelines, so they are opt-in per CoP.
    announce_replies_to_microblogs: Mapped[bool] = mapped_column(Boolean, default=False)
    # BCP 47 tag of what is written here; posts carry it as their `contentMap` key.
    language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    # "active", or "pending" while an admin has to approve a CoP started on the web.
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[Actor] = relationship(lazy="joined", innerjoin=True)


class CommunityModerator(Base):
    """An actor (local or remote) who moderates a CoP."""

    __tablename__ = "community_moderators"

    community_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("communities.actor_id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class ModeratorPage:
    """A slice of a CoP's moderators, oldest first."""

    total: int
    actors: list[Actor]


class TitleTaken(NameTaken):
    """Another local CoP has this title (compared without case): people could not tell them
    apart in the directory or the share list."""


async def title_in_use(session: AsyncSession, title: str) -> bool:
    """True when a local CoP already has this title, ignoring case and surrounding spaces.

    Compared in Python: SQLite's lower() folds ASCII only, and a Network has few CoPs.
    """
    wanted = " ".join(title.split()).casefold()
    titles = await session.scalars(
        select(Actor.display_name).where(Actor.local_name.is_not(None), Actor.type == "Group")
    )
    return any(" ".join(existing.split()).casefold() == wanted for existing in titles)


async def create_community(
    session: AsyncSession,
    name: str,
    *,
    title: str,
    summary_source: str = "",
    summary_html: str = "",
) -> Community:
    """Create a CoP and its Group actor; raises InvalidName, NameTaken or TitleTaken."""
    if await title_in_use(session, title):
        raise TitleTaken(f"a community called {title.strip()!r} already exists")
    actor = await create_local_actor(
        session,
        name,
        "Group",
        display_name=title,
        summary_source=summary_source,
        summary_html=summary_html,
    )
    community = Community(actor_id=actor.id, actor=actor)
    session.add(community)
    await session.flush()
    return community


async def get_community(session: AsyncSession, name: str) -> Community | None:
    """The CoP with this local name, if any."""
    query = select(Community).join(Community.actor).where(Actor.local_name == name)
    return await session.scalar(query)


async def list_communities(session: AsyncSession) -> list[Community]:
    """All CoPs, alphabetically by name."""
    query = select(Community).join(Community.actor).order_by(Actor.local_name)
    return list(await session.scalars(query))


async def count_communities(session: AsyncSession) -> int:
    """How many CoPs this Network hosts."""
    return int(await session.scalar(select(func.count()).select_from(Community)) or 0)


async def moderators(
    session: AsyncSession, community: Community, *, limit: int, offset: int = 0
) -> ModeratorPage:
    """The CoP's moderators, oldest first, with the total."""
    where = CommunityModerator.community_id == community.actor_id
    total = await session.scalar(select(func.count()).select_from(CommunityModerator).where(where))
    query = (
        select(Actor)
        .join(CommunityModerator, CommunityModerator.actor_id == Actor.id)
        .where(where)
        .order_by(CommunityModerator.added_at, Actor.id)
        .limit(limit)
        .offset(offset)
    )
    return ModeratorPage(total=int(total or 0), actors=list(await session.scalars(query)))


async def moderated_by(session: AsyncSession, actor_id: int) -> list[Community]:
    """The active CoPs this actor moderates."""
    query = (
        select(Community)
        .join(CommunityModerator, CommunityModerator.community_id == Community.actor_id)
        .where(CommunityModerator.actor_id == actor_id, Community.status == "active")
    )
    return list(await session.scalars(query))


async def is_moderator(session: AsyncSession, community_id: int, actor_id: int) -> bool:
    """True if the actor (by row id) moderates the CoP (by its actor row id)."""
    query = select(CommunityModerator.actor_id).where(
        CommunityModerator.community_id == community_id,
        CommunityModerator.actor_id == actor_id,
    )
    return (await session.scalar(query.limit(1))) is not None


LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")  # BCP 47, the common subset


def anyone_may_read(community: Community | None) -> bool:
    """A CoP whose posts anonymous visitors read: remote (None), or local, active and open."""
    return community is None or (
        community.status == "active" and not community.manually_approves_followers
    )


def publicly_readable_community():
    """anyone_may_read() as SQL, on an outer-joined `communities` row."""
    return or_(
        Community.actor_id.is_(None),
        and_(Community.status == "active", Community.manually_approves_followers.is_(False)),
    )
