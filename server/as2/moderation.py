"""The activities a moderator's action becomes, in the shapes Lemmy sends and accepts.

Lemmy (crates/apub/src/activities/community/, .../block/, .../deletion/): the moderator is the
`actor`, the CoP is in `cc` and `audience`, addressed to Public; the CoP then Announces it to its
followers (FEP-1b12). A removal is a `Delete` with the reason in `summary`; lock is `Lock`; pin is
`Add`/`Remove` with `target` the featured collection; moderators are `Add`/`Remove` with `target`
the moderators collection; a ban is `Block` with `target` the CoP, `removeData`, and the end as
both `expires` and `endTime` (Lemmy sends both, reads either). Each is undone by `Undo{it}`.
"""

from __future__ import annotations

from datetime import datetime

from federation.vocab import AS_CONTEXT, PUBLIC, format_datetime
from server.as2.activities import new_activity_id
from server.urls import Urls

LEMMY_CONTEXT = [
    AS_CONTEXT,
    {"lemmy": "https://join-lemmy.org/ns#", "removeData": "lemmy:removeData"},
]


def _envelope(urls: Urls, type_: str, moderator_url: str, community_url: str, obj) -> dict:
    return {
        "@context": LEMMY_CONTEXT,
        "id": new_activity_id(urls),
        "type": type_,
        "actor": moderator_url,
        "to": [PUBLIC],
        "cc": [community_url],
        "audience": community_url,
        "object": obj,
    }


def removal(urls: Urls, moderator_url: str, community_url: str, post_id: str, reason: str) -> dict:
    """A moderator's `Delete` of a post, the reason in `summary`."""
    document = _envelope(urls, "Delete", moderator_url, community_url, post_id)
    if reason:
        document["summary"] = reason
    return document


def lock(urls: Urls, moderator_url: str, community_url: str, post_id: str, reason: str) -> dict:
    """A `Lock` of a thread's top post."""
    document = _envelope(urls, "Lock", moderator_url, community_url, post_id)
    if reason:
        document["summary"] = reason
    return document


def collection_change(
    urls: Urls, type_: str, moderator_url: str, community_url: str, obj: str, target: str
) -> dict:
    """`Add` or `Remove` of a post (featured) or an actor (moderators) with its `target`."""
    document = _envelope(urls, type_, moderator_url, community_url, obj)
    document["target"] = target
    return document


def block(
    urls: Urls,
    moderator_url: str,
    community_url: str,
    person_url: str,
    *,
    reason: str,
    expires: datetime | None,
    remove_data: bool,
) -> dict:
    """A ban: `Block` of a person with `target` the CoP."""
    document = _envelope(urls, "Block", moderator_url, community_url, person_url)
    document["target"] = community_url
    document["removeData"] = remove_data
    if reason:
        document["summary"] = reason
    if expires is not None:
        document["expires"] = document["endTime"] = format_datetime(expires)
    return document


def undo(urls: Urls, undone: dict, reason: str = "") -> dict:
    """`Undo` of one of the above, addressed as it was."""
    document = {key: undone[key] for key in ("to", "cc", "audience", "actor")}
    document.update({"@context": undone["@context"], "id": new_activity_id(urls), "type": "Undo"})
    document["object"] = {key: value for key, value in undone.items() if key != "@context"}
    if reason:
        document["summary"] = reason
    return document
