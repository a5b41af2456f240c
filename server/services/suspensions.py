"""The Network's admins suspend remote accounts and whole domains, optionally purging what they
posted. A domain suspension is the federation policy's block (server.peers.policy: refused at the
inbox with 403, before any fetch); an account suspension refuses everything the account sends
(server.activities: `unsuspended`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import policy_queries
from models.actors import Actor
from models.follows import Follow
from models.harvest_sources import source_withdrawn
from models.moderation import Suspension
from models.posts import Post, tombstone_post


class CannotSuspend(Exception):
    """Not a remote account, not a domain, or ours."""


async def suspend_actor(
    session: AsyncSession, actor: Actor, *, reason: str, purge: bool, now: datetime
) -> int:
    """Suspend a remote account (its follows of our actors end); returns posts purged."""
    if actor.is_local:
        raise CannotSuspend("local members are not suspended; an admin can remove their posts")
    if await session.get(Suspension, actor.id) is None:
        session.add(Suspension(actor_id=actor.id, reason=reason, created_at=now))
    await session.execute(Follow.__table__.delete().where(Follow.follower_id == actor.id))
    return await purge_posts(session, [actor.id], now) if purge else 0


async def unsuspend_actor(session: AsyncSession, actor: Actor) -> bool:
    """Lift an account's suspension; False when it was not suspended."""
    row = await session.get(Suspension, actor.id)
    if row is None:
        return False
    await session.delete(row)
    return True


async def suspend_domain(
    session: AsyncSession,
    raw_domain: str,
    own_domain: str,
    *,
    reason: str,
    purge: bool,
    now: datetime,
) -> tuple[str, int]:
    """Block a domain (and its subdomains) in the federation policy; returns (domain, purged)."""
    try:
        domain = policy_queries.normalize_domain(raw_domain)
    except policy_queries.InvalidDomain as error:
        raise CannotSuspend(str(error)) from None
    if domain == policy_queries.normalize_domain(own_domain):
        raise CannotSuspend(f"{domain} is this Network's own domain")
    await policy_queries.set_domain(session, domain, "block", reason)
    purged = 0
    if purge:
        actors = await session.scalars(
            select(Actor.id).where(
                Actor.ap_id.is_not(None),
                or_(
                    Actor.domain == domain,
                    Actor.domain.like(f"%.{domain}"),
                    Actor.domain.like(f"{domain}:%"),  # a host with its port
                    Actor.domain.like(f"%.{domain}:%"),
                ),
            )
        )
        purged = await purge_posts(session, list(actors), now)
    return domain, purged


async def unsuspend_domain(session: AsyncSession, raw_domain: str) -> bool:
    """Remove a domain's block."""
    try:
        domain = policy_queries.normalize_domain(raw_domain)
    except policy_queries.InvalidDomain as error:
        raise CannotSuspend(str(error)) from None
    return await policy_queries.remove_domain(session, domain)


async def purge_posts(session: AsyncSession, author_ids: list[int], now: datetime) -> int:
    """Tombstone every post by these authors (kept in their threads, without content)."""
    if not author_ids:
        return 0
    posts = await session.scalars(
        select(Post).where(Post.author_id.in_(author_ids), Post.deleted_at.is_(None))
    )
    count = 0
    for post in posts:
        await tombstone_post(session, post, now)
        await source_withdrawn(session, post.id)
        count += 1
    return count
