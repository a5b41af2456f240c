"""A CoP's documents: the list of them with the upload form, and sharing a new one.

Each document is a Mobilizon-style `Document` in the CoP's `resources` collection
(server.web.document_resources); a new one is also announced as a thread ("📄 title") so
Mastodon users see a post that links it. One document's page and its versions are in
server.web.document_versions, downloads in server.web.document_downloads.
"""

from __future__ import annotations

from aiohttp import web

from models.actors import Actor, actors_by_ids
from models.base import utcnow
from models.document_queries import list_documents
from server.appkeys import MEDIA, SESSIONS, URLS, WRITE_SESSIONS
from server.http.errors import http_error
from server.media.kinds import UploadRefused
from server.media.store import display_filename, human_size
from server.services.document_text import text_now
from server.services.documents import Upload, share_document
from server.web.auth import current_member, require_member
from server.web.community_access import visible_community
from server.web.document_views import may_share_documents, render_document_page
from server.web.private_access import may_read
from server.web.requests import list_page, sentence, wake_delivery, wake_scheduler
from server.web.upload_form import UploadForm, read_upload_form, within_limit

TITLE_LIMIT = 200
DESCRIPTION_LIMIT = 10_000
LIST_PAGE_SIZE = 20


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
        may_upload = await may_share_documents(session, member, community.actor_id)
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
    return render_document_page(request, "documents.html", context, status=status)


async def community_documents(request: web.Request) -> web.Response:
    """GET /c/{name}/documents: the CoP's documents, newest first, and the upload form."""
    return await _documents_page(request)


async def upload_document(request: web.Request) -> web.Response:
    """POST /c/{name}/documents: a member shares a new document (announced as a thread)."""
    name = request.match_info["name"]
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        community = await visible_community(request, session, name)
        allowed = await may_share_documents(session, member, community.actor_id)
    if not allowed:
        raise http_error(403, "only members of this community can share documents here")
    store = request.app[MEDIA]
    form = UploadForm()
    try:
        await read_upload_form(request, store, ("title", "description"), form)
        title = form.values.get("title", "").strip()
        description = form.values.get("description", "")
        within_limit(title, TITLE_LIMIT, "title")
        within_limit(description, DESCRIPTION_LIMIT, "description")
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
