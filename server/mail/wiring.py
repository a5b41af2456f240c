"""What the scheduler needs to send mail: the job handlers, the sender, how long to retry."""

from __future__ import annotations

from server.mail import account_mail, network_mail, notify_jobs
from server.mail.outbox import GIVE_UP_AFTER, MAIL_SEND, mail_sender
from server.mail.transport import Transport, transport_for
from server.services.job_kinds import JOB_HANDLERS
from server.settings import Settings
from server.workers.scheduler import JobHandler, JobPreparer


def job_handlers(settings: Settings) -> dict[str, JobHandler]:
    """Every kind of scheduled job copnet runs in the database."""
    return {
        **JOB_HANDLERS,
        **account_mail.job_handlers(settings),
        **notify_jobs.job_handlers(settings),
        **network_mail.job_handlers(settings),
    }


def job_senders(settings: Settings, transport: Transport | None = None) -> dict[str, JobPreparer]:
    """The jobs whose work is outside the database: sending mail."""
    return {MAIL_SEND: mail_sender(transport or transport_for(settings), settings)}


GIVE_UP = {MAIL_SEND: GIVE_UP_AFTER}
# Jobs whose payload is personal (an address someone typed): emptied once done or given up.
PRIVATE = frozenset({account_mail.RESET_REQUEST, MAIL_SEND})
