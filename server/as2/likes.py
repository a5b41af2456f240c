"""A member's `Like` of a post and its `Undo`, shaped as Lemmy and Mastodon send them.

Lemmy's vote is `Like{actor, object: <post id>, audience: <community>}` and its undo embeds the
whole Like (lemmy crates/apub/activities/src/protocol/voting/undo_vote.rs; fixtures
lemmy/activities/voting/like_note.json and undo_like_note.json); Mastodon's Undo embeds the Like
the same way (fixture mastodon/activities/undo_like_page.json).
"""

from __future__ import annotations

from datetime import datetime

from federation.vocab import AS_CONTEXT, format_datetime


def like_document(
    activity_id: str, actor_url: str, object_id: str, *, author_url: str, group_url: str
) -> dict:
    """A Like of one post, addressed to its author and its CoP."""
    return {
        "@context": AS_CONTEXT,
        "id": activity_id,
        "type": "Like",
        "actor": actor_url,
        "object": object_id,
        "to": [author_url],
        "cc": [group_url],
        "audience": group_url,
    }


def undo_like_document(undo_id: str, like: dict, now: datetime) -> dict:
    """The Undo of a Like, embedding the Like as it was sent."""
    embedded = {key: value for key, value in like.items() if key != "@context"}
    return {
        "@context": AS_CONTEXT,
        "id": undo_id,
        "type": "Undo",
        "actor": like["actor"],
        "object": embedded,
        "to": like["to"],
        "cc": like["cc"],
        "audience": like["audience"],
        "published": format_datetime(now),
    }
