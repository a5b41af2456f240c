"""The essential mails of an account: proving an address, resetting a password.

Neither carries an unsubscribe link: a member asked for each one just now.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models import mail_queries
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
