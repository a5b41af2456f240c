"""The activities copnet sends as a CoP or a member: fresh ids, Accepts and Announces."""

from __future__ import annotations

import uuid
from datetime import datetime

from federation.vocab import AS_CONTEXT, PUBLIC, format_datetime
from server.urls import Urls


def new_activity_id(urls: Urls) -> str:
    """A fresh, dereferenceable id for an activity we send."""
    return urls.activity(str(uuid.uuid4()))


def accept_document(urls: Urls, community_url: str, follow: dict, follower_url: str) -> dict:
    """An `Accept` of a Follow, embedding the Follow so every server can match it."""
    return {
        "@context": AS_CONTEXT,
        "id": new_activity_id(urls),
        "type": "Accept",
        "actor": community_url,
        "to": [follower_url],
        "object": follow,
    }


def announce_document(
    urls: Urls,
    community_url: str,
    announced: dict | str,
    published: datetime,
    *,
    private: bool = False,
) -> dict:
    """An Announce by the CoP to its followers (only them, for a private CoP); always with
    `published` (Lemmy requires it)."""
    followers = community_url + "/followers"
    return {
        "@context": AS_CONTEXT,
        "id": new_activity_id(urls),
        "type": "Announce",
        "actor": community_url,
        "to": [followers] if private else [PUBLIC],
        "cc": [] if private else [followers],
        "object": announced,
        "published": format_datetime(published),
    }
