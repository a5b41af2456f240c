"""Harvesting conversations into pages on SQLite and PostgreSQL: quotes with provenance, the
pages a post was harvested into, edits and deletions of sources, and the privacy refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.actors import Actor
from models.communities import get_community
from models.harvest import PageSource
from models.posts import Post, add_post
from server.appkeys import SESSIONS, WRITE_SESSIONS
from tests.server.harvest_support import HTML, PAGE_LINK, join, start_site, write_post
from tests.support.instances import add_community


@pytest.fixture
async def site(aiohttp_server, aiohttp_client, database_url):
    return await start_site(aiohttp_server, aiohttp_client, database_url)


@pytest.fixture
async def thread(site):
    root = await write_post(site.app, "sam", "wound_care", "How often do you turn patients?")
    first = await write_post(site.app, "kim", "wound_care", "Every two hours on our ward.", root)
    second = await write_post(
        site.app, "sam", "wound_care", "We log each turn.\n\nAudits find gaps at night.", root
    )
    return root, first, second


async def harvest(site, who: str, post_id: int, *, token_from: str = "", **fields):
    web = site[who]
    token = await web.token(token_from or f"/p/{post_id}/harvest")
    data = {"community": "wound_care", "new_title": "", "page_id": "", "passage": ""}
    data.update({key: value for key, value in fields.items() if key != "posts"})
    form = [("csrf_token", token), *data.items(), *[("post", str(p)) for p in fields["posts"]]]
    return await web.client.post(
        f"/p/{post_id}/harvest", data=form, headers={"Accept": HTML}, allow_redirects=False
    )


async def page_html(site, page_id: int) -> str:
    response = await site["visitor"].client.get(f"/h/{page_id}", headers={"Accept": HTML})
    assert response.status == 200
    return await response.text()


async def test_two_replies_become_a_new_page_with_their_provenance(site, thread):
    root, first, second = thread
    response = await harvest(site, "kim", first, posts=[first, second], new_title="Turning")
    assert response.status == 303, await response.text()
    page_id = int(PAGE_LINK.search(response.headers["Location"]).group(1))
    html = await page_html(site, page_id)
    assert "<blockquote>" in html
    assert "Every two hours on our ward." in html and "Audits find gaps at night." in html
    assert "<strong>Kim</strong> (@kim@copnet.test)" in html
    assert f'href="https://copnet.test/p/{first}"' in html
    assert "Wound Care" in html
    page = await site.page(page_id)
    assert page.revision_number == 1 and page.body.count("[[source:") == 2
    thread_html = await (await site["visitor"].client.get(f"/t/{root}")).text()
    assert f'Harvested into <a href="/h/{page_id}">Turning</a>' in thread_html


async def test_a_passage_is_harvested_only_as_written(site, thread):
    _root, first, second = thread
    refused = await harvest(
        site, "kim", second, posts=[second], passage="Audits find no gaps", new_title="Logs"
    )
    assert refused.status == 400
    assert "The passage is not in the post" in await refused.text()
    two = await harvest(site, "kim", second, posts=[first, second], passage="x", new_title="L")
    assert two.status == 400
    response = await harvest(
        site,
        "kim",
        second,
        posts=[second],
        passage="Audits  find gaps\nat night.",
        new_title="Logs",
    )
    assert response.status == 303
    page_id = int(PAGE_LINK.search(response.headers["Location"]).group(1))
    html = await page_html(site, page_id)
    assert "Audits  find gaps" in html or "Audits find gaps" in html
    assert "We log each turn." not in html


async def test_harvesting_into_an_existing_page_adds_a_revision(site, thread):
    _root, first, _second = thread
    page_id = await site.new_page("kim", "Turning", "## What wards do")
    response = await harvest(site, "sam", first, posts=[first], page_id=str(page_id))
    assert response.status == 303
    page = await site.page(page_id)
    assert page.revision_number == 2
    assert page.body.startswith("## What wards do\n\n[[source:")


async def test_an_edited_source_is_marked_and_a_deleted_one_withdrawn(site, thread):
    _root, first, second = thread
    response = await harvest(site, "kim", first, posts=[first, second], new_title="Turning")
    page_id = int(PAGE_LINK.search(response.headers["Location"]).group(1))
    token = await site["kim"].token(f"/p/{first}/edit")
    edited = await site["kim"].post(
        f"/p/{first}/edit", {"title": "", "body": "Every three hours now."}, token=token
    )
    assert edited.status == 303
    html = await page_html(site, page_id)
    assert "Every two hours on our ward." in html  # as harvested
    assert "edited by its author since it was harvested" in html
    token = await site["sam"].token(f"/p/{second}/delete")
    deleted = await site["sam"].post(f"/p/{second}/delete", {"confirm": "yes"}, token=token)
    assert deleted.status == 303
    html = await page_html(site, page_id)
    assert "A source was withdrawn by its author." in html
    assert "Audits find gaps at night." not in html
    async with site.app[SESSIONS]() as session:
        quotes = [source.quote for source in await session.scalars(select(PageSource))]
    assert "Audits find gaps at night." not in " ".join(quotes)  # not kept anywhere


async def test_a_private_cops_posts_stay_out_of_public_pages(site):
    await add_community(site.app, "safeguarding", "Safeguarding")
    await join(site.app, "kim", "safeguarding")
    async with site.app[WRITE_SESSIONS]() as session:
        (await get_community(session, "safeguarding")).manually_approves_followers = True
        await session.commit()
    secret = await write_post(site.app, "kim", "safeguarding", "A case we discussed.")
    refused = await harvest(site, "kim", secret, posts=[secret], new_title="Public page")
    assert refused.status == 403
    assert "private community may only be harvested into its own pages" in await refused.text()
    allowed = await harvest(
        site, "kim", secret, posts=[secret], new_title="Ours", community="safeguarding"
    )
    assert allowed.status == 303
    unseen = await harvest(
        site, "sam", secret, posts=[secret], new_title="Peek", token_from="/settings/profile"
    )
    assert unseen.status == 404  # sam is not a member: the post is not there for him


async def test_a_post_from_another_thread_or_unseen_is_refused(site, thread):
    _root, first, _second = thread
    other = await write_post(site.app, "kim", "wound_care", "Another conversation.")
    response = await harvest(site, "kim", first, posts=[first, other], new_title="Mixed")
    assert response.status == 400
    assert f"Post {other} is not in this conversation" in await response.text()


async def test_non_members_cannot_harvest_into_a_cops_pages(site, thread):
    _root, first, _second = thread
    page_id = await site.new_page("kim", "Turning", "Text.")
    response = await harvest(site, "lee", first, posts=[first], page_id=str(page_id))
    assert response.status == 403
    assert (await site.page(page_id)).revision_number == 1


async def test_a_remote_post_is_harvested_with_its_remote_handle_and_link(site):
    async with site.app[WRITE_SESSIONS]() as session:
        group = Actor(
            type="Group",
            ap_id="https://lemmy.example/c/nursing",
            username="nursing",
            domain="lemmy.example",
            display_name="Nursing",
            inbox_url="https://lemmy.example/c/nursing/inbox",
            public_key_pem="-",
        )
        author = Actor(
            type="Person",
            ap_id="https://lemmy.example/u/ana",
            username="ana",
            domain="lemmy.example",
            display_name="Ana",
            inbox_url="https://lemmy.example/u/ana/inbox",
            public_key_pem="-",
        )
        session.add_all([group, author])
        await session.flush()
        post = await add_post(
            session,
            Post(
                ap_id="https://lemmy.example/post/7",
                community_id=group.id,
                author_id=author.id,
                title="Heel offloading",
                content_html="<p>Float the heels <script>x()</script>on a pillow.</p>",
            ),
            None,
        )
        await session.commit()
        post_id = post.id
    response = await harvest(site, "kim", post_id, posts=[post_id], new_title="Heels")
    assert response.status == 303, await response.text()
    page_id = int(PAGE_LINK.search(response.headers["Location"]).group(1))
    html = await page_html(site, page_id)
    assert "<strong>Ana</strong> (@ana@lemmy.example)" in html
    assert 'href="https://lemmy.example/post/7"' in html
    assert "Float the heels" in html and "<script>" not in html
