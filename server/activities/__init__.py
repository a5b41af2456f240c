"""The activity registry: which handler receives an activity, by (activity type, object type).

One module per activity type holds its `verify` and `receive` (server/activities/base.py).
ROUTES is read top to bottom; the first route whose activity type matches, whose object type
is among the object's types (ANY: whatever the object is, even a bare id) and whose `when`
(if any) accepts the activity gets it. To handle a new kind of activity, add its route here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from federation.objects import as_list
from server.activities import (
    accept,
    announce,
    create,
    delete,
    event_create,
    flag,
    follow,
    harvest_page,
    join,
    like,
    moderation,
    undo,
    update,
    vote,
)
from server.activities.base import Context, Handler
from server.activities.suspended import unsuspended

__all__ = ["ACTIVITY_TYPES", "ANY", "ROUTES", "Route", "handler_for"]

ANY = "*"


async def _nothing(*_args: Any) -> None:
    return None


@dataclass(frozen=True)
class Route:
    """Activities of type `activity` whose object is of type `object` go to `handler`."""

    activity: str
    object: str
    handler: Handler
    when: Callable[[Context, dict], bool] | None = None

    def takes(self, ctx: Context, activity: dict) -> bool:
        if activity.get("type") != self.activity:
            return False
        if self.object != ANY:
            inner = activity.get("object")
            if not isinstance(inner, dict) or self.object not in as_list(inner.get("type")):
                return False
        return self.when is None or self.when(ctx, activity)


ROUTES: tuple[Route, ...] = (
    Route("Follow", ANY, Handler(follow.verify, follow.receive)),
    Route("Undo", "Join", Handler(join.verify_undo, join.receive_leave)),
    Route("Undo", ANY, Handler(undo.verify, undo.receive)),
    Route("Create", "Event", Handler(event_create.verify, event_create.receive)),
    Route("Create", "Note", Handler(vote.verify, vote.receive), when=vote.wants),
    Route("Create", ANY, Handler(create.verify, create.receive)),
    Route("Update", "Event", Handler(event_create.verify_update, event_create.receive_update)),
    Route("Update", ANY, Handler(update.verify, update.receive)),
    Route("Delete", ANY, Handler(delete.verify, delete.receive)),
    Route("Like", ANY, Handler(like.verify, like.receive)),
    Route("Dislike", ANY, Handler(like.verify_dislike, _nothing)),
    Route("Accept", ANY, Handler(accept.verify, accept.receive_accept)),
    Route("Reject", ANY, Handler(accept.verify, accept.receive_reject)),
    Route(
        "Announce",
        ANY,
        Handler(harvest_page.verify, harvest_page.receive),
        when=harvest_page.wants,
    ),
    Route("Announce", ANY, Handler(announce.verify, announce.receive)),
    Route("Join", ANY, Handler(join.verify, join.receive_join)),
    Route("Leave", ANY, Handler(join.verify, join.receive_leave)),
    Route("Flag", ANY, Handler(flag.verify, flag.receive)),
    *(
        Route(kind, ANY, Handler(moderation.verify_sent, moderation.receive))
        for kind in sorted(moderation.MODERATION_TYPES)
    ),
)

# What the inbox stores; anything else is answered "ignored" without being kept.
ACTIVITY_TYPES = frozenset(route.activity for route in ROUTES)


def handler_for(ctx: Context, activity: dict) -> Handler | None:
    """The handler of the first route that takes this (well-formed) activity, if any."""
    for route in ROUTES:
        if route.takes(ctx, activity):
            # Nothing an account the Network's admins suspended sends is taken.
            return unsuspended(route.handler)
    return None
