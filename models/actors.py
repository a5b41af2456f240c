"""Actors: local ones (the instance, CoPs, members) and cached remote ones."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from federation.keys import generate_rsa_keypair
from models.base import Base, BigId, UTCDateTime, utcnow
from models.names import InvalidName, validate_name
from models.upsert import upsert

INSTANCE_ACTOR_NAME = "instance"


class NameTaken(ValueError):
    """Another local actor already has this name."""


class Actor(Base):
    """One ActivityPub actor; `local_name` is set for ours, `ap_id` for remote ones."""

    __tablename__ = "actors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))  # AS2 type: Group, Person, Application...
    local_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    ap_id: Mapped[str | None] = mapped_column(String(2048), unique=True)
    username: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str | None] = mapped_column(String(255), index=True)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    summary_source: Mapped[str] = mapped_column(Text, default="")
    summary_html: Mapped[str] = mapped_column(Text, default="")
    inbox_url: Mapped[str | None] = mapped_column(String(2048), index=True)
    shared_inbox_url: Mapped[str | None] = mapped_column(String(2048))
    outbox_url: Mapped[str | None] = mapped_column(String(2048))
    followers_url: Mapped[str | None] = mapped_column(String(2048))
    url: Mapped[str | None] = mapped_column(String(2048))  # human-facing profile page
    icon_url: Mapped[str | None] = mapped_column(String(2048))
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    public_key_id: Mapped[str | None] = mapped_column(String(2048), index=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    private_key_pem: Mapped[str | None] = mapped_column(Text)
    published: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    gone: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def is_local(self) -> bool:
        """True for actors this server hosts."""
        return self.local_name is not None


async def create_local_actor(
    session: AsyncSession,
    name: str,
    type_: str,
    *,
    display_name: str = "",
    summary_source: str = "",
    summary_html: str = "",
) -> Actor:
    """Create a local actor with a fresh RSA-2048 key pair; raise InvalidName or NameTaken."""
    if type_ != "Application":
        validate_name(name)
    if await get_local_actor(session, name) is not None:
        raise NameTaken(f"the name {name!r} is already taken")
    private_pem, public_pem = generate_rsa_keypair()
    actor = Actor(
        type=type_,
        local_name=name,
        username=name,
        display_name=display_name,
        summary_source=summary_source,
        summary_html=summary_html,
        public_key_pem=public_pem,
        private_key_pem=private_pem,
    )
    session.add(actor)
    try:
        await session.flush()
    except IntegrityError:
        # Another process took the name between our check and our insert.
        raise NameTaken(f"the name {name!r} is already taken") from None
    return actor


async def get_local_actor(session: AsyncSession, name: str) -> Actor | None:
    """The local actor with this name, if any."""
    return await session.scalar(select(Actor).where(Actor.local_name == name))


async def ensure_instance_actor(session: AsyncSession) -> Actor:
    """The instance's own `Application` actor, created on first use."""
    actor = await get_local_actor(session, INSTANCE_ACTOR_NAME)
    if actor is None:
        actor = await create_local_actor(session, INSTANCE_ACTOR_NAME, "Application")
    return actor


__all__ = [
    "INSTANCE_ACTOR_NAME",
    "Actor",
    "InvalidName",
    "NameTaken",
    "create_local_actor",
    "ensure_instance_actor",
    "get_local_actor",
]


async def actor_by_ap_id(session: AsyncSession, ap_id: str) -> Actor | None:
    """The cached remote actor with this ActivityPub id."""
    return await session.scalar(select(Actor).where(Actor.ap_id == ap_id).limit(1))


async def actor_by_key_id(session: AsyncSession, key_id: str) -> Actor | None:
    """The cached remote actor whose main key has this id."""
    return await session.scalar(select(Actor).where(Actor.public_key_id == key_id).limit(1))


async def remote_key(session: AsyncSession, ap_id: str) -> tuple[str | None, str | None] | None:
    """(key id, PEM) stored for a remote actor, or None when it is not cached."""
    row = (
        await session.execute(
            select(Actor.public_key_id, Actor.public_key_pem).where(Actor.ap_id == ap_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def key_owner(session: AsyncSession, key_id: str) -> tuple[str, str] | None:
    """(owner's ActivityPub id, PEM) of a cached remote key, or None."""
    row = (
        await session.execute(
            select(Actor.ap_id, Actor.public_key_pem).where(
                Actor.public_key_id == key_id, Actor.ap_id.is_not(None)
            )
        )
    ).first()
    if row is None or not row[0] or not row[1]:
        return None
    return row[0], row[1]


async def store_remote_actor(
    session: AsyncSession, values: dict[str, Any], *, published: datetime
) -> Actor:
    """Insert or refresh a remote actor by its ap_id and return the row as stored; no commit."""
    await upsert(session, Actor, values, "ap_id", insert_only={"published": published})
    actor = await session.scalar(
        select(Actor)
        .where(Actor.ap_id == values["ap_id"])
        .execution_options(populate_existing=True)
    )
    assert actor is not None
    return actor


async def mark_gone(session: AsyncSession, ap_id: str, *, now: datetime) -> None:
    """Remember that a remote actor answered 410 Gone; no commit."""
    await session.execute(
        update(Actor).where(Actor.ap_id == ap_id).values(gone=True, fetched_at=now)
    )


async def local_actor_type(session: AsyncSession, name: str) -> str | None:
    """The AS2 type of the local actor with this name, or None."""
    return await session.scalar(select(Actor.type).where(Actor.local_name == name))


async def actors_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, Actor]:
    """The actors with these row ids, by id."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {
        actor.id: actor
        for actor in await session.scalars(select(Actor).where(Actor.id.in_(wanted)))
    }
