"""Mail jobs: each mail is a scheduled job (`mail.send`) the scheduler sends with retries.

A request only adds the job in its own transaction and wakes the scheduler: no request ever
waits on the mail server. The scheduler sends before it opens the job's transaction, retries
with the one backoff rule (federation.retry.next_attempt) and gives up after a day, recording
the last error on the job; a mail the server refused for good (a 5xx reply to its address or
its content, MailRefused) is given up at once with that reply as the error. Once sent or
given up the job keeps no copy of the mail (a reset link's token must not outlive its use in
the database).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import jobs
from server.mail.message import Mail, build_message
from server.mail.transport import MailRefused, Transport
from server.settings import Settings
from server.workers.scheduler import GiveUpJob

MAIL_SEND = "mail.send"
GIVE_UP_AFTER = timedelta(days=1)


async def queue_mail(session: AsyncSession, mail: Mail, *, now: datetime) -> None:
    """Add the mail's job, due now (the caller commits and wakes the scheduler)."""
    await jobs.add_many(session, kind=MAIL_SEND, run_at=now, payloads=[mail.payload()])


async def queue_mails(session: AsyncSession, mails: list[Mail], *, now: datetime) -> None:
    """Add many mails' jobs in one INSERT."""
    await jobs.add_many(
        session, kind=MAIL_SEND, run_at=now, payloads=[mail.payload() for mail in mails]
    )


def mail_sender(
    transport: Transport, settings: Settings
) -> Callable[[dict[str, Any]], Awaitable[None]]:
    """The scheduler's sender for `mail.send` jobs."""
    domain = settings.base.host or "localhost"

    async def send(payload: dict[str, Any]) -> None:
        mail = Mail.from_payload(payload)
        try:
            await transport.send(build_message(mail, sender=settings.sender, domain=domain))
        except MailRefused as refused:
            raise GiveUpJob(f"the mail server refused it for good: {refused}") from refused

    return send
