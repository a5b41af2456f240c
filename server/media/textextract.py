"""Text of uploaded documents, for search: PDFs, text/markdown/CSV and office documents.

Every function here is defensive: a malformed, encrypted or hostile file yields empty (or
partial) text, never an exception, and the work is bounded by page, byte and character caps.
The functions block (PDF parsing is CPU work): call them through `asyncio.to_thread`.
"""

from __future__ import annotations

import html
import logging
import re
import zipfile
from pathlib import Path

MAX_CHARS = 200_000
MAX_PAGES = 200
MAX_XML_BYTES = 8 * 1024 * 1024

PDF = "application/pdf"
TEXT_TYPES = {"text/plain", "text/markdown", "text/csv"}
# The XML part holding the text of each office format, and the tag that ends a paragraph.
OFFICE_PARTS = {
    "application/vnd.oasis.opendocument.text": ("content.xml", "text:p|text:h"),
    "application/vnd.oasis.opendocument.spreadsheet": ("content.xml", "text:p"),
    "application/vnd.oasis.opendocument.presentation": ("content.xml", "text:p"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        "word/document.xml",
        "w:p",
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (
        "xl/sharedStrings.xml",
        "si",
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "ppt/slides/slide1.xml",
        "a:p",
    ),
}
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\x0c\r]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")
# PostgreSQL text cannot hold NUL; other C0 controls only hurt search.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")

log = logging.getLogger(__name__)


def extract_text(
    path: Path, media_type: str, *, max_chars: int = MAX_CHARS, max_pages: int = MAX_PAGES
) -> str:
    """Searchable text of a stored file; "" for types without text or files we can't read."""
    try:
        if media_type == PDF:
            return pdf_text(path, max_chars=max_chars, max_pages=max_pages)
        if media_type in TEXT_TYPES:
            return plain_text(path, max_chars=max_chars)
        if media_type in OFFICE_PARTS:
            return office_text(path, media_type, max_chars=max_chars)
    except Exception:
        log.info("could not extract text from %s (%s)", path.name, media_type, exc_info=True)
    return ""


def clean(text: str, max_chars: int) -> str:
    """Controls removed, runs of spaces and blank lines folded, capped."""
    text = _CONTROLS.sub(" ", text.replace("\r\n", "\n"))
    text = _SPACES.sub(" ", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()[:max_chars]


def plain_text(path: Path, *, max_chars: int = MAX_CHARS) -> str:
    """A UTF-8 text file as it is (byte order mark dropped), capped."""
    with path.open("rb") as handle:
        data = handle.read(max_chars * 4)
    return clean(data.decode("utf-8", errors="replace").lstrip("\ufeff"), max_chars)


def pdf_text(path: Path, *, max_chars: int = MAX_CHARS, max_pages: int = MAX_PAGES) -> str:
    """Text of the first `max_pages` pages of a PDF; "" when pypdf can't read it."""
    from pypdf import PdfReader

    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # malformed PDFs are common; don't flood the log
    try:
        try:
            reader = PdfReader(path, strict=False)
            if reader.is_encrypted:
                reader.decrypt("")
            pages = reader.pages
            count = min(len(pages), max_pages)
        except Exception:
            return ""
        parts: list[str] = []
        total = 0
        for index in range(count):
            try:
                page_text = pages[index].extract_text() or ""
            except Exception:
                log.debug("page %d of %s has no readable text", index, path.name)
                continue
            parts.append(page_text)
            total += len(page_text)
            if total >= max_chars:
                break
        return clean("\n\n".join(parts), max_chars)
    finally:
        pypdf_log.setLevel(level)


def office_text(path: Path, media_type: str, *, max_chars: int = MAX_CHARS) -> str:
    """Text of an OpenDocument or Office file: tags stripped from its main XML part.

    The XML is never parsed (no entity expansion to exploit); reading is capped.
    """
    member, paragraph_tags = OFFICE_PARTS[media_type]
    try:
        with zipfile.ZipFile(path) as archive, archive.open(member) as part:
            xml = part.read(MAX_XML_BYTES)
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
        return ""
    text = xml.decode("utf-8", errors="replace")
    text = re.sub(
        rf"</(?:{paragraph_tags})>|<(?:text:line-break|w:br|text:tab|w:tab)\b[^>]*>", "\n", text
    )
    return clean(html.unescape(_TAG.sub("", text)), max_chars)
