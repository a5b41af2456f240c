"""One document: its page (or its AS2 `Document`), and a member uploading a new version."""

from __future__ import annotations

from aiohttp import web

from models.actors import Actor, actors_by_ids
from models.base import utcnow
from models.communities import Community
from models.document_queries import DocumentWithVersions, get_document
from models.documents import Document
from models.posts import Post
from server.appkeys import MEDIA, SESSIONS, URLS, WRITE_SESSIONS
from server.as2.documents import document_object
from server.http.errors import http_error
from server.http.negotiation import choose_representation
from server.http.responses import activity_json
from server.media.kinds import UploadRefused
from server.media.store import display_filename, human_size
from server.services.document_text import text_now
from server.services.documents import Upload, add_document_version
from server.services.markdown import render_markdown
from server.web.auth import current_member, require_member
from server.web.document_views import may_share_documents, render_document_page
from server.web.private_access import may_read
from server.web.requests import path_id, sentence, wake_delivery, wake_scheduler
from server.web.upload_form import UploadForm, read_upload_form, within_limit

NOTE_LIMIT = 2_000


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
        may_upload = await may_share_documents(session, member, community.actor_id)
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
    return render_document_page(request, "document.html", context, status=status)


async def document_view(request: web.Request) -> web.StreamResponse:
    """Route handler for GET /d/{id}."""
    return await document_page(request)


async def upload_version(request: web.Request) -> web.StreamResponse:
    """POST /d/{id}/versions: a member of the document's CoP uploads a new version."""
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        found = await _load_document(session, request)
        allowed = await may_share_documents(session, member, found.document.community_id)
    if not allowed:
        raise http_error(403, "only members of this community can add versions")
    store = request.app[MEDIA]
    form = UploadForm()
    try:
        await read_upload_form(request, store, ("note",), form)
        within_limit(form.values.get("note", ""), NOTE_LIMIT, "note")
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
