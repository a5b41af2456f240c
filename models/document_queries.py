"""Queries on a CoP's documents and their versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.communities import CommunityModerator
from models.documents import Document, DocumentVersion
from models.follows import Follow
from models.search_index import index_document

TITLE_LIMIT = 255


@dataclass(frozen=True)
class NewVersion:
    """What an upload adds: a stored file and what we know about it."""

    sha256: str
    size: int
    media_type: str
    filename: str
    text: str = ""
    note: str = ""


@dataclass(frozen=True)
class ListedDocument:
    """A document with its newest version, for lists and collections."""

    document: Document
    latest: DocumentVersion


@dataclass(frozen=True)
class DocumentPage:
    """A slice of a CoP's documents, most recently updated first, with the total."""

    total: int
    items: list[ListedDocument]


@dataclass(frozen=True)
class DocumentWithVersions:
    """A document and every version of it, newest (highest id) first."""

    document: Document
    versions: list[DocumentVersion]

    @property
    def latest(self) -> DocumentVersion:
        """The newest version (a document always has at least one)."""
        return self.versions[0]


def _version_row(
    document_id: int, version: NewVersion, uploaded_by: int, now: datetime
) -> DocumentVersion:
    return DocumentVersion(
        document_id=document_id,
        sha256=version.sha256,
        size=version.size,
        media_type=version.media_type,
        filename=version.filename[:255],
        text=version.text.replace("\x00", ""),
        note=version.note,
        uploaded_by=uploaded_by,
        created_at=now,
    )


async def create_document(
    session: AsyncSession,
    *,
    community_id: int,
    uploader_id: int,
    title: str,
    description: str,
    version: NewVersion,
    now: datetime,
) -> tuple[Document, DocumentVersion]:
    """A new document in a CoP with its first version; the caller commits."""
    document = Document(
        community_id=community_id,
        uploader_id=uploader_id,
        title=title.strip()[:TITLE_LIMIT],
        description=description.strip(),
        created_at=now,
        updated_at=now,
    )
    session.add(document)
    await session.flush()
    first = _version_row(document.id, version, uploader_id, now)
    session.add(first)
    await session.flush()
    await index_document(session, document, first)
    return document, first


async def add_version(
    session: AsyncSession,
    document: Document,
    *,
    version: NewVersion,
    uploaded_by: int,
    now: datetime,
) -> DocumentVersion:
    """A new version of a document, which becomes its latest; the caller commits."""
    row = _version_row(document.id, version, uploaded_by, now)
    session.add(row)
    document.updated_at = now
    await session.flush()
    await index_document(session, document, row)
    return row


async def set_version_text(session: AsyncSession, version_id: int, text: str) -> bool:
    """Store a version's extracted text and re-index its document if it is the latest version;
    False when the version is gone. The caller commits."""
    version = await session.get(DocumentVersion, version_id)
    if version is None:
        return False
    version.text = text
    document = await session.get(Document, version.document_id)
    latest = await latest_version(session, version.document_id)
    if document is not None and latest is not None and latest.id == version.id:
        await index_document(session, document, version)
    return True


async def latest_version(session: AsyncSession, document_id: int) -> DocumentVersion | None:
    """The newest version of a document."""
    query = (
        select(DocumentVersion)
        .where(DocumentVersion.document_id == document_id)
        .order_by(DocumentVersion.id.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def get_document(session: AsyncSession, document_id: int) -> DocumentWithVersions | None:
    """A live (not deleted) document with its versions, newest first."""
    document = await session.get(Document, document_id)
    if document is None or document.deleted_at is not None:
        return None
    query = (
        select(DocumentVersion)
        .where(DocumentVersion.document_id == document.id)
        .order_by(DocumentVersion.id.desc())
    )
    versions = list(await session.scalars(query))
    if not versions:
        return None
    return DocumentWithVersions(document=document, versions=versions)


async def get_version(
    session: AsyncSession, document_id: int, version_id: int
) -> DocumentVersion | None:
    """One version, only if it belongs to that (live) document."""
    version = await session.get(DocumentVersion, version_id)
    if version is None or version.document_id != document_id:
        return None
    document = await session.get(Document, document_id)
    if document is None or document.deleted_at is not None:
        return None
    return version


async def list_documents(
    session: AsyncSession, community_id: int, *, limit: int, offset: int = 0
) -> DocumentPage:
    """A CoP's live documents, most recently updated first, each with its latest version."""
    where = (Document.community_id == community_id, Document.deleted_at.is_(None))
    total = await session.scalar(select(func.count()).select_from(Document).where(*where))
    query = (
        select(Document)
        .where(*where)
        .order_by(Document.updated_at.desc(), Document.id.desc())
        .limit(limit)
        .offset(offset)
    )
    documents = list(await session.scalars(query))
    latest = await _latest_versions(session, [document.id for document in documents])
    items = [
        ListedDocument(document=document, latest=latest[document.id])
        for document in documents
        if document.id in latest
    ]
    return DocumentPage(total=int(total or 0), items=items)


async def _latest_versions(
    session: AsyncSession, document_ids: list[int]
) -> dict[int, DocumentVersion]:
    if not document_ids:
        return {}
    newest = (
        select(DocumentVersion.document_id, func.max(DocumentVersion.id).label("id"))
        .where(DocumentVersion.document_id.in_(document_ids))
        .group_by(DocumentVersion.document_id)
        .subquery()
    )
    query = select(DocumentVersion).join(newest, newest.c.id == DocumentVersion.id)
    return {version.document_id: version for version in await session.scalars(query)}


async def count_versions_with_digest(session: AsyncSession, sha256: str) -> int:
    """How many versions (in any CoP) use the stored file with this digest."""
    query = select(func.count()).where(DocumentVersion.sha256 == sha256)
    return int(await session.scalar(query) or 0)


async def is_community_member(session: AsyncSession, *, actor_id: int, community_id: int) -> bool:
    """True when the actor follows the CoP (accepted) or moderates it."""
    follows = await session.scalar(
        select(func.count()).where(
            Follow.follower_id == actor_id,
            Follow.followed_id == community_id,
            Follow.state == "accepted",
        )
    )
    if follows:
        return True
    moderates = await session.scalar(
        select(func.count()).where(
            CommunityModerator.actor_id == actor_id,
            CommunityModerator.community_id == community_id,
        )
    )
    return bool(moderates)


async def recent_documents(
    session: AsyncSession, community_id: int, *, limit: int
) -> list[Document]:
    """The CoP's documents changed most recently (deleted ones left out)."""
    query = (
        select(Document)
        .where(Document.community_id == community_id, Document.deleted_at.is_(None))
        .order_by(Document.updated_at.desc())
        .limit(limit)
    )
    return list(await session.scalars(query))
