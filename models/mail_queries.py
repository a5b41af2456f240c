"""Reading and changing members' mail state; issuing and redeeming single-use mail tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.accounts import Account
from models.base import utcnow
from models.mail import (
    DEFAULT_DELIVERY,
    DELIVERIES,
    NEVER,
    RESET,
    VERIFY,
    MailPreference,
    MailProfile,
    MailToken,
)
from models.policy import SiteSetting
from models.stored_secrets import digest

REQUIRE_EMAIL_KEY = "signup.require_email"
VERIFY_LIFETIME = timedelta(days=3)
RESET_LIFETIME = timedelta(hours=1)
TOKEN_LIFETIMES = {VERIFY: VERIFY_LIFETIME, RESET: RESET_LIFETIME}


@dataclass(frozen=True)
class Redeemed:
    """A token that was just used: whose, and the address it was sent to."""

    account_id: int
    email: str


async def profile(session: AsyncSession, account_id: int) -> MailProfile:
    """The member's mail profile, made on first use (flushed, not committed)."""
    found = await session.get(MailProfile, account_id)
    if found is None:
        found = MailProfile(account_id=account_id, unsubscribe_key=secrets.token_hex(32))
        session.add(found)
        await session.flush()
    return found


async def is_verified(session: AsyncSession, account_id: int) -> bool:
    """True when the member's current address is the one they proved they read."""
    query = (
        select(Account.actor_id)
        .join(MailProfile, MailProfile.account_id == Account.actor_id)
        .where(Account.actor_id == account_id, MailProfile.verified_email == Account.email)
    )
    return await session.scalar(query) is not None


async def preferences(session: AsyncSession, account_id: int) -> dict[str, str]:
    """Every notification kind and how it is mailed to this member."""
    chosen = dict(
        (
            await session.execute(
                select(MailPreference.kind, MailPreference.delivery).where(
                    MailPreference.account_id == account_id
                )
            )
        ).all()
    )
    return {kind: chosen.get(kind, default) for kind, default in DEFAULT_DELIVERY.items()}


async def set_preferences(session: AsyncSession, account_id: int, chosen: dict[str, str]) -> None:
    """Store the member's choices (unknown kinds or deliveries: ValueError)."""
    for kind, delivery in chosen.items():
        if kind not in DEFAULT_DELIVERY or delivery not in DELIVERIES:
            raise ValueError(f"unknown mail preference {kind}={delivery}")
        row = await session.get(MailPreference, (account_id, kind))
        if row is None:
            session.add(MailPreference(account_id=account_id, kind=kind, delivery=delivery))
        else:
            row.delivery = delivery
    await session.flush()


async def stop_deliveries(session: AsyncSession, account_id: int, delivery: str) -> None:
    """Every kind mailed by `delivery` (say, the daily digest) is mailed never."""
    current = await preferences(session, account_id)
    await set_preferences(
        session, account_id, {kind: NEVER for kind, how in current.items() if how == delivery}
    )


async def set_network_digest(session: AsyncSession, account_id: int, wanted: bool) -> None:
    """Opt in to or out of the weekly Network digest."""
    (await profile(session, account_id)).network_digest = wanted
    await session.flush()


async def mark_verified(session: AsyncSession, account_id: int, email: str) -> None:
    """Record that the member reads `email`."""
    (await profile(session, account_id)).verified_email = email
    await session.flush()


# --- tokens -------------------------------------------------------------------------------------


async def issue_token(
    session: AsyncSession, account_id: int, purpose: str, email: str, *, now: datetime | None = None
) -> str:
    """A new single-use token for a link in a mail; only its digest is stored."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        MailToken(
            token_hash=digest(token),
            account_id=account_id,
            purpose=purpose,
            email=email,
            created_at=now,
            expires_at=now + TOKEN_LIFETIMES[purpose],
        )
    )
    await session.flush()
    return token


def _live(token: str, purpose: str, now: datetime):
    return (
        MailToken.token_hash == digest(token),
        MailToken.purpose == purpose,
        MailToken.used_at.is_(None),
        MailToken.expires_at > now,
    )


async def peek_token(
    session: AsyncSession, token: str, purpose: str, *, now: datetime | None = None
) -> Redeemed | None:
    """Whose the token is if it is unused, unexpired and its account exists; nothing changes."""
    if not token or len(token) > 128:
        return None
    row = (
        await session.execute(
            select(MailToken.account_id, MailToken.email)
            .join(Account, Account.actor_id == MailToken.account_id)
            .where(*_live(token, purpose, now or utcnow()))
        )
    ).first()
    return Redeemed(account_id=row[0], email=row[1]) if row else None


async def redeem_token(
    session: AsyncSession, token: str, purpose: str, *, now: datetime | None = None
) -> Redeemed | None:
    """Use the token: one conditional UPDATE, so two clicks racing cannot both win."""
    now = now or utcnow()
    found = await peek_token(session, token, purpose, now=now)
    if found is None:
        return None
    result = await session.execute(
        update(MailToken).where(*_live(token, purpose, now)).values(used_at=now)
    )
    return found if result.rowcount == 1 else None


async def spend_tokens(
    session: AsyncSession, account_id: int, purpose: str, *, now: datetime | None = None
) -> None:
    """Every unused token of this kind of the member is used up (after a reset: older links)."""
    await session.execute(
        update(MailToken)
        .where(
            MailToken.account_id == account_id,
            MailToken.purpose == purpose,
            MailToken.used_at.is_(None),
        )
        .values(used_at=now or utcnow())
    )


# --- the admin's setting ------------------------------------------------------------------------


async def email_required(session: AsyncSession) -> bool:
    """Does joining need an e-mail address?"""
    value = await session.scalar(
        select(SiteSetting.value).where(SiteSetting.key == REQUIRE_EMAIL_KEY)
    )
    return value == "yes"


async def set_email_required(session: AsyncSession, required: bool) -> None:
    """Change whether joining needs an e-mail address (the caller commits)."""
    setting = await session.get(SiteSetting, REQUIRE_EMAIL_KEY)
    value = "yes" if required else "no"
    if setting is None:
        session.add(SiteSetting(key=REQUIRE_EMAIL_KEY, value=value))
    else:
        setting.value = value
    await session.flush()
