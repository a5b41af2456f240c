"""The search page: form, filters, ranked results with escaped snippets, pages; both databases."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from models.actors import Actor
from models.documents import Document, DocumentVersion
from models.posts import Post, add_post
from models.search_index import index_document, index_post
from server.app import create_app
from server.appkeys import SESSIONS
from tests.support.instances import add_community, settings_for

DAY = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def client(aiohttp_client, database_url):
    app = create_app(settings_for(database_url))
    return await aiohttp_client(app)


@pytest.fixture
async def seeded(client):
    """Two CoPs, a thread with a reply, a hostile thread and a document."""
    app = client.server.app
    nursing = await add_community(app, "nursing", "Nursing Practice")
    social = await add_community(app, "socialwork", "Social Work")
    ids = {}
    async with app[SESSIONS]() as session:
        author = Actor(type="Person", local_name="alex", username="alex", public_key_pem="-")
        session.add(author)
        await session.flush()

        async def post(key, community, title, html, parent=None, when=0):
            made = await add_post(
                session,
                Post(
                    community_id=community.actor_id,
                    author_id=author.id,
                    title=title,
                    content_html=html,
                    published=DAY + timedelta(days=when),
                ),
                parent,
            )
            await index_post(session, made)
            ids[key] = made.id
            return made

        root = await post("thread", nursing, "Night shift handovers", "<p>SBAR handover</p>")
        await post("reply", nursing, "", "<p>Bedside handover works well</p>", root, when=5)
        await post(
            "xss",
            social,
            "<script>alert(1)</script> handover",
            '<p>&lt;img src=x onerror="alert(2)"&gt; handover notes</p>',
            when=10,
        )
        document = Document(
            community_id=nursing.actor_id,
            uploader_id=author.id,
            title="Handover checklist",
            description="",
            created_at=DAY + timedelta(days=20),
            updated_at=DAY + timedelta(days=20),
        )
        session.add(document)
        await session.flush()
        version = DocumentVersion(
            document_id=document.id,
            sha256="0" * 64,
            size=1,
            media_type="text/plain",
            filename="c.txt",
            text="Confirm allergies at every handover.",
            uploaded_by=author.id,
        )
        session.add(version)
        await session.flush()
        await index_document(session, document, version)
        ids["document"] = document.id
        await session.commit()
    return ids


async def page(client, url, status=200) -> str:
    response = await client.get(url)
    assert response.status == status, await response.text()
    return await response.text()


def hrefs(body: str) -> list[str]:
    return re.findall(r'<h3><a href="([^"]+)"', body)


async def test_empty_search_shows_an_accessible_form_and_help(client, seeded):
    body = await page(client, "/search")
    assert '<form class="search-form" role="search"' in body
    assert '<label for="search-q">' in body and 'id="search-q"' in body
    for control in ("search-cop", "search-kind", "search-from", "search-to"):
        assert f'<label for="{control}">' in body and f'id="{control}"' in body
    assert '<option value="nursing">Nursing Practice</option>' in body
    assert '<option value="document">Documents</option>' in body
    assert "How to search" in body
    assert "search-hit" not in body


async def test_results_link_to_posts_and_documents_with_marked_snippets(client, seeded):
    body = await page(client, "/search?q=handovers")
    assert "4 results" in body
    assert set(hrefs(body)) == {
        f"/t/{seeded['thread']}#post-{seeded['thread']}",
        f"/t/{seeded['thread']}#post-{seeded['reply']}",
        f"/t/{seeded['xss']}#post-{seeded['xss']}",
        f"/d/{seeded['document']}",
    }
    assert "<mark>handover</mark>" in body
    assert "Night shift <mark>handovers</mark>" in body  # the reply shows its thread's title
    assert '<a href="/c/nursing">Nursing Practice</a>' in body
    assert '<time datetime="2026-03-06T09:00:00+00:00">06 Mar 2026</time>' in body


async def test_filters_narrow_the_results(client, seeded):
    assert hrefs(await page(client, "/search?q=handover&cop=socialwork")) == [
        f"/t/{seeded['xss']}#post-{seeded['xss']}"
    ]
    assert hrefs(await page(client, "/search?q=handover&kind=document")) == [
        f"/d/{seeded['document']}"
    ]
    body = await page(client, "/search?q=handover&kind=reply&cop=nursing")
    assert hrefs(body) == [f"/t/{seeded['thread']}#post-{seeded['reply']}"]
    assert '<option value="reply" selected>' in body
    assert '<option value="nursing" selected>' in body
    body = await page(client, "/search?q=handover&from=2026-03-05&to=2026-03-11")
    assert len(hrefs(body)) == 2  # the reply (6 March) and the hostile thread (11 March)
    assert 'value="2026-03-05"' in body


async def test_a_cop_search_page_is_scoped_to_that_cop(client, seeded):
    body = await page(client, "/c/nursing/search?q=handover")
    assert "in Nursing Practice</span>" in body
    assert '<option value="nursing" selected>' in body
    assert len(hrefs(body)) == 3
    assert f"/t/{seeded['xss']}" not in body
    await page(client, "/c/nobody/search?q=handover", status=404)


async def test_hostile_content_and_queries_are_escaped(client, seeded):
    body = await page(client, "/search?q=handover+notes")
    assert "<script>alert" not in body and "<img" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>handover</mark>" in body
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in body or (
        "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in body
    )
    body = await page(client, '/search?q=%3Cscript%3Ealert(3)%3C/script%3E+"NEAR*')
    assert "<script>alert(3)" not in body
    assert "No results" in body


async def test_bad_dates_are_reported_and_ignored(client, seeded):
    body = await page(client, "/search?q=handover&from=yesterday&page=abc")
    assert "should look like 2026-03-01" in body
    assert "4 results" in body


async def test_no_results_explains_what_to_try(client, seeded):
    body = await page(client, "/search?q=zebra&cop=nursing")
    assert "No results" in body
    assert 'href="/search?q=zebra"' in body  # try again without filters
    assert "minus only leaves words out" in await page(client, "/search?q=-handover")


async def add_footwear_threads(client, count: int) -> None:
    app = client.server.app
    community = await add_community(app, "falls", "Falls")
    async with app[SESSIONS]() as session:
        author = Actor(type="Person", local_name="sam", username="sam", public_key_pem="-")
        session.add(author)
        await session.flush()
        for n in range(count):
            made = await add_post(
                session,
                Post(
                    community_id=community.actor_id,
                    author_id=author.id,
                    title=f"Falls audit {n}",
                    content_html="<p>footwear</p>",
                    published=DAY + timedelta(hours=n),
                ),
                None,
            )
            await index_post(session, made)
        await session.commit()


async def test_common_words_show_the_best_of_the_newest(client, seeded, monkeypatch):
    monkeypatch.setattr("server.web.search.CANDIDATES", 22)
    await add_footwear_threads(client, 25)
    first = await page(client, "/search?q=footwear")
    assert "More than 22 results" in first and "page 1 of 2" in first
    assert "Add words or filters to narrow the search." in first
    last = await page(client, "/search?q=footwear&page=9")  # clamped to the last page
    assert len(hrefs(last)) == 2
    assert "Falls audit 0<" not in first + last  # the oldest three were not ranked


async def test_results_come_in_pages(client, seeded):
    await add_footwear_threads(client, 25)
    first = await page(client, "/search?q=footwear&cop=falls")
    assert "25 results" in first and "page 1 of 2" in first
    assert len(hrefs(first)) == 20
    assert 'rel="next" href="/search?q=footwear&amp;cop=falls&amp;page=2"' in first
    second = await page(client, "/search?q=footwear&cop=falls&page=2")
    assert len(hrefs(second)) == 5
    assert '<ol class="search-hits" start="21">' in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert not set(hrefs(first)) & set(hrefs(second))
