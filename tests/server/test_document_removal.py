"""The member who shared a document removes it: confirmation, store, search, thread, files."""

from __future__ import annotations

from sqlalchemy import select

from models.documents import Document, DocumentVersion
from models.posts import Post
from models.search import search
from server.appkeys import SESSIONS
from tests.data import samples
from tests.server.test_documents import _stored_files, site  # noqa: F401 (the fixture)


async def test_the_uploader_removes_a_document_after_confirming(site):  # noqa: F811
    document_id = await site.share(samples.pdf("wound chart"), "chart.pdf", title="Wound chart")
    await site.member.upload(
        f"/d/{document_id}/versions", samples.pdf("pressure mapping"), "v2.pdf"
    )
    kept_elsewhere = await site.share(samples.pdf("wound chart"), "copy.pdf", title="Copy")
    assert len(_stored_files(site.store)) == 2
    page = await (await site.member.get(f"/d/{document_id}")).text()
    assert f"/d/{document_id}/delete" in page
    confirm = await (await site.member.get(f"/d/{document_id}/delete")).text()
    assert "Yes, remove it" in confirm

    # Without the confirmation field nothing happens; someone else is refused.
    response = await site.client.post(
        f"/d/{document_id}/delete",
        data={"csrf_token": site.member.csrf},
        headers=site.member.headers(),
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == f"/d/{document_id}/delete"
    for path in (f"/d/{document_id}/delete",):
        assert (await site.outsider.get(path)).status == 403
    response = await site.client.post(
        f"/d/{document_id}/delete",
        data={"csrf_token": site.outsider.csrf, "confirm": "yes"},
        headers=site.outsider.headers(),
        allow_redirects=False,
    )
    assert response.status == 403
    [document] = await site.db(select(Document).where(Document.id == document_id))
    assert document.deleted_at is None

    response = await site.client.post(
        f"/d/{document_id}/delete",
        data={"csrf_token": site.member.csrf, "confirm": "yes"},
        headers=site.member.headers(),
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/c/nursing/documents"
    [document] = await site.db(select(Document).where(Document.id == document_id))
    assert document.deleted_at is not None
    assert (
        await site.db(select(DocumentVersion).where(DocumentVersion.document_id == document_id))
        == []
    )
    posts = await site.db(select(Post).where(Post.ap_id.is_(None)).order_by(Post.id))
    # The thread and the version's announcement went; the other document's thread stays.
    assert [post.is_deleted for post in posts] == [True, True, False]
    assert (await site.member.get(f"/d/{document_id}")).status == 410
    gone = await site.client.get(
        f"/d/{document_id}", headers={"Accept": "application/activity+json"}
    )
    assert gone.status == 410
    async with site.app[SESSIONS]() as session:
        found = await search(session, "mapping")
    assert found.total == 0
    # The first version's file is also the other document's: it stays; the second goes.
    assert len(_stored_files(site.store)) == 1
    assert (await site.member.get(f"/d/{kept_elsewhere}")).status == 200
