"""Addresses and header words that are safe to put in a message.

Nothing a member typed reaches a header unchecked: an address must be one plain
`local@domain` without spaces, quotes or control characters, and a display name or subject is
folded onto one line (CR, LF and every other control character become a space), so no input can
start a header of its own.
"""

from __future__ import annotations

import re
from email.utils import formataddr, parseaddr

from models.email_address import valid_address

__all__ = ["mailbox", "one_line", "valid_address", "valid_sender"]

MAX_HEADER_WORDS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def valid_sender(value: str) -> bool:
    """COPNET_MAIL_FROM: an address, or `Name <address>`."""
    if _CONTROL.search(value):
        return False
    _name, address = parseaddr(value)
    return valid_address(address)


def one_line(text: str, limit: int = MAX_HEADER_WORDS) -> str:
    """Words fit for a header: control characters (CR and LF among them) become spaces."""
    folded = " ".join(_CONTROL.sub(" ", text or "").split())
    return folded if len(folded) <= limit else folded[: limit - 1].rstrip() + "…"


def mailbox(name: str, address: str) -> str:
    """`"Name" <address>`; ValueError when the address is not one plain address."""
    if not valid_address(address):
        raise ValueError(f"{address!r} is not an address copnet sends mail to")
    return formataddr((one_line(name, 78), address))
