"""Downloading a document version safely.

Downloads never pass for an ActivityPub document (Mastodon CVE-2024-23832): the content type is
the sniffed one from an allowlist, with `nosniff`, a sandboxing CSP and a Content-Disposition.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from models.communities import Community
from models.document_queries import get_version
from models.documents import Document
from server.appkeys import MEDIA, SESSIONS
from server.http.errors import http_error
from server.media.store import CHUNK_SIZE, content_disposition, served_type
from server.web.private_access import may_read
from server.web.requests import path_id

DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "public, max-age=31536000, immutable",
}


async def download_version(request: web.Request) -> web.StreamResponse:
    """GET /d/{id}/v/{version_id}: the bytes, with headers that keep them inert."""
    document_id = path_id(request, "id", "document")
    version_id = path_id(request, "version_id", "version")
    async with request.app[SESSIONS]() as session:
        version = await get_version(session, document_id, version_id)
        owner = await session.get(Document, document_id) if version is not None else None
        community = await session.get(Community, owner.community_id) if owner else None
        if community is not None and not await may_read(request, session, community):
            version = None
    if version is None:
        raise http_error(404, f"no version {version_id} of document {document_id}")
    store = request.app[MEDIA]
    try:
        path = store.path_for(version.sha256)
        size = (await asyncio.to_thread(path.stat)).st_size
    except (ValueError, OSError):
        raise http_error(404, "this file is no longer stored") from None
    content_type, inline = served_type(version.media_type)
    etag = f'"{version.sha256}"'
    headers = {
        **DOWNLOAD_HEADERS,
        "Content-Type": content_type,
        "Content-Disposition": content_disposition(version.filename, inline=inline),
        "ETag": etag,
    }
    if _etag_matches(request.headers.get("If-None-Match", ""), version.sha256):
        return web.Response(
            status=304, headers={k: v for k, v in headers.items() if k != "Content-Type"}
        )
    response = web.StreamResponse(status=200, headers=headers)
    response.content_length = size
    await response.prepare(request)
    if request.method != "HEAD":
        with path.open("rb") as handle:
            while chunk := await asyncio.to_thread(handle.read, CHUNK_SIZE):
                await response.write(chunk)
    await response.write_eof()
    return response


def _etag_matches(header: str, sha256: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")}
    return sha256 in tags
