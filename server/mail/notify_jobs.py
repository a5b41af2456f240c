"""Notification mail: each kind at once, in a daily or weekly digest, or never, per member.

The recurring jobs read unmailed notifications (models.mail_recipients), queue one mail job per
mail and stamp `emailed_at` in the same transaction, so nothing is mailed twice. Digests walk
the members in batches by id and let go of each batch's rows: memory stays flat however many
members there are.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from models import mail_recipients as due
from models.mail import DAILY, IMMEDIATE, WEEKLY
from server.mail import recurring
from server.mail.describe import Line, describe
from server.mail.member_mail import common_context, compose_mail
from server.mail.message import Mail
from server.mail.outbox import queue_mails
from server.settings import Settings
from server.urls import Urls

IMMEDIATE_WINDOW = timedelta(days=2)  # older and still unmailed (mail was off): not news
WINDOWS = {DAILY: timedelta(days=2), WEEKLY: timedelta(days=8)}
PASS_OVER_AFTER = timedelta(days=9)
BATCH = 500
IMMEDIATE_BATCH = 2000  # per run (every minute); more waits a minute, never lost


async def send_immediate(
    session: AsyncSession, settings: Settings, urls: Urls, now: datetime
) -> int:
    """One mail per notification mailed at once; returns how many were queued."""
    rows = await due.due_notifications(
        session, IMMEDIATE, now - IMMEDIATE_WINDOW, limit=IMMEDIATE_BATCH
    )
    people = await due.recipients(session, sorted({row.account_id for row in rows}))
    lines = await describe(session, urls, rows)
    mails: list[Mail | None] = []
    for row in rows:
        recipient = people.get(row.account_id)
        if recipient is None:
            continue
        line = lines[row.id]
        context = common_context(settings, urls, recipient, row.kind)
        context.update(line=line, list_id=row.kind.replace("_", "-"))
        mails.append(compose_mail(recipient, line.text, "notification", context))
    sendable = [mail for mail in mails if mail is not None]
    await queue_mails(session, sendable, now=now)
    await due.stamp(session, [row.id for row in rows], now)
    await due.pass_over(session, now=now, older_than=now - PASS_OVER_AFTER)
    return len(sendable)


async def digest_batch(
    session: AsyncSession,
    settings: Settings,
    urls: Urls,
    delivery: str,
    now: datetime,
    *,
    after: int,
) -> tuple[int, int | None]:
    """The digests of the next BATCH members after id `after`: (mails queued, the last member
    id, or None when no member was left)."""
    since = now - WINDOWS[delivery]
    ids = await due.digest_accounts(session, delivery, since, after=after, limit=BATCH)
    if not ids:
        return 0, None
    rows = await due.due_notifications(session, delivery, since, account_ids=ids)
    people = await due.recipients(session, ids)
    lines = await describe(session, urls, rows)
    grouped: dict[int, list[Line]] = defaultdict(list)
    for row in rows:
        grouped[row.account_id].append(lines[row.id])
    mails: list[Mail | None] = []
    for account_id, items in grouped.items():
        recipient = people[account_id]
        context = common_context(settings, urls, recipient, delivery)
        context.update(lines=items, delivery=delivery, list_id=f"{delivery}-digest")
        period = "today" if delivery == DAILY else "this week"
        subject = f"{len(items)} new on {settings.instance_name} {period}"
        mails.append(compose_mail(recipient, subject, "digest", context))
    sendable = [mail for mail in mails if mail is not None]
    await queue_mails(session, sendable, now=now)
    await due.stamp(session, [row.id for row in rows], now)
    session.expunge_all()  # the batch's rows are done with: keep memory flat
    return len(sendable), ids[-1]


async def send_digests(
    session: AsyncSession, settings: Settings, urls: Urls, delivery: str, now: datetime
) -> int:
    """Every member's digest in one transaction (the jobs run one batch per transaction)."""
    after, sent = 0, 0
    while True:
        queued, last = await digest_batch(session, settings, urls, delivery, now, after=after)
        if last is None:
            return sent
        sent, after = sent + queued, last


def job_handlers(settings: Settings) -> dict:
    """The scheduler's handlers for the recurring notification mail jobs.

    A digest job does one batch of members per run, each in its own transaction, and moves
    itself on to the next batch at once: no transaction (on SQLite, no write lock) lasts for
    the whole Network.
    """

    async def notifications(session: AsyncSession, urls: Urls, _payload: dict, now: datetime):
        await send_immediate(session, settings, urls, now)
        await recurring.again(session, recurring.MAIL_NOTIFICATIONS, now)

    def digests(delivery: str, kind: str):
        async def run(session: AsyncSession, urls: Urls, payload: dict, now: datetime):
            after = int(payload.get("after", 0))
            _queued, last = await digest_batch(session, settings, urls, delivery, now, after=after)
            if last is None:
                await recurring.again(session, kind, now)
            else:
                await recurring.resume(session, kind, now, {"after": last})

        return run

    return {
        recurring.MAIL_NOTIFICATIONS: notifications,
        recurring.MAIL_DAILY: digests(DAILY, recurring.MAIL_DAILY),
        recurring.MAIL_WEEKLY: digests(WEEKLY, recurring.MAIL_WEEKLY),
    }
