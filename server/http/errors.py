"""JSON error responses and the middleware that guarantees them."""

from __future__ import annotations

import functools
import json
import logging

from aiohttp import web

log = logging.getLogger(__name__)


def http_error(status: int, reason: str) -> web.HTTPException:
    """An aiohttp HTTP exception whose body is `{"error": reason}`."""
    return _exception_classes()[status](
        text=json.dumps({"error": reason}), content_type="application/json"
    )


@functools.cache
def _exception_classes() -> dict[int, type[web.HTTPException]]:
    found: dict[int, type[web.HTTPException]] = {}
    pending: list[type[web.HTTPException]] = [web.HTTPException]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if getattr(cls, "status_code", -1) > 0:
            found.setdefault(cls.status_code, cls)
    # Some classes need extra constructor arguments (413 wants max_size); use plain ones.
    base = {True: web.HTTPClientError, False: web.HTTPServerError}
    for status in (413, 405):
        found[status] = type(f"HTTP{status}", (base[status < 500],), {"status_code": status})
    return found


@web.middleware
async def json_errors(request: web.Request, handler) -> web.StreamResponse:
    """Give every error a JSON reason and never leak a traceback to the client."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status_code >= 400 and exc.content_type != "application/json":
            reason = exc.text if exc.text and exc.text != exc.reason else exc.reason
            if exc.status_code == 404 and reason.startswith("404"):
                reason = "no such page"
            exc.text = json.dumps({"error": reason.removeprefix(f"{exc.status_code}: ")})
            exc.content_type = "application/json"
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return web.json_response({"error": "internal server error"}, status=500)
