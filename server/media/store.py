"""Uploaded files: streamed with a size cap, sniffed by their bytes, stored by content hash.

Nothing the client says decides where a file lands or how it is served: the path on disk is
`root/ab/cd/<sha256>` of the bytes, and the media type comes from magic bytes (no
user-controlled path on disk for uploads). The client's filename is kept only to show and
to name the download, after sanitising; its Content-Type is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from aiohttp import BodyPartReader

from models.database import is_sqlite
from server.media.kinds import (
    FALLBACK,
    KINDS,
    EmptyUpload,
    Sniffer,
    UploadTooLarge,
    classify,
)
from server.settings import Settings

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
CHUNK_SIZE = 256 * 1024
FILENAME_LIMIT = 200

_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]')


@dataclass(frozen=True)
class StoredFile:
    """A file in the media store."""

    sha256: str
    size: int
    media_type: str
    path: Path
    created: bool  # False when identical bytes were already stored


def human_size(size: int) -> str:
    """1.5 MB-style sizes for people."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover


# ---- filenames and headers --------------------------------------------------------------------


def client_filename(part: BodyPartReader) -> str:
    """The filename a multipart part declares, percent-escapes decoded.

    Browsers escape `"` and line breaks in it as %22/%0D/%0A, and some clients (aiohttp's)
    percent-encode the whole name; either way the result is only ever sanitised and shown.
    """
    return unquote(part.filename or "", errors="replace")


def sanitize_filename(raw: str | None) -> str:
    """A filename fit to show and to put in Content-Disposition: no path, no controls."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME.sub("_", name).strip(" .")
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    if len(name) > FILENAME_LIMIT:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot else ""
        name = (stem if dot else name)[: FILENAME_LIMIT - len(ext) - 1].rstrip(" .")
        name = f"{name}.{ext}" if ext else name
    return name or "document"


def display_filename(raw: str | None, media_type: str) -> str:
    """The sanitised name with an extension that matches what the bytes really are."""
    name = sanitize_filename(raw)
    kind = KINDS.get(media_type)
    if kind is None:
        return name
    stem, dot, ext = name.rpartition(".")
    if dot and f".{ext.lower()}" in kind.extensions:
        return name
    base = stem if dot and stem and len(ext) <= 5 else name
    return f"{base}{kind.extensions[0]}"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """`attachment; filename="..."; filename*=UTF-8''...` (RFC 6266 with an ASCII fallback)."""
    name = sanitize_filename(filename)
    fallback = "".join(ch if 32 <= ord(ch) < 127 else "_" for ch in name)
    encoded = quote(name, safe="!#$&+-.^_`|~")
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def served_type(media_type: str) -> tuple[str, bool]:
    """(Content-Type header, may be shown inline) for a stored media type.

    Only the types we sniff are ever served as themselves; anything else, such as an
    ActivityPub type written into the database by some other path, goes out as an opaque
    download (Mastodon CVE-2024-23832: never let an upload pass for an AS2 document).
    """
    kind = KINDS.get(media_type)
    if kind is None:
        return FALLBACK, False
    if kind.text:
        return f"{media_type}; charset=utf-8", False
    return media_type, kind.inline


# ---- the store --------------------------------------------------------------------------------


def _valid_digest(sha256: str) -> bool:
    return len(sha256) == 64 and all(ch in "0123456789abcdef" for ch in sha256)


class MediaStore:
    """Files on disk under `root/ab/cd/<sha256>`, written atomically, deduplicated by hash."""

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES):
        self.root = Path(root)
        self.max_bytes = max_bytes

    def path_for(self, sha256: str) -> Path:
        """Where the file with this digest lives; only ever built from a hex digest."""
        if not _valid_digest(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        """True when these bytes are stored."""
        return _valid_digest(sha256) and self.path_for(sha256).is_file()

    def sweep_incoming(self, *, max_age_seconds: float = 86_400, now: float | None = None) -> int:
        """Delete temporary files a crashed process left behind; returns how many."""
        incoming = self.root / ".incoming"
        if not incoming.is_dir():
            return 0
        cutoff = (time.time() if now is None else now) - max_age_seconds
        removed = 0
        for leftover in incoming.glob("up-*"):
            with contextlib.suppress(FileNotFoundError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
                    removed += 1
        return removed

    async def store_bytes(self, data: bytes, *, filename: str = "") -> StoredFile:
        """Store bytes held in memory (tools, tests); same checks as an upload."""

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(data), CHUNK_SIZE):
                yield data[start : start + CHUNK_SIZE]

        return await self.store(chunks(), filename=filename)

    async def store(self, chunks: AsyncIterable[bytes], *, filename: str = "") -> StoredFile:
        """Stream chunks to a temporary file, check size and type, then move it into place.

        Raises UploadTooLarge, UnsupportedType or EmptyUpload, leaving nothing behind.
        """
        tmp_dir = self.root / ".incoming"
        await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
        fd, tmp_name = await asyncio.to_thread(tempfile.mkstemp, dir=tmp_dir, prefix="up-")
        tmp_path = Path(tmp_name)
        moved = False
        try:
            digest = hashlib.sha256()
            sniffer = Sniffer()
            size = 0
            with os.fdopen(fd, "wb") as out:
                async for chunk in chunks:
                    if not chunk:
                        continue
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise UploadTooLarge(
                            f"the file is larger than the {human_size(self.max_bytes)} limit"
                        )
                    digest.update(chunk)
                    sniffer.feed(chunk)
                    await asyncio.to_thread(out.write, chunk)
                await asyncio.to_thread(_flush_and_sync, out)
            sniffer.finish()
            if size == 0:
                raise EmptyUpload("the file is empty")
            media_type = await asyncio.to_thread(
                classify,
                bytes(sniffer.head),
                is_text=sniffer.is_text,
                filename=filename,
                path=tmp_path,
            )
            sha256 = digest.hexdigest()
            final = self.path_for(sha256)
            created = await asyncio.to_thread(_move_into_place, tmp_path, final)
            moved = created
            return StoredFile(sha256, size, media_type, final, created)
        finally:
            if not moved:
                with contextlib.suppress(FileNotFoundError):
                    await asyncio.to_thread(tmp_path.unlink)


def _flush_and_sync(out) -> None:
    out.flush()
    os.fsync(out.fileno())


def _move_into_place(tmp_path: Path, final: Path) -> bool:
    """Rename the temporary file to its content address; False if it was already there."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.is_file():
        return False
    os.chmod(tmp_path, 0o644)
    os.replace(tmp_path, final)  # atomic; a racing identical upload writes identical bytes
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return True


# ---- multipart helpers ------------------------------------------------------------------------


async def part_chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    """The body of one multipart part, chunk by chunk."""
    while True:
        chunk = await part.read_chunk(CHUNK_SIZE)
        if not chunk:
            return
        yield chunk


async def read_text_field(part: BodyPartReader, *, limit: int) -> str:
    """A small text field of a multipart form, refused (413) beyond `limit` bytes."""
    data = bytearray()
    async for chunk in part_chunks(part):
        data += chunk
        if len(data) > limit:
            raise UploadTooLarge(f"the field {part.name!r} is too long")
    return data.decode("utf-8", errors="replace")


def media_root(settings: Settings) -> Path:
    """Where uploads live: the configured media directory, else `media/` beside the SQLite
    database, else `var/media` in the working directory."""
    if settings.media_dir:
        return Path(settings.media_dir)
    if is_sqlite(settings.database_url):
        database = settings.database_url.split(":///", 1)[-1]
        if database and database != ":memory:":
            return Path(database).parent / "media"
    return Path("var") / "media"


def media_store_for(settings: Settings) -> MediaStore:
    """The media store the settings describe."""
    return MediaStore(media_root(settings), max_bytes=settings.max_upload_bytes)
