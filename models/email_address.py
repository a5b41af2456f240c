"""What counts as an e-mail address copnet stores and mails: one plain `local@domain.tld`.

ASCII only, no spaces, quotes, angle brackets or control characters, a dotted domain of valid
labels, at most 254 characters (RFC 5321's limit on a path). Pure: the sign-up form, the mail
settings and every outgoing mail ask the same question here.
"""

from __future__ import annotations

import re

MAX_ADDRESS = 254
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&*+/=?^_`{|}~.-]{1,64}$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def valid_address(address: str) -> bool:
    """True for one plain address (`local@domain.tld`, ASCII) that SMTP can carry."""
    if not isinstance(address, str) or len(address) > MAX_ADDRESS or address.count("@") != 1:
        return False
    local, domain = address.split("@")
    if not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    labels = domain.split(".")
    return len(labels) >= 2 and all(_LABEL.match(label) for label in labels)
