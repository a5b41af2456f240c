"""Text for search from uploads: PDFs, text/markdown/CSV and office files, never a crash."""

from __future__ import annotations

import pytest

from server.media.kinds import CSV, DOCX, MARKDOWN, ODT, PDF, PNG, TEXT
from server.media.textextract import extract_text, pdf_text, plain_text
from tests.data import samples


@pytest.fixture
def write(tmp_path):
    def write(data: bytes, name: str = "file") -> object:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write


def test_a_pdf_gives_the_words_on_its_pages(write):
    path = write(samples.pdf("Pressure ulcer prevention", "Reposition every two hours"))
    text = extract_text(path, PDF)
    assert "Pressure ulcer prevention" in text
    assert "Reposition every two hours" in text


def test_a_malformed_pdf_gives_empty_text(write):
    assert extract_text(write(samples.broken_pdf()), PDF) == ""


def test_a_truncated_pdf_gives_empty_or_partial_text_without_raising(write):
    data = samples.pdf("Truncated")
    for cut in (10, len(data) // 2, len(data) - 20):
        assert isinstance(extract_text(write(data[:cut]), PDF), str)


def test_garbage_with_a_pdf_header_gives_empty_text(write):
    assert extract_text(write(b"%PDF-1.4\n" + bytes(range(256)) * 50), PDF) == ""


def test_pdf_pages_are_capped(write):
    path = write(samples.pdf("first page", "second page", "third page"))
    text = pdf_text(path, max_pages=2)
    assert "second page" in text
    assert "third page" not in text


def test_pdf_characters_are_capped(write):
    path = write(samples.pdf("a" * 500, "b" * 500))
    assert len(pdf_text(path, max_chars=100)) == 100


@pytest.mark.parametrize("media_type", [TEXT, MARKDOWN, CSV])
def test_text_kinds_are_taken_as_they_are(write, media_type):
    data = "# Title\n\nward,beds\nA,12 — été\n".encode()
    assert extract_text(write(data), media_type) == data.decode().strip()


def test_text_is_capped_and_loses_its_byte_order_mark_and_nul(write):
    assert plain_text(write(b"\xef\xbb\xbf" + b"x" * 1000), max_chars=10) == "x" * 10
    # PostgreSQL text columns cannot hold NUL.
    assert "\x00" not in extract_text(write(b"before\x00after"), TEXT)


def test_office_documents_give_their_paragraphs(write):
    assert extract_text(write(samples.odt("Care plan")), ODT) == "Care plan\nSecond & last"
    assert extract_text(write(samples.docx("Discharge checklist")), DOCX) == "Discharge checklist"


def test_broken_office_documents_give_empty_text(write):
    assert extract_text(write(b"PK\x03\x04 not really a zip"), ODT) == ""
    assert extract_text(write(samples.plain_zip()), DOCX) == ""


def test_images_and_missing_files_give_empty_text(write, tmp_path):
    assert extract_text(write(samples.png()), PNG) == ""
    assert extract_text(tmp_path / "missing", PDF) == ""
    assert extract_text(tmp_path / "missing", TEXT) == ""
