"""What a file is: the kinds copnet accepts, sniffed from their bytes, and the refusals.

The media type comes from magic bytes and content, never from the client's name or declared
type; a file that is none of the accepted kinds is refused.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 64 * 1024

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
TEXT = "text/plain"
MARKDOWN = "text/markdown"
CSV = "text/csv"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
FALLBACK = "application/octet-stream"


@dataclass(frozen=True)
class Kind:
    """A media type we accept: its label, the extensions it goes by, how to serve it."""

    label: str
    extensions: tuple[str, ...]
    inline: bool = False
    text: bool = False


KINDS: dict[str, Kind] = {
    PDF: Kind("PDF", (".pdf",)),
    PNG: Kind("PNG image", (".png",), inline=True),
    JPEG: Kind("JPEG image", (".jpg", ".jpeg"), inline=True),
    GIF: Kind("GIF image", (".gif",), inline=True),
    WEBP: Kind("WebP image", (".webp",), inline=True),
    TEXT: Kind("Text", (".txt", ".text"), text=True),
    MARKDOWN: Kind("Markdown", (".md", ".markdown"), text=True),
    CSV: Kind("CSV table", (".csv",), text=True),
    ODT: Kind("OpenDocument text", (".odt",)),
    ODS: Kind("OpenDocument spreadsheet", (".ods",)),
    ODP: Kind("OpenDocument presentation", (".odp",)),
    DOCX: Kind("Word document", (".docx",)),
    XLSX: Kind("Excel workbook", (".xlsx",)),
    PPTX: Kind("PowerPoint presentation", (".pptx",)),
}
ACCEPTED_LABELS = "PDF, PNG, JPEG, GIF, WebP, plain text, Markdown, CSV, OpenDocument or Office"

_ODF_TYPES = {ODT, ODS, ODP}
# An OOXML package is a zip with [Content_Types].xml and the main part of its kind.
_OOXML_PARTS = (
    ("word/document.xml", DOCX),
    ("xl/workbook.xml", XLSX),
    ("ppt/presentation.xml", PPTX),
)
_ZIP_ENTRY_LIMIT = 10_000
# Text may hold tabs, line breaks and form feeds; other C0 controls and DEL mean binary.
_BINARY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MARKUP_START = re.compile(r"<[A-Za-z!?/]")
_JSON_ARRAY_START = re.compile(r"\[\s*(?:[\[{\"\]0-9-]|true|false|null)")
_MARKDOWN_HINT = re.compile(r"(?m)^(?:#{1,6} \S|```|\s*[-*+] \[[ xX]\] )")


class UploadRefused(Exception):
    """An upload we will not store; `status` is the HTTP status, the message is for people."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UploadTooLarge(UploadRefused):
    """Over the size cap."""

    status = 413


class UnsupportedType(UploadRefused):
    """Not a kind of file we accept, whatever its name or declared type says."""

    status = 415


class EmptyUpload(UploadRefused):
    """No bytes at all."""


class Sniffer:
    """Watches the bytes of an upload go by: keeps the head and checks it is UTF-8 text."""

    def __init__(self) -> None:
        self.head = bytearray()
        self.is_text = True
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")

    def feed(self, chunk: bytes) -> None:
        """Look at the next chunk."""
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        if not self.is_text:
            return
        try:
            text = self._decoder.decode(chunk)
        except UnicodeDecodeError:
            self.is_text = False
            return
        if _BINARY_CONTROL.search(text):
            self.is_text = False

    def finish(self) -> None:
        """The upload ended: a truncated UTF-8 sequence at the very end means binary."""
        if self.is_text:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.is_text = False


def classify(head: bytes, *, is_text: bool, filename: str = "", path: Path | None = None) -> str:
    """The media type of a file from its first bytes (and its zip directory, given the path).

    Raises UnsupportedType for anything not on the list. The filename only picks between the
    text types once the bytes are known to be harmless UTF-8 text.
    """
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04"):
        if path is None:
            raise UnsupportedType("this archive could not be checked")
        return _office_type(path)
    if is_text:
        return _text_type(head.decode("utf-8", errors="ignore"), filename, complete=False)
    raise UnsupportedType(f"this kind of file is not accepted; share {ACCEPTED_LABELS} files")


def sniff_bytes(data: bytes, filename: str = "") -> str:
    """The media type of a complete small file held in memory (tests, tools)."""
    sniffer = Sniffer()
    sniffer.feed(data)
    sniffer.finish()
    if data.startswith(b"PK\x03\x04"):
        return _office_type(io.BytesIO(data))
    return classify(data[:HEAD_BYTES], is_text=sniffer.is_text, filename=filename)


def _text_type(text: str, filename: str, *, complete: bool) -> str:
    body = text.lstrip("\ufeff \t\r\n\x0c")
    if not body:
        raise UnsupportedType("this file holds no text")
    if _MARKUP_START.match(body):
        raise UnsupportedType("HTML, SVG and XML files are not accepted; share a PDF instead")
    if body.startswith("{") or _JSON_ARRAY_START.match(body):
        raise UnsupportedType("JSON files are not accepted; share CSV or plain text instead")
    suffix = Path(filename.lower()).suffix
    if _looks_like_csv(body, trust_name=suffix == ".csv"):
        return CSV
    if suffix in KINDS[MARKDOWN].extensions or _MARKDOWN_HINT.search(body):
        return MARKDOWN
    return TEXT


def _looks_like_csv(text: str, *, trust_name: bool) -> bool:
    lines = text.splitlines()[:50]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the head may have cut the last line short
    lines = [line for line in lines if line.strip()]
    if not lines:
        return False
    for delimiter in (",", ";"):
        try:
            rows = list(csv.reader(lines, delimiter=delimiter))
        except csv.Error:
            continue
        widths = {len(row) for row in rows}
        if len(widths) == 1 and widths.pop() >= 2 and (len(rows) >= 2 or trust_name):
            return True
    return False


def _office_type(source: Path | io.BytesIO) -> str:
    refused = UnsupportedType(
        "only OpenDocument and Office documents are accepted among zip files, without macros"
    )
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
            if len(infos) > _ZIP_ENTRY_LIMIT:
                raise refused
            names = {info.filename for info in infos}
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                raise refused
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size <= 100:
                    declared = archive.read(info).decode("ascii").strip()
                    if declared in _ODF_TYPES:
                        return declared
            if "[Content_Types].xml" in names:
                for part, media_type in _OOXML_PARTS:
                    if part in names:
                        return media_type
    except UploadRefused:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
        UnicodeDecodeError,
        RuntimeError,
        NotImplementedError,
    ):
        raise refused from None
    raise refused
