"""Where a mail goes: an SMTP server (aiosmtplib), or the log when none is configured.

`make run` and any copnet without COPNET_SMTP_URL use the log transport: each mail is written to
the log, so a newcomer sees what would have been sent (links included).
"""

from __future__ import annotations

import logging
import ssl
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from server.mail.smtp_url import SmtpTarget, parse_smtp_url
from server.settings import Settings

log = logging.getLogger("copnet.mail")
TIMEOUT = 30.0


class MailRefused(Exception):
    """The mail server refused this mail for good: a 5xx reply to its recipient or its content.

    Its text is the server's reply. Permanent replies to our own side (login, the sender, the
    greeting) are not this: the settings are at fault, not the mail, and the mail can still go
    once they are mended, so they are retried like a server that is down.
    """

    def __init__(self, code: int, reply: str):
        super().__init__(f"{code} {reply}")
        self.code = code


class Transport(Protocol):
    """Sends one message or raises (MailRefused when sending it again cannot help)."""

    async def send(self, message: EmailMessage) -> None: ...


class LogTransport:
    """Writes each message to the log instead of sending it."""

    async def send(self, message: EmailMessage) -> None:
        text = message.get_body(preferencelist=("plain",))
        body = text.get_content() if text is not None else ""
        # One record per line: the log keeps one line per record (no forged lines), and a
        # newcomer reads the mail as it would arrive.
        log.info(
            "mail not sent (COPNET_SMTP_URL is not set), to %s: %s",
            message["To"],
            message["Subject"],
        )
        if message["List-Unsubscribe"]:
            log.info("  | List-Unsubscribe: %s", message["List-Unsubscribe"])
        for line in body.splitlines():
            log.info("  | %s", line)


class SmtpTransport:
    """Sends through the configured server: implicit TLS, or STARTTLS (required), with login."""

    def __init__(self, target: SmtpTarget, *, ca_file: str = "", timeout: float = TIMEOUT):
        self.target = target
        self.timeout = timeout
        self.tls_context = ssl.create_default_context(cafile=ca_file or None)

    async def send(self, message: EmailMessage) -> None:
        target = self.target
        try:
            await aiosmtplib.send(
                message,
                hostname=target.host,
                port=target.port,
                username=target.username,
                password=target.password,
                use_tls=target.implicit_tls,
                start_tls=True if target.starttls else False,
                tls_context=self.tls_context if (target.implicit_tls or target.starttls) else None,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            # One recipient per mail: every refusal is about this mail's address.
            permanent = [r for r in refused.recipients if _permanent(r.code)]
            if permanent and len(permanent) == len(refused.recipients):
                raise MailRefused(permanent[0].code, permanent[0].message) from refused
            raise
        except aiosmtplib.SMTPDataError as refused:
            if _permanent(refused.code):
                raise MailRefused(refused.code, refused.message) from refused
            raise


def _permanent(code: int) -> bool:
    """RFC 5321 §4.2.1: a 5yz reply will not change if the same request is sent again."""
    return 500 <= code < 600


def transport_for(settings: Settings) -> Transport:
    """The transport the settings describe."""
    if not settings.smtp_url:
        return LogTransport()
    return SmtpTransport(parse_smtp_url(settings.smtp_url), ca_file=settings.smtp_ca_file)
