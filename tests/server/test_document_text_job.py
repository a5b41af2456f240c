"""Text extraction off the request path: a large upload answers at once, a job makes it findable.

On SQLite and PostgreSQL, through the website: the upload, the job run as a worker runs it, and
the search page that finds the document by its contents only once the job is done.
"""

from __future__ import annotations

from sqlalchemy import select

from models import jobs
from models.documents import Document, DocumentVersion
from server.services.document_text import DOCUMENT_TEXT, INLINE_BYTES
from tests.data import samples
from tests.server.test_documents import Site, site  # noqa: F401 (the fixture)


def large_pdf(word: str) -> bytes:
    """A PDF over the inline limit whose every page names `word`."""
    data = samples.pdf(*(f"Page {n} of the {word} audit " + "x" * 400 for n in range(200)))
    assert len(data) > INLINE_BYTES
    return data


async def found(running: Site, word: str) -> list[str]:
    response = await running.member.get(f"/search?q={word}&kind=document")
    assert response.status == 200
    body = await response.text()
    return [line for line in body.split('"') if line.startswith("/d/")]


async def versions(running: Site, document_id: int) -> list[DocumentVersion]:
    query = select(DocumentVersion).where(DocumentVersion.document_id == document_id)
    return await running.db(query.order_by(DocumentVersion.id))


async def pending_jobs(running: Site) -> list[jobs.Job]:
    """Pending text-extraction jobs (sharing also queues the new post's notify job)."""
    query = select(jobs.Job).where(jobs.Job.state == jobs.PENDING, jobs.Job.kind == DOCUMENT_TEXT)
    return await running.db(query)


async def test_a_large_pdf_is_stored_at_once_and_searchable_after_its_job(site):  # noqa: F811
    document_id = await site.share(large_pdf("zinc"), "audit.pdf", title="Wound audit")

    [version] = await versions(site, document_id)
    assert version.text == ""
    [job] = await pending_jobs(site)
    assert job.kind == DOCUMENT_TEXT
    assert job.data["version_id"] == version.id
    assert await found(site, "zinc") == []
    assert await found(site, "wound") == [f"/d/{document_id}"]  # by its title at once

    assert await site.run_jobs() == 1
    [version] = await versions(site, document_id)
    assert "Page 0 of the zinc audit" in version.text
    assert await found(site, "zinc") == [f"/d/{document_id}"]
    assert await pending_jobs(site) == []
    assert await site.run_jobs() == 0


async def test_a_small_file_is_searchable_at_once_without_a_job(site):  # noqa: F811
    document_id = await site.share(samples.pdf("Honey dressings"), "small.pdf", title="Small")
    [version] = await versions(site, document_id)
    assert "Honey dressings" in version.text
    assert await pending_jobs(site) == []
    assert await found(site, "honey") == [f"/d/{document_id}"]


async def test_the_index_follows_the_latest_version_whatever_order_the_jobs_run(site):  # noqa: F811
    document_id = await site.share(large_pdf("alginate"), "v1.pdf", title="Dressings")
    response = await site.member.upload(
        f"/d/{document_id}/versions", large_pdf("hydrocolloid"), "v2.pdf", note="Updated"
    )
    assert response.status == 303
    assert len(await pending_jobs(site)) == 2

    assert await site.run_jobs() == 2
    first, second = await versions(site, document_id)
    assert "alginate" in first.text
    assert "hydrocolloid" in second.text
    assert await found(site, "hydrocolloid") == [f"/d/{document_id}"]
    assert await found(site, "alginate") == []  # an older version's text is not indexed


async def test_a_document_removed_before_its_job_stays_out_of_search(site):  # noqa: F811
    document_id = await site.share(large_pdf("iodine"), "gone.pdf", title="Gone")
    response = await site.client.post(
        f"/d/{document_id}/delete",
        data={"csrf_token": site.member.csrf, "confirm": "yes"},
        headers=site.member.headers(),
        allow_redirects=False,
    )
    assert response.status == 303
    assert await site.run_jobs() == 1
    assert await pending_jobs(site) == []
    assert await found(site, "iodine") == []
    [document] = await site.db(select(Document).where(Document.id == document_id))
    assert document.deleted_at is not None
