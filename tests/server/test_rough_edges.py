"""Rough edges found by trying copnet as a newcomer (issue 10 item 5)."""

from __future__ import annotations

import io
import zipfile

import aiohttp
import pytest
from sqlalchemy import func, select

from models.communities import get_community
from models.posts import Post
from server.appkeys import SESSIONS
from server.cli.main import main
from server.web.thread_posting import BODY_LIMIT
from tests.server.test_auth import fast_argon2, start_web
from tests.server.test_community_web import HTML, post_form, sign_in
from tests.support.instances import add_community


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    fast_argon2(monkeypatch)


@pytest.fixture
async def web(aiohttp_server, aiohttp_client, database_url, tmp_path):
    return await start_web(
        aiohttp_server, aiohttp_client, database_url, media_dir=str(tmp_path / "media")
    )


async def _member_of(web, name: str, cop: str = "nursing") -> str:
    token = await sign_in(web, name)
    assert (await post_form(web, f"/c/{cop}/join", token)).status == 303
    return token


async def _posts(web) -> int:
    async with web.client.app[SESSIONS]() as session:
        return int(await session.scalar(select(func.count()).select_from(Post)))


async def test_every_page_forbids_framing_by_other_sites(web):
    await add_community(web.client.app, "nursing", "Nursing")
    for path, accept in (
        ("/", HTML),
        ("/c/nursing", HTML),
        ("/c/nursing", "application/activity+json"),
        ("/login", HTML),
        ("/no-such-page", HTML),
    ):
        response = await web.client.get(path, headers={"Accept": accept})
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Frame-Options"] == "DENY", path


async def test_a_post_over_the_limit_is_refused_not_cut(web):
    await add_community(web.client.app, "nursing", "Nursing")
    token = await _member_of(web, "nadia")
    long_body = "word " * (BODY_LIMIT // 5) + "the end"
    response = await post_form(web, "/c/nursing/threads", token, title="Long", body=long_body)
    assert response.status == 400
    text = await response.text()
    assert f"the limit is {BODY_LIMIT:,}" in text and "Please shorten it" in text
    assert await _posts(web) == 0
    too_long_title = await post_form(web, "/c/nursing/threads", token, title="t" * 201, body="x")
    assert too_long_title.status == 400 and "the limit is 200" in await too_long_title.text()
    fine = await post_form(web, "/c/nursing/threads", token, title="Short", body="x" * BODY_LIMIT)
    assert fine.status == 303
    thread_id = fine.headers["Location"].rsplit("/", 1)[1]
    reply = await post_form(
        web, f"/t/{thread_id}/reply", token, parent=thread_id, body="y" * (BODY_LIMIT + 1)
    )
    assert reply.status == 400 and "Your reply is 20,001 characters long" in await reply.text()
    assert await _posts(web) == 1


async def test_cop_titles_are_unique_without_regard_to_case(web):
    token = await sign_in(web, "nadia")
    first = await post_form(
        web, "/communities/new", token, name="wound_care", title="Wound Care", summary=""
    )
    assert first.status == 303
    second = await post_form(
        web, "/communities/new", token, name="wounds", title="  wound  CARE ", summary=""
    )
    assert second.status == 400
    assert "A community already has this name" in await second.text()
    async with web.client.app[SESSIONS]() as session:
        assert await get_community(session, "wounds") is None


def test_the_cli_refuses_a_taken_title_in_one_line(monkeypatch, capsys, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("COPNET_URL", "https://cops.example")
    assert main(["community", "create", "nursing", "--title", "Nursing"]) == 0
    assert main(["community", "create", "nurses", "--title", "NURSING"]) == 1
    assert "a community called 'NURSING' already exists" in capsys.readouterr().err


async def test_nodeinfo_counts_local_posts(web):
    await add_community(web.client.app, "nursing", "Nursing")
    token = await _member_of(web, "nadia")
    for title in ("One", "Two"):
        response = await post_form(web, "/c/nursing/threads", token, title=title, body="x")
        assert response.status == 303
    info = await (await web.client.get("/nodeinfo/2.1")).json()
    assert info["usage"]["localPosts"] == 2


async def test_markdown_tables_render_on_the_thread_page(web):
    await add_community(web.client.app, "nursing", "Nursing")
    token = await _member_of(web, "nadia")
    body = "Audit:\n\n| Dressing | Healed |\n|---|---|\n| Honey | 12 |\n| Silver | 9 |\n"
    created = await post_form(web, "/c/nursing/threads", token, title="Audit", body=body)
    page = await (
        await web.client.get(created.headers["Location"], headers={"Accept": HTML})
    ).text()
    assert "<table>" in page and "<th>Dressing</th>" in page and "<td>Honey</td>" in page


async def test_visitors_on_a_cop_page_see_how_to_take_part(web):
    await add_community(web.client.app, "nursing", "Nursing")
    page = await (await web.client.get("/c/nursing", headers={"Accept": HTML})).text()
    assert 'href="/login?next=/c/nursing"' in page and 'href="/signup"' in page
    assert "Follow from Mastodon" in page
    token = await sign_in(web, "nadia")
    signed_in = await (await web.client.get("/c/nursing", headers={"Accept": HTML})).text()
    assert "Join this community" in signed_in and "Take part here" in signed_in
    await post_form(web, "/c/nursing/join", token)
    member = await (await web.client.get("/c/nursing", headers={"Accept": HTML})).text()
    assert "Take part here" not in member


async def test_a_refused_upload_keeps_what_was_typed(web):
    await add_community(web.client.app, "nursing", "Nursing")
    token = await _member_of(web, "nadia")
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("title", "Pressure ulcer guide")
    form.add_field("description", "For *new* starters")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("evil.exe", b"MZ")
    form.add_field("file", archive.getvalue(), filename="guide.zip")
    response = await web.client.post(
        "/c/nursing/documents", data=form, headers={"Accept": HTML}, allow_redirects=False
    )
    assert response.status == 415
    page = await response.text()
    assert "Your document was not shared." in page
    assert 'value="Pressure ulcer guide"' in page and "For *new* starters" in page
