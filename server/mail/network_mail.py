"""The weekly Network digest: new CoPs, busiest threads, new documents, upcoming Basecamps.

The week's facts are read once; the opted-in members are walked in batches by id, each mail
queued as a job, each batch let go of before the next: memory stays flat for any number of
members.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from models import mail_recipients as due
from models import network_digest as facts
from server.mail import recurring
from server.mail.member_mail import common_context, compose_mail
from server.mail.message import Mail
from server.mail.notify_jobs import BATCH
from server.mail.outbox import queue_mails
from server.mail.unsubscribe import NETWORK
from server.settings import Settings
from server.urls import Urls

WEEK = timedelta(days=7)
AHEAD = timedelta(days=21)


@dataclass
class Week:
    """The facts of one digest, with their links."""

    cops: list[tuple[str, str]] = field(default_factory=list)  # (title, url)
    threads: list[tuple[str, str, str]] = field(default_factory=list)  # (title, detail, url)
    documents: list[tuple[str, str, str]] = field(default_factory=list)
    basecamps: list[tuple[str, str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.cops or self.threads or self.documents or self.basecamps)


async def this_week(session: AsyncSession, urls: Urls, now: datetime) -> Week:
    """What happened on the Network in the week before `now`, and what is coming."""
    since = now - WEEK
    week = Week()
    for cop in await facts.new_cops(session, since):
        week.cops.append((cop.title, urls.community(cop.name)))
    for thread in await facts.busiest_threads(session, since):
        replies = f"{thread.replies} new repl{'y' if thread.replies == 1 else 'ies'}"
        detail = f"{thread.community}, {replies}"
        week.threads.append((_short(thread.title), detail, urls.thread(thread.post_id)))
    for document in await facts.new_documents(session, since):
        week.documents.append(
            (document.title, document.community, urls.document(document.document_id))
        )
    for basecamp in await facts.upcoming_basecamps(session, now, now + AHEAD):
        when = f"{basecamp.starts_at:%A %d %B, %H:%M} UTC"
        week.basecamps.append((basecamp.name, when, urls.basecamp(basecamp.event_id)))
    return week


def _short(text: str, limit: int = 100) -> str:
    words = " ".join(text.split())
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"


async def network_batch(
    session: AsyncSession,
    settings: Settings,
    urls: Urls,
    now: datetime,
    week: Week,
    *,
    after: int,
    batch: int = BATCH,
) -> tuple[int, int | None]:
    """The digest for the next `batch` members after id `after` who asked for it: (mails
    queued, the last member id, or None when no member was left)."""
    people = await due.network_digest_recipients(session, after=after, limit=batch)
    if not people:
        return 0, None
    subject = f"This week on {settings.instance_name}"
    mails: list[Mail | None] = []
    for recipient in people:
        context = common_context(settings, urls, recipient, NETWORK)
        context.update(week=week, list_id="network-digest")
        mails.append(compose_mail(recipient, subject, "network_digest", context))
    sendable = [mail for mail in mails if mail is not None]
    await queue_mails(session, sendable, now=now)
    session.expunge_all()
    return len(sendable), people[-1].account_id


async def send_network_digest(
    session: AsyncSession, settings: Settings, urls: Urls, now: datetime, *, batch: int = BATCH
) -> int:
    """This week's digest for every member who asked for it, in one transaction (the job runs
    one batch per transaction); returns how many mails were queued."""
    week = await this_week(session, urls, now)
    if not week:
        return 0  # a quiet week: no mail rather than an empty one
    after, sent = 0, 0
    while True:
        queued, last = await network_batch(
            session, settings, urls, now, week, after=after, batch=batch
        )
        if last is None:
            return sent
        sent, after = sent + queued, last


def job_handlers(settings: Settings) -> dict:
    """The scheduler's handler for the weekly Network digest: the week's facts are read once
    and carried, with the last member reached, from one batch's run to the next."""

    async def network(session: AsyncSession, urls: Urls, payload: dict, now: datetime):
        if "week" in payload:
            week = Week(**payload["week"])
        else:
            week = await this_week(session, urls, now)
        last = None
        if week:
            after = int(payload.get("after", 0))
            _queued, last = await network_batch(session, settings, urls, now, week, after=after)
        if last is None:
            await recurring.again(session, recurring.MAIL_NETWORK, now)
        else:
            carried = {"after": last, "week": asdict(week)}
            await recurring.resume(session, recurring.MAIL_NETWORK, now, carried)

    return {recurring.MAIL_NETWORK: network}
