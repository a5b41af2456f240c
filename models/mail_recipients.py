"""Who gets which mail: notifications due by each member's preferences, digest recipients.

Only members whose current address is verified get notification mail or digests. `emailed_at`
on a notification means the mailer is done with it: mailed at once, put in a digest, or passed
over (the member mails that kind never, or it grew too old to be news).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.accounts import Account
from models.actors import Actor
from models.mail import DEFAULT_DELIVERY, NEVER, MailPreference, MailProfile
from models.notifications import Notification


@dataclass(frozen=True)
class Recipient:
    """A member with a verified address, as a mail needs them."""

    account_id: int
    name: str
    display_name: str
    email: str
    unsubscribe_key: str


def effective_delivery():
    """SQL: how a notification row is mailed, the member's choice or the default."""
    default = case(DEFAULT_DELIVERY, value=Notification.kind, else_=NEVER)
    return func.coalesce(MailPreference.delivery, default)


def _with_delivery(query):
    return query.outerjoin(
        MailPreference,
        and_(
            MailPreference.account_id == Notification.account_id,
            MailPreference.kind == Notification.kind,
        ),
    )


def _verified(query, account_column):
    return query.join(Account, Account.actor_id == account_column).join(
        MailProfile,
        and_(
            MailProfile.account_id == Account.actor_id,
            MailProfile.verified_email == Account.email,
        ),
    )


def _unmailed(delivery: str, since: datetime):
    return (
        Notification.emailed_at.is_(None),
        Notification.created_at >= since,
        effective_delivery() == delivery,
    )


async def due_notifications(
    session: AsyncSession,
    delivery: str,
    since: datetime,
    account_ids: Sequence[int] | None = None,
    *,
    limit: int | None = None,
) -> list[Notification]:
    """Unmailed notifications mailed by `delivery` to verified members, by member, oldest
    first; at most `limit` (the rest wait for the next run)."""
    query = _verified(_with_delivery(select(Notification)), Notification.account_id).where(
        *_unmailed(delivery, since)
    )
    if account_ids is not None:
        query = query.where(Notification.account_id.in_(account_ids))
    query = query.order_by(Notification.account_id, Notification.created_at, Notification.id)
    return list(await session.scalars(query.limit(limit)))


async def digest_accounts(
    session: AsyncSession, delivery: str, since: datetime, *, after: int, limit: int
) -> list[int]:
    """The next `limit` verified members (by id, after `after`) with a digest to get."""
    query = (
        _verified(_with_delivery(select(Notification.account_id)), Notification.account_id)
        .where(*_unmailed(delivery, since), Notification.account_id > after)
        .group_by(Notification.account_id)
        .order_by(Notification.account_id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def stamp(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    """The mailer is done with these notifications."""
    if ids:
        await session.execute(
            update(Notification)
            .where(Notification.id.in_(list(ids)), Notification.emailed_at.is_(None))
            .values(emailed_at=now)
            .execution_options(synchronize_session=False)
        )


async def pass_over(session: AsyncSession, *, now: datetime, older_than: datetime) -> int:
    """Stamp what will never be mailed: kinds mailed never, and anything too old."""
    never = _with_delivery(select(Notification.id)).where(
        Notification.emailed_at.is_(None), effective_delivery() == NEVER
    )
    result = await session.execute(
        update(Notification)
        .where(
            Notification.emailed_at.is_(None),
            (Notification.created_at < older_than) | Notification.id.in_(never),
        )
        .values(emailed_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def _recipient_query():
    return (
        select(
            Account.actor_id,
            Actor.local_name,
            Actor.display_name,
            Account.email,
            MailProfile.unsubscribe_key,
        )
        .select_from(Account)
        .join(Actor, Actor.id == Account.actor_id)
        .join(
            MailProfile,
            and_(
                MailProfile.account_id == Account.actor_id,
                MailProfile.verified_email == Account.email,
            ),
        )
    )


def _recipient(row) -> Recipient:
    return Recipient(
        account_id=row[0],
        name=row[1] or "",
        display_name=row[2] or "",
        email=row[3],
        unsubscribe_key=row[4],
    )


async def recipients(session: AsyncSession, account_ids: Sequence[int]) -> dict[int, Recipient]:
    """The verified members among these ids."""
    if not account_ids:
        return {}
    query = _recipient_query().where(Account.actor_id.in_(list(account_ids)))
    return {row[0]: _recipient(row) for row in await session.execute(query)}


async def network_digest_recipients(
    session: AsyncSession, *, after: int, limit: int
) -> list[Recipient]:
    """The next `limit` verified members who asked for the weekly Network digest."""
    query = (
        _recipient_query()
        .where(MailProfile.network_digest.is_(True), Account.actor_id > after)
        .order_by(Account.actor_id)
        .limit(limit)
    )
    return [_recipient(row) for row in await session.execute(query)]
