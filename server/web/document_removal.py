"""The uploader removes a document they shared: after a confirmation step, the document leaves
the CoP's store and search, its announcing thread is deleted (federated as `Delete`), and each
stored file goes once no version anywhere references it (files are shared by content hash)."""

from __future__ import annotations

import asyncio

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import delete, select

from models.actors import Actor
from models.base import utcnow
from models.document_queries import count_versions_with_digest
from models.documents import Document, DocumentVersion
from models.posts import Post
from models.search_index import remove_document
from server.appkeys import DELIVERY, MEDIA, SESSIONS, URLS, WRITE_SESSIONS
from server.services.post_editing import delete_post
from server.web.auth import Member, require_member


def _document_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise web.HTTPNotFound(text=f"No document {raw}.")
    return int(raw)


async def _own_document(request: web.Request, session, member: Member) -> Document:
    document = await session.get(Document, _document_id(request))
    if document is None or document.deleted_at is not None:
        raise web.HTTPNotFound(text="No such document.")
    if document.uploader_id != member.actor_id:
        raise web.HTTPForbidden(text="Only the member who shared a document can remove it.")
    return document


async def removal_confirmation(request: web.Request) -> web.Response:
    """Ask before removing."""
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        document = await _own_document(request, session, member)
    return aiohttp_jinja2.render_template("document_delete.html", request, {"document": document})


async def remove_document_from_web(request: web.Request) -> web.Response:
    """Remove the document once confirmed (`confirm=yes`)."""
    member = await require_member(request)
    form = await request.post()
    now = utcnow()
    async with request.app[WRITE_SESSIONS].begin() as session:
        document = await _own_document(request, session, member)
        if form.get("confirm") != "yes":
            raise web.HTTPSeeOther(f"/d/{document.id}/delete")
        community = await session.get(Actor, document.community_id)
        digests = set(
            await session.scalars(
                select(DocumentVersion.sha256).where(DocumentVersion.document_id == document.id)
            )
        )
        document.deleted_at = now
        await remove_document(session, document.id)
        await session.execute(
            delete(DocumentVersion).where(DocumentVersion.document_id == document.id)
        )
        author = await session.get(Actor, member.actor_id)
        for post in await _own_announcements(session, document, author.id):
            await delete_post(session, request.app[URLS], post=post, now=now, by=author)
    await forget_unreferenced_files(request.app, digests)
    request.app[DELIVERY].wake()
    raise web.HTTPSeeOther(f"/c/{community.local_name}/documents")


async def _own_announcements(session, document: Document, author_id: int) -> list[Post]:
    """The uploader's posts that announced the document or its versions (others' stay)."""
    if document.post_id is None:
        return []
    links = f"/d/{document.id}/v/"
    query = select(Post).where(
        (Post.id == document.post_id) | (Post.thread_id == document.post_id),
        Post.author_id == author_id,
        Post.ap_id.is_(None),
        Post.deleted_at.is_(None),
    )
    return [
        post
        for post in await session.scalars(query)
        if post.id == document.post_id or links in post.attachments
    ]


async def forget_unreferenced_files(app: web.Application, digests: set[str]) -> int:
    """Delete the stored files no version references any more; returns how many went."""
    store = app[MEDIA]
    removed = 0
    async with app[SESSIONS]() as session:
        for sha256 in sorted(digests):
            if await count_versions_with_digest(session, sha256):
                continue  # the same file is another document's version
            path = store.path_for(sha256)
            if await asyncio.to_thread(path.exists):
                await asyncio.to_thread(path.unlink)
                removed += 1
    return removed
