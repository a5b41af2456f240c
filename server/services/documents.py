"""Sharing documents in a CoP: a new document or version is stored and announced as a post.

The website, the CLI and the demo all share documents through here, so each shared document is
announced the same way: a thread for a new document, a reply in that thread for a new version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import Actor
from models.communities import Community
from models.document_queries import NewVersion, add_version, create_document
from models.documents import Document, DocumentVersion
from models.posts import Post
from server.media.kinds import KINDS
from server.media.store import StoredFile, human_size, served_type
from server.services.document_text import schedule_extraction
from server.services.posts import publish_post
from server.urls import Urls

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")


@dataclass(frozen=True)
class Upload:
    """A file already in the media store, the name to show for it and its extracted text
    (None: extracted later, by a job)."""

    stored: StoredFile
    filename: str
    text: str | None

    def version(self, note: str = "") -> NewVersion:
        return NewVersion(
            sha256=self.stored.sha256,
            size=self.stored.size,
            media_type=self.stored.media_type,
            filename=self.filename,
            text=self.text or "",
            note=note,
        )


async def share_document(
    session: AsyncSession,
    urls: Urls,
    *,
    community: Community,
    author: Actor,
    title: str,
    description: str,
    upload: Upload,
    now: datetime,
) -> Document:
    """Store a new document in a CoP and announce it as a thread by its uploader; no commit."""
    document, version = await create_document(
        session,
        community_id=community.actor_id,
        uploader_id=author.id,
        title=title,
        description=description,
        version=upload.version(),
        now=now,
    )
    post_title, body, attachments = announcement(urls, document, version, first=True)
    post = await publish_post(
        session,
        urls,
        author=author,
        group=community.actor,
        community=community,
        title=post_title,
        body_markdown=body,
        parent=None,
        now=now,
        attachments=attachments,
    )
    document.post_id = post.id
    if upload.text is None:
        await schedule_extraction(session, version, now)
    return document


async def add_document_version(
    session: AsyncSession,
    urls: Urls,
    *,
    document: Document,
    community: Community,
    author: Actor,
    upload: Upload,
    note: str,
    now: datetime,
) -> DocumentVersion:
    """Add a version and announce it as a reply in the document's thread (if it stands)."""
    version = await add_version(
        session, document, version=upload.version(note), uploaded_by=author.id, now=now
    )
    if upload.text is None:
        await schedule_extraction(session, version, now)
    thread = await session.get(Post, document.post_id) if document.post_id else None
    if thread is not None and not thread.is_deleted:
        _title, body, attachments = announcement(urls, document, version, first=False)
        await publish_post(
            session,
            urls,
            author=author,
            group=community.actor,
            community=community,
            title="",
            body_markdown=body,
            parent=thread,
            now=now,
            attachments=attachments,
        )
    return version


def _escape_markdown(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def announcement(
    urls: Urls, document: Document, version: DocumentVersion, *, first: bool
) -> tuple[str, str, list[dict]]:
    """(title, markdown body, attachments) of the post that announces a document or version."""
    page = urls.document(document.id)
    download = urls.document_version(document.id, version.id)
    media_type, _inline = served_type(version.media_type)
    kind = KINDS.get(version.media_type)
    label = kind.label if kind else "File"
    link = f"[Download {_escape_markdown(version.filename)}]({download})"
    details = f"{link} ({label}, {human_size(version.size)}) · [About this document]({page})"
    if first:
        title = f"📄 {document.title}"
        body = f"{document.description}\n\n{details}" if document.description else details
    else:
        title = ""
        intro = f"A new version of **{_escape_markdown(document.title)}**"
        body = f"{intro}: {version.note}\n\n{details}" if version.note else f"{intro}.\n\n{details}"
    attachment = {
        "type": "Document",
        "url": download,
        "mediaType": media_type.split(";")[0],
        "name": version.filename,
    }
    return title, body, [attachment]
