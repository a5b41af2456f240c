"""Response helpers shared by the views."""

from __future__ import annotations

import json

from aiohttp import web

from federation.vocab import AS2_MEDIA_TYPE
from models.outbox import outbox_page
from server.as2.collections import PAGE_SIZE, ordered_collection, ordered_collection_page
from server.http.errors import http_error


def activity_json(document: dict, *, status: int = 200) -> web.Response:
    """An ActivityStreams response; `Vary: Accept` because the URL also serves HTML."""
    return web.Response(
        body=json.dumps(document, ensure_ascii=False).encode(),
        status=status,
        content_type=AS2_MEDIA_TYPE,
        charset="utf-8",
        headers={"Vary": "Accept"},
    )


def page_number(request: web.Request) -> int | None:
    """The `?page=N` query value, None when absent; 400 when not a positive integer."""
    raw = request.query.get("page")
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1 or int(raw) > 1_000_000:
        raise http_error(400, "page must be a positive integer")
    return int(raw)


async def outbox_response(
    request: web.Request, session, actor_id: int, collection_id: str
) -> web.Response:
    """A local actor's outbox: the collection, or the `?page=N` asked for, newest first."""
    page = page_number(request)
    offset = ((page or 1) - 1) * PAGE_SIZE
    total, bodies = await outbox_page(session, actor_id, limit=PAGE_SIZE, offset=offset)
    if page is None:
        return activity_json(ordered_collection(collection_id, total))
    items = [json.loads(body) for body in bodies]
    has_next = page * PAGE_SIZE < total
    return activity_json(
        ordered_collection_page(collection_id, page, items, has_next=has_next, total=total)
    )
