"""One outgoing mail: what a mail job stores, and the MIME message built from it at sending.

Every mail has a plain-text and an HTML part (multipart/alternative). A non-essential mail
carries RFC 8058 one-click unsubscribe: `List-Unsubscribe` with an https (or http, for a local
copnet) URL and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`; mail clients POST to that
URL without cookies.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from models.base import utcnow
from server.mail.address import mailbox, one_line, valid_address

ONE_CLICK = "List-Unsubscribe=One-Click"


@dataclass(frozen=True)
class Mail:
    """A rendered mail, ready to be queued as a job's payload."""

    to: str
    to_name: str
    subject: str
    text: str
    html: str
    unsubscribe_url: str | None = None  # None: an essential mail (address check, reset)
    list_id: str | None = None  # which of our lists (for List-Id), with unsubscribe_url

    def __post_init__(self) -> None:
        if not valid_address(self.to):
            raise ValueError(f"{self.to!r} is not an address copnet sends mail to")

    def payload(self) -> dict[str, Any]:
        """What the mail job stores."""
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Mail:
        """The mail a job stored."""
        return cls(**{name: payload.get(name) for name in cls.__dataclass_fields__})


def build_message(mail: Mail, *, sender: str, domain: str) -> EmailMessage:
    """The MIME message: headers that cannot be forged from input, text and HTML parts."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mailbox(mail.to_name, mail.to)
    message["Subject"] = one_line(mail.subject)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    if mail.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{one_line(mail.unsubscribe_url, 2000)}>"
        message["List-Unsubscribe-Post"] = ONE_CLICK
        if mail.list_id:
            message["List-Id"] = f"<{one_line(mail.list_id, 200).replace(' ', '')}.{domain}>"
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message
