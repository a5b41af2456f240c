"""Local members: their accounts, looked up by handle, email or actor, and what changes on them.

Signing in lives in models.web_sessions, invitations in models.invite_queries, the sign-up
modes in models.site_modes and the CoPs a member belongs to in models.membership_queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.accounts import Account
from models.actors import Actor, create_local_actor
from models.base import utcnow
from models.email_address import valid_address


class EmailTaken(ValueError):
    """Another account already uses this email address."""


class InvalidEmail(ValueError):
    """Not something mail could be sent to."""


@dataclass(frozen=True)
class LocalMember:
    """An account with its public `Person` actor."""

    account: Account
    actor: Actor

    @property
    def name(self) -> str:
        """The member's handle (local actor name)."""
        return self.actor.local_name or ""


def normalize_email(email: str | None) -> str | None:
    """Trimmed and lower-cased, None when empty; InvalidEmail when it cannot be an address."""
    if email is None:
        return None
    value = email.strip().lower()
    if not value:
        return None
    if not valid_address(value):
        raise InvalidEmail(f"{email.strip()!r} is not an email address")
    return value


async def create_account(
    session: AsyncSession,
    name: str,
    password_hash: str,
    *,
    email: str | None = None,
    display_name: str = "",
    is_admin: bool = False,
    summary_source: str = "",
    summary_html: str = "",
) -> Account:
    """A new member: a local `Person` actor (with its key pair) and its account row.

    Raises InvalidName, NameTaken, InvalidEmail or EmailTaken; the caller commits, and rolls
    back after an error.
    """
    address = normalize_email(email)
    if address is not None and await _email_in_use(session, address):
        raise EmailTaken(f"the email address {address} is already in use")
    actor = await create_local_actor(
        session,
        name,
        "Person",
        display_name=display_name.strip(),
        summary_source=summary_source,
        summary_html=summary_html,
    )
    account = Account(actor_id=actor.id, email=address, password_hash=password_hash)
    account.is_admin = is_admin
    session.add(account)
    try:
        await session.flush()
    except IntegrityError:
        # Another sign-up took the address between our check and our insert.
        raise EmailTaken(f"the email address {address} is already in use") from None
    return account


async def _email_in_use(session: AsyncSession, address: str) -> bool:
    found = await session.scalar(select(Account.actor_id).where(Account.email == address))
    return found is not None


def _member_query():
    return select(Account, Actor).join(Actor, Actor.id == Account.actor_id)


async def member_by_name(session: AsyncSession, name: str) -> LocalMember | None:
    """The member with this handle (case-insensitive input), if any."""
    row = (
        await session.execute(_member_query().where(Actor.local_name == name.strip().lower()))
    ).first()
    return LocalMember(account=row[0], actor=row[1]) if row else None


async def member_by_email(session: AsyncSession, email: str) -> LocalMember | None:
    """The member with this email address, if any."""
    try:
        address = normalize_email(email)
    except InvalidEmail:
        return None
    if address is None:
        return None
    row = (await session.execute(_member_query().where(Account.email == address))).first()
    return LocalMember(account=row[0], actor=row[1]) if row else None


async def member_by_login(session: AsyncSession, identifier: str) -> LocalMember | None:
    """What a person types to sign in: their handle (`name`, `@name`) or their email."""
    value = identifier.strip().lstrip("@")
    if "@" in value:
        return await member_by_email(session, value)
    return await member_by_name(session, value) if value else None


async def member_by_actor_id(session: AsyncSession, actor_id: int) -> LocalMember | None:
    """The member whose Person actor has this id."""
    row = (await session.execute(_member_query().where(Account.actor_id == actor_id))).first()
    return LocalMember(account=row[0], actor=row[1]) if row else None


async def record_login(
    session: AsyncSession,
    account: Account,
    *,
    new_password_hash: str | None = None,
    now: datetime | None = None,
) -> None:
    """Note a successful sign-in (and store a re-hashed password if the parameters changed)."""
    values: dict = {"last_login_at": now or utcnow()}
    if new_password_hash:
        values["password_hash"] = new_password_hash
    await session.execute(
        update(Account).where(Account.actor_id == account.actor_id).values(**values)
    )


async def set_password_hash(session: AsyncSession, account_id: int, password_hash: str) -> None:
    """Store a new password hash (the caller also ends the member's sessions, and commits)."""
    await session.execute(
        update(Account).where(Account.actor_id == account_id).values(password_hash=password_hash)
    )


async def set_admin(session: AsyncSession, name: str, is_admin: bool = True) -> bool:
    """Grant or revoke the admin role; False if there is no such member."""
    member = await member_by_name(session, name)
    if member is None:
        return False
    await session.execute(
        update(Account).where(Account.actor_id == member.account.actor_id).values(is_admin=is_admin)
    )
    return True


async def count_accounts(session: AsyncSession) -> int:
    """How many members have signed up."""
    return int(await session.scalar(select(func.count()).select_from(Account)) or 0)
