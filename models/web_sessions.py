"""Web sessions: signing a browser in and out, and finding whose a cookie's token is.

The cookie's token is stored only as its digest (models.stored_secrets).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.account_queries import LocalMember
from models.accounts import Account, WebSession
from models.actors import Actor
from models.base import utcnow
from models.stored_secrets import digest

SESSION_LIFETIME = timedelta(days=30)


@dataclass(frozen=True)
class SignedIn:
    """A live web session and whose it is."""

    web_session: WebSession
    member: LocalMember


async def create_session(
    session: AsyncSession,
    account_id: int,
    *,
    now: datetime | None = None,
    lifetime: timedelta = SESSION_LIFETIME,
) -> tuple[str, WebSession]:
    """A new signed-in session: (the cookie's token, the stored row). The caller commits.

    The member's expired sessions are swept at the same time, so they never pile up.
    """
    now = now or utcnow()
    await session.execute(
        delete(WebSession).where(WebSession.account_id == account_id, WebSession.expires_at <= now)
    )
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=digest(token),
        account_id=account_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    await session.flush()
    return token, row


async def session_by_token(
    session: AsyncSession, token: str, *, now: datetime | None = None
) -> SignedIn | None:
    """The live session a cookie's token names, with its member; None if unknown or expired."""
    if not token or len(token) > 128:
        return None
    now = now or utcnow()
    query = (
        select(WebSession, Account, Actor)
        .join(Account, Account.actor_id == WebSession.account_id)
        .join(Actor, Actor.id == Account.actor_id)
        .where(WebSession.token_hash == digest(token), WebSession.expires_at > now)
    )
    row = (await session.execute(query)).first()
    if row is None:
        return None
    return SignedIn(web_session=row[0], member=LocalMember(account=row[1], actor=row[2]))


async def delete_session(session: AsyncSession, token: str) -> bool:
    """Sign a browser out; True if the session existed. The caller commits."""
    result = await session.execute(delete(WebSession).where(WebSession.token_hash == digest(token)))
    return bool(result.rowcount)


async def delete_sessions_of(session: AsyncSession, account_id: int) -> int:
    """Sign a member out everywhere (e.g. after a password change)."""
    result = await session.execute(delete(WebSession).where(WebSession.account_id == account_id))
    return int(result.rowcount or 0)


async def purge_expired_sessions(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Delete every expired session; returns how many."""
    result = await session.execute(
        delete(WebSession).where(WebSession.expires_at <= (now or utcnow()))
    )
    return int(result.rowcount or 0)
