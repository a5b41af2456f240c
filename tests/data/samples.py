"""Tiny but genuine sample files of every kind the upload sniffer knows, and some it refuses."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib


def pdf(*pages: str) -> bytes:
    """A valid PDF with one page per string, each drawn in Helvetica (pypdf extracts it)."""
    texts = pages or ("Hello",)
    count = len(texts)
    font_id = 3 + 2 * count
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(f"{3 + 2 * i} 0 R".encode() for i in range(count))
        + f"] /Count {count} >>".encode(),
    ]
    for index, text in enumerate(texts):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        content = f"BT /F1 18 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1")
        page = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * index} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>"
        )
        objects.append(page.encode())
        objects.append(
            f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream"
        )
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def broken_pdf() -> bytes:
    """Starts like a PDF, then nothing a parser can use."""
    return b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R >>\n\x00\xff garbage \x80\x81\n"


def png(width: int = 1, height: int = 1) -> bytes:
    """A real (grey) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    """The start of a JFIF JPEG (sniffing reads only the magic bytes)."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64


def gif() -> bytes:
    """A 1x1 GIF."""
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
        b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )


def webp() -> bytes:
    """A RIFF/WEBP container header with a lossy frame tag."""
    payload = b"WEBPVP8 " + struct.pack("<I", 10) + b"\x00" * 10
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


def _zip(members: dict[str, bytes], *, first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if first is not None:
            archive.writestr(zipfile.ZipInfo(first), members[first])  # stored, first: as ODF asks
        for name, data in members.items():
            if name != first:
                archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def odt(text: str = "Care plan") -> bytes:
    """An OpenDocument text with one paragraph."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
        f"<office:text><text:p>{text}</text:p><text:p>Second &amp; last</text:p>"
        "</office:text></office:body></office:document-content>"
    ).encode()
    return _zip(
        {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": content},
        first="mimetype",
    )


def docx(text: str = "Discharge checklist", *, macros: bool = False) -> bytes:
    """A Word document with one paragraph (or a macro-enabled one)."""
    document = (
        '<?xml version="1.0" encoding="UTF-8"?><w:document '
        'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
    ).encode()
    members = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
        "word/document.xml": document,
    }
    if macros:
        members["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0macros"
    return _zip(members)


def plain_zip() -> bytes:
    """A zip archive that is not an office document."""
    return _zip({"notes.txt": b"hello", "run.sh": b"#!/bin/sh\necho hi\n"})


TEXT = b"Handover notes\nBed 4: review fluids at 14:00.\n"
MARKDOWN = b"# Falls prevention\n\n- Check footwear\n- Clear the floor\n"
CSV_DATA = b"ward,beds,staff\nA,12,4\nB,8,3\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
HTML_LOWER = b"\n  <html><head></head><body>hi</body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
AS2_NOTE = json.dumps(
    {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://copnet.test/d/1/v/1",
        "type": "Note",
        "attributedTo": "https://copnet.test/u/admin",
        "content": "forged",
    }
).encode()
JSON_ARRAY = b'[{"a": 1}]'
