"""Finding the person a moderator names: a member's name, `@user@host`, or an actor URL."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import InvalidActor
from federation.fetch import FetchError
from models.actors import Actor, get_local_actor
from server.peers.policy import DomainBlocked
from server.peers.remote import LocalActorNotFound


class PersonNotFound(Exception):
    """Nobody by that name or address is known (or can be fetched)."""


async def find_person(session: AsyncSession, remote, text: str) -> Actor:
    """The actor named by `text`, in `session`: a member by name, a known remote actor by
    `@user@host`, any actor by its URL (fetched when new)."""
    text = text.strip()
    if not text:
        raise PersonNotFound("name a person: a member's name, @user@host or an actor URL")
    found: Actor | None = None
    if text.startswith(("https://", "http://")) and remote is None:  # the CLI fetches nothing
        found = await session.scalar(select(Actor).where(Actor.ap_id == text))
    elif text.startswith(("https://", "http://")):
        try:
            fetched = await remote.get(text)
        except (FetchError, InvalidActor, DomainBlocked, LocalActorNotFound) as error:
            raise PersonNotFound(f"cannot find {text}: {error}") from None
        found = await session.get(Actor, fetched.id)
    elif "@" in text.lstrip("@"):
        user, _, host = text.lstrip("@").partition("@")
        found = await session.scalar(
            select(Actor).where(Actor.username == user, Actor.domain == host.lower())
        )
    else:
        found = await get_local_actor(session, text.lower())
    if found is None or found.type == "Group":
        raise PersonNotFound(f"no person known as {text!r} (give a remote one by its URL)")
    return found


async def fetch_if_url(remote, text: str) -> None:
    """Fetch (and cache) an actor named by URL before a write transaction needs it, so the
    fetch's own write never waits on that transaction; PersonNotFound when it cannot be had."""
    text = text.strip()
    if not text.startswith(("https://", "http://")):
        return
    try:
        await remote.get(text)
    except (FetchError, InvalidActor, DomainBlocked, LocalActorNotFound) as error:
        raise PersonNotFound(f"cannot find {text}: {error}") from None
