"""One module per activity type; HANDLERS maps each handled type to its verify/receive pair."""

from __future__ import annotations

from server.activities import (
    accept,
    announce,
    create,
    delete,
    flag,
    follow,
    like,
    moderation,
    undo,
    update,
)
from server.activities.base import Handler, strict
from server.activities.basecamp_handlers import with_basecamps
from server.activities.suspended import unsuspended


async def _nothing(*_args) -> None:
    return None


HANDLERS: dict[str, Handler] = {
    name: strict(unsuspended(handler))
    for name, handler in with_basecamps(
        {
            "Follow": Handler(follow.verify, follow.receive),
            "Undo": Handler(undo.verify, undo.receive),
            "Create": Handler(create.verify, create.receive),
            "Update": Handler(update.verify, update.receive),
            "Delete": Handler(delete.verify, delete.receive),
            "Like": Handler(like.verify, like.receive),
            "Dislike": Handler(like.verify_dislike, _nothing),
            "Accept": Handler(accept.verify, accept.receive_accept),
            "Reject": Handler(accept.verify, accept.receive_reject),
            "Announce": Handler(announce.verify, announce.receive),
            "Flag": Handler(flag.verify, flag.receive),
            **{
                kind: Handler(moderation.verify_sent, moderation.receive)
                for kind in moderation.MODERATION_TYPES
            },
        }
    ).items()
}
