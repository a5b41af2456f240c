"""Stored HTML is sanitised again when shown: one missed path at intake is not an XSS."""

from __future__ import annotations

from sqlalchemy import select, update

from federation.vocab import PUBLIC
from models.actors import Actor
from models.posts import Post, add_post
from server.appkeys import REMOTE, SESSIONS, WRITE_SESSIONS

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


async def test_hostile_html_from_create_and_update_is_sanitised_when_stored(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice")
    note = {
        "id": fake.new_id(alice, "statuses"),
        "type": "Note",
        "attributedTo": alice.id,
        "to": [PUBLIC],
        "cc": [cop],
        "content": HOSTILE,
    }
    create = {"id": note["id"] + "/create", "type": "Create", "actor": alice.id, "object": note}
    await fake.send(alice, f"{cop}/inbox", create, session=network.client)
    await network.settle()
    async with network.app[SESSIONS]() as session:
        created = (await session.scalar(select(Post))).content_html
    edited = {**note, "content": HOSTILE.replace("hello", "edited")}
    update = {"id": note["id"] + "/update", "type": "Update", "actor": alice.id, "object": edited}
    await fake.send(alice, f"{cop}/inbox", update, session=network.client)
    await network.settle()
    async with network.app[SESSIONS]() as session:
        post = await session.scalar(select(Post))
    assert "hello" in created and "edited" in post.content_html
    for stored in (created, post.content_html):
        assert_harmless(stored)
        assert "<script" not in stored
