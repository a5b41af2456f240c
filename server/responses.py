"""Response helpers shared by the views."""

from __future__ import annotations

import json

from aiohttp import web

from federation.vocab import AS2_MEDIA_TYPE
from server.errors import http_error


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
