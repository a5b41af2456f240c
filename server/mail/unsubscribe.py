"""RFC 8058 one-click unsubscribe links that need no sign-in and are never stored.

A link names the member, the list and an HMAC of both under the member's own random key
(`mail_profiles.unsubscribe_key`): nobody can forge a link for someone else, and a link stops
working only if the key changes. Lists: `network` (the weekly Network digest), `daily` and
`weekly` (notification digests), or one notification kind (mailed at once).
"""

from __future__ import annotations

import hashlib
import hmac

from models.mail import DAILY, WEEKLY
from models.notifications import KINDS

NETWORK = "network"
LISTS = (NETWORK, DAILY, WEEKLY, *KINDS)
LIST_NAMES = {
    NETWORK: "the weekly Network digest",
    DAILY: "the daily digest of your notifications",
    WEEKLY: "the weekly digest of your notifications",
}


def signature(key: str, account_id: int, list_name: str) -> str:
    """The link's proof: HMAC-SHA256 of `account_id:list`, hex, shortened to 128 bits."""
    message = f"{account_id}:{list_name}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:32]


def check(key: str, account_id: int, list_name: str, given: str) -> bool:
    """Is `given` the signature of this member's link to this list?"""
    if list_name not in LISTS:
        return False
    return hmac.compare_digest(signature(key, account_id, list_name), given)


def list_name_for_people(list_name: str) -> str:
    """What the unsubscribe page calls the list."""
    if list_name in LIST_NAMES:
        return LIST_NAMES[list_name]
    return "mails about " + list_name.replace("_", " ") + " notifications"
