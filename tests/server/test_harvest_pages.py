"""The Harvest tab over HTTP on SQLite and PostgreSQL: pages, revisions, conflicts, diff,
restore, retire, who may write, and what a page may never show."""

from __future__ import annotations

import io
import zipfile

import pytest

from models.communities import get_community
from models.harvest_queries import revisions_of
from server.appkeys import SESSIONS, WRITE_SESSIONS
from tests.server.harvest_support import HTML, join, start_site, write_post
from tests.support.instances import add_community


@pytest.fixture
async def site(aiohttp_server, aiohttp_client, database_url):
    return await start_site(aiohttp_server, aiohttp_client, database_url)


async def test_a_member_writes_a_page_and_every_revision_is_kept(site):
    page_id = await site.new_page("kim", "Pressure ulcers", "## Turning\n\nEvery two hours.")
    assert (
        await site.edit("sam", page_id, "## Turning\n\nEvery three hours.", base=1)
    ).status == 303
    response = await site.edit(
        "kim", page_id, "## Turning\n\nEvery four hours.", base=2, note="ward audit"
    )
    assert response.status == 303
    html = await (
        await site["visitor"].client.get(f"/h/{page_id}", headers={"Accept": HTML})
    ).text()
    assert "<h2>Turning</h2>" in html and "Every four hours." in html
    assert "Revision 3" in html and "Kim" in html and "Sam" in html
    async with site.app[SESSIONS]() as session:
        revisions = await revisions_of(session, page_id)
    assert [(r.number, r.note) for r in revisions] == [(3, "ward audit"), (2, ""), (1, "first")]
    history = await (await site["visitor"].client.get(f"/h/{page_id}/history")).text()
    assert "ward audit" in history and "Restore revision" not in history  # visitors cannot


async def test_the_diff_shows_two_revisions_side_by_side(site):
    page_id = await site.new_page("kim", "Dressings", "Line one\nfoam dressing\nLine three")
    await site.edit(
        "kim", page_id, "Line one\nhydrocolloid dressing\nLine three\nLine four", base=1
    )
    response = await site["visitor"].client.get(f"/h/{page_id}/diff?from=1&to=2")
    html = await response.text()
    assert response.status == 200
    assert '<tr class="diff-changed">' in html
    assert "foam dressing" in html and "hydrocolloid dressing" in html
    assert '<tr class="diff-added">' in html and "Line four" in html
    missing = await site["visitor"].client.get(f"/h/{page_id}/diff?from=1&to=9")
    assert missing.status == 404
    nonsense = await site["visitor"].client.get(f"/h/{page_id}/diff?from=x&to=2")
    assert nonsense.status == 400


async def test_restore_brings_back_an_older_revision_as_a_new_one(site):
    page_id = await site.new_page("kim", "Dressings", "Original advice.")
    await site.edit("kim", page_id, "Wrong advice.", base=1)
    token = await site["kim"].token(f"/h/{page_id}/history")
    response = await site["kim"].post(
        f"/h/{page_id}/restore", {"revision": "1", "base_revision": "2"}, token=token
    )
    assert response.status == 303
    page = await site.page(page_id)
    assert (page.revision_number, page.body) == (3, "Original advice.")
    stale = await site["kim"].post(
        f"/h/{page_id}/restore", {"revision": "2", "base_revision": "2"}, token=token
    )
    assert stale.status == 409


async def test_an_edit_conflict_returns_the_editor_with_both_versions(site):
    page_id = await site.new_page("kim", "Falls", "Shared start.")
    assert (await site.edit("sam", page_id, "Sam's careful rewrite.", base=1)).status == 303
    response = await site.edit("kim", page_id, "Kim's own paragraph, never lost.", base=1)
    html = await response.text()
    assert response.status == 409
    assert "Someone saved revision 2" in html
    assert "Sam&#39;s careful rewrite." in html  # theirs, beside
    assert "Kim&#39;s own paragraph, never lost.</textarea>" in html  # hers, still in the form
    assert 'name="base_revision" value="2"' in html  # saving again builds on theirs
    page = await site.page(page_id)
    assert page.body == "Sam's careful rewrite."


async def test_outsiders_and_visitors_cannot_write(site):
    page_id = await site.new_page("kim", "Falls", "Text.")
    assert (await site.edit("lee", page_id, "Vandalism.", base=1)).status == 403
    form = await site["lee"].client.get("/c/wound_care/harvest/new", allow_redirects=False)
    assert form.status == 403
    visitor = await site["visitor"].client.get(f"/h/{page_id}/edit", allow_redirects=False)
    assert visitor.status == 302 and "/login" in visitor.headers["Location"]
    assert (await site.page(page_id)).body == "Text."


async def test_a_cop_may_keep_its_pages_to_moderators(site):
    page_id = await site.new_page("kim", "Falls", "Text.")
    async with site.app[WRITE_SESSIONS]() as session:
        (await get_community(session, "wound_care")).harvest_restricted_to_mods = True
        await session.commit()
    response = await site.edit("kim", page_id, "Kim again.", base=1)
    assert response.status == 403
    assert "moderators" in await response.text()
    assert (await site.edit("sam", page_id, "Sam, a moderator.", base=1)).status == 303


async def test_a_page_never_carries_script_raw_html_or_remote_images(site):
    body = (
        "<script>alert(1)</script>\n\n![tracker](https://evil.example/pixel.png)\n\n"
        '<img src="https://evil.example/x.png">\n\n[ok](javascript:alert(1)) **bold**'
    )
    page_id = await site.new_page("kim", "Safe <b>title</b>", body)
    html = await (
        await site["visitor"].client.get(f"/h/{page_id}", headers={"Accept": HTML})
    ).text()
    assert "<script>alert" not in html and "<img" not in html
    assert 'href="javascript:' not in html
    assert "<strong>bold</strong>" in html
    assert "Safe &lt;b&gt;title&lt;/b&gt;" in html


async def test_retired_pages_are_kept_and_marked_out_of_date(site):
    page_id = await site.new_page("kim", "Old guidance", "Text.")
    token = await site["kim"].token(f"/h/{page_id}")
    response = await site["kim"].post(f"/h/{page_id}/retire", {"action": "retire"}, token=token)
    assert response.status == 303
    html = await (await site["visitor"].client.get(f"/h/{page_id}")).text()
    assert "Retired:" in html and "Text." in html
    listing = await (await site["visitor"].client.get("/c/wound_care/harvest")).text()
    assert "Old guidance" in listing and "(retired)" in listing
    lee_token = await site["lee"].token(f"/h/{page_id}")
    refused = await site["lee"].post(
        f"/h/{page_id}/retire", {"action": "reinstate"}, token=lee_token
    )
    assert refused.status == 403


async def test_pages_of_a_private_cop_are_hidden_from_outsiders(site):
    page_id = await site.new_page("kim", "Private learning", "Members only.")
    async with site.app[WRITE_SESSIONS]() as session:
        (await get_community(session, "wound_care")).manually_approves_followers = True
        await session.commit()
    assert (await site["lee"].client.get(f"/h/{page_id}")).status == 404
    assert (await site["visitor"].client.get(f"/h/{page_id}/history")).status == 404
    assert (await site["kim"].client.get(f"/h/{page_id}")).status == 200


async def test_the_cop_page_lists_its_harvest_and_a_printable_page_exists(site):
    page_id = await site.new_page("kim", "Skin checks", "Check heels daily.")
    cop = await (await site["visitor"].client.get("/c/wound_care", headers={"Accept": HTML})).text()
    assert f'<a href="/h/{page_id}">Skin checks</a>' in cop
    printed = await site["visitor"].client.get(f"/h/{page_id}/print")
    text = await printed.text()
    assert printed.status == 200 and "Check heels daily." in text and "Printed" in text
    assert "<nav" not in text


async def test_the_network_index_lists_readable_pages_by_cop_and_topic(site):
    falls = await site.new_page("kim", "Falls at night", "Text.")
    token = await site["kim"].token(f"/h/{falls}/edit")
    response = await site["kim"].post(
        f"/h/{falls}/edit",
        {"title": "Falls at night", "summary": "", "body": "Text.", "base_revision": "1"}
        | {"topic": "  Falls   prevention ", "note": ""},
        token=token,
    )
    assert response.status == 303
    await site.new_page("kim", "Skin checks", "Heels.")
    await add_community(site.app, "safeguarding", "Safeguarding")
    await join(site.app, "kim", "safeguarding")
    secret = await site.new_page("kim", "Secret case notes", "Private.", cop="safeguarding")
    async with site.app[WRITE_SESSIONS]() as session:
        (await get_community(session, "safeguarding")).manually_approves_followers = True
        await session.commit()
    index = await (await site["visitor"].client.get("/harvest")).text()
    assert "Wound Care" in index and "Falls at night" in index and "Skin checks" in index
    assert "Secret case notes" not in index
    assert f'<a href="/h/{secret}">' in await (await site["kim"].client.get("/harvest")).text()
    by_topic = await (await site["visitor"].client.get("/harvest?topic=Falls prevention")).text()
    assert "Falls at night" in by_topic and "Skin checks" not in by_topic


async def test_a_cops_harvest_exports_as_a_zip_of_markdown_with_its_sources(site):
    root = await write_post(site.app, "sam", "wound_care", "How often do you turn patients?")
    reply = await write_post(site.app, "kim", "wound_care", "Every two hours.", root)
    token = await site["kim"].token(f"/p/{reply}/harvest")
    await site["kim"].post(
        f"/p/{reply}/harvest",
        {"post": str(reply), "new_title": "Turning", "community": "wound_care", "page_id": ""},
        token=token,
    )
    await site.new_page("kim", "Skin checks", "## Heels\n\nDaily.")
    response = await site["visitor"].client.get("/c/wound_care/harvest.zip")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    names = sorted(archive.namelist())
    assert "wound_care-harvest/SOURCES.md" in names
    pages = [name for name in names if name.endswith(("-turning.md", "-skin-checks.md"))]
    assert len(pages) == 2
    turning = archive.read(next(n for n in pages if n.endswith("turning.md"))).decode()
    assert turning.startswith("# Turning") and "> Every two hours." in turning
    sources = archive.read("wound_care-harvest/SOURCES.md").decode()
    assert "Kim (@kim@copnet.test)" in sources and f"<https://copnet.test/p/{reply}>" in sources
    async with site.app[WRITE_SESSIONS]() as session:
        (await get_community(session, "wound_care")).manually_approves_followers = True
        await session.commit()
    assert (await site["visitor"].client.get("/c/wound_care/harvest.zip")).status == 404


async def test_search_finds_pages_first_with_their_own_filter(site):
    await write_post(site.app, "sam", "wound_care", "Heel offloading with pillows works.")
    page_id = await site.new_page("kim", "Heel offloading", "Pillows under the calves.")
    html = await (await site["visitor"].client.get("/search?q=heel+offloading")).text()
    assert html.index(f'href="/h/{page_id}"') < html.index('href="/t/')
    assert "Harvest page" in html
    only = await (await site["visitor"].client.get("/search?q=heel+offloading&kind=page")).text()
    assert f'href="/h/{page_id}"' in only and 'href="/t/' not in only
    assert '<option value="page"' in only
