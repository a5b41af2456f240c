"""Stored HTML is sanitised again when shown: one missed path at intake is not an XSS."""

from __future__ import annotations

from sqlalchemy import update

from models.actors import Actor
from models.posts import Post, add_post
from server.appkeys import REMOTE, WRITE_SESSIONS

HTML = "text/html"
HOSTILE = (
    '<p>hello</p><script>alert("stored")</script>'
    '<a href="javascript:alert(1)">click</a><img src="x" onerror="alert(2)">'
    '<p onclick="alert(3)" style="position:fixed">styled</p>'
)


def assert_harmless(page: str) -> None:
    lowered = page.lower()
    assert 'alert("stored")' not in lowered
    assert "javascript:" not in lowered
    assert "onerror" not in lowered and "onclick" not in lowered
    assert "position:fixed" not in lowered


async def test_hostile_html_stored_in_a_thread_is_not_served(network, fake):
    cop_url = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice")
    author = await network.app[REMOTE].get(alice.id)
    async with network.app[WRITE_SESSIONS].begin() as session:
        group_id = (
            (await session.execute(Actor.__table__.select().where(Actor.local_name == "nursing")))
            .first()
            .id
        )
        root = await add_post(
            session,
            Post(
                ap_id=fake.new_id(alice, "statuses"),
                community_id=group_id,
                author_id=author.id,
                type="Note",
                title="A thread",
                content_html=HOSTILE,
            ),
            None,
        )
        await add_post(
            session,
            Post(
                ap_id=fake.new_id(alice, "statuses"),
                community_id=group_id,
                author_id=author.id,
                type="Note",
                title="",
                content_html=HOSTILE,
            ),
            root,
        )
        await session.execute(
            update(Actor).where(Actor.id == group_id).values(summary_html=HOSTILE)
        )
        root_id = root.id
    for path in (f"/t/{root_id}", "/c/nursing", "/"):
        async with network.client.get(network.url + path, headers={"Accept": HTML}) as response:
            assert response.status == 200
            page = await response.text()
        assert "hello" in page or path == "/"
        assert_harmless(page)
    assert cop_url.endswith("/c/nursing")
