"""Reading a multipart upload form as it streams: capped text fields, and one file straight
into the media store (never buffered whole)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web

from server.media.kinds import EmptyUpload, UploadRefused, UploadTooLarge
from server.media.store import (
    MediaStore,
    StoredFile,
    client_filename,
    human_size,
    part_chunks,
    read_text_field,
)
from server.web.csrf import multipart_reader

FIELD_BYTES = 64 * 1024
# Multipart framing and the small fields around the file.
FORM_OVERHEAD = 256 * 1024


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


def within_limit(value: str, limit: int, what: str) -> None:
    """UploadRefused, with the numbers, when a typed value is over its limit."""
    if len(value) > limit:
        raise UploadRefused(f"the {what} is {len(value):,} characters long; the limit is {limit:,}")
