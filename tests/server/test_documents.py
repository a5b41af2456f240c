"""Documents over HTTP, on SQLite and PostgreSQL: upload, versions, downloads, federation."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import aiohttp
import pytest
from sqlalchemy import func, select, update

from models import jobs
from models.account_queries import create_account
from models.documents import Document, DocumentVersion
from models.follows import upsert_follow
from models.posts import Post
from models.web_sessions import create_session
from server.app import create_app
from server.appkeys import MEDIA, SCHEDULER, SESSIONS
from server.media.store import MediaStore
from server.services.document_text import DOCUMENT_TEXT
from tests.data import samples
from tests.support.instances import add_community, settings_for

AS2 = "application/activity+json"
BASE = "https://copnet.test"
MAX_BYTES = 2 * 1024 * 1024


@dataclass
class Browser:
    """A signed-in (or visiting) browser: its cookie and its CSRF token."""

    client: object
    cookie: str = ""
    csrf: str = ""

    def headers(self, **extra) -> dict:
        return {"Cookie": self.cookie, **extra} if self.cookie else dict(extra)

    async def get(self, path: str, **extra):
        return await self.client.get(path, headers=self.headers(**extra), allow_redirects=False)

    async def upload(
        self,
        path: str,
        data: bytes | None,
        filename: str = "file.pdf",
        *,
        csrf: str | None = None,
        browser_style: bool = False,
        **fields: str,
    ):
        # aiohttp percent-encodes the filename; browsers send UTF-8 as it is.
        form = aiohttp.FormData(quote_fields=not browser_style)
        # The token is the form's first field, as the page's hidden input puts it.
        form.add_field("csrf_token", self.csrf if csrf is None else csrf)
        for name, value in fields.items():
            form.add_field(name, value)
        if data is not None:
            # The declared type is a lie on purpose: the server must not believe it.
            form.add_field(
                "file", data, filename=filename, content_type="application/activity+json"
            )
        return await self.client.post(
            path, data=form, headers=self.headers(), allow_redirects=False
        )


@dataclass
class Site:
    client: object
    app: object
    store: MediaStore
    member: Browser
    outsider: Browser
    visitor: Browser
    member_id: int

    async def share(
        self,
        data: bytes,
        filename: str = "guide.pdf",
        title: str = "Guide",
        description: str = "For new staff",
    ) -> int:
        response = await self.member.upload(
            "/c/nursing/documents", data, filename, title=title, description=description
        )
        assert response.status == 303, await response.text()
        location = response.headers["Location"]
        assert location.startswith("/d/")
        return int(location.removeprefix("/d/"))

    async def run_jobs(self) -> int:
        """Run the due scheduled jobs as a worker would; returns how many text extractions (of
        large files) finished. Sharing also queues the new post's notification job, not counted.
        """
        finished = select(func.count()).where(
            jobs.Job.kind == DOCUMENT_TEXT, jobs.Job.state == jobs.DONE
        )
        async with self.app[SESSIONS]() as session:
            before = await session.scalar(finished)
        await self.app[SCHEDULER].run_once()
        async with self.app[SESSIONS]() as session:
            return await session.scalar(finished) - before

    async def db(self, query):
        async with self.app[SESSIONS]() as session:
            return list(await session.scalars(query))


async def _browser(app, client, name: str, *, join: str | None = None) -> tuple[Browser, int]:
    async with app[SESSIONS]() as session:
        account = await create_account(session, name, "not-a-real-hash", display_name=name.title())
        token, row = await create_session(session, account.actor_id)
        if join is not None:
            from models.communities import get_community

            community = await get_community(session, join)
            await upsert_follow(
                session,
                followed_id=community.actor_id,
                follower_id=account.actor_id,
                state="accepted",
                activity_ap_id=None,
            )
        await session.commit()
    return Browser(client, f"copnet_session={token}", row.csrf_token), account.actor_id


@pytest.fixture
async def site(aiohttp_client, database_url, tmp_path) -> Site:
    app = create_app(settings_for(database_url, url=BASE))
    store = MediaStore(tmp_path / "media", max_bytes=MAX_BYTES)
    app[MEDIA] = store
    client = await aiohttp_client(app)
    await add_community(app, "nursing", "Nursing Practice")
    await add_community(app, "dementia", "Dementia Care")
    member, member_id = await _browser(app, client, "alex", join="nursing")
    outsider, _ = await _browser(app, client, "robin", join="dementia")
    visitor = Browser(client, "copnet_csrf=" + "v" * 43, "v" * 43)
    return Site(client, app, store, member, outsider, visitor, member_id)


def _stored_files(store: MediaStore) -> list:
    return sorted(p for p in store.root.rglob("*") if p.is_file())


# ---- uploading ----------------------------------------------------------------------------------


async def test_a_member_shares_a_pdf_and_it_is_announced_as_a_thread(site):
    data = samples.pdf("Pressure ulcer prevention bundle")
    document_id = await site.share(
        data, "bundle.pdf", title="SSKIN bundle", description="Our *bundle* for wards"
    )

    [document] = await site.db(select(Document).where(Document.id == document_id))
    [version] = await site.db(
        select(DocumentVersion).where(DocumentVersion.document_id == document_id)
    )
    assert document.title == "SSKIN bundle"
    assert document.uploader_id == site.member_id
    assert version.media_type == "application/pdf"
    assert version.filename == "bundle.pdf"
    assert version.sha256 == hashlib.sha256(data).hexdigest()
    assert "Pressure ulcer prevention bundle" in version.text
    assert site.store.path_for(version.sha256).read_bytes() == data

    [post] = await site.db(select(Post).where(Post.id == document.post_id))
    assert post.thread_id is None
    assert post.title == "📄 SSKIN bundle"
    assert f"{BASE}/d/{document_id}" in post.content_html
    assert "<em>bundle</em>" in post.content_html
    download = f"{BASE}/d/{document_id}/v/{version.id}"
    assert json.loads(post.attachments) == [
        {"type": "Document", "url": download, "mediaType": "application/pdf", "name": "bundle.pdf"}
    ]

    # The CoP announces it: its outbox holds Announce{Create{Note}} with the Document attached.
    outbox = await (
        await site.client.get("/c/nursing/outbox?page=1", headers={"Accept": AS2})
    ).json()
    notes = [item["object"]["object"] for item in outbox["orderedItems"]]
    [note] = [note for note in notes if note.get("name") == "📄 SSKIN bundle"]
    assert note["attachment"][0]["url"] == download
    assert note["audience"] == f"{BASE}/c/nursing"


async def test_a_large_upload_streams_past_the_request_size_limit(site):
    data = b"Line of handover notes\n" * 70_000  # 1.6 MB: over aiohttp's 1 MiB client_max_size
    document_id = await site.share(data, "handover.txt", title="Handover")
    [version] = await site.db(
        select(DocumentVersion).where(DocumentVersion.document_id == document_id)
    )
    assert version.size == len(data)
    assert version.media_type == "text/plain"
    assert await site.run_jobs() == 1  # a file this large has its text extracted by a job
    [version] = await site.db(
        select(DocumentVersion).where(DocumentVersion.document_id == document_id)
    )
    assert version.text.startswith("Line of handover notes")


@pytest.mark.parametrize("size", [MAX_BYTES + 1, 4 * MAX_BYTES])
async def test_an_upload_over_the_cap_gets_a_friendly_413_page(site, size):
    response = await site.member.upload(
        "/c/nursing/documents", b"a" * size, "big.txt", title="Too big", description="kept"
    )
    assert response.status == 413
    assert response.content_type == "text/html"
    page = await response.text()
    assert "larger than the 2.0 MB limit" in page
    if size == MAX_BYTES + 1:  # refused while streaming: what they typed is kept
        assert "Too big" in page
    # (far over: refused from Content-Length alone, before reading the body)
    assert _stored_files(site.store) == []
    assert await site.db(select(Document)) == []


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (samples.HTML, "page.html"),
        (samples.HTML, "page.pdf"),
        (samples.SVG, "logo.svg"),
        (samples.ELF, "tool.pdf"),
        (samples.WINDOWS_EXE, "setup.exe"),
        (samples.AS2_NOTE, "note.json"),
        (samples.AS2_NOTE, "note.txt"),
    ],
)
async def test_files_that_are_not_documents_are_refused_with_415(site, data, filename):
    response = await site.member.upload("/c/nursing/documents", data, filename, title="Nope")
    assert response.status == 415
    assert "not accepted" in await response.text()
    assert _stored_files(site.store) == []
    assert await site.db(select(Document)) == []


async def test_a_pdf_named_png_is_stored_and_served_as_a_pdf(site):
    document_id = await site.share(samples.pdf("scan"), "scan.png", title="Scan")
    [version] = await site.db(
        select(DocumentVersion).where(DocumentVersion.document_id == document_id)
    )
    assert (version.media_type, version.filename) == ("application/pdf", "scan.pdf")
    response = await site.client.get(f"/d/{document_id}/v/{version.id}")
    assert response.headers["Content-Type"] == "application/pdf"


async def test_the_stored_path_ignores_a_hostile_filename(site):
    data = b"root:x:0:0:root:/root:/bin/bash\n"
    document_id = await site.share(data, "../../etc/passwd", title="Passwords?")
    digest = hashlib.sha256(data).hexdigest()
    assert _stored_files(site.store) == [site.store.root / digest[:2] / digest[2:4] / digest]
    [version] = await site.db(
        select(DocumentVersion).where(DocumentVersion.document_id == document_id)
    )
    assert version.filename == "passwd.txt"


async def test_a_browser_style_utf8_filename_is_kept_for_display(site):
    response = await site.member.upload(
        "/c/nursing/documents",
        samples.pdf("x"),
        "Plan für März.pdf",
        title="Plan",
        browser_style=True,
    )
    assert response.status == 303
    [version] = await site.db(select(DocumentVersion))
    assert version.filename == "Plan für März.pdf"


async def test_the_same_file_shared_twice_is_stored_once(site):
    data = samples.pdf("same bytes")
    first = await site.share(data, "a.pdf", title="First")
    second = await site.share(data, "b.pdf", title="Second")
    assert first != second
    assert len(_stored_files(site.store)) == 1


async def test_a_title_and_a_file_are_required(site):
    response = await site.member.upload(
        "/c/nursing/documents", samples.pdf("x"), "x.pdf", title=" "
    )
    assert response.status == 400
    assert "title" in await response.text()
    response = await site.member.upload("/c/nursing/documents", None, title="No file")
    assert response.status == 400
    # An empty file input arrives as an empty part without a name.
    response = await site.member.upload("/c/nursing/documents", b"", "", title="Empty input")
    assert response.status == 400


async def test_people_outside_the_cop_cannot_upload(site):
    response = await site.outsider.upload("/c/nursing/documents", samples.pdf("x"), title="X")
    assert response.status == 403
    response = await site.visitor.upload("/c/nursing/documents", samples.pdf("x"), title="X")
    assert response.status == 303
    assert response.headers["Location"].startswith("/login")
    assert _stored_files(site.store) == []


async def test_an_upload_without_the_csrf_token_is_refused(site):
    response = await site.member.upload(
        "/c/nursing/documents", samples.pdf("x"), title="X", csrf="x" * 43
    )
    assert response.status == 403
    assert _stored_files(site.store) == []


async def test_unknown_cops_and_documents_are_404(site):
    assert (await site.client.get("/c/nobody/documents")).status == 404
    assert (await site.client.get("/c/nobody/resources", headers={"Accept": AS2})).status == 404
    for path in ("/d/999", "/d/abc", "/d/1/v/1", "/d/1/v/../../etc/passwd"):
        assert (await site.client.get(path)).status == 404, path


# ---- downloading --------------------------------------------------------------------------------


async def _only_version(site, document_id: int) -> DocumentVersion:
    [version] = await site.db(
        select(DocumentVersion).where(DocumentVersion.document_id == document_id)
    )
    return version


async def test_downloads_carry_safe_headers(site):
    data = samples.pdf("headers")
    document_id = await site.share(data, "Pflegeplan für März.pdf", title="Plan")
    version = await _only_version(site, document_id)
    response = await site.client.get(f"/d/{document_id}/v/{version.id}")
    assert response.status == 200
    assert await response.read() == data
    headers = response.headers
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == (
        'attachment; filename="Pflegeplan f_r M_rz.pdf"; '
        "filename*=UTF-8''Pflegeplan%20f%C3%BCr%20M%C3%A4rz.pdf"
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert (
        headers["Content-Security-Policy"] == "default-src 'none'; sandbox; frame-ancestors 'none'"
    )
    assert headers["ETag"] == f'"{version.sha256}"'
    assert "immutable" in headers["Cache-Control"]
    assert int(headers["Content-Length"]) == len(data)

    again = await site.client.get(
        f"/d/{document_id}/v/{version.id}", headers={"If-None-Match": f'"{version.sha256}"'}
    )
    assert again.status == 304
    assert await again.read() == b""
    head = await site.client.head(f"/d/{document_id}/v/{version.id}")
    assert head.status == 200
    assert head.headers["ETag"] == f'"{version.sha256}"'


async def test_images_may_show_inline_and_text_is_an_attachment(site):
    image = await site.share(samples.png(), "chart.png", title="Chart")
    version = await _only_version(site, image)
    response = await site.client.get(f"/d/{image}/v/{version.id}")
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"].startswith("inline; ")

    notes = await site.share(samples.CSV_DATA, "staff.csv", title="Staffing")
    version = await _only_version(site, notes)
    response = await site.client.get(f"/d/{notes}/v/{version.id}")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; ")


async def test_a_download_never_answers_as_activitypub(site):
    document_id = await site.share(samples.TEXT, "notes.txt", title="Notes")
    version = await _only_version(site, document_id)
    path = f"/d/{document_id}/v/{version.id}"
    for accept in (AS2, 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'):
        response = await site.client.get(path, headers={"Accept": accept})
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    # Even if some other path wrote an ActivityPub type into the database (CVE-2024-23832).
    async with site.app[SESSIONS]() as session:
        await session.execute(
            update(DocumentVersion)
            .where(DocumentVersion.id == version.id)
            .values(media_type="application/activity+json")
        )
        await session.commit()
    response = await site.client.get(path, headers={"Accept": AS2})
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment; ")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_version_is_only_served_under_its_own_document(site):
    one = await site.share(samples.pdf("one"), title="One")
    two = await site.share(samples.pdf("two"), title="Two")
    version_two = await _only_version(site, two)
    assert (await site.client.get(f"/d/{one}/v/{version_two.id}")).status == 404


# ---- versions -----------------------------------------------------------------------------------


async def test_members_add_versions_which_are_announced_in_the_thread(site):
    document_id = await site.share(samples.pdf("draft"), "policy.pdf", title="Policy")
    response = await site.member.upload(
        f"/d/{document_id}/versions", samples.pdf("final"), "policy-v2.pdf", note="Signed off"
    )
    assert response.status == 303
    assert response.headers["Location"] == f"/d/{document_id}"
    versions = await site.db(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == document_id)
        .order_by(DocumentVersion.id)
    )
    assert [v.filename for v in versions] == ["policy.pdf", "policy-v2.pdf"]
    assert versions[1].note == "Signed off"
    assert "final" in versions[1].text

    [document] = await site.db(select(Document).where(Document.id == document_id))
    [reply] = await site.db(select(Post).where(Post.parent_id == document.post_id))
    assert "Signed off" in reply.content_html
    assert json.loads(reply.attachments)[0]["url"] == f"{BASE}/d/{document_id}/v/{versions[1].id}"

    as2 = await (await site.client.get(f"/d/{document_id}", headers={"Accept": AS2})).json()
    assert as2["url"] == f"{BASE}/d/{document_id}/v/{versions[1].id}"

    page = await (await site.member.get(f"/d/{document_id}")).text()
    assert "policy-v2.pdf" in page and "policy.pdf" in page
    assert "Signed off" in page
    assert "(latest)" in page


async def test_the_same_file_is_not_a_new_version(site):
    data = samples.pdf("unchanged")
    document_id = await site.share(data, title="Same")
    response = await site.member.upload(f"/d/{document_id}/versions", data, "again.pdf")
    assert response.status == 400
    assert "same as the latest version" in await response.text()


async def test_versions_are_refused_to_non_members_and_checked_like_uploads(site):
    document_id = await site.share(samples.pdf("v1"), title="Doc")
    response = await site.outsider.upload(f"/d/{document_id}/versions", samples.pdf("v2"))
    assert response.status == 403
    response = await site.member.upload(f"/d/{document_id}/versions", samples.HTML, "v2.html")
    assert response.status == 415
    assert len(await site.db(select(DocumentVersion))) == 1


# ---- pages and federation -----------------------------------------------------------------------


async def test_the_documents_page_lists_and_offers_the_form_to_members(site):
    await site.share(samples.pdf("a"), "a.pdf", title="Older guide")
    await site.share(samples.png(), "b.png", title="Newer chart")
    page = await (await site.member.get("/c/nursing/documents")).text()
    assert page.index("Newer chart") < page.index("Older guide")
    assert "PNG image" in page
    assert 'enctype="multipart/form-data"' in page
    assert 'action="/c/nursing/documents"' in page
    assert "csrf_token=" not in page  # never in a URL

    outsider = await (await site.outsider.get("/c/nursing/documents")).text()
    assert "Older guide" in outsider
    assert 'type="file"' not in outsider
    assert "Join" in outsider
    visitor = await (await site.client.get("/c/nursing/documents")).text()
    assert 'type="file"' not in visitor
    assert "Sign in" in visitor


async def test_the_document_page_shows_its_details(site):
    document_id = await site.share(
        samples.pdf("x"), "guide.pdf", title="Guide <b>bold</b>", description="Read **this**"
    )
    response = await site.member.get(f"/d/{document_id}")
    assert response.content_type == "text/html"
    page = await response.text()
    assert "Guide &lt;b&gt;bold&lt;/b&gt;" in page
    assert "<strong>this</strong>" in page
    assert "Alex" in page
    assert f'action="/d/{document_id}/versions"' in page
    assert "csrf_token=" not in page
    assert "Discuss it in its thread" in page


async def test_a_document_is_a_mobilizon_style_document_in_as2(site):
    document_id = await site.share(
        samples.pdf("x"), "guide.pdf", title="Guide", description="For <new> staff"
    )
    version = await _only_version(site, document_id)
    response = await site.client.get(f"/d/{document_id}", headers={"Accept": AS2})
    assert response.content_type == AS2
    document = await response.json()
    assert document["id"] == f"{BASE}/d/{document_id}"
    assert document["type"] == "Document"
    assert document["name"] == "Guide"
    assert document["summary"] == "For &lt;new&gt; staff"
    assert document["url"] == f"{BASE}/d/{document_id}/v/{version.id}"
    assert document["mediaType"] == "application/pdf"
    assert document["context"] == f"{BASE}/c/nursing/resources"
    assert document["attributedTo"] == f"{BASE}/c/nursing"
    assert document["actor"] == f"{BASE}/u/alex"
    assert document["published"].endswith("Z") and document["updated"].endswith("Z")


async def test_the_resources_collection_pages_through_documents(site, monkeypatch):
    from server.web import document_resources

    monkeypatch.setattr(document_resources, "PAGE_SIZE", 2)
    ids = [await site.share(samples.pdf(f"doc {n}"), title=f"Doc {n}") for n in range(3)]
    root = await (await site.client.get("/c/nursing/resources", headers={"Accept": AS2})).json()
    assert root["type"] == "OrderedCollection"
    assert root["id"] == f"{BASE}/c/nursing/resources"
    assert root["totalItems"] == 3
    first = await (
        await site.client.get(root["first"].removeprefix(BASE), headers={"Accept": AS2})
    ).json()
    assert [item["id"] for item in first["orderedItems"]] == [
        f"{BASE}/d/{ids[2]}",
        f"{BASE}/d/{ids[1]}",
    ]
    assert all(item["type"] == "Document" for item in first["orderedItems"])
    assert first["orderedItems"][0]["context"] == root["id"]
    second = await (
        await site.client.get(first["next"].removeprefix(BASE), headers={"Accept": AS2})
    ).json()
    assert [item["id"] for item in second["orderedItems"]] == [f"{BASE}/d/{ids[0]}"]
    assert "next" not in second
    other = await (await site.client.get("/c/dementia/resources", headers={"Accept": AS2})).json()
    assert other["totalItems"] == 0
