"""Responses that answer a conditional GET (RFC 9110 §13) with 304 when nothing changed.

The ETag is a digest of the body itself, so any change to what is served changes it;
If-None-Match wins over If-Modified-Since, as the RFC says.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from aiohttp import web
from aiohttp.helpers import ETAG_ANY


def body_etag(body: bytes) -> str:
    """A strong entity tag for exactly these bytes."""
    return hashlib.sha256(body).hexdigest()[:32]


def _unchanged(request: web.Request, etag: str, last_modified: datetime) -> bool:
    candidates = request.if_none_match
    if candidates is not None:
        return any(tag.value in (etag, ETAG_ANY) for tag in candidates)
    since = request.if_modified_since
    return since is not None and last_modified.replace(microsecond=0) <= since


def conditional_response(
    request: web.Request,
    body: bytes,
    *,
    content_type: str,
    last_modified: datetime,
    max_age: int = 300,
) -> web.Response:
    """200 with the body, or 304 when the client's copy is current; both carry the validators."""
    etag = body_etag(body)
    response = web.Response(status=304)
    if not _unchanged(request, etag, last_modified):
        response = web.Response(body=body, content_type=content_type, charset="utf-8")
    response.etag = etag
    response.last_modified = last_modified
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response
