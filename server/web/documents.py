"""A CoP's documents: upload, versions, safe downloads, and their federation.

Each document is a Mobilizon-style `Document` in the CoP's `resources`
collection; a new one is also announced as a thread ("📄 title") so Mastodon users see a post
that links it. Downloads never pass for an ActivityPub document (Mastodon CVE-2024-23832): the
content type is the sniffed one from an allowlist, with `nosniff`, a sandboxing CSP and a
Content-Disposition.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aiohttp_jinja2
from aiohttp import BodyPartReader, web

from models.actors import Actor, actors_by_ids
from models.base import utcnow
from models.communities import Community
from models.document_queries import (
    DocumentWithVersions,
    ListedDocument,
    get_document,
    get_version,
    is_community_member,
    list_documents,
)
from models.documents import Document
from models.posts import Post
from server.appkeys import MEDIA, SESSIONS, SETTINGS, URLS, WRITE_SESSIONS
from server.as2.collections import PAGE_SIZE, ordered_collection, ordered_collection_page
from server.as2.documents import document_object
from server.http.errors import http_error
from server.http.negotiation import choose_representation
from server.http.responses import activity_json, page_number
from server.media.kinds import EmptyUpload, UploadRefused, UploadTooLarge
from server.media.store import (
    CHUNK_SIZE,
    KINDS,
    MediaStore,
    StoredFile,
    client_filename,
    content_disposition,
    display_filename,
    human_size,
    part_chunks,
    read_text_field,
    served_type,
)
from server.services.content import html_to_text
from server.services.document_text import text_now
from server.services.documents import Upload, add_document_version, share_document
from server.services.markdown import render_markdown
from server.urls import Urls
from server.web.auth import Member, current_member, require_member
from server.web.community_access import visible_community
from server.web.csrf import multipart_reader
from server.web.private_access import may_read
from server.web.requests import list_page, path_id, sentence, wake_delivery, wake_scheduler

TITLE_LIMIT = 200
DESCRIPTION_LIMIT = 10_000
NOTE_LIMIT = 2_000
FIELD_BYTES = 64 * 1024
# Multipart framing and the small fields around the file.
FORM_OVERHEAD = 256 * 1024
LIST_PAGE_SIZE = 20
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "public, max-age=31536000, immutable",
}


# ---- reading the upload form ------------------------------------------------------------------


@dataclass
class UploadForm:
    """What a multipart upload form carried; the file is already stored."""

    values: dict[str, str] = field(default_factory=dict)
    stored: StoredFile | None = None
    filename: str = ""


async def read_upload_form(
    request: web.Request, store: MediaStore, fields: tuple[str, ...], form: UploadForm
) -> UploadForm:
    """Stream a multipart form: text fields (capped) and one file straight into the store.

    The CSRF middleware has checked the token (the form's first field) already, so the body is
    never buffered whole (aiohttp's `client_max_size` would cap it at 1 MiB).
    Fills `form` as it goes (so a refusal can show what was typed) and raises UploadRefused
    (and subclasses) with a message for people.
    """
    declared = request.content_length
    if declared is not None and declared > store.max_bytes + FORM_OVERHEAD:
        raise UploadTooLarge(f"the file is larger than the {human_size(store.max_bytes)} limit")
    if request.content_type != "multipart/form-data":
        raise UploadRefused("choose a file to upload")
    reader = await multipart_reader(request)
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise UploadRefused("the form is malformed")  # nested multipart: not ours
        name = part.name or ""
        if name == "file":
            if form.stored is not None:
                raise UploadRefused("send one file at a time")
            filename = client_filename(part)
            try:
                form.stored = await store.store(part_chunks(part), filename=filename)
            except EmptyUpload:
                if filename:
                    raise
                continue  # the file input was left empty
            form.filename = filename
        elif name in fields:
            form.values[name] = (await read_text_field(part, limit=FIELD_BYTES)).strip()
        else:
            async for _chunk in part_chunks(part):
                pass  # csrf_token (checked by the middleware) and unknown fields
    return form


def _within(value: str, limit: int, what: str) -> None:
    if len(value) > limit:
        raise UploadRefused(f"the {what} is {len(value):,} characters long; the limit is {limit:,}")


# ---- shared lookups ---------------------------------------------------------------------------


async def _may_upload(session, member: Member | None, community_id: int) -> bool:
    if member is None:
        return False
    return await is_community_member(session, actor_id=member.actor_id, community_id=community_id)


def _render(request: web.Request, template: str, context: dict, *, status: int = 200):
    context = {
        "settings": request.app[SETTINGS],
        "human_size": human_size,
        "kinds": KINDS,
        "plain": lambda markdown: html_to_text(render_markdown(markdown)).strip(),
        **context,
    }
    response = aiohttp_jinja2.render_template(template, request, context, status=status)
    response.headers["Vary"] = "Accept, Cookie"
    return response


# ---- a CoP's documents ------------------------------------------------------------------------


async def _documents_page(
    request: web.Request, *, status: int = 200, error: str = "", form: dict | None = None
) -> web.Response:
    name = request.match_info["name"]
    page = list_page(request)
    member = await current_member(request)
    async with request.app[SESSIONS]() as session:
        community = await visible_community(request, session, name)
        if not await may_read(request, session, community):
            raise http_error(404, "no such community's documents")
        found = await list_documents(
            session, community.actor_id, limit=LIST_PAGE_SIZE, offset=(page - 1) * LIST_PAGE_SIZE
        )
        uploaders = await actors_by_ids(
            session, {item.document.uploader_id for item in found.items}
        )
        may_upload = await _may_upload(session, member, community.actor_id)
    store = request.app[MEDIA]
    context = {
        "community": community,
        "actor": community.actor,
        "items": found.items,
        "total": found.total,
        "page": page,
        "pages": max(1, -(-found.total // LIST_PAGE_SIZE)),
        "uploaders": uploaders,
        "may_upload": may_upload,
        "signed_in": member is not None,
        "error": error,
        "form": form or {},
        "max_size": human_size(store.max_bytes),
        "max_bytes": store.max_bytes,
    }
    return _render(request, "documents.html", context, status=status)


async def community_documents(request: web.Request) -> web.Response:
    """GET /c/{name}/documents: the CoP's documents, newest first, and the upload form."""
    return await _documents_page(request)


async def upload_document(request: web.Request) -> web.Response:
    """POST /c/{name}/documents: a member shares a new document (announced as a thread)."""
    name = request.match_info["name"]
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        community = await visible_community(request, session, name)
        allowed = await _may_upload(session, member, community.actor_id)
    if not allowed:
        raise http_error(403, "only members of this community can share documents here")
    store = request.app[MEDIA]
    form = UploadForm()
    try:
        await read_upload_form(request, store, ("title", "description"), form)
        title = form.values.get("title", "").strip()
        description = form.values.get("description", "")
        _within(title, TITLE_LIMIT, "title")
        _within(description, DESCRIPTION_LIMIT, "description")
        if form.stored is None:
            raise UploadRefused("choose a file to upload")
        if not title:
            raise UploadRefused("give the document a title")
    except UploadRefused as refused:
        return await _documents_page(
            request, status=refused.status, error=sentence(refused.message), form=form.values
        )
    stored = form.stored
    text = await text_now(stored)
    urls = request.app[URLS]
    now = utcnow()
    async with request.app[WRITE_SESSIONS].begin() as session:
        community = await visible_community(request, session, name)
        author = await session.get(Actor, member.actor_id)
        if author is None:
            raise http_error(403, "your account is not available")
        document = await share_document(
            session,
            urls,
            community=community,
            author=author,
            title=title,
            description=description,
            upload=Upload(stored, display_filename(form.filename, stored.media_type), text),
            now=now,
        )
    wake_delivery(request.app)
    wake_scheduler(request.app)
    raise web.HTTPSeeOther(f"/d/{document.id}")


async def community_resources(request: web.Request) -> web.Response:
    """GET /c/{name}/resources: the CoP's Documents as an OrderedCollection (Mobilizon)."""
    urls = request.app[URLS]
    page = page_number(request)
    async with request.app[SESSIONS]() as session:
        community = await visible_community(request, session, request.match_info["name"])
        if not await may_read(request, session, community):
            raise http_error(404, "no such community's documents")
        collection_id = urls.community_part(community.actor.local_name or "", "resources")
        offset = ((page or 1) - 1) * PAGE_SIZE
        found = await list_documents(session, community.actor_id, limit=PAGE_SIZE, offset=offset)
        if page is None:
            return activity_json(ordered_collection(collection_id, found.total))
        uploaders = await actors_by_ids(
            session, {item.document.uploader_id for item in found.items}
        )
    items = [_listed_object(urls, item, community.actor, uploaders) for item in found.items]
    return activity_json(
        ordered_collection_page(
            collection_id, page, items, has_next=page * PAGE_SIZE < found.total, total=found.total
        )
    )


def _listed_object(
    urls: Urls, item: ListedDocument, community: Actor, uploaders: dict[int, Actor]
) -> dict:
    document = document_object(
        urls,
        item.document,
        item.latest,
        community=community,
        uploader=uploaders[item.document.uploader_id],
    )
    document.pop("@context")
    return document


# ---- one document -----------------------------------------------------------------------------


async def _load_document(session, request: web.Request) -> DocumentWithVersions:
    document_id = path_id(request, "id", "document")
    found = await get_document(session, document_id)
    if found is None:
        removed = await session.get(Document, document_id)
        if removed is not None and removed.deleted_at is not None:
            raise http_error(410, f"document {document_id} was removed")
        raise http_error(404, f"no document {document_id}")
    return found


async def document_page(
    request: web.Request, *, status: int = 200, error: str = "", form: dict | None = None
) -> web.StreamResponse:
    """GET /d/{id}: the Document for ActivityPub clients, its page for people."""
    representation = choose_representation(request.headers.get("Accept"))
    urls = request.app[URLS]
    member = await current_member(request) if representation == "html" else None
    async with request.app[SESSIONS]() as session:
        found = await _load_document(session, request)
        document = found.document
        community = await session.get(Community, document.community_id)
        if community is None or not await may_read(request, session, community):
            raise http_error(404, f"no document {document.id}")
        people = await actors_by_ids(
            session, {document.uploader_id, *(v.uploaded_by for v in found.versions)}
        )
        if representation == "as2":
            return activity_json(
                document_object(
                    urls,
                    document,
                    found.latest,
                    community=community.actor,
                    uploader=people[document.uploader_id],
                )
            )
        may_upload = await _may_upload(session, member, community.actor_id)
        thread = await session.get(Post, document.post_id) if document.post_id else None
    context = {
        "document": document,
        "description_html": render_markdown(document.description),
        "versions": found.versions,
        "latest": found.latest,
        "community": community,
        "actor": community.actor,
        "people": people,
        "uploader": people.get(document.uploader_id),
        "thread": thread if thread is not None and not thread.is_deleted else None,
        "may_upload": may_upload,
        "signed_in": member is not None,
        "error": error,
        "form": form or {},
        "max_size": human_size(request.app[MEDIA].max_bytes),
        "max_bytes": request.app[MEDIA].max_bytes,
        "download": lambda version: f"/d/{document.id}/v/{version.id}",
    }
    return _render(request, "document.html", context, status=status)


async def document_view(request: web.Request) -> web.StreamResponse:
    """Route handler for GET /d/{id}."""
    return await document_page(request)


async def upload_version(request: web.Request) -> web.StreamResponse:
    """POST /d/{id}/versions: a member of the document's CoP uploads a new version."""
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        found = await _load_document(session, request)
        allowed = await _may_upload(session, member, found.document.community_id)
    if not allowed:
        raise http_error(403, "only members of this community can add versions")
    store = request.app[MEDIA]
    form = UploadForm()
    try:
        await read_upload_form(request, store, ("note",), form)
        _within(form.values.get("note", ""), NOTE_LIMIT, "note")
        if form.stored is None:
            raise UploadRefused("choose a file to upload")
        if form.stored.sha256 == found.latest.sha256:
            raise UploadRefused("this file is the same as the latest version")
    except UploadRefused as refused:
        return await document_page(
            request, status=refused.status, error=sentence(refused.message), form=form.values
        )
    stored = form.stored
    text = await text_now(stored)
    urls = request.app[URLS]
    now = utcnow()
    async with request.app[WRITE_SESSIONS].begin() as session:
        document = await session.get(Document, found.document.id)
        community = await session.get(Community, found.document.community_id)
        author = await session.get(Actor, member.actor_id)
        if document is None or document.deleted_at is not None or community is None:
            raise http_error(404, f"no document {found.document.id}")
        if author is None:
            raise http_error(403, "your account is not available")
        await add_document_version(
            session,
            urls,
            document=document,
            community=community,
            author=author,
            upload=Upload(stored, display_filename(form.filename, stored.media_type), text),
            note=form.values.get("note", ""),
            now=now,
        )
    wake_delivery(request.app)
    wake_scheduler(request.app)
    raise web.HTTPSeeOther(f"/d/{document.id}")


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
