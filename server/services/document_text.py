"""A document's searchable text, extracted in a durable job rather than in the upload request.

Parsing a large PDF takes seconds of CPU; an upload request that did it would hold its member
(and, on one core, everybody else) for that long. The upload stores the file and the document
at once and schedules a job; the job extracts the text (`prepare`, before its transaction
opens) and stores it, which makes the document findable by its contents. A small file is
extracted in the request, where it costs a few milliseconds, so it is searchable at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import jobs
from models.document_queries import set_version_text
from models.documents import DocumentVersion
from server.media.store import MediaStore, StoredFile
from server.media.textextract import extract_text
from server.urls import Urls

DOCUMENT_TEXT = "document_text"
INLINE_BYTES = 64 * 1024  # below this, extraction is cheaper than a job's round trips


async def text_now(stored: StoredFile) -> str | None:
    """The file's text if it is small enough to extract in the request, else None (a job)."""
    if stored.size > INLINE_BYTES:  # read at each call: bench/upload.py sets it for "before"
        return None
    return await asyncio.to_thread(extract_text, stored.path, stored.media_type)


async def schedule_extraction(session: AsyncSession, version: DocumentVersion, now: datetime):
    """Queue the job that extracts this version's text; no commit."""
    await jobs.schedule(
        session,
        kind=DOCUMENT_TEXT,
        key=f"{DOCUMENT_TEXT}:{version.id}",
        run_at=now,
        payload={
            "version_id": version.id,
            "sha256": version.sha256,
            "media_type": version.media_type,
        },
    )


def extractor(store: Callable[[], MediaStore]):
    """The job's preparer: reads the stored file on a thread, outside any transaction.
    `store` is asked at run time (the app sets its media store after the workers start)."""

    async def prepare(payload: dict[str, Any]) -> dict[str, Any]:
        path = store().path_for(payload["sha256"])
        text = await asyncio.to_thread(extract_text, path, payload["media_type"])
        return {"text": text}

    return prepare


async def store_text(session: AsyncSession, _urls: Urls, payload: dict[str, Any], _now) -> None:
    """The job's handler: the text joins the version (and the index, if it is the latest)."""
    await set_version_text(session, payload["version_id"], payload["text"])
