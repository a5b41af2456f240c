"""The media store: sniffing by bytes, size cap, content-addressed paths, safe headers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from server.media import store as uploads
from server.media.kinds import (
    CSV,
    DOCX,
    GIF,
    JPEG,
    MARKDOWN,
    ODT,
    PDF,
    PNG,
    TEXT,
    WEBP,
    EmptyUpload,
    UnsupportedType,
    UploadTooLarge,
    sniff_bytes,
)
from server.media.store import (
    MediaStore,
    content_disposition,
    display_filename,
    sanitize_filename,
    served_type,
)
from tests.data import samples

ACCEPTED = [
    ("report.pdf", samples.pdf("Hello"), PDF),
    ("photo.png", samples.png(), PNG),
    ("photo.jpg", samples.jpeg(), JPEG),
    ("anim.gif", samples.gif(), GIF),
    ("pic.webp", samples.webp(), WEBP),
    ("notes.txt", samples.TEXT, TEXT),
    ("README", samples.TEXT, TEXT),
    ("guide.md", b"Some *notes* without a heading\n", MARKDOWN),
    ("guide.txt", samples.MARKDOWN, MARKDOWN),  # a heading line says markdown
    ("staff.csv", samples.CSV_DATA, CSV),
    ("staff.txt", samples.CSV_DATA, CSV),  # CSV-shaped content
    ("single.csv", b"only,one,row\n", CSV),
    ("plan.odt", samples.odt(), ODT),
    ("checklist.docx", samples.docx(), DOCX),
    ("bom.txt", b"\xef\xbb\xbfWith a byte order mark\n", TEXT),
    ("accents.txt", "Soins palliatifs à domicile — été\n".encode(), TEXT),
]

REFUSED = [
    ("page.html", samples.HTML),
    ("page.txt", samples.HTML_LOWER),
    ("image.svg", samples.SVG),
    ("tool", samples.ELF),
    ("setup.exe", samples.WINDOWS_EXE),
    ("note.json", samples.AS2_NOTE),
    ("note.txt", samples.AS2_NOTE),
    ("list.json", samples.JSON_ARRAY),
    ("bundle.zip", samples.plain_zip()),
    ("macro.docx", samples.docx(macros=True)),
    ("truncated.docx", samples.docx()[:40]),
    ("latin1.txt", "caf\xe9 cr\xe8me".encode("latin-1")),
    ("controls.txt", b"text with a bell \x07 in it"),
    ("random.bin", bytes(range(256)) * 4),
]
# Test ids by file name: generated documents carry the time, and every pytest-xdist worker must
# collect the same ids.
ACCEPTED_IDS = [name for name, _data, _kind in ACCEPTED]
REFUSED_IDS = [name for name, _data in REFUSED]


@pytest.mark.parametrize(("filename", "data", "expected"), ACCEPTED, ids=ACCEPTED_IDS)
def test_accepted_kinds_are_recognised_by_their_bytes(filename, data, expected):
    assert sniff_bytes(data, filename) == expected


@pytest.mark.parametrize(("filename", "data"), REFUSED, ids=REFUSED_IDS)
def test_other_kinds_are_refused(filename, data):
    with pytest.raises(UnsupportedType):
        sniff_bytes(data, filename)


@pytest.mark.parametrize(("filename", "data", "expected"), ACCEPTED, ids=ACCEPTED_IDS)
async def test_the_store_sniffs_the_same_way_while_streaming(tmp_path, filename, data, expected):
    stored = await MediaStore(tmp_path).store_bytes(data, filename=filename)
    assert stored.media_type == expected
    assert stored.path.read_bytes() == data


@pytest.mark.parametrize(("filename", "data"), REFUSED, ids=REFUSED_IDS)
async def test_refused_uploads_leave_nothing_behind(tmp_path, filename, data):
    with pytest.raises(UnsupportedType):
        await MediaStore(tmp_path).store_bytes(data, filename=filename)
    assert _files(tmp_path) == []


async def test_a_pdf_renamed_png_is_stored_and_named_as_a_pdf(tmp_path):
    stored = await MediaStore(tmp_path).store_bytes(samples.pdf("x"), filename="scan.png")
    assert stored.media_type == PDF
    assert display_filename("scan.png", stored.media_type) == "scan.pdf"


async def test_the_client_filename_never_chooses_the_path(tmp_path):
    data = b"root:x:0:0:root:/root:/bin/bash\n"
    root = tmp_path / "media"
    stored = await MediaStore(root).store_bytes(data, filename="../../etc/passwd")
    digest = hashlib.sha256(data).hexdigest()
    assert stored.sha256 == digest
    assert stored.path == root / digest[:2] / digest[2:4] / digest
    assert _files(tmp_path) == [stored.path]
    assert display_filename("../../etc/passwd", stored.media_type) == "passwd.txt"


async def test_identical_bytes_are_stored_once(tmp_path):
    store = MediaStore(tmp_path)
    first = await store.store_bytes(samples.pdf("same"), filename="a.pdf")
    second = await store.store_bytes(samples.pdf("same"), filename="b.pdf")
    assert (first.created, second.created) == (True, False)
    assert first.path == second.path
    assert _files(tmp_path) == [first.path]


async def test_the_size_cap_refuses_and_cleans_up(tmp_path):
    store = MediaStore(tmp_path, max_bytes=1000)
    with pytest.raises(UploadTooLarge) as refused:
        await store.store_bytes(b"a" * 1001, filename="big.txt")
    assert refused.value.status == 413
    assert _files(tmp_path) == []
    exactly = await store.store_bytes(b"a" * 1000, filename="ok.txt")
    assert exactly.size == 1000


async def test_the_cap_stops_reading_an_endless_stream(tmp_path):
    store = MediaStore(tmp_path, max_bytes=64 * 1024)
    read = 0

    async def endless():
        nonlocal read
        while True:
            read += 8192
            yield b"x" * 8192

    with pytest.raises(UploadTooLarge):
        await store.store(endless())
    assert read <= 64 * 1024 + 8192


async def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(EmptyUpload):
        await MediaStore(tmp_path).store_bytes(b"", filename="empty.txt")


async def test_text_split_across_chunks_is_still_text(tmp_path):
    data = ("é" * 200_000).encode()  # two-byte characters cut at every chunk boundary
    stored = await MediaStore(tmp_path).store_bytes(data, filename="long.txt")
    assert stored.media_type == TEXT


async def test_leftovers_of_a_crash_are_swept(tmp_path):
    store = MediaStore(tmp_path)
    kept = await store.store_bytes(samples.TEXT, filename="notes.txt")
    incoming = tmp_path / ".incoming"
    (incoming / "up-first").write_bytes(b"half an upload")
    (incoming / "up-second").write_bytes(b"another half")
    written = (incoming / "up-first").stat().st_mtime
    assert store.sweep_incoming(max_age_seconds=60, now=written + 30) == 0  # maybe in progress
    assert store.sweep_incoming(max_age_seconds=60, now=written + 3600) == 2
    assert _files(tmp_path) == [kept.path]
    assert MediaStore(tmp_path / "never-used").sweep_incoming() == 0


def test_paths_are_built_only_from_hex_digests(tmp_path):
    store = MediaStore(tmp_path)
    for bad in ("../../etc/passwd", "A" * 64, "0" * 63, "g" * 64, "/" + "0" * 63):
        with pytest.raises(ValueError):
            store.path_for(bad)
        assert not store.exists(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\nurse\\plan.docx", "plan.docx"),
        ('bad"name;.pdf', "bad_name_.pdf"),
        ("line\r\nbreak.pdf", "line__break.pdf"),
        ("...", "document"),
        ("", "document"),
        (None, "document"),
        (".bashrc", "bashrc"),
        ("Pflegeplan für März.pdf", "Pflegeplan für März.pdf"),
    ],
)
def test_filenames_are_sanitised(raw, expected):
    assert sanitize_filename(raw) == expected


def test_long_filenames_keep_their_extension():
    name = sanitize_filename("x" * 500 + ".pdf")
    assert len(name) <= uploads.FILENAME_LIMIT
    assert name.endswith(".pdf")


def test_content_disposition_has_an_ascii_fallback_and_rfc_6266_filename_star():
    value = content_disposition("Pflegeplan für März.pdf")
    assert value == (
        'attachment; filename="Pflegeplan f_r M_rz.pdf"; '
        "filename*=UTF-8''Pflegeplan%20f%C3%BCr%20M%C3%A4rz.pdf"
    )
    assert content_disposition("a.png", inline=True).startswith("inline; ")
    injected = content_disposition('x"; filename="evil.html\r\nSet-Cookie: a=b')
    assert "\r" not in injected and "\n" not in injected
    assert injected.count('"') == 2


@pytest.mark.parametrize(
    ("stored", "header", "inline"),
    [
        (PDF, PDF, False),
        (PNG, PNG, True),
        (JPEG, JPEG, True),
        (TEXT, "text/plain; charset=utf-8", False),
        (CSV, "text/csv; charset=utf-8", False),
        (DOCX, DOCX, False),
        ("application/activity+json", "application/octet-stream", False),
        (
            'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
            "application/octet-stream",
            False,
        ),
        ("application/json", "application/octet-stream", False),
        ("text/html", "application/octet-stream", False),
        ("image/svg+xml", "application/octet-stream", False),
    ],
)
def test_only_sniffable_types_are_served_as_themselves(stored, header, inline):
    assert served_type(stored) == (header, inline)


def _files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())
