"""The essential mails of an account: proving an address, resetting a password.

Neither carries an unsubscribe link: a member asked for each one just now. A reset request is
a job holding only the address typed: the request does the same work whether or not an account
uses it (so neither its answer nor its timing tells), and the scheduler looks the member up,
makes the token and queues the mail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models import account_queries as accounts
from models import jobs, mail_queries
from models.mail import RESET, VERIFY
from server.mail.compose import render
from server.mail.message import Mail
from server.mail.outbox import queue_mail
from server.settings import Settings
from server.urls import Urls


async def send_verification(
    session: AsyncSession,
    settings: Settings,
    urls: Urls,
    *,
    account_id: int,
    name: str,
    email: str,
    now: datetime,
) -> None:
    """Queue the mail whose link proves the member reads `email`."""
    token = await mail_queries.issue_token(session, account_id, VERIFY, email, now=now)
    context = {
        "settings": settings,
        "name": name,
        "email": email,
        "link": urls.verify_email(token),
        "days": mail_queries.VERIFY_LIFETIME.days,
    }
    text, html = render("verify", context)
    subject = f"Confirm your e-mail address for {settings.instance_name}"
    mail = Mail(to=email, to_name=name, subject=subject, text=text, html=html)
    await queue_mail(session, mail, now=now)


async def send_reset(
    session: AsyncSession,
    settings: Settings,
    urls: Urls,
    *,
    account_id: int,
    name: str,
    email: str,
    now: datetime,
) -> None:
    """Queue the mail with a single-use link to choose a new password (valid for an hour)."""
    token = await mail_queries.issue_token(session, account_id, RESET, email, now=now)
    minutes = int(mail_queries.RESET_LIFETIME.total_seconds() // 60)
    context = {
        "settings": settings,
        "name": name,
        "link": urls.password_reset(token),
        "minutes": minutes,
        "forgot": urls.root + "password/forgot",
    }
    text, html = render("reset", context)
    subject = f"Reset your password on {settings.instance_name}"
    mail = Mail(to=email, to_name=name, subject=subject, text=text, html=html)
    await queue_mail(session, mail, now=now)


RESET_REQUEST = "mail.reset_request"


async def request_reset(session: AsyncSession, email: str, *, now: datetime) -> None:
    """Queue the look-up and, if an account uses `email`, its reset mail (the caller commits)."""
    await jobs.add_many(session, kind=RESET_REQUEST, run_at=now, payloads=[{"email": email}])


def job_handlers(settings: Settings) -> dict:
    """The scheduler's handler for reset requests."""

    async def reset_request(session: AsyncSession, urls: Urls, payload: dict, now: datetime):
        member = await accounts.member_by_email(session, payload.get("email", ""))
        if member is None or member.account.email is None:
            return
        await send_reset(
            session,
            settings,
            urls,
            account_id=member.account.actor_id,
            name=member.actor.display_name or member.name,
            email=member.account.email,
            now=now,
        )

    return {RESET_REQUEST: reset_request}
