"""Single-use invitations: creating a code, checking it, and redeeming it once.

A code is stored only as its digest (models.stored_secrets).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.accounts import Invite
from models.base import utcnow
from models.stored_secrets import digest


def new_invite_code() -> str:
    """A fresh invitation code, easy to read out or paste (no look-alike characters)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _canonical_code(code: str) -> str:
    # People retype codes: ignore case, spaces and the dashes between groups.
    return "".join(code.split()).replace("-", "").lower()


async def create_invite(
    session: AsyncSession, *, created_by: int | None = None, now: datetime | None = None
) -> str:
    """Store a new single-use invitation and return its code (shown once, stored hashed)."""
    code = new_invite_code()
    session.add(
        Invite(
            code=digest(_canonical_code(code)), created_by=created_by, created_at=now or utcnow()
        )
    )
    await session.flush()
    return code


async def invite_is_unused(session: AsyncSession, code: str) -> bool:
    """True if the code exists and was never redeemed."""
    found = await session.scalar(
        select(Invite.code).where(
            Invite.code == digest(_canonical_code(code)), Invite.used_at.is_(None)
        )
    )
    return found is not None


async def redeem_invite(
    session: AsyncSession, code: str, used_by: int, *, now: datetime | None = None
) -> bool:
    """Mark an unused code as used by `used_by`; False if unknown or already used.

    One conditional UPDATE, so two sign-ups racing for one code cannot both win. `used_at`
    (not `used_by`, which the foreign key nulls when that member is deleted) marks use.
    """
    if not code.strip():
        return False
    result = await session.execute(
        update(Invite)
        .where(Invite.code == digest(_canonical_code(code)), Invite.used_at.is_(None))
        .values(used_by=used_by, used_at=now or utcnow())
    )
    return result.rowcount == 1


async def count_unused_invites(session: AsyncSession) -> int:
    """Invitations still waiting for someone."""
    query = select(func.count()).select_from(Invite).where(Invite.used_at.is_(None))
    return int(await session.scalar(query) or 0)
