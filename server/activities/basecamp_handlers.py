"""Basecamp federation added to the activity registry without touching the other handlers.

`with_basecamps(HANDLERS)` adds Join and Leave, and puts a diverter in front of Create (remote
`Event`s and poll votes), Update (of archived events) and Undo (of a Join): what a Basecamp
module `wants` goes to it, everything else to the handler that was there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from server.activities import event_create, join, vote
from server.activities.base import Context, Handler

Route = tuple[Callable[[Context, dict], bool], Handler]


@dataclass
class _Diverted:
    receive: Callable[..., Any]
    prepared: Any


def diverting(fallback: Handler, *routes: Route) -> Handler:
    """A handler that gives an activity to the first route that wants it, else to `fallback`."""

    async def verify(ctx: Context, activity: dict) -> Any:
        for wants, handler in routes:
            if wants(ctx, activity):
                return _Diverted(handler.receive, await handler.verify(ctx, activity))
        return await fallback.verify(ctx, activity)

    async def receive(ctx: Context, session, activity: dict, prepared: Any) -> None:
        if isinstance(prepared, _Diverted):
            return await prepared.receive(ctx, session, activity, prepared.prepared)
        return await fallback.receive(ctx, session, activity, prepared)

    return Handler(verify, receive)


def _carries_event(_ctx: Context, activity: dict) -> bool:
    return event_create.wants(activity)


def _undoes_join(_ctx: Context, activity: dict) -> bool:
    inner = activity.get("object")
    return isinstance(inner, dict) and inner.get("type") == "Join"


def with_basecamps(handlers: dict[str, Handler]) -> dict[str, Handler]:
    """The registry with Basecamp handling added."""
    return {
        **handlers,
        "Create": diverting(
            handlers["Create"],
            (_carries_event, Handler(event_create.verify, event_create.receive)),
            (vote.wants, Handler(vote.verify, vote.receive)),
        ),
        "Update": diverting(
            handlers["Update"],
            (_carries_event, Handler(event_create.verify_update, event_create.receive_update)),
        ),
        "Undo": diverting(
            handlers["Undo"], (_undoes_join, Handler(join.verify_undo, join.receive_leave))
        ),
        "Join": Handler(join.verify, join.receive_join),
        "Leave": Handler(join.verify, join.receive_leave),
    }
