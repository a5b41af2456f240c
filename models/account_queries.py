"""Local members: accounts, web sessions, invitations and the sign-up settings.

Secrets never reach the database in the clear: a session cookie's token and an invitation code
are stored as their SHA-256 hex digests, so a leaked database opens no browser session and
redeems no invitation.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.accounts import Account, Invite, WebSession
from models.actors import Actor, InvalidName, NameTaken, create_local_actor
from models.base import utcnow
from models.communities import Community
from models.email_address import valid_address
from models.follows import Follow
from models.policy import SiteSetting

log = logging.getLogger(__name__)

SIGNUP_MODE_KEY = "signup.mode"
SIGNUP_MODES = ("open", "invite")
DEFAULT_SIGNUP_MODE = "open"
COP_CREATION_KEY = "communities.creation"
COP_CREATION_MODES = ("anyone", "approval")
DEFAULT_COP_CREATION = "anyone"

SESSION_LIFETIME = timedelta(days=30)
MAX_EMAIL_LENGTH = 320


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


@dataclass(frozen=True)
class SignedIn:
    """A live web session and whose it is."""

    web_session: WebSession
    member: LocalMember


def digest(secret: str) -> str:
    """SHA-256 hex digest of a token or code (what the database stores)."""
    return hashlib.sha256(secret.encode()).hexdigest()


# --- accounts ---------------------------------------------------------------------------------


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


# --- web sessions -----------------------------------------------------------------------------


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


# --- invitations ------------------------------------------------------------------------------


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


# --- site settings ----------------------------------------------------------------------------


async def _get_setting(session: AsyncSession, key: str, allowed: tuple[str, ...], default: str):
    value = await session.scalar(select(SiteSetting.value).where(SiteSetting.key == key))
    if value is None:
        return default
    if value not in allowed:
        log.warning("unknown value %r for %s in site_settings; using %s", value, key, allowed[-1])
        return allowed[-1]  # the stricter choice: invite-only, approval
    return value


async def _set_setting(
    session: AsyncSession, key: str, value: str, allowed: tuple[str, ...]
) -> None:
    if value not in allowed:
        raise ValueError(f"unknown value {value!r} for {key}; use one of {', '.join(allowed)}")
    setting = await session.get(SiteSetting, key)
    if setting is None:
        session.add(SiteSetting(key=key, value=value))
    else:
        setting.value = value
    await session.flush()


async def get_signup_mode(session: AsyncSession) -> str:
    """`open` (anyone may join) or `invite` (an unused invitation code is needed)."""
    return await _get_setting(session, SIGNUP_MODE_KEY, SIGNUP_MODES, DEFAULT_SIGNUP_MODE)


async def set_signup_mode(session: AsyncSession, mode: str) -> None:
    """Change the sign-up mode (the caller commits)."""
    await _set_setting(session, SIGNUP_MODE_KEY, mode, SIGNUP_MODES)


async def get_cop_creation(session: AsyncSession) -> str:
    """`anyone` (members start CoPs at once) or `approval` (an admin approves each one)."""
    return await _get_setting(session, COP_CREATION_KEY, COP_CREATION_MODES, DEFAULT_COP_CREATION)


async def set_cop_creation(session: AsyncSession, mode: str) -> None:
    """Change who may start a CoP (the caller commits)."""
    await _set_setting(session, COP_CREATION_KEY, mode, COP_CREATION_MODES)


# --- CoPs waiting for an admin, and the CoPs a member belongs to --------------------------------


async def pending_communities(session: AsyncSession) -> list[Community]:
    """CoPs started on the web that wait for an admin's approval, oldest first."""
    query = (
        select(Community)
        .where(Community.status == "pending")
        .order_by(Community.created_at, Community.actor_id)
    )
    return list(await session.scalars(query))


async def approve_community(session: AsyncSession, name: str) -> bool:
    """Make a pending CoP active; False if there is no pending CoP of that name."""
    actor_id = await session.scalar(select(Actor.id).where(Actor.local_name == name))
    if actor_id is None:
        return False
    result = await session.execute(
        update(Community)
        .where(Community.actor_id == actor_id, Community.status == "pending")
        .values(status="active")
    )
    return result.rowcount == 1


async def memberships(session: AsyncSession, actor_id: int) -> list[Actor]:
    """The CoPs (local or remote Groups) this actor belongs to: accepted follows, by name.

    A local CoP still waiting for approval is not listed.
    """
    query = (
        select(Actor)
        .join(Follow, Follow.followed_id == Actor.id)
        .outerjoin(Community, Community.actor_id == Actor.id)
        .where(
            Follow.follower_id == actor_id,
            Follow.state == "accepted",
            Actor.type == "Group",
            or_(Community.status.is_(None), Community.status == "active"),
        )
        .order_by(func.lower(Actor.display_name), Actor.id)
    )
    return list(await session.scalars(query))


async def count_following(session: AsyncSession, actor_id: int) -> int:
    """How many actors this one follows (accepted)."""
    query = select(func.count()).where(Follow.follower_id == actor_id, Follow.state == "accepted")
    return int(await session.scalar(query) or 0)


async def following_inboxes(session: AsyncSession, actor_id: int) -> list[str]:
    """Inboxes of the remote actors this one follows (shared inbox preferred)."""
    query = (
        select(func.coalesce(Actor.shared_inbox_url, Actor.inbox_url))
        .join(Follow, Follow.followed_id == Actor.id)
        .where(
            Follow.follower_id == actor_id,
            Follow.state == "accepted",
            Actor.gone.is_(False),
            Actor.inbox_url.is_not(None),
        )
        .distinct()
    )
    return [row for row in await session.scalars(query) if row]


__all__ = [
    "COP_CREATION_MODES",
    "SESSION_LIFETIME",
    "SIGNUP_MODES",
    "EmailTaken",
    "InvalidEmail",
    "InvalidName",
    "LocalMember",
    "NameTaken",
    "SignedIn",
    "approve_community",
    "count_accounts",
    "count_following",
    "count_unused_invites",
    "create_account",
    "create_invite",
    "create_session",
    "delete_session",
    "delete_sessions_of",
    "digest",
    "following_inboxes",
    "get_cop_creation",
    "get_signup_mode",
    "invite_is_unused",
    "member_by_actor_id",
    "member_by_email",
    "member_by_login",
    "member_by_name",
    "memberships",
    "normalize_email",
    "pending_communities",
    "purge_expired_sessions",
    "record_login",
    "redeem_invite",
    "session_by_token",
    "set_admin",
    "set_cop_creation",
    "set_password_hash",
    "set_signup_mode",
]
